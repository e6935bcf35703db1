"""The one request path against hostile servers on 127.0.0.1: bounded memory and time, and no
credential ever sent to an origin other than the one the config names."""

from __future__ import annotations

import asyncio
import tracemalloc
import zlib

import httpx
import pytest

from buildradiator.clock import FakeClock
from buildradiator.errors import BadPayload, SourceError, Timeout
from buildradiator.sources.http import HttpClient, make_client, redact
from hostile_server import HostileServer, answer, hang

MIB = 1024 * 1024


def gzip_of_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzipped without ever holding them: a bomb of a few hundred KiB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * MIB
    parts = [packer.compress(block) for _ in range(size // MIB)]
    return b"".join([*parts, packer.flush()])


def gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.fixture
def http() -> HttpClient:
    return HttpClient(make_client(), clock=FakeClock())


async def peak_memory_of(call: object) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    try:
        try:
            await call  # type: ignore[misc]
        except BaseException as exc:
            error: BaseException | None = exc
        else:
            error = None
        return tracemalloc.get_traced_memory()[1], error
    finally:
        tracemalloc.stop()


async def test_a_stacked_encoding_is_refused_before_it_inflates(http: HttpClient) -> None:
    """``Content-Encoding: gzip, gzip``: a few KiB that inflate to 256 MiB (8-12 GB seen)."""
    bomb = gzip(gzip_of_zeros(256 * MIB))
    assert len(bomb) < 64 * 1024
    async with HostileServer() as server:
        server.route("/api", answer(200, bomb, {"Content-Encoding": "gzip, gzip"}))
        peak, error = await peak_memory_of(http.get(f"{server.url}/api"))
    await http.aclose()
    assert isinstance(error, BadPayload), error
    assert "gzip, gzip" in str(error)
    assert peak < 16 * MIB, f"peak {peak / MIB:.0f} MiB"


async def test_the_size_cap_counts_inflated_bytes_as_they_stream(http: HttpClient) -> None:
    bomb = gzip_of_zeros(200 * MIB)
    async with HostileServer() as server:
        server.route("/api", answer(200, bomb, {"Content-Encoding": "gzip"}))
        peak, error = await peak_memory_of(http.get(f"{server.url}/api"))
    await http.aclose()
    assert isinstance(error, BadPayload) and "larger than" in str(error), error
    assert peak < 2 * http.max_body + 8 * MIB, f"peak {peak / MIB:.0f} MiB"


async def test_a_compressed_answer_still_reads(http: HttpClient) -> None:
    body = b'{"ok": true, "pad": "' + b"x" * 100_000 + b'"}'
    async with HostileServer() as server:
        server.route("/gz", answer(200, gzip(body), {"Content-Encoding": "gzip"}))
        server.route("/df", answer(200, zlib.compress(body), {"Content-Encoding": "deflate"}))
        server.route("/id", answer(200, body, {"Content-Encoding": "identity"}))
        for path in ("/gz", "/df", "/id"):
            assert (await http.get(server.url + path)).json()["ok"] is True
    await http.aclose()


async def test_waiting_for_a_connection_slot_counts_in_the_timeout(http: HttpClient) -> None:
    """Eight hung requests to one host, two connections at a time, timeout 0.5 s: each ends
    within its own timeout, not after the ones queued before it (eight took 20 s at 5 s)."""
    async with HostileServer() as server:
        server.route("/hang", lambda seen: hang)
        calls = [http.get(f"{server.url}/hang", timeout=0.5) for _ in range(8)]
        results = await asyncio.wait_for(
            asyncio.gather(*calls, return_exceptions=True), timeout=1.6
        )
    await http.aclose()
    assert all(isinstance(r, Timeout) for r in results), results
    assert any("waiting for a free connection" in str(r) for r in results)


@pytest.mark.parametrize(
    "headers,auth",
    [
        ({"PRIVATE-TOKEN": "glpat-s3cret"}, None),  # GitLab
        ({"Circle-Token": "circle-s3cret"}, None),  # CircleCI
        ({"X-Api-Key": "health-s3cret"}, None),  # a health source's configured header
        ({"Authorization": "Bearer s3cret"}, None),
        ({}, ("radiator", "jenkins-s3cret")),  # Jenkins' Basic auth
    ],
    ids=["gitlab", "circleci", "health-header", "bearer", "basic"],
)
async def test_no_credential_follows_a_redirect_to_another_origin(
    http: HttpClient, headers: dict[str, str], auth: tuple[str, str] | None
) -> None:
    async with HostileServer() as home, HostileServer() as elsewhere:
        home.route("/api", answer(302, b"", {"Location": f"{elsewhere.url}/steal?x=1"}))
        elsewhere.route("/steal", answer(200, b"{}"))
        with pytest.raises(SourceError) as caught:
            await http.get(f"{home.url}/api", headers=headers, auth=auth)
    await http.aclose()
    assert elsewhere.seen == [], "a credentialed request went to another origin"
    assert f"{elsewhere.url}/steal" in str(caught.value)
    assert "s3cret" not in str(caught.value)


async def test_a_redirect_within_the_origin_keeps_its_credentials(http: HttpClient) -> None:
    async with HostileServer() as home:
        home.route("/old", answer(301, b"", {"Location": "/new"}))
        home.route("/new", answer(200, b'{"here": 1}'))
        got = await http.get(f"{home.url}/old", headers={"PRIVATE-TOKEN": "glpat-s3cret"})
    await http.aclose()
    assert got.json() == {"here": 1}
    assert home.seen[-1].headers.get("private-token") == "glpat-s3cret"


async def test_an_anonymous_redirect_to_another_origin_carries_nothing_of_ours(
    http: HttpClient,
) -> None:
    async with HostileServer() as home, HostileServer() as elsewhere:
        home.route("/feed", answer(302, b"", {"Location": f"{elsewhere.url}/feed"}))
        elsewhere.route("/feed", answer(200, b'{"moved": 1}'))
        got = await http.get(f"{home.url}/feed", headers={"Accept": "application/json"})
    await http.aclose()
    assert got.json() == {"moved": 1}
    [seen] = elsewhere.seen
    assert set(seen.headers) <= {"host", "accept", "accept-encoding", "user-agent", "connection"}


async def test_endless_redirects_end_in_words(http: HttpClient) -> None:
    async with HostileServer() as home:
        home.route("/loop", answer(302, b"", {"Location": "/loop"}))
        with pytest.raises(SourceError) as caught:
            await http.get(f"{home.url}/loop")
    await http.aclose()
    assert "redirect" in str(caught.value) and "internal error" not in str(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        "api_token", "auth_token", "client_secret", "refresh_token", "id_token",
        "X-Amz-Signature", "X-Amz-Credential", "jwt", "sessionid", "pwd", "x-api-key",
        "secret_key", "access_token", "private_token", "password", "sig", "code",
    ],
)  # fmt: skip
def test_redaction_works_by_pattern(name: str) -> None:
    shown = redact(f"https://ci.example/a?page=2&{name}=hunter2abc&branch=main")
    assert "hunter2abc" not in shown
    assert "page=2" in shown and "branch=main" in shown


def test_credentials_in_the_authority_are_always_redacted() -> None:
    for url in ("https://user:pw-s3cret@ci.example/x", "https://ghp_s3cretToken@ci.example/x"):
        shown = redact(url)
        assert "s3cret" not in shown and "ci.example/x" in shown


def test_client_follows_no_redirect_by_itself() -> None:
    # httpx drops Authorization on a cross-origin redirect but sends every other header along:
    # the one request path follows redirects itself, by its own policy.
    assert make_client().follow_redirects is False
    assert isinstance(make_client(), httpx.AsyncClient)


async def test_a_cookie_one_source_got_never_rides_on_another_sources_request(
    http: HttpClient,
) -> None:
    """The engine's one client serves every source. Jenkins (or a proxy in front of it) answers
    a request with a session cookie; a second source on the same host, with other credentials,
    must not send that session along: the radiator authenticates by token, and a cookie jar
    shared by sources mixes one user's session into another's requests."""
    async with HostileServer() as jenkins:
        jenkins.route("/a", answer(200, b"{}", {"Set-Cookie": "JSESSIONID=alice-session; Path=/"}))
        jenkins.route("/b", answer(200, b"{}"))
        await http.get(f"{jenkins.url}/a", auth=("alice", "alice-token"))
        await http.get(f"{jenkins.url}/b", auth=("bob", "bob-token"))
    await http.aclose()
    assert "cookie" not in jenkins.seen[-1].headers, jenkins.seen[-1].headers
