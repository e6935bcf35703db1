"""HttpClient: conditional requests, rate budgets, errors in plain words, redaction."""

from __future__ import annotations

import httpx
import pytest

from buildradiator.clock import FakeClock
from buildradiator.errors import (
    AuthFailed,
    BadPayload,
    NotFound,
    RateLimited,
    ServerError,
    Timeout,
    Unreachable,
)
from buildradiator.sources.http import BUILDKITE_RATE, GITHUB_RATE, GITLAB_RATE, HttpClient, redact


def client(handler, clock: FakeClock | None = None, **kw) -> HttpClient:
    return HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock or FakeClock(), **kw
    )


async def test_conditional_request_reuses_body_on_304() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"etag": '"v1"'})
        return httpx.Response(200, json={"n": 1}, headers={"etag": '"v1"'})

    http = client(handler)
    first = await http.get("https://api.example.com/x", conditional=True)
    second = await http.get("https://api.example.com/x", conditional=True)
    await http.aclose()
    assert seen == [None, '"v1"']
    assert first.json() == second.json() == {"n": 1}
    assert not first.not_modified and second.not_modified
    assert http.budget("https://api.example.com/").not_modified == 1


async def test_conditional_ignored_by_server_still_works() -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(200, json={"n": count}, headers={"etag": f'"v{count}"'})

    http = client(handler)
    assert (await http.get("https://h/x", conditional=True)).json() == {"n": 1}
    assert (await http.get("https://h/x", conditional=True)).json() == {"n": 2}
    await http.aclose()


async def test_github_quota_spent_blocks_host_until_reset() -> None:
    clock = FakeClock()
    reset = int(clock.now().timestamp()) + 600
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            403,
            json={"message": "API rate limit exceeded"},
            headers={
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(reset),
            },
        )

    http = client(handler, clock)
    with pytest.raises(RateLimited) as first:
        await http.get("https://api.github.com/a", rate_headers=GITHUB_RATE)
    assert first.value.retry_at is not None
    assert int(first.value.retry_at.timestamp()) == reset
    # A second request to the same host fails fast without touching the network.
    with pytest.raises(RateLimited):
        await http.get("https://api.github.com/b", rate_headers=GITHUB_RATE)
    assert calls == 1
    clock.advance(601)
    with pytest.raises(RateLimited):
        await http.get("https://api.github.com/b", rate_headers=GITHUB_RATE)
    assert calls == 2
    await http.aclose()


@pytest.mark.parametrize("retry_after", ["30", "Thu, 26 Nov 2026 12:00:30 GMT"])
async def test_retry_after_seconds_or_date(retry_after: str) -> None:
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, text="Retry later", headers={"retry-after": retry_after})

    http = client(handler, clock)
    with pytest.raises(RateLimited) as err:
        await http.get("https://gitlab.example.com/api/v4/x", rate_headers=GITLAB_RATE)
    assert err.value.retry_at is not None
    assert (err.value.retry_at - clock.now()).total_seconds() == pytest.approx(30)
    await http.aclose()


async def test_forbidden_without_rate_signal_is_auth() -> None:
    http = client(lambda r: httpx.Response(403, json={"message": "Resource not accessible"}))
    with pytest.raises(AuthFailed):
        await http.get("https://api.github.com/x", rate_headers=GITHUB_RATE)
    await http.aclose()


def test_buildkite_reset_counts_seconds() -> None:
    clock = FakeClock()
    rate = BUILDKITE_RATE.parse(
        httpx.Headers(
            {"ratelimit-remaining": "10", "ratelimit-limit": "200", "ratelimit-reset": "42"}
        ),
        clock.now(),
    )
    assert rate is not None and rate.remaining == 10
    assert rate.reset_at is not None
    assert (rate.reset_at - clock.now()).total_seconds() == 42


@pytest.mark.parametrize(
    ("response", "error", "words"),
    [
        (httpx.Response(401), AuthFailed, "HTTP 401"),
        (httpx.Response(404), NotFound, "not found"),
        (httpx.Response(500), ServerError, "HTTP 500"),
        (
            httpx.Response(502, text="<html><body>Bad gateway</body></html>"),
            ServerError,
            "HTML error page",
        ),
    ],
)
async def test_status_codes_become_errors(response, error, words) -> None:
    http = client(lambda r: response)
    with pytest.raises(error) as err:
        await http.get("https://h/x")
    assert words in str(err.value)
    await http.aclose()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!DOCTYPE html><html>login</html>", "HTML page"),
        (b'{"workflow_runs": [', "invalid JSON"),
        (b"", "empty body"),
    ],
)
async def test_json_problems_are_bad_payload(body: bytes, words: str) -> None:
    http = client(lambda r: httpx.Response(200, content=body))
    response = await http.get("https://h/x")
    with pytest.raises(BadPayload) as err:
        response.json()
    assert words in str(err.value)
    await http.aclose()


@pytest.mark.parametrize(
    ("exc", "error", "words"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), Unreachable, "connection refused"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), Unreachable, "DNS"),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            Unreachable,
            "TLS",
        ),
        (httpx.ReadTimeout("timed out"), Timeout, "within 5s"),
        (httpx.RemoteProtocolError("Server disconnected"), Unreachable, "closed the connection"),
    ],
)
async def test_transport_failures_in_words(exc, error, words) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    http = client(handler)
    with pytest.raises(error) as err:
        await http.get("https://ci.example.com/x", timeout=5)
    assert words in str(err.value)
    assert "ci.example.com" in str(err.value)
    await http.aclose()


async def test_body_size_is_capped() -> None:
    http = client(lambda r: httpx.Response(200, content=b"x" * 5000), max_body=1000)
    with pytest.raises(BadPayload, match="larger than"):
        await http.get("https://h/x")
    await http.aclose()


async def test_token_in_query_never_in_errors() -> None:
    http = client(lambda r: httpx.Response(404))
    with pytest.raises(NotFound) as err:
        await http.get("https://buildkite.com/cc.xml?access_token=SEKRIT123&branch=main")
    assert "SEKRIT123" not in str(err.value)
    assert "access_token=***" in str(err.value)
    await http.aclose()


def test_redact() -> None:
    # The whole authority goes: a user name can be a token too (https://TOKEN@host).
    assert redact("https://bob:hunter2@h/x?token=abc&b=1") == "https://***@h/x?token=***&b=1"
    assert redact("https://h/x") == "https://h/x"
    assert "s3" not in redact("https://h/x?private_token=s3&circle-token=s3")


async def test_basic_auth_header() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers.get("authorization")
        return httpx.Response(200, text="ok")

    http = client(handler)
    await http.get("https://h/x", auth=("bob", "tok"))
    assert seen["auth"] == "Basic Ym9iOnRvaw=="
    await http.aclose()


async def test_deeply_nested_json_is_bad_payload_not_a_crash() -> None:
    http = client(lambda r: httpx.Response(200, content=b"[" * 200_000))
    response = await http.get("https://h/x")
    with pytest.raises(BadPayload):
        response.json()
    await http.aclose()


async def test_conditional_copies_are_per_credential() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        who = request.headers.get("authorization")
        if request.headers.get("if-none-match") == f'"{who}"':
            return httpx.Response(304)
        return httpx.Response(200, json={"who": who}, headers={"etag": f'"{who}"'})

    http = client(handler)
    a = await http.get("https://h/x", headers={"Authorization": "Bearer A"}, conditional=True)
    b = await http.get("https://h/x", headers={"Authorization": "Bearer B"}, conditional=True)
    a2 = await http.get("https://h/x", headers={"Authorization": "Bearer A"}, conditional=True)
    assert a.json() == a2.json() == {"who": "Bearer A"} and a2.not_modified
    assert b.json() == {"who": "Bearer B"} and not b.not_modified
    await http.aclose()


async def test_unverified_sibling_shares_budgets_but_not_the_client() -> None:
    http = client(lambda r: httpx.Response(200))
    sibling = http.unverified()
    assert sibling is http.unverified()
    assert sibling.client is not http.client
    assert sibling.budget("https://h/x") is http.budget("https://h/y")
    await http.aclose()
    assert sibling.client.is_closed


async def test_real_refused_and_dns_failures_in_words() -> None:
    # Against real sockets, httpx says "All connection attempts failed"; the words must not.
    http = HttpClient(clock=FakeClock())
    with pytest.raises(Unreachable, match="connection refused"):
        await http.get("http://127.0.0.1:9/x", timeout=5)
    with pytest.raises(Unreachable, match="DNS"):
        await http.get("http://no-such-host.invalid/x", timeout=5)
    await http.aclose()
