"""PrometheusQuery: one instant query judged against its thresholds, as one ServiceCheck.

The fake server speaks the documented ``/api/v1/query`` shapes (values as strings next to a
float unix time, ``warnings``, the ``infos`` and ``stats`` newer servers add) and the error
bodies Prometheus sends on 400, 422 and 503.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import (
    AuthFailed,
    BadPayload,
    NotFound,
    ServerError,
    SourceError,
    Unreachable,
)
from buildradiator.model import Health, ServiceCheck, SourceResult
from buildradiator.sources.catalog import make_source
from buildradiator.sources.http import HttpClient
from buildradiator.sources.prometheus.config import PrometheusSource
from buildradiator.sources.prometheus.judge import fmt_value, parse_value
from buildradiator.sources.prometheus.source import PrometheusQuery

Handler = Callable[[httpx.Request], httpx.Response]
ROOT = "https://prometheus.example.com"
TOKEN = "prom_s3cr3tT0kenValue0123456789"
QUERY = (
    'sum(rate(http_requests_total{service="payments",code=~"5.."}[5m]))'
    ' / sum(rate(http_requests_total{service="payments"}[5m]))'
)
TS = 1764158400.781


def prom_json(payload: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(payload).encode(),
        headers={"content-type": "application/json", "date": "Wed, 26 Nov 2025 12:00:00 GMT"},
    )


def vector(*series: tuple[dict[str, str], Any], **extra: Any) -> dict[str, Any]:
    result = [{"metric": metric, "value": [TS, value]} for metric, value in series]
    return {"status": "success", "data": {"resultType": "vector", "result": result}, **extra}


def one(value: Any, **extra: Any) -> dict[str, Any]:
    return vector(({}, value), **extra)


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"status": "error", "errorType": kind, "error": message}


def config(**kw: Any) -> PrometheusSource:
    kw.setdefault("down_above", 0.01)
    kw.setdefault("warn_above", 0.005)
    token = kw.pop("token", None)
    if token is not None:
        kw.setdefault("token_env", "PROM_TOKEN")
        kw["token"] = SecretStr(token)
    return PrometheusSource(
        type="prometheus",
        name="prom-payments",
        url=kw.pop("url", ROOT),
        query=kw.pop("query", QUERY),
        **kw,
    )


class Fake:
    """Answers every request with ``respond`` and records what was asked."""

    def __init__(self, respond: Handler) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


@asynccontextmanager
async def client(handler: Handler, clock: FakeClock) -> AsyncIterator[HttpClient]:
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock)
    try:
        yield http
    finally:
        await http.aclose()


async def poll_with(
    payload: Any, clock: FakeClock, status: int = 200, **kw: Any
) -> tuple[SourceResult, Fake]:
    fake = Fake(lambda request: prom_json(payload, status))
    async with client(fake, clock) as http:
        return await PrometheusQuery(config(**kw), http).poll(), fake


async def check_of(payload: Any, clock: FakeClock, **kw: Any) -> ServiceCheck:
    result, _ = await poll_with(payload, clock, **kw)
    (check,) = result.services
    return check


async def failure(respond: Handler, clock: FakeClock, **kw: Any) -> SourceError:
    async with client(Fake(respond), clock) as http:
        with pytest.raises(SourceError) as caught:
            await PrometheusQuery(config(**kw), http).poll()
    return caught.value


# --- the request ---------------------------------------------------------------------------------


async def test_asks_the_query_api_with_the_query_encoded(clock: FakeClock) -> None:
    _, fake = await poll_with(one("0.002"), clock)
    (request,) = fake.requests
    assert request.method == "GET"
    assert request.url.path == "/api/v1/query"
    # The query survives the trip byte for byte: braces, quotes, =~ and the division.
    assert parse_qs(urlsplit(str(request.url)).query)["query"] == [QUERY]
    assert "authorization" not in request.headers


async def test_a_root_given_with_api_v1_is_not_doubled(clock: FakeClock) -> None:
    result, fake = await poll_with(one("0.002"), clock, url=ROOT + "/api/v1/")
    assert fake.requests[0].url.path == "/api/v1/query"
    assert result.services[0].url is not None
    assert result.services[0].url.startswith(ROOT + "/graph?g0.expr=")


async def test_a_token_goes_as_bearer(clock: FakeClock) -> None:
    _, fake = await poll_with(one("0.002"), clock, token=TOKEN)
    assert fake.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_with_a_username_the_token_is_the_basic_auth_password(clock: FakeClock) -> None:
    _, fake = await poll_with(one("0.002"), clock, token=TOKEN, username="radiator")
    scheme, _, encoded = fake.requests[0].headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"radiator:{TOKEN}"


def test_the_registry_builds_this_source(clock: FakeClock) -> None:
    http = HttpClient(httpx.AsyncClient(), clock=clock)
    assert isinstance(make_source(config(), http), PrometheusQuery)


# --- one check, its fields -----------------------------------------------------------------------


async def test_a_value_above_down_is_down_with_value_and_words(clock: FakeClock) -> None:
    result, _ = await poll_with(
        one("0.034"), clock, label="5xx share", service="payments", unit="ratio"
    )
    (check,) = result.services
    assert check.kind == "query"
    assert check.source == "prom-payments"
    assert check.name == "5xx share"
    assert check.service == "payments"
    assert check.environment == "prod"
    assert check.health is Health.DOWN
    assert check.value == pytest.approx(0.034)
    assert check.unit == "ratio"
    assert check.detail == "0.034 ratio (> 0.01)"
    assert check.checked_at == clock.now()
    assert check.since is None
    # The link opens the query in Prometheus' own UI.
    assert check.url is not None
    parts = urlsplit(check.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == ROOT + "/graph"
    assert parse_qs(parts.query)["g0.expr"] == [QUERY]
    assert result.summary == "5xx share (payments, prod): down, 0.034 ratio (> 0.01)"


async def test_defaults_name_and_service_from_the_source(clock: FakeClock) -> None:
    check = await check_of(one("0.002"), clock, environment="staging")
    assert (check.name, check.service, check.environment) == (
        "prom-payments",
        "prom-payments",
        "staging",
    )
    assert check.unit is None
    assert check.health is Health.UP
    assert check.detail == "0.002"


@pytest.mark.parametrize(
    ("value", "health", "detail"),
    [
        ("0.034", Health.DOWN, "0.034 (> 0.01)"),
        ("0.007", Health.WARN, "0.007 (> 0.005)"),
        ("0.005", Health.UP, "0.005"),  # "above" means strictly above
        ("0", Health.UP, "0"),
        ("1e-3", Health.UP, "0.001"),
        ("1.5e-2", Health.DOWN, "0.015 (> 0.01)"),
    ],
)
async def test_above_thresholds_down_wins_over_warn(
    value: str, health: Health, detail: str, clock: FakeClock
) -> None:
    check = await check_of(one(value), clock)
    assert (check.health, check.detail) == (health, detail)
    assert check.value == pytest.approx(float(value))


@pytest.mark.parametrize(
    ("value", "health", "detail"),
    [
        ("0.95", Health.DOWN, "0.95 req/s (< 1)"),
        ("3", Health.WARN, "3 req/s (< 5)"),
        ("12.25", Health.UP, "12.25 req/s"),
    ],
)
async def test_below_thresholds(value: str, health: Health, detail: str, clock: FakeClock) -> None:
    check = await check_of(
        one(value),
        clock,
        down_above=None,
        warn_above=None,
        down_below=1,
        warn_below=5,
        unit="req/s",
    )
    assert (check.health, check.detail) == (health, detail)


async def test_a_scalar_is_judged_like_one_series(clock: FakeClock) -> None:
    payload = {"status": "success", "data": {"resultType": "scalar", "result": [TS, "0.02"]}}
    check = await check_of(payload, clock)
    assert check.health is Health.DOWN
    assert check.value == pytest.approx(0.02)
    assert check.detail == "0.02 (> 0.01)"


async def test_fields_newer_servers_add_are_ignored(clock: FakeClock) -> None:
    payload = one(
        "0.002",
        infos=['PromQL info: metric might not be a counter: "http_requests_total"'],
        stats={"timings": {"evalTotalTime": 0.0001}},
    )
    payload["data"]["analysis"] = {}
    check = await check_of(payload, clock)
    assert (check.health, check.detail) == (Health.UP, "0.002")


# --- several series ------------------------------------------------------------------------------


async def test_several_series_show_the_worst_with_its_labels(clock: FakeClock) -> None:
    payload = vector(
        ({"job": "api", "instance": "b:9090"}, "0.002"),
        ({"job": "api", "instance": "a:9090"}, "0.034"),
        ({"job": "api", "instance": "c:9090"}, "0.007"),
    )
    check = await check_of(payload, clock, unit="%")
    assert check.health is Health.DOWN
    assert check.value == pytest.approx(0.034)
    # job is shared by all three: only what tells the series apart is named.
    assert check.detail == '0.034 % (> 0.01) {instance="a:9090"}; 1 of 3 series down'


async def test_several_series_all_up_show_the_closest_to_its_threshold(clock: FakeClock) -> None:
    payload = vector(
        ({"instance": "a:9090"}, "0.001"),
        ({"instance": "b:9090"}, "0.004"),
    )
    check = await check_of(payload, clock)
    assert check.health is Health.UP
    assert check.detail == '0.004 {instance="b:9090"}; all 2 series up'


async def test_series_at_warn_count_together(clock: FakeClock) -> None:
    payload = vector(
        ({"instance": "a"}, "0.006"),
        ({"instance": "b"}, "0.009"),
        ({"instance": "c"}, "NaN"),
    )
    check = await check_of(payload, clock)
    assert check.health is Health.WARN
    assert check.detail == '0.009 (> 0.005) {instance="b"}; 2 of 3 series at warn'


async def test_a_nan_series_does_not_hide_a_down_one(clock: FakeClock) -> None:
    payload = vector(({"pod": "x"}, "NaN"), ({"pod": "y"}, "0.5"), ({"pod": "z"}, "zzz"))
    check = await check_of(payload, clock)
    assert check.health is Health.DOWN
    assert check.detail == '0.5 (> 0.01) {pod="y"}; 1 of 3 series down'


# --- the odd answers -----------------------------------------------------------------------------


async def test_an_empty_vector_is_unknown_no_data(clock: FakeClock) -> None:
    check = await check_of(vector(), clock)
    assert check.health is Health.UNKNOWN
    assert check.value is None
    assert check.detail == "no series (no data)"


async def test_a_null_result_is_an_empty_vector(clock: FakeClock) -> None:
    payload = {"status": "success", "data": {"resultType": "vector", "result": None}}
    assert (await check_of(payload, clock)).detail == "no series (no data)"


async def test_nan_is_unknown_without_a_value(clock: FakeClock) -> None:
    check = await check_of(one("NaN"), clock)
    assert check.health is Health.UNKNOWN
    assert check.value is None
    assert check.detail == "value is NaN"


async def test_infinities_are_numbers(clock: FakeClock) -> None:
    check = await check_of(one("+Inf"), clock)
    assert check.health is Health.DOWN
    assert check.value == math.inf
    assert check.detail == "+Inf (> 0.01)"
    check = await check_of(one("-Inf"), clock, down_below=0)
    assert check.health is Health.DOWN
    assert check.detail == "-Inf (< 0)"


async def test_a_string_result_is_unknown(clock: FakeClock) -> None:
    payload = {"status": "success", "data": {"resultType": "string", "result": [TS, "hello"]}}
    check = await check_of(payload, clock)
    assert check.health is Health.UNKNOWN
    assert check.value is None
    assert check.detail == "query returns a string, not a number"


async def test_a_range_vector_is_unknown_with_advice(clock: FakeClock) -> None:
    payload = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": {"job": "api"}, "values": [[TS - 15, "1"], [TS, "0.5"]]}],
        },
    }
    check = await check_of(payload, clock)
    assert check.health is Health.UNKNOWN
    assert check.detail == "query returns a range vector; use an instant query"


async def test_a_value_that_is_no_number_is_unknown_in_words(clock: FakeClock) -> None:
    check = await check_of(one("twelve"), clock)
    assert check.health is Health.UNKNOWN
    assert check.value is None
    assert check.detail == 'value "twelve" is not a number'


async def test_a_native_histogram_is_unknown_in_words(clock: FakeClock) -> None:
    payload = vector()
    payload["data"]["result"] = [
        {"metric": {"job": "api"}, "histogram": [TS, {"count": "3", "sum": "1.5", "buckets": []}]}
    ]
    check = await check_of(payload, clock)
    assert check.health is Health.UNKNOWN
    assert check.detail is not None and "native histogram" in check.detail


async def test_a_malformed_sample_is_unknown_and_the_others_still_count(clock: FakeClock) -> None:
    payload = vector(({"i": "a"}, "0.001"))
    payload["data"]["result"].append({"metric": {"i": "b"}, "value": "0.5"})
    check = await check_of(payload, clock)
    assert check.health is Health.UNKNOWN
    assert (
        check.detail == 'sample is not a [time, value] pair {i="b"}; 1 of 2 series without a number'
    )


async def test_warnings_are_kept_briefly_in_the_detail(clock: FakeClock) -> None:
    payload = one(
        "0.034",
        warnings=[
            "PromQL warning: encountered a mix of histograms and floats for metric name "
            '"http_requests_total" ' + "x" * 200,
            "partial response: store 10.0.0.3:10901 unreachable",
        ],
    )
    check = await check_of(payload, clock)
    assert check.health is Health.DOWN
    assert check.detail is not None
    assert check.detail.startswith("0.034 (> 0.01); warning: PromQL warning: encountered a mix")
    assert check.detail.endswith("… (+1 more)")
    assert len(check.detail) < 140


async def test_untrusted_label_values_and_warnings_stay_plain_text(clock: FakeClock) -> None:
    payload = vector(
        ({"instance": "[bold red]evil[/] \x1b[31mred\x1b]0;title\x07"}, "0.5"),
        ({"instance": "ok"}, "0.001"),
        warnings=["\x1b]8;;https://evil.example\x07[link]click[/link]\x1b]8;;\x07"],
    )
    check = await check_of(payload, clock)
    assert check.detail is not None
    assert "\x1b" not in check.detail and "\x07" not in check.detail
    assert '{instance="[bold red]evil[/] red"}' in check.detail
    assert check.detail.endswith("warning: [link]click[/link]")


def test_values_parse_like_prometheus_writes_them() -> None:
    assert parse_value("1e-3") == pytest.approx(0.001)
    assert parse_value("+Inf") == math.inf
    assert parse_value("-Inf") == -math.inf
    assert math.isnan(parse_value("NaN"))  # type: ignore[arg-type]
    assert parse_value(0.25) == 0.25  # look-alikes that send numbers unquoted
    assert parse_value("1_000") == 'value "1_000" is not a number'
    assert parse_value(True) == "value True is not a number"
    assert parse_value(None) == "sample without a value"
    assert fmt_value(1234567.0) == "1234567"
    assert fmt_value(1234.5678) == "1235"
    assert fmt_value(0.0000123456) == "1.235e-05"


# --- failures of the source ----------------------------------------------------------------------


async def test_a_parse_error_names_the_problem_and_the_query(clock: FakeClock) -> None:
    body = error_body(
        "bad_data", 'invalid parameter "query": 1:15: parse error: unclosed left parenthesis'
    )
    exc = await failure(lambda r: prom_json(body, 400), clock, query="sum(rate(x[5m])")
    assert type(exc) is SourceError
    assert str(exc) == (
        'query rejected (bad_data, HTTP 400): invalid parameter "query": 1:15: parse error: '
        "unclosed left parenthesis — query: sum(rate(x[5m])"
    )


async def test_an_execution_error_is_rejected_in_words(clock: FakeClock) -> None:
    body = error_body(
        "execution",
        'found duplicate series for the match group {instance="a"} on the right hand-side',
    )
    exc = await failure(lambda r: prom_json(body, 422), clock)
    assert type(exc) is SourceError
    assert str(exc).startswith("query rejected (execution, HTTP 422): found duplicate series")
    # A long query is cut in the message: it must fit a status bar.
    assert str(exc).endswith("…") and len(str(exc)) < 250


async def test_an_error_status_with_200_is_still_an_error(clock: FakeClock) -> None:
    exc = await failure(lambda r: prom_json(error_body("bad_data", "unknown function")), clock)
    assert str(exc).startswith("query rejected (bad_data): unknown function")


async def test_a_timeout_is_a_server_error(clock: FakeClock) -> None:
    body = error_body("timeout", "query timed out in expression evaluation")
    exc = await failure(lambda r: prom_json(body, 503), clock)
    assert isinstance(exc, ServerError)
    assert str(exc) == (
        "Prometheus at prometheus.example.com could not run the query (timeout, HTTP 503): "
        "query timed out in expression evaluation"
    )


async def test_a_503_page_is_a_server_error(clock: FakeClock) -> None:
    page = httpx.Response(503, text="<html><body><h1>503 Service Unavailable</h1></body></html>")
    exc = await failure(lambda r: page, clock)
    assert isinstance(exc, ServerError)
    assert "HTTP 503" in str(exc) and "HTML" in str(exc)
    plain = httpx.Response(503, text="Service Unavailable")
    exc = await failure(lambda r: plain, clock)
    assert isinstance(exc, ServerError)


async def test_a_500_is_a_server_error(clock: FakeClock) -> None:
    exc = await failure(lambda r: httpx.Response(500, text="internal"), clock)
    assert isinstance(exc, ServerError)


async def test_html_where_json_was_expected_is_a_bad_payload(clock: FakeClock) -> None:
    login = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>SSO</body></html>"
    exc = await failure(lambda r: httpx.Response(200, text=login), clock)
    assert isinstance(exc, BadPayload)
    assert "HTML" in str(exc)
    exc = await failure(lambda r: httpx.Response(400, text=login), clock)
    assert isinstance(exc, BadPayload)
    assert "HTTP 400" in str(exc) and "HTML" in str(exc)


async def test_truncated_json_is_a_bad_payload(clock: FakeClock) -> None:
    cut = json.dumps(one("0.002"))[:40]
    exc = await failure(lambda r: httpx.Response(200, text=cut), clock)
    assert isinstance(exc, BadPayload)


@pytest.mark.parametrize(
    "payload",
    [
        {"message": "ok"},  # some other JSON API at that URL
        {"status": "success"},  # no data
        {"status": "success", "data": {"resultType": "vector", "result": {"a": 1}}},
        {"status": "success", "data": {"resultType": "vector", "result": [{"metric": "x"}]}},
        [1, 2, 3],
    ],
)
async def test_answers_that_are_not_a_query_result_are_bad_payloads(
    payload: Any, clock: FakeClock
) -> None:
    exc = await failure(lambda r: prom_json(payload), clock)
    assert isinstance(exc, BadPayload)


async def test_a_wrong_url_is_not_found_naming_what_was_tried(clock: FakeClock) -> None:
    exc = await failure(lambda r: httpx.Response(404, text="404 page not found\n"), clock)
    assert isinstance(exc, NotFound)
    assert "https://prometheus.example.com/api/v1/query" in str(exc)


async def test_refused_credentials_name_where_the_token_came_from(clock: FakeClock) -> None:
    exc = await failure(lambda r: httpx.Response(401, text="Unauthorized"), clock, token=TOKEN)
    assert isinstance(exc, AuthFailed)
    assert "HTTP 401" in str(exc) and "$PROM_TOKEN" in str(exc)
    assert TOKEN not in str(exc)
    exc = await failure(lambda r: httpx.Response(403, text="Forbidden"), clock, token=TOKEN)
    assert isinstance(exc, AuthFailed)
    assert "HTTP 403" in str(exc) and TOKEN not in str(exc)
    exc = await failure(lambda r: httpx.Response(401, text="Unauthorized"), clock)
    assert "no token given" in str(exc)


async def test_the_token_never_appears_even_when_the_server_echoes_it(clock: FakeClock) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        said = f"bad header {request.headers['authorization']}"
        return prom_json(error_body("bad_data", said), 400)

    exc = await failure(echo, clock, token=TOKEN)
    assert TOKEN not in str(exc) and "Bearer ***" in str(exc)

    result, _ = await poll_with(
        one("0.002", warnings=[f"token {TOKEN} is old"]), clock, token=TOKEN
    )
    (check,) = result.services
    assert check.detail is not None
    assert TOKEN not in check.detail and "token *** is old" in check.detail
    assert TOKEN not in result.summary


async def test_an_unreachable_server_is_unreachable(clock: FakeClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    exc = await failure(refuse, clock)
    assert isinstance(exc, Unreachable)
    assert "prometheus.example.com" in str(exc)
