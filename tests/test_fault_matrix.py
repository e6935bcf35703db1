"""The fault matrix: every source type against every failure an API or a network can produce.

Each case runs the real ``Engine`` over two sources: the *target* (one source of the type under
test) and a *bystander* on another host. Both are first polled against the built-in simulator
(answering in-process through ``httpx.MockTransport``, so the payloads are the simulator's real API
shapes); then the target's host turns faulty and both are polled again. Every fault must end as
the target's ``SourceError`` in plain words within its timeout, the last good data kept and
marked stale, the bystander untouched. A health check is the exception by design: a failed check
is its data, so it reports DOWN (or UNKNOWN) instead of failing.

HTTP-level faults (status codes, bodies) come from a MockTransport; network-level faults (refused,
DNS, a server that accepts and never answers, one that drips, one that hangs up, TLS) go through
httpx's real transport to real loopback sockets: the requests to the target's host are re-pointed
at a tiny asyncio server. DNS fails through a patched ``socket.getaddrinfo``, so no name ever
leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.config.loading import Config, RadiatorConfig
from buildradiator.engine.engine import Engine
from buildradiator.errors import RateLimited
from buildradiator.model import Health, Snapshot
from buildradiator.simulator import Simulator
from buildradiator.sources.http import HttpClient
from sim_helpers import SOURCE_TYPES, LoopbackServer, demo_source, refused_port, sim_handler

TIMEOUT = 0.3
"""Every source's timeout in this file: short, so the hanging and dripping cases stay fast."""
TARGET, OTHER = "target.test", "other.test"
TOKEN = "fm-S3cretT0ken-9f8e7d6c5b4a"
CONTROL = {chr(c) for c in range(32)} | {chr(c) for c in range(0x7F, 0xA0)}


# -- the simulator, answering in-process -------------------------------------------------------


@pytest.fixture
def sim() -> Simulator:
    # Never started: the handlers call ``answer`` directly, no server thread is needed.
    simulator = Simulator()
    simulator.set_time(100)  # a moment where every provider has finished and running builds
    return simulator


# -- faults --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    name: str
    kind: str
    """The ``SourceError.kind`` a CI source must end with."""
    words: tuple[str, ...] = ()
    """Lower-case words the message must contain (any one of them)."""
    health: tuple[Health, ...] = (Health.DOWN,)
    """What a health check reports for it (by design never an error)."""
    network: str | None = None
    """Loopback server mode for network-level faults; None: a MockTransport answer."""
    timeout: float = TIMEOUT
    """The source's timeout: short where the fault is the wait itself (hanging, dripping); long
    where it must end on its own (a refused connection or TLS handshake, a name that does not
    resolve), so a loaded machine's slow handshake or resolver thread is not taken for it."""


FAULTS = [
    Fault("refused", "unreachable", ("refused",), network="refused", timeout=5.0),
    Fault("dns", "unreachable", ("dns",), network="dns", timeout=5.0),
    Fault("connect_timeout", "timeout", ("within",)),
    Fault("accept_and_hang", "timeout", ("within",), network="hang"),
    Fault("tls", "unreachable", ("tls",), network="tls", timeout=5.0),
    Fault("tls_to_plain_port", "unreachable", ("tls",), network="plain", timeout=5.0),
    Fault("hang_up", "unreachable", ("closed the connection",), network="close", timeout=5.0),
    Fault("drip", "timeout", ("within",), network="drip"),
    Fault("http_401", "auth", ("401",)),
    Fault("http_403_access", "auth", ("403",)),
    Fault("http_403_rate_limit", "rate_limited", ("rate limit",)),
    Fault("http_404", "not_found", ("not found",)),
    Fault("http_429_retry_after", "rate_limited", ("rate limit",)),
    Fault("http_429_bare", "rate_limited", ("rate limit",)),
    Fault("http_500", "server", ("500",)),
    Fault("http_502_html", "server", ("502",)),
    Fault("empty_body", "bad_payload", ("empty", "not xml", "payload"), health=(Health.UP,)),
    Fault("truncated", "bad_payload", ("invalid json", "not xml"), health=(Health.UP,)),
    Fault("wrong_types", "bad_payload", ("payload", "not a cctray", "not a junit"), (Health.UP,)),
    Fault("huge_streamed", "bad_payload", ("larger than",), health=(Health.UNKNOWN,)),
    Fault("huge_declared", "bad_payload", ("larger than",), health=(Health.UNKNOWN,)),
]
RETRY_AFTER = 120
RESET_IN = 900
HUGE = 20 * 1024 * 1024

HTML_502 = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)


def rate_limit_answer(kind: str, now_epoch: float) -> httpx.Response:
    """A rate limit as each API says it (api-facts, table at the top)."""
    reset = int(now_epoch) + RESET_IN
    if kind == "github":
        # Primary limit spent: 403 with remaining 0 and the reset as unix time.
        return httpx.Response(
            403,
            headers={
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000",
                "x-ratelimit-reset": str(reset),
                "x-ratelimit-resource": "core",
            },
            json={
                "message": "API rate limit exceeded for user ID 1.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            },
        )
    if kind == "gitlab":
        return httpx.Response(
            429,
            headers={
                "ratelimit-limit": "2000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(reset),
                "content-type": "text/plain",
            },
            text="Retry later\n",
        )
    if kind == "buildkite":
        return httpx.Response(
            429,
            headers={
                "ratelimit-limit": "200",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(RESET_IN),
            },
            json={"message": "You have hit the rate limit", "reset": RESET_IN},
        )
    if kind == "circleci":
        return httpx.Response(429, json={"message": "Rate limit exceeded"})
    # Jenkins, Buildbot, CCTray feeds and health endpoints have no rate limit of their own; a
    # fronting proxy or WAF answers 403 with words instead.
    return httpx.Response(
        403, headers={"content-type": "text/plain"}, text="403 Forbidden: rate limit exceeded\n"
    )


def expected_retry_at(kind: str, fault: str, clock: FakeClock) -> Any:
    if fault == "http_429_retry_after":
        return clock.now() + timedelta(seconds=RETRY_AFTER)
    if fault == "http_403_rate_limit" and kind in ("github", "gitlab", "buildkite"):
        if kind == "buildkite":
            return clock.now() + timedelta(seconds=RESET_IN)
        return clock.now().replace(microsecond=0) + timedelta(seconds=RESET_IN)
    return None


def wrong_types(value: Any) -> Any:
    """The right document with the wrong types: every collection at the top becomes a string,
    every scalar a list (what a proxy rewriting answers or an API version bump might send)."""
    if isinstance(value, list):
        return [f"entry {i}" for i in range(max(1, len(value)))]
    if isinstance(value, dict):
        return {
            k: "not a list" if isinstance(v, list | dict) else [v] if v is not None else 7
            for k, v in value.items()
        }
    return {"unexpected": value}


async def huge_chunks() -> AsyncIterator[bytes]:
    chunk = b"[" * 65536
    for _ in range(HUGE // len(chunk)):
        yield chunk


def http_fault(
    fault: str, kind: str, good: Callable[[httpx.Request], httpx.Response], clock: FakeClock
) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        if fault == "connect_timeout":
            raise httpx.ConnectTimeout("timed out", request=request)
        if fault == "http_401":
            return httpx.Response(401, json={"message": "Bad credentials"})
        if fault == "http_403_access":
            return httpx.Response(403, json={"message": "Resource not accessible by integration"})
        if fault == "http_403_rate_limit":
            return rate_limit_answer(kind, clock.now().timestamp())
        if fault == "http_404":
            return httpx.Response(404, json={"message": "Not Found"})
        if fault == "http_429_retry_after":
            return httpx.Response(429, headers={"retry-after": str(RETRY_AFTER)}, text="slow down")
        if fault == "http_429_bare":
            return httpx.Response(429, text="Too Many Requests")
        if fault == "http_500":
            return httpx.Response(500, json={"message": "Internal Server Error"})
        if fault == "http_502_html":
            return httpx.Response(502, headers={"content-type": "text/html"}, content=HTML_502)
        if fault == "empty_body":
            return httpx.Response(200, headers={"content-type": "application/json"}, content=b"")
        if fault == "huge_streamed":
            return httpx.Response(200, content=huge_chunks())
        if fault == "huge_declared":
            return httpx.Response(200, headers={"content-length": str(HUGE)}, content=huge_chunks())
        # The simulator would say 304 to the validators of the good poll: ask it afresh.
        for name in ("if-none-match", "if-modified-since"):
            request.headers.pop(name, None)
        real = good(request)
        assert real.status_code == 200, real
        if fault == "truncated":
            return httpx.Response(
                200, headers=real.headers, content=real.content[: len(real.content) // 2]
            )
        if fault == "wrong_types":
            if real.content.lstrip().startswith(b"<"):
                # XML has no types: the right syntax with the wrong document.
                body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
                return httpx.Response(
                    200, headers={"content-type": "application/xml"}, content=body
                )
            return httpx.Response(200, json=wrong_types(json.loads(real.content)))
        raise AssertionError(f"unknown fault {fault}")

    return handle


# -- real loopback sockets ------------------------------------------------------------------------


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only loopback resolves: any other name fails like a name that does not exist."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("127.0.0.1", "localhost", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class Router(httpx.AsyncBaseTransport):
    """The bystander's host always answers from the simulator; the target's too until
    ``faulty`` is set, then from ``fault`` (a MockTransport or the real transport, with the URL
    re-pointed at a loopback server)."""

    def __init__(self, good: httpx.AsyncBaseTransport) -> None:
        self.good = good
        self.fault: httpx.AsyncBaseTransport | None = None
        self.redirect: tuple[str, int] | None = None
        self.faulty = False
        self.fault_requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.faulty or request.url.host != TARGET:
            return await self.good.handle_async_request(request)
        assert self.fault is not None
        self.fault_requests += 1
        if self.redirect is not None:
            scheme, port = self.redirect
            request.url = request.url.copy_with(scheme=scheme, host="127.0.0.1", port=port)
        return await self.fault.handle_async_request(request)

    async def aclose(self) -> None:
        await self.good.aclose()
        if self.fault is not None:
            await self.fault.aclose()


# -- the matrix -----------------------------------------------------------------------------------


def plain_words(message: str) -> None:
    assert message and len(message) < 300, message
    assert not (set(message) & CONTROL), repr(message)
    assert TOKEN not in message
    for noise in ("Traceback", "<html", "<!doctype", "Exception(", "httpx.", "httpcore"):
        assert noise.lower() not in message.lower(), message


def of(name: str, source: str) -> bool:
    """``name`` is ``source`` or one of its parts (a radiator source's ``source/theirs``)."""
    return name == source or name.startswith(f"{source}/")


def names_of(snapshot: Snapshot, source: str) -> set[str]:
    return (
        {p.key for p in snapshot.pipelines if of(p.source, source)}
        | {s.name for s in snapshot.services if of(s.source, source)}
        | {f"{d.service}@{d.environment}" for d in snapshot.deployments if of(d.source, source)}
        | {b.id for b in snapshot.blockers if of(b.source, source)}
    )


def kept_data(engine: Engine, snapshot: Snapshot, source: str) -> object:
    """What the screen knows of a source: its rows, or (JUnit shows no rows, it feeds
    history) the last good result itself."""
    if engine.slots[source].config.type in ("junit", "blockers"):  # type: ignore[attr-defined]
        # Blockers may rightly be none at the moment tested: the result is what is kept.
        return engine.slots[source].result
    return names_of(snapshot, source)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
@pytest.mark.parametrize("kind", SOURCE_TYPES)
async def test_fault_ends_as_the_sources_error_and_keeps_the_last_good_data(
    kind: str,
    fault: Fault,
    sim: Simulator,
    self_signed: ssl.SSLContext | None,
    no_dns: None,
) -> None:
    clock = FakeClock()
    target = demo_source(
        kind, f"http://{TARGET}", "target", timeout=fault.timeout, token=SecretStr(TOKEN)
    )
    other_kind = "cctray" if kind != "cctray" else "buildbot"
    bystander = demo_source(other_kind, f"http://{OTHER}", "bystander", timeout=TIMEOUT)
    config = Config(radiator=RadiatorConfig(interval=30), sources=[target, bystander])
    router = Router(httpx.MockTransport(sim_handler(sim)))
    engine = build_engine(
        config,
        http=HttpClient(httpx.AsyncClient(transport=router), clock=clock),
        clock=clock,
        rng=random.Random(7),
    )
    server: LoopbackServer | None = None
    try:
        await engine.poll_all()
        good = engine.snapshot()
        # The polled sources (a radiator source's parts say how the other radiator's do).
        assert all(s.error is None for s in good.sources if "/" not in s.name), good.sources
        before = kept_data(engine, good, "target")
        assert before, f"the simulator gave {kind} nothing to show"
        good_at = clock.now()

        if fault.network is None:
            router.fault = httpx.MockTransport(
                http_fault(fault.name, kind, sim_handler(sim), clock)
            )
        else:
            router.fault = httpx.AsyncHTTPTransport()  # the real one, verifying TLS
            mode = fault.network
            if mode == "refused":
                router.redirect = ("http", refused_port())
            elif mode == "dns":
                router.redirect = None  # the real transport resolves target.test: no such name
            else:
                tls = self_signed if mode == "tls" else None
                # Without openssl, TLS fails against a plain port instead (the handshake breaks).
                server = await LoopbackServer(
                    "plain" if mode == "tls" and tls is None else mode, tls
                ).__aenter__()
                scheme = "https" if mode in ("tls", "plain") else "http"
                router.redirect = (scheme, server.port)
        router.faulty = True
        clock.advance(30)

        started = time.perf_counter()
        await asyncio.gather(engine.poll_source("target"), engine.poll_source("bystander"))
        elapsed = time.perf_counter() - started
        after = engine.snapshot()
    finally:
        if server is not None:
            await server.__aexit__(None, None, None)
        await engine.aclose()

    assert router.fault_requests >= 1
    # Within its timeout: one request's deadline, plus slack for a loaded CI machine.
    assert elapsed < fault.timeout + 1.5, elapsed

    # The bystander never noticed.
    other = after.source_state("bystander")
    assert other is not None and other.error is None and not other.stale
    assert "bystander" not in after.stale_sources
    assert names_of(after, "bystander") == names_of(good, "bystander")

    state = after.source_state("target")
    assert state is not None
    if kind == "health":
        # By design a failed check is the data: DOWN (or UNKNOWN), never a source error.
        assert state.error is None, state.error
        [check] = [s for s in after.services if s.source == "target"]
        assert check.health in fault.health, (check.health, check.detail)
        if check.health is not Health.UP:
            assert check.detail
            plain_words(check.detail)
        assert check.checked_at == clock.now()
        return

    assert state.error is not None, f"{kind} shrugged off {fault.name}"
    plain_words(state.error)
    assert state.error_kind == fault.kind, (state.error_kind, state.error)
    assert any(w in state.error.lower() for w in fault.words), state.error
    # The last good data is kept, marked stale, and still says when it was fresh.
    assert state.stale and "target" in after.stale_sources
    # Everything it brought is stale with it (a radiator source's parts too).
    shown = {p.source for p in after.pipelines} | {c.source for c in after.services}
    assert {n for n in shown if of(n, "target")} <= after.stale_sources
    assert state.last_success == good_at
    assert kept_data(engine, after, "target") == before
    slot = engine.slots["target"]
    retry_at = expected_retry_at(kind, fault.name, clock)
    if retry_at is not None:
        assert isinstance(slot.error, RateLimited)
        assert slot.error.retry_at is not None
        assert abs((slot.error.retry_at - retry_at).total_seconds()) <= 1, slot.error.retry_at
        # The engine does not come back before the API said it may.
        assert slot.next_poll is not None and slot.next_poll >= slot.error.retry_at


# -- the app keeps answering keys while every poll fails ---------------------------------------


class FailingFeed:
    """Publishes a new snapshot with a source error every few milliseconds, like an engine whose
    sources all keep failing, until cancelled."""

    def __init__(self) -> None:
        self.published = 0
        self.polls = 0

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        from buildradiator.model import SourceState

        clock = FakeClock()
        while True:
            self.published += 1
            clock.advance(1)
            snapshot = Snapshot(
                taken_at=clock.now(),
                sources=(
                    SourceState(
                        name="github",
                        type="github",
                        error=f"no answer from api.github.com within 0.5s (#{self.published})",
                        error_kind="timeout",
                        stale=True,
                    ),
                ),
                stale_sources=frozenset({"github"}),
            )
            publish(snapshot)
            await asyncio.sleep(0.05)

    def poll_now(self) -> None:
        self.polls += 1


async def test_the_app_answers_keys_while_errors_keep_arriving() -> None:
    from buildradiator.ui.app import BuildRadiatorApp
    from buildradiator.ui.widgets import HelpScreen, StatusBar

    feed = FailingFeed()
    app = BuildRadiatorApp(feed, clock=FakeClock())  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        first = feed.published
        await pilot.press("r")
        assert feed.polls == 1
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("r")
        assert feed.polls == 2
        await pilot.pause(0.1)
        assert feed.published > first + 5  # the feed kept publishing all along
        app.clear_notifications()  # the answer to "r" shares the status bar for a moment
        assert "no answer from api.github.com" in app.query_one(StatusBar).plain
        await pilot.press("q")
    assert app.return_value == 0


def test_every_declared_provider_has_a_source_to_test() -> None:
    # A new provider joins the matrix by being declared; it needs a demo config block (or a
    # case in ``demo_source``) for the matrix to have something to break.
    for kind in SOURCE_TYPES:
        assert demo_source(kind, "http://x.test", "x").type == kind  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _quiet_asyncio_tls_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    # The loopback TLS server logs the client's refused handshake; that is the point of the case.
    caplog.set_level("CRITICAL", logger="asyncio")
    yield
