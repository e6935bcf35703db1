"""HealthCheck: every answer (or none) becomes one ServiceCheck; bad health is data, not an error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.model import Health
from buildradiator.sources.catalog import make_source
from buildradiator.sources.health.config import HealthSource
from buildradiator.sources.health.source import HealthCheck
from health_helpers import ACTUATOR_UP, URL, answer, check_of, config, http_for

ACTUATOR_DOWN = {
    "status": "DOWN",
    "components": {
        "diskSpace": {"status": "UP"},
        "db": {"status": "DOWN", "details": {"error": "java.net.ConnectException: refused"}},
        "redis": {"status": "DOWN"},
    },
}
HEALTH_JSON_PASS = {
    "status": "pass",
    "version": "1",
    "releaseId": "1.4.2-9f3c2e1",
    "serviceId": "f03e522f-1f44-4062-9b55-9587f91c9c41",
    "description": "health of orders service",
    "checks": {
        "postgres:connections": [
            {"componentType": "datastore", "observedValue": 12, "status": "pass",
             "time": "2026-11-26T11:59:58+01:00"}
        ],
        "uptime": [{"componentType": "system", "observedValue": 1209600.245,
                    "observedUnit": "s", "status": "pass", "time": "2026-11-26T11:59:58Z"}],
    },
}  # fmt: skip


def health_json(status: str, failing: dict[str, str]) -> dict[str, Any]:
    body = json.loads(json.dumps(HEALTH_JSON_PASS))
    body["status"] = status
    for key, word in failing.items():
        body["checks"][key] = [{"status": word, "observedValue": 98, "observedUnit": "percent"}]
    return body


async def test_make_source_builds_health_check(clock: FakeClock) -> None:
    async with http_for(answer(200, text="OK"), clock) as http:
        source = make_source(config(), http)
        assert isinstance(source, HealthCheck) and source.type == "health"


async def test_200_plain_text_ok(clock: FakeClock) -> None:
    check = await check_of(answer(200, text="OK\n", content_type="text/plain"), clock)
    assert check.health is Health.UP
    assert check.http_status == 200
    assert check.detail is None and check.version is None
    assert check.source == "orders-health"
    assert check.name == "orders-api"
    assert check.environment == "prod"
    assert check.url == URL
    assert check.checked_at == clock.now()
    assert check.latency_ms == 0.0


async def test_name_defaults_to_source_name_and_summary(clock: FakeClock) -> None:
    async with http_for(answer(200, text="UP"), clock) as http:
        result = await HealthCheck(
            HealthSource(type="health", name="edge", url=URL, environment="staging"), http
        ).poll()
    (check,) = result.services
    assert (check.name, check.environment, check.health) == ("edge", "staging", Health.UP)
    assert result.summary == "edge (staging): up, HTTP 200 in 0 ms"


@pytest.mark.parametrize(
    ("text", "health"),
    [("UP", Health.UP), ("healthy", Health.UP), ("DOWN", Health.DOWN), ("fail", Health.DOWN)],
)
async def test_200_plain_text_words(clock: FakeClock, text: str, health: Health) -> None:
    check = await check_of(answer(200, text=text, content_type="text/plain"), clock)
    assert check.health is health


async def test_plain_text_sentence_is_not_read_for_words(clock: FakeClock) -> None:
    # "not OK" must not count as OK, and a sentence is not a status word: the code decides.
    check = await check_of(answer(200, text="Database is not OK", content_type="text/plain"), clock)
    assert check.health is Health.UP and check.detail is None


async def test_actuator_up_with_components(clock: FakeClock) -> None:
    check = await check_of(answer(200, ACTUATOR_UP), clock)
    assert check.health is Health.UP
    assert check.detail is None


async def test_actuator_down_503_names_the_failing_component(clock: FakeClock) -> None:
    check = await check_of(answer(503, ACTUATOR_DOWN), clock)
    assert check.health is Health.DOWN
    assert check.http_status == 503
    assert check.detail == "HTTP 503, body says DOWN (db)"


async def test_actuator_out_of_service(clock: FakeClock) -> None:
    check = await check_of(answer(503, {"status": "OUT_OF_SERVICE"}), clock)
    assert check.health is Health.DOWN
    assert check.detail == "HTTP 503, body says OUT_OF_SERVICE"


async def test_200_with_down_body_is_down(clock: FakeClock) -> None:
    check = await check_of(answer(200, {"status": "DOWN"}), clock)
    assert check.health is Health.DOWN
    assert check.http_status == 200
    assert check.detail == "body says DOWN"


async def test_200_with_unknown_body_is_unknown(clock: FakeClock) -> None:
    check = await check_of(answer(200, {"status": "UNKNOWN"}), clock)
    assert check.health is Health.UNKNOWN
    assert check.detail == "body says UNKNOWN"


async def test_status_object_with_code(clock: FakeClock) -> None:
    # Spring Boot 1.x style: {"status": {"code": "DOWN", "description": ...}}
    check = await check_of(answer(200, {"status": {"code": "down", "description": "x"}}), clock)
    assert check.health is Health.DOWN


async def test_health_json_pass_with_release_id(clock: FakeClock) -> None:
    check = await check_of(
        answer(200, HEALTH_JSON_PASS, content_type="application/health+json"), clock
    )
    assert check.health is Health.UP
    assert check.version == "1.4.2-9f3c2e1"
    assert check.detail is None


async def test_health_json_warn_names_first_warning_check(clock: FakeClock) -> None:
    body = health_json("warn", {"disk:utilization": "warn", "cpu:utilization": "warn"})
    check = await check_of(answer(200, body, content_type="application/health+json"), clock)
    assert check.health is Health.WARN
    assert check.detail == "body says warn (disk:utilization)"
    assert check.version == "1.4.2-9f3c2e1"


async def test_health_json_fail_names_first_failing_check(clock: FakeClock) -> None:
    body = health_json("fail", {"disk:utilization": "warn", "redis:responseTime": "fail"})
    check = await check_of(answer(503, body, content_type="application/health+json"), clock)
    assert check.health is Health.DOWN
    assert check.detail == "HTTP 503, body says fail (redis:responseTime)"
    # A fail on a 200 is still down: the body has the last word when the code says alive.
    check = await check_of(answer(200, body, content_type="application/health+json"), clock)
    assert check.health is Health.DOWN
    assert check.detail == "body says fail (redis:responseTime)"


async def test_expected_status_override(clock: FakeClock) -> None:
    unauthorized = {"timestamp": "2026-11-26T12:00:00.000+00:00", "status": 401,
                    "error": "Unauthorized", "path": "/internal/health"}  # fmt: skip
    check = await check_of(answer(401, unauthorized), clock, expected_status=[401, 403])
    assert check.health is Health.UP
    assert check.http_status == 401
    check = await check_of(answer(200, text="OK"), clock, expected_status=[401, 403])
    assert check.health is Health.DOWN
    assert check.detail == "HTTP 200 (expected 401, 403)"


@pytest.mark.parametrize("code", [301, 204, 299, 399])
async def test_2xx_3xx_are_alive(clock: FakeClock, code: int) -> None:
    check = await check_of(answer(code, text=""), clock)
    assert check.health is Health.UP and check.http_status == code


@pytest.mark.parametrize("code", [400, 404, 429, 500, 502, 599])
async def test_4xx_5xx_are_down(clock: FakeClock, code: int) -> None:
    check = await check_of(answer(code, text=""), clock)
    assert check.health is Health.DOWN
    assert check.detail == f"HTTP {code}"


async def test_html_500_page(clock: FakeClock) -> None:
    page = "<!DOCTYPE html><html><head><title>500</title></head><body>UP</body></html>"
    check = await check_of(answer(500, text=page, content_type="text/html"), clock)
    assert check.health is Health.DOWN
    assert check.detail == "HTTP 500"
    # Spring's JSON error body has a numeric status: not a health word.
    error = {"timestamp": "2026-11-26T12:00:00Z", "status": 500, "error": "Internal Server Error"}
    check = await check_of(answer(500, error), clock)
    assert check.detail == "HTTP 500"


@pytest.mark.parametrize(
    "text",
    [
        "<html><body>All good</body></html>",
        '{"status": "DOW',
        "null",
        "[1, 2]",
        "42",
        '{"status": null, "version": true}',
        '{"status": ["DOWN"], "checks": "nope", "components": [1]}',
        "\x00\xff\xfe garbage",
        "[" * 200_000,
        '{"status": "DOWN", "x": ' + "[" * 200_000,
    ],
    ids=lambda text: repr(text[:30]),
)
async def test_unreadable_body_leaves_the_code_alone(clock: FakeClock, text: str) -> None:
    check = await check_of(answer(200, text=text, content_type="text/plain"), clock)
    assert check.health is Health.UP
    assert check.detail is None and check.version is None


async def test_timeout_is_down(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with http_for(handler, clock) as http:
        result = await HealthCheck(config(timeout=5), http).poll()
    (check,) = result.services
    assert check.health is Health.DOWN
    assert check.detail == "no answer within 5s"
    assert check.http_status is None and check.latency_ms is None
    assert check.checked_at == clock.now()
    assert result.summary == "orders-api (prod): down (no answer within 5s)"


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        ("[Errno 111] Connection refused", "connection refused"),
        ("[Errno -2] Name or service not known", "host name does not resolve (DNS)"),
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate",
            "TLS failure talking to api.example.com: [SSL: CERTIFICATE_VERIFY_FAILED] "
            "certificate verify failed: self-signed certificate",
        ),
    ],
)
async def test_unreachable_is_down(clock: FakeClock, message: str, detail: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(message, request=request)

    check = await check_of(handler, clock)
    assert check.health is Health.DOWN
    assert check.detail == detail
    assert check.http_status is None


async def test_answer_cut_off_by_the_deadline_is_down(clock: FakeClock) -> None:
    class Drip(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'{"status": '
            await asyncio.sleep(1)  # longer than the whole-exchange deadline below
            yield b'"UP"}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Drip())

    check = await check_of(handler, clock, timeout=0.05)
    assert check.health is Health.DOWN
    assert check.detail == "no complete answer within 0.05s"


async def test_status_code_outside_http_range_is_down(clock: FakeClock) -> None:
    check = await check_of(answer(999, text="??"), clock)
    assert check.health is Health.DOWN
    assert check.detail is not None and "HTTP 999" in check.detail


async def test_rate_blocked_host_is_unknown_not_an_error(clock: FakeClock) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, text="OK")

    async with http_for(handler, clock) as http:
        # Another source on the same host has been told to wait.
        http.budget(URL).blocked_until = clock.now().replace(hour=13)
        result = await HealthCheck(config(), http).poll()
    (check,) = result.services
    assert calls == 0
    assert check.health is Health.UNKNOWN
    assert check.detail is not None and check.detail.startswith("not checked: rate limited")


async def test_slow_answer_is_warn(clock: FakeClock) -> None:
    slow = answer(200, ACTUATOR_UP, delay=0.812, clock=clock)
    check = await check_of(slow, clock, warn_latency_ms=500)
    assert check.health is Health.WARN
    assert check.latency_ms == pytest.approx(812.0)
    assert check.detail == "812 ms (> 500 ms)"
    fast = answer(200, ACTUATOR_UP, delay=0.120, clock=clock)
    check = await check_of(fast, clock, warn_latency_ms=500)
    assert check.health is Health.UP
    assert check.latency_ms == pytest.approx(120.0)


async def test_slow_and_down_stays_down_without_latency_words(clock: FakeClock) -> None:
    slow = answer(503, ACTUATOR_DOWN, delay=2.0, clock=clock)
    check = await check_of(slow, clock, warn_latency_ms=500)
    assert check.health is Health.DOWN
    assert check.detail == "HTTP 503, body says DOWN (db)"


async def test_token_sent_as_bearer_never_shown(clock: FakeClock) -> None:
    token = "hc_tok_0123456789abcdef"
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        # A badly behaved server echoing the credential back in its body.
        echo = request.headers["authorization"]
        return httpx.Response(
            503,
            json={
                "status": "fail",
                "version": echo,
                "checks": {f"auth:{echo}": [{"status": "fail"}]},
            },
        )

    async with http_for(handler, clock) as http:
        result = await HealthCheck(
            config(token=SecretStr(token), headers={"X-Request-Source": "radiator"}), http
        ).poll()
    assert seen[0]["authorization"] == f"Bearer {token}"
    assert seen[0]["x-request-source"] == "radiator"
    (check,) = result.services
    assert check.health is Health.DOWN
    assert check.detail is not None and "body says fail (auth:Bearer ***)" in check.detail
    assert token not in result.model_dump_json()
    assert token not in result.summary


async def test_token_split_by_escape_sequences_is_still_scrubbed(clock: FakeClock) -> None:
    token = "hc_tok_0123456789abcdef"
    spliced = token[:6] + "\x1b[0m" + token[6:12] + "\u202e" + token[12:]
    body = {"status": "down", "releaseId": spliced}
    check = await check_of(answer(200, body), clock, token=SecretStr(token))
    assert check.health is Health.DOWN
    assert check.version == "***"


async def test_secret_headers_and_url_tokens_never_shown(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "UP", "version": request.headers["x-api-key"]})

    async with http_for(handler, clock) as http:
        result = await HealthCheck(
            config(
                url="https://api.example.com/health?api_key=url-secret-999",
                headers={"X-Api-Key": "hdr-secret-777"},
            ),
            http,
        ).poll()
    dumped = result.model_dump_json()
    assert "hdr-secret-777" not in dumped and "url-secret-999" not in dumped
    (check,) = result.services
    assert check.url == "https://api.example.com/health?api_key=***"
    assert check.version == "***"


@pytest.mark.parametrize(
    ("body", "version"),
    [
        # Whole escape sequences go, not just their ESC byte; so do bidi overrides and BEL.
        ({"status": "UP", "version": "2.7.1\u001b[31m\u202e\u0007-evil"}, "2.7.1-evil"),
        ({"version": "1.0\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007"}, "1.0click"),
        ({"status": "UP", "version": 3}, "3"),
        ({"status": "UP", "build": {"version": "3.1.0", "artifact": "orders"}}, "3.1.0"),
        ({"status": "UP", "git": {"commit": {"id": "9f3c2e1", "time": "x"}}}, "9f3c2e1"),
        ({"git": {"commit": {"id": {"abbrev": "9f3c2e1", "full": "9f3c2e1aa"}}}}, "9f3c2e1"),
        ({"status": "UP", "version": "x" * 300}, "x" * 79 + "…"),
        ({"status": "UP", "version": "\u001b\u0007"}, None),
    ],
)
async def test_version_from_untrusted_body(
    clock: FakeClock, body: dict[str, Any], version: str | None
) -> None:
    check = await check_of(answer(200, body), clock)
    assert check.version == version
    assert check.health is Health.UP
    assert not any(c in (check.version or "") for c in "\x1b\x07\u202e")
