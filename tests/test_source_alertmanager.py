"""The Alertmanager source against a fake Alertmanager speaking the API v2 shapes (api-facts §9).

Firing alerts are data: each becomes a ``ServiceCheck(kind="alert")``. Errors are for the source
itself: unreachable, credentials refused, a matcher the server rejects, an answer that is not a
list of alerts.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import AuthFailed, BadPayload, NotFound, ServerError, SourceError
from buildradiator.model import Health, ServiceCheck, SourceResult
from buildradiator.sources.alertmanager.config import AlertmanagerSource
from buildradiator.sources.alertmanager.source import Alertmanager
from buildradiator.sources.catalog import make_source
from buildradiator.sources.http import HttpClient

TOKEN = "am-s3cr3t-T0ken-0123456789abcdef"
URL = "https://alertmanager.example.com"
ALERTS_PATH = "/api/v2/alerts"

# As Alertmanager 0.27 answers: every field, in its order, plus one it may add later.
FIRING: dict[str, Any] = {
    "annotations": {
        "summary": "5xx above 1% for 5m",
        "description": "3.4% of requests answered 5xx",
        "runbook_url": "https://runbooks.example.com/payments",
    },
    "endsAt": "2099-01-01T00:04:00.000Z",
    "fingerprint": "0082b4b252f1717a",
    "receivers": [{"name": "pagerduty-payments"}],
    "startsAt": "2026-11-26T11:58:00.123-08:00",
    "status": {"inhibitedBy": [], "mutedBy": [], "silencedBy": [], "state": "active"},
    "updatedAt": "2026-11-26T19:59:45.000Z",
    "generatorURL": "http://prometheus.example.com/graph?g0.expr=up&g0.tab=1",
    "labels": {
        "alertname": "PaymentsHighErrorRate",
        "env": "prod",
        "job": "payments-api",
        "service": "payments",
        "severity": "critical",
    },
    "someFutureField": {"x": 1},
}


def alert(
    name: str = "PaymentsHighErrorRate",
    severity: str | None = "critical",
    service: str | None = "payments",
    *,
    state: str = "active",
    silenced_by: list[str] | None = None,
    inhibited_by: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The fixture alert with its labels, status and fields bent."""
    out = copy.deepcopy(FIRING)
    out["labels"]["alertname"] = name
    for key, value in (("severity", severity), ("service", service)):
        if value is None:
            del out["labels"][key]
        else:
            out["labels"][key] = value
    out["status"].update(state=state, silencedBy=silenced_by or [], inhibitedBy=inhibited_by or [])
    out.update(fields)
    return out


def am_json(payload: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(payload).encode(), headers={"content-type": "application/json"}
    )


class FakeAlertmanager:
    """Answers ``{root}/api/v2/alerts`` with ``reply`` (anything else is Go's 404) and records
    every request."""

    def __init__(self, reply: httpx.Response | None = None, root: str = "") -> None:
        self.reply = reply or am_json([])
        self.root = root
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path != self.root + ALERTS_PATH:
            return httpx.Response(404, text="404 page not found\n")
        return self.reply


def config(**kw: Any) -> AlertmanagerSource:
    kw.setdefault("url", URL)
    return AlertmanagerSource(type="alertmanager", name="am", **kw)


@pytest.fixture
def fake() -> FakeAlertmanager:
    return FakeAlertmanager()


@pytest.fixture
async def http(fake: FakeAlertmanager, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    try:
        yield client
    finally:
        await client.aclose()


async def poll(
    http: HttpClient, fake: FakeAlertmanager, reply: Any = None, **kw: Any
) -> SourceResult:
    if reply is not None:
        fake.reply = reply if isinstance(reply, httpx.Response) else am_json(reply)
    return await Alertmanager(config(**kw), http).poll()


def by_name(result: SourceResult) -> dict[str, ServiceCheck]:
    return {c.name: c for c in result.services}


async def test_make_source_builds_alertmanager(http: HttpClient) -> None:
    assert isinstance(make_source(config(), http), Alertmanager)


async def test_firing_silenced_and_inhibited_alerts(
    http: HttpClient, fake: FakeAlertmanager, clock: FakeClock
) -> None:
    payload = [
        alert("SearchLatencyHigh", "warning", "search"),
        FIRING,
        alert("DiskWillFillIn4Hours", "critical", "checkout", state="suppressed",
              silenced_by=["7b4f5c1e-9d7e-4c43-8f0a-2f6d1c9e3b21"]),
        alert("PaymentsLatencyHigh", "warning", "payments", state="suppressed",
              inhibited_by=["0082b4b252f1717a"]),
    ]  # fmt: skip
    result = await poll(http, fake, payload)
    checks = by_name(result)
    pay = checks["PaymentsHighErrorRate"]
    assert pay.kind == "alert" and pay.source == "am"
    assert pay.health is Health.DOWN and pay.severity == "critical"
    assert pay.service == "payments" and pay.environment == "prod"
    assert pay.detail == "5xx above 1% for 5m"
    assert pay.since == datetime(2026, 11, 26, 19, 58, 0, 123000, tzinfo=UTC)
    assert pay.url == "http://prometheus.example.com/graph?g0.expr=up&g0.tab=1"
    assert pay.checked_at == clock.now()
    assert pay.muted is None
    search = checks["SearchLatencyHigh"]
    assert search.health is Health.WARN and search.service == "search" and search.muted is None
    disk = checks["DiskWillFillIn4Hours"]
    assert disk.muted == "silenced" and disk.health is Health.DOWN
    assert checks["PaymentsLatencyHigh"].muted == "inhibited"
    # Firing first (down before warn), muted after.
    assert [c.name for c in result.services] == [
        "PaymentsHighErrorRate",
        "SearchLatencyHigh",
        "DiskWillFillIn4Hours",
        "PaymentsLatencyHigh",
    ]
    assert result.summary == "2 firing (1 critical), 1 silenced, 1 inhibited"
    assert result.pipelines == () and result.deployments == ()


async def test_request_params_one_filter_per_matcher(
    http: HttpClient, fake: FakeAlertmanager
) -> None:
    matchers = ['severity="critical"', 'team=~"checkout|payments"', "env!=staging"]
    fake.root = "/am"
    await poll(http, fake, [], url="https://ops.example.com/am/", matchers=matchers)
    (request,) = fake.requests
    assert request.url.host == "ops.example.com"
    assert request.url.path == "/am/api/v2/alerts"
    params = request.url.params
    assert params["active"] == "true"
    assert params["silenced"] == "true" and params["inhibited"] == "true"
    assert params.get_list("filter") == matchers
    assert "authorization" not in request.headers


async def test_hide_muted_asks_the_server_and_drops_what_it_sends_anyway(
    http: HttpClient, fake: FakeAlertmanager
) -> None:
    # A proxy or an old server ignoring the flags still sends the silenced one.
    payload = [FIRING, alert("Disk", state="suppressed", silenced_by=["s1"])]
    result = await poll(http, fake, payload, muted="hide")
    params = fake.requests[0].url.params
    assert params["silenced"] == "false" and params["inhibited"] == "false"
    assert [c.name for c in result.services] == ["PaymentsHighErrorRate"]
    assert result.summary == "1 firing (1 critical)"


async def test_bearer_token(http: HttpClient, fake: FakeAlertmanager) -> None:
    await poll(http, fake, [], token=SecretStr(TOKEN), token_env="AM_TOKEN")
    assert fake.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_username_means_basic_auth_with_the_token_as_password(
    http: HttpClient, fake: FakeAlertmanager
) -> None:
    await poll(http, fake, [], token=SecretStr(TOKEN), token_env="AM_TOKEN", username="radiator")
    expected = base64.b64encode(f"radiator:{TOKEN}".encode()).decode()
    assert fake.requests[0].headers["authorization"] == f"Basic {expected}"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (json.dumps('bad matcher format: severity=="x"'), "application/json",
         ': bad matcher format: severity=="x"'),
        ("parse error: unexpected end of input\n", "text/plain",
         ": parse error: unexpected end of input"),
        ('{"code": 400, "message": "filter in query must be a string"}', "application/json",
         ": filter in query must be a string"),
        ("<html><body>Bad Request</body></html>", "text/html", ""),
    ],
)  # fmt: skip
async def test_400_names_the_matchers(
    http: HttpClient, fake: FakeAlertmanager, body: str, content_type: str, reason: str
) -> None:
    fake.reply = httpx.Response(400, content=body.encode(), headers={"content-type": content_type})
    with pytest.raises(SourceError) as caught:
        await poll(http, fake, matchers=['severity="critical"', 'team="checkout"'])
    error = caught.value
    assert error.kind == "error"
    assert str(error) == (
        'alertmanager.example.com rejected the matchers severity="critical", team="checkout" '
        "(HTTP 400)" + reason
    )


async def test_400_never_echoes_the_token(http: HttpClient, fake: FakeAlertmanager) -> None:
    fake.reply = am_json(f"bad matcher format: {TOKEN}\x1b[31m[bold]x[/]", 400)
    with pytest.raises(SourceError) as caught:
        await poll(http, fake, token=SecretStr(TOKEN), token_env="AM_TOKEN")
    text = str(caught.value)
    assert TOKEN not in text and "***" in text
    assert "\x1b" not in text and "(none)" in text


async def test_401_names_where_the_token_came_from(
    http: HttpClient, fake: FakeAlertmanager
) -> None:
    fake.reply = httpx.Response(401, text="Unauthorized\n")
    with pytest.raises(AuthFailed) as caught:
        await poll(http, fake, token=SecretStr(TOKEN), token_env="AM_TOKEN")
    assert "$AM_TOKEN" in str(caught.value) and TOKEN not in str(caught.value)


async def test_401_without_token_says_to_configure_one(
    http: HttpClient, fake: FakeAlertmanager
) -> None:
    fake.reply = httpx.Response(401, text="Unauthorized\n")
    with pytest.raises(AuthFailed, match="set token_env"):
        await poll(http, fake)


async def test_403_is_auth_failed(http: HttpClient, fake: FakeAlertmanager) -> None:
    fake.reply = httpx.Response(403, text="Forbidden\n")
    with pytest.raises(AuthFailed) as caught:
        await poll(http, fake, token=SecretStr(TOKEN), token_file="/run/secrets/am")
    assert "token file /run/secrets/am" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_404_names_the_url_tried(http: HttpClient, fake: FakeAlertmanager) -> None:
    # Someone put the API path in url: we append it again, and the server says 404.
    with pytest.raises(NotFound) as caught:
        await poll(http, fake, url="https://alertmanager.example.com/api/v2")
    assert "https://alertmanager.example.com/api/v2/api/v2/alerts" in str(caught.value)
    assert "not found" in str(caught.value) and "without /api/v2" in str(caught.value)


async def test_html_error_page_is_a_server_error(http: HttpClient, fake: FakeAlertmanager) -> None:
    fake.reply = httpx.Response(
        502, text="<html><body>502 Bad Gateway</body></html>", headers={"content-type": "text/html"}
    )
    with pytest.raises(ServerError, match="HTTP 502"):
        await poll(http, fake)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"status": "success", "data": []}', "got an object"),  # the v1 API's shape
        (b'"hello"', "got a str"),
        (b"null", "got a NoneType"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "HTML page"),
        (b'[{"labels": {"alertname": "X"', "invalid JSON"),
        (b"", "empty body"),
        (b'["entry 0", "entry 1"]', "none of the 2 entries is an alert object"),
    ],
)
async def test_bad_payloads(
    http: HttpClient, fake: FakeAlertmanager, body: bytes, words: str
) -> None:
    fake.reply = httpx.Response(200, content=body, headers={"content-type": "application/json"})
    with pytest.raises(BadPayload, match=words):
        await poll(http, fake)


async def test_missing_and_null_fields_never_crash(
    http: HttpClient, fake: FakeAlertmanager, clock: FakeClock
) -> None:
    payload = [
        {},
        {"labels": None, "annotations": None, "status": None, "startsAt": None,
         "generatorURL": None, "fingerprint": None, "receivers": None},
        {"labels": {"alertname": "Numbers", "severity": 3, "service": ["x"], "env": None},
         "annotations": ["not", "a", "map"], "startsAt": 1732600000,
         "status": {"state": None, "silencedBy": None, "inhibitedBy": [None, 7]}},
        "not an alert",
        42,
    ]  # fmt: skip
    result = await poll(http, fake, payload)
    assert len(result.services) == 3
    unnamed = [c for c in result.services if c.name == "unnamed alert"]
    assert len(unnamed) == 2
    for check in unnamed:
        assert check.health is Health.WARN and check.service is None and check.severity is None
        assert check.detail == "no service label" and check.since is None and check.url is None
        assert check.muted is None and check.checked_at == clock.now()
    numbers = by_name(result)["Numbers"]
    assert numbers.severity == "3" and numbers.service is None and numbers.environment is None
    assert result.summary == "3 firing, 2 unreadable entries skipped"


async def test_unprocessed_and_unknown_states_fire(
    http: HttpClient, fake: FakeAlertmanager
) -> None:
    payload = [
        alert("A", state="unprocessed"),
        alert("B", state="flapping"),  # a state a later version may add
        alert("C", state="SUPPRESSED", silenced_by=["s"]),
        alert("D", state="suppressed"),  # suppressed, but nothing says by what
        alert("E", state="active", silenced_by=["s"]),  # the state is the server's verdict
    ]
    muted = {c.name: c.muted for c in (await poll(http, fake, payload)).services}
    assert muted == {"A": None, "B": None, "C": "silenced", "D": "suppressed", "E": None}


async def test_mute_time_interval(http: HttpClient, fake: FakeAlertmanager) -> None:
    payload = [alert("A", state="suppressed")]
    payload[0]["status"]["mutedBy"] = ["weekends"]
    (check,) = (await poll(http, fake, payload)).services
    assert check.muted == "muted"


async def test_alert_past_its_ends_at_still_fires(
    http: HttpClient, fake: FakeAlertmanager, clock: FakeClock
) -> None:
    ended = (clock.now() - timedelta(hours=1)).isoformat()
    (check,) = (await poll(http, fake, [alert(endsAt=ended)])).services
    assert check.health is Health.DOWN and check.muted is None


async def test_severity_is_case_insensitive_and_configurable(
    http: HttpClient, fake: FakeAlertmanager
) -> None:
    payload = [alert("A", "CRITICAL"), alert("B", "Page"), alert("C", "sev1"), alert("D", None)]
    health = {c.name: c.health for c in (await poll(http, fake, payload)).services}
    assert health == {"A": Health.DOWN, "B": Health.DOWN, "C": Health.WARN, "D": Health.WARN}
    payload = [alert("A", "critical"), alert("C", "SEV1")]
    result = await poll(http, fake, payload, down_severities=["sev1"])
    assert {c.name: c.health for c in result.services} == {"A": Health.WARN, "C": Health.DOWN}
    assert result.summary == "2 firing (1 sev1)"


async def test_service_and_environment_labels_and_fallbacks(
    http: HttpClient, fake: FakeAlertmanager
) -> None:
    payload = [alert("A", service=None), alert("B", service=None)]
    payload[1]["labels"].update(app="billing", cluster="eu-1")
    del payload[1]["labels"]["env"]
    checks = by_name(await poll(http, fake, payload, service_label="app",
                                environment_label="cluster"))  # fmt: skip
    assert checks["A"].service is None and checks["A"].environment is None
    assert checks["A"].detail == "5xx above 1% for 5m (no service label)"
    assert checks["B"].service == "billing" and checks["B"].environment == "eu-1"
    assert checks["B"].detail == "5xx above 1% for 5m"
    # The config's service and environment fill in; then nothing is missing.
    checks = by_name(await poll(http, fake, payload, service="shop", environment="staging",
                                environment_label="cluster"))  # fmt: skip
    assert checks["A"].service == "shop" and checks["A"].environment == "staging"
    assert checks["A"].detail == "5xx above 1% for 5m"


async def test_description_when_no_summary(http: HttpClient, fake: FakeAlertmanager) -> None:
    payload = [alert(annotations={"description": "only a description"})]
    (check,) = (await poll(http, fake, payload)).services
    assert check.detail == "only a description"


async def test_all_clear_row_when_the_configured_service_has_no_alert(
    http: HttpClient, fake: FakeAlertmanager, clock: FakeClock
) -> None:
    result = await poll(http, fake, [], service="payments", environment="prod")
    (check,) = result.services
    assert check.name == "alerts" and check.service == "payments"
    assert check.health is Health.UP and check.detail == "no alerts firing"
    assert check.environment == "prod" and check.kind == "alert"
    assert check.checked_at == clock.now()
    assert result.summary == "0 firing"
    # Only a muted alert for it, and one for another service: still all clear.
    payload = [
        alert("Disk", service="payments", state="suppressed", silenced_by=["s"]),
        alert("Other", service="search"),
    ]
    result = await poll(http, fake, payload, service="payments")
    assert [c.name for c in result.services] == ["Other", "Disk", "alerts"]
    assert result.summary == "1 firing (1 critical), 1 silenced"
    # An alert firing for it: no all-clear row.
    result = await poll(http, fake, [alert(service="payments")], service="payments")
    assert [c.name for c in result.services] == ["PaymentsHighErrorRate"]


async def test_escapes_are_removed_and_markup_stays_literal(
    http: HttpClient, fake: FakeAlertmanager
) -> None:
    payload = [
        alert(
            "Evil\x1b]8;;http://evil.example\x07Alert\x1b[31m",
            "[bold red]critical[/]",
            "pay\u202ements\x00",
            annotations={"summary": "[link=http://x]click[/link]\x1b[2J\nsecond line"},
            generatorURL="javascript:alert(1)",
        )
    ]
    (check,) = (await poll(http, fake, payload)).services
    assert check.name == "EvilAlert"
    assert check.severity == "[bold red]critical[/]" and check.health is Health.WARN
    assert check.service == "payments"
    assert check.detail == "[link=http://x]click[/link] second line"
    assert check.url is None


async def test_unreachable_names_the_host(clock: FakeClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(refuse)), clock=clock)
    try:
        with pytest.raises(SourceError, match=r"alertmanager\.example\.com: connection refused"):
            await Alertmanager(config(token=SecretStr(TOKEN)), client).poll()
    finally:
        await client.aclose()
