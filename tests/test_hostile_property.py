"""Never lie, never die, as a property: every source type, through the real ``Engine`` and its
``run`` loop, against generated hostile answers (``hostile_answers``).

Each example builds one engine watching one source of every registered type (each on a host of
its own), polls it once against the simulator's good answers, then lets ``run`` go for a few
scheduled rounds (a ``FakeClock``: backoffs and an hour's ``Retry-After`` pass at once) while
every answer is twisted: status, headers, body, encoding, timing. The answers stream to the
client in chunks, in-process or (``sockets``) written raw to a real loopback socket. Checked on
every snapshot the engine publishes, and after every poll:

- no poll raises anything but a ``SourceError``; ``run`` keeps going round, and every source
  comes back once the answers are good again;
- the snapshot serialises: JSON, cc.xml (read back by the stdlib XML parser), the metrics text,
  ``status`` text, serve's ``Board``, and serve's endpoints answer over HTTP;
- a source whose last poll failed says so in the snapshot: stale, in plain words naming it
  (never "internal error", a traceback, a control character or the token), its last good data
  kept;
- nothing is green while a source is not fresh (the verdict, the exit code, the status line,
  ``/healthz``); a poll none of whose requests got a good answer gives no data (a health check
  is not up); a failed request never makes a row vanish;
- no credential reaches another host;
- memory stays bounded (tracemalloc's peak over the hostile rounds).

The soak marker runs many more examples, longer plans and more rounds.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, example, given, settings

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.config.loading import Config, RadiatorConfig, SourceBase
from buildradiator.engine.engine import Engine
from buildradiator.errors import RateLimited, SourceError
from buildradiator.export.cache import read_cache, write_cache
from buildradiator.export.document import to_json
from buildradiator.export.lines import status_line
from buildradiator.export.text import status_text
from buildradiator.history import History
from buildradiator.model import Health, Snapshot
from buildradiator.rules.verdict import all_green, exit_code, overall
from buildradiator.serve.board import Board, health_of
from buildradiator.serve.server import make_app
from buildradiator.simulator import Simulator
from buildradiator.sources.http import MAX_SERVER_WAIT, HttpClient
from hostile_answers import (
    BUILDERS,
    TOKEN,
    HostileTransport,
    Twist,
    big_bodies,
    every_source,
    plans,
)
from hostile_server import HostileServer

ROUNDS = 2
"""Hostile polls of every source per example."""
MEMORY_BASE, MEMORY_PER_BIG_BODY = 32 * 2**20, 40 * 2**20
"""tracemalloc's peak over one example's hostile rounds stays under the base plus this much for
each source served a big body: a body is capped at 10 MiB as it streams (the inflated chunks and
their join), and the test's own hostile body is at most 12 MiB. Measured: 1-3 MiB without big
bodies, up to 34 MiB with; the unbounded inflation of issue 12 reached gigabytes."""
REAL_TIME_LIMIT = 20.0
"""Seconds of real time per round (and for the recovery): a hang fails the test, a machine
shared with others does not (the soak's five rounds took over 30 s there with good answers)."""
CONTROL = {chr(c) for c in range(32)} | {chr(c) for c in range(0x7F, 0xA0)}
SOURCES = every_source()
SOCKET_SOURCES = every_source(timeout=1.0)
"""Over real sockets a source's many requests queue for the host's two connection slots, and
that wait counts in each request's deadline: a longer one, so that good answers always make it."""
NAMES = [s.name for s in SOURCES]
TYPE_OF = {s.name: s.type for s in SOURCES}  # type: ignore[attr-defined]

PROPERTY = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def plain_words(text: str, where: str) -> None:
    assert text and len(text) < 400, (where, text)
    assert not (set(text) & CONTROL), (where, repr(text))
    assert TOKEN not in text, where
    lowered = text.lower()
    for noise in ("internal error", "traceback", "<html", "<!doctype", "exception(", "httpx.",
                  "httpcore", "see the log"):  # fmt: skip
        assert noise not in lowered, (where, text)


class Checker:
    """The publish callback of ``run``: checks every snapshot (its serialisations whenever a
    source has just turned a twisted answer into data), remembers the first failure (raising
    inside the engine's loop would only prove that the loop dies)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.board = Board(clock)
        self.failures: list[str] = []
        self.published = 0
        self.serialised = 0
        self.dirty = False
        """A poll turned a twisted answer into data since the last full check."""
        self.last_error: dict[str, str | None] = {}
        """Each source's last poll: the error it ended with, or None (kept by ``Watch``)."""

    def __call__(self, snapshot: Snapshot) -> None:
        self.published += 1
        try:
            check_states(snapshot, self.clock.now())
            for state in snapshot.sources:
                failed = self.last_error.get(state.name)
                assert failed is None or (state.error and state.stale), (
                    f"{state.name}: its last poll failed ({failed}), the snapshot says {state}"
                )
            if self.dirty:
                self.dirty = False
                self.serialised += 1
                check_serialised(snapshot, self.board, self.clock.now())
        except Exception as exc:  # reported by the test
            if not self.failures:
                self.failures.append(f"{type(exc).__name__}: {exc}"[:3000])


def check_states(snapshot: Snapshot, now: datetime) -> None:
    """Every failing source stale, in plain words, named; nothing green while one is not fresh."""
    text = status_text(snapshot, now)
    line = status_line(snapshot, now)
    not_fresh = [s.name for s in snapshot.sources if s.error or s.stale]
    for state in snapshot.sources:
        if state.error is not None:
            plain_words(state.error, state.name)
            assert state.stale, f"{state.name} failed but is not stale"
            # A part (``radiator/gh``: a source of the radiator the radiator source reads) may
            # never have answered there: its last good data is that radiator's to keep.
            part = state.name.startswith("radiator/")
            assert part or state.last_success is not None, f"{state.name} lost its last good data"
            assert state.name in text, f"status does not name {state.name}"
    if not_fresh:
        assert not all_green(snapshot), f"all green while {not_fresh} are not fresh"
        assert overall(snapshot) != "passed" and exit_code(snapshot) != 0, not_fresh
        assert "all green" not in line and "all green" not in text, (not_fresh, line)
        assert not health_of(snapshot)[0], f"/healthz says ok while {not_fresh} are not fresh"
    assert TOKEN not in text and TOKEN not in line


def check_serialised(snapshot: Snapshot, board: Board, now: datetime) -> None:
    """What serve publishes (the JSON document, cc.xml, metrics, /healthz) and status prints."""
    board.publish(snapshot)
    current = board.current
    assert current is not None
    document = current.json.data.decode("utf-8")  # strict: no lone surrogate survives
    json.loads(document)
    ElementTree.fromstring(current.cc.data)
    board.metrics(current).decode("utf-8")
    current.health.decode("utf-8")
    assert TOKEN not in document


def skip_rate_limits(engine: Engine, clock: FakeClock, lagging: list[str]) -> None:
    """When every source still short of its rounds waits out a rate limit (up to the hour a
    server may impose), the clock jumps there: the others need not be polled a hundred times
    meanwhile. (Time jumps happen: a laptop wakes up.)"""
    slots = [engine.slots[n] for n in lagging]
    if slots and all(isinstance(s.error, RateLimited) for s in slots):
        wait = min(s.next_due for s in slots) - clock.monotonic()
        if wait > 0:
            clock.advance(wait)


async def serve_answers(board: Board, snapshot: Snapshot) -> None:
    """serve's endpoints over HTTP, in-process: /healthz says 503 while a source is not fresh,
    the JSON document, cc.xml and the metrics answer and parse."""
    board.publish(snapshot)
    async with TestClient(TestServer(make_app(board))) as client:
        health = await client.get("/healthz")
        fresh = not any(s.error or s.stale for s in snapshot.sources)
        assert health.status == (200 if fresh else 503), await health.text()
        for line in (await health.text()).splitlines():
            plain_words(line, "/healthz")
        document = await client.get("/snapshot.json")
        assert document.status == 200
        json.loads(await document.read())
        feed = await client.get("/cc.xml")
        assert feed.status == 200
        ElementTree.fromstring(await feed.read())
        metrics = await client.get("/metrics")
        assert metrics.status == 200
        (await metrics.read()).decode("utf-8")


def cache_round_trip(snapshot: Snapshot) -> None:
    """The snapshot cache (what the next start shows first) reads back what was written."""
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "snapshot.json"
        write_cache(path, snapshot)
        again = read_cache(path)
    assert again is not None, "the snapshot cache cannot be read back"
    assert {s.name for s in again.sources} == {s.name for s in snapshot.sources}
    json.loads(to_json(again))


class Watch:
    """Wraps each source's poll: counts polls, proves none raises anything but a
    ``SourceError``, and that a poll that got no good answer at all is not passed off as data."""

    def __init__(self, engine: Engine, transport: HostileTransport, checker: Checker) -> None:
        self.checker = checker
        self.engine = engine
        self.polls = dict.fromkeys(engine.slots, 0)
        self.failures: list[str] = []
        for name, slot in engine.slots.items():
            slot.source.guarded_poll = self._watched(name, slot.source.guarded_poll, transport)  # type: ignore[method-assign]

    def _watched(self, name: str, poll: Any, transport: HostileTransport) -> Any:
        slot = self.engine.slots[name]

        async def watched() -> Any:
            seen = transport.seen[name] = collections.Counter()
            before = shown(slot.result)
            try:
                result = await poll()
            except SourceError as exc:
                self.checker.last_error[name] = str(exc)
                raise
            except BaseException as exc:
                if not isinstance(exc, asyncio.CancelledError):
                    self.failures.append(f"{name}: poll raised {type(exc).__name__}: {exc}"[:500])
                raise
            finally:
                self.polls[name] += 1
            self.checker.last_error[name] = None
            if transport.hostile:
                self._judge(name, seen, before, result)
            return result

        return watched

    def _judge(
        self, name: str, seen: collections.Counter[str], before: set[str], result: Any
    ) -> None:
        """A poll that turned answers into data: was there data to turn?"""
        if seen["good"] == 0:
            if TYPE_OF[name] != "health":
                self.failures.append(f"{name}: data from a poll without one good answer")
            elif any(c.health is Health.UP for c in result.services):
                self.failures.append(f"{name}: up without one good answer")
        elif seen["failed"] and not seen["twisted"] and TYPE_OF[name] != "health":
            # Only the simulator's own answers got through, some requests failed: whatever was
            # shown before is still shown (a failed request never makes a row vanish).
            missing = before - shown(result)
            if missing:
                self.failures.append(f"{name}: {sorted(missing)[:5]} vanished on failed requests")
        if seen["twisted"]:
            self.checker.dirty = True  # twisted data: serialise the next snapshot


def shown(result: Any) -> set[str]:
    """What a source's result puts on screen: its rows by name."""
    if result is None:
        return set()
    return (
        {f"pipeline {p.key}" for p in result.pipelines}
        | {f"service {s.name}@{s.environment}" for s in result.services}
        | {f"deploy {d.service}@{d.environment}" for d in result.deployments}
        | {f"blocker {b.id}" for b in result.blockers}
    )


async def run_example(
    plan: dict[str, list[Twist]], rounds: int = ROUNDS, sockets: bool = False
) -> None:
    sim = Simulator()
    sim.set_time(100)  # every provider has finished and running builds
    transport = HostileTransport(sim, plan=plan)
    if not sockets:
        return await run_engine(transport, rounds, SOURCES)
    async with HostileServer() as server:
        server.default = transport.route
        transport.server = server
        # The first exchange imports and sets up httpx's connection machinery: not under the
        # sources' short deadlines.
        warm = await transport.real.handle_async_request(httpx.Request("GET", server.url))
        await warm.aread()
        await run_engine(transport, rounds, SOCKET_SOURCES)


async def run_engine(transport: HostileTransport, rounds: int, sources: list[SourceBase]) -> None:
    clock = FakeClock()
    config = Config(radiator=RadiatorConfig(interval=30), sources=sources)
    with tempfile.TemporaryDirectory() as where:
        engine = build_engine(
            config,
            http=HttpClient(httpx.AsyncClient(transport=transport), clock=clock),
            clock=clock,
            rng=random.Random(7),
            history=History.memory(clock=clock),
            cache_path=Path(where) / "snapshot.json",
        )
        await hostile_rounds(engine, transport, clock, rounds)


async def hostile_rounds(
    engine: Engine, transport: HostileTransport, clock: FakeClock, rounds: int
) -> None:
    plan = transport.plan
    checker = Checker(clock)
    runner: asyncio.Task[None] | None = None
    watch = Watch(engine, transport, checker)
    try:
        first = await engine.poll_all()
        for _ in range(3):  # a loaded machine may miss the short deadline once
            if all(s.error is None for s in first.sources if s.name in NAMES):
                break
            first = await engine.poll_all()
        polled = [s for s in first.sources if s.name in NAMES]  # not the radiator's parts
        good = {s.name for s in polled if s.error is None}
        assert good == set(NAMES), [(s.name, s.error) for s in polled if s.error]
        check_states(first, clock.now())
        check_serialised(first, checker.board, clock.now())

        transport.hostile = True
        start = dict(watch.polls)
        runner = asyncio.create_task(engine.run(checker))
        tracemalloc.start()
        try:
            began = time.monotonic()
            while min(watch.polls[n] - start[n] for n in NAMES) < rounds:
                assert not runner.done(), f"run stopped: {runner.exception()!r}"
                assert time.monotonic() - began < REAL_TIME_LIMIT * rounds, ("stuck", watch.polls)
                assert not (watch.failures or checker.failures), watch.failures + checker.failures
                skip_rate_limits(
                    engine, clock, [n for n in NAMES if watch.polls[n] - start[n] < rounds]
                )
                await asyncio.sleep(0.005)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert not (watch.failures or checker.failures), watch.failures + checker.failures
        bound = MEMORY_BASE + MEMORY_PER_BIG_BODY * big_bodies(plan)
        assert peak < bound, f"peak {peak // 2**20} MiB over the hostile rounds"
        assert not transport.leaks, transport.leaks
        await serve_answers(checker.board, engine.snapshot())
        cache_round_trip(engine.snapshot())

        # Good answers again: every source comes back (no wait outlives the server's words).
        transport.hostile = False
        start = dict(watch.polls)
        clock.advance(MAX_SERVER_WAIT + 10)  # past every wait a server may impose
        engine.poll_now()
        began = time.monotonic()
        while not all(watch.polls[n] > start[n] and engine.slots[n].error is None for n in NAMES):
            assert not runner.done(), f"run stopped: {runner.exception()!r}"
            still = [(n, str(engine.slots[n].error)) for n in NAMES if engine.slots[n].error]
            assert time.monotonic() - began < REAL_TIME_LIMIT, ("no recovery", still)
            await asyncio.sleep(0.005)
        assert not (watch.failures or checker.failures), watch.failures + checker.failures
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        assert runner.cancelled() or runner.exception() is None
    finally:
        if runner is not None and not runner.done():
            runner.cancel()  # before the client closes under its polls
            await asyncio.gather(runner, return_exceptions=True)
        await engine.aclose()


ISSUE_12 = [
    Twist(status=429, headers=("retry_after",), pick=1),  # Retry-After: ... 9999
    Twist(status=429, headers=("retry_after",), pick=0),  # thirty digits of seconds
    Twist(status=403, headers=("rate_github",), pick=13),  # reset in 9999, quota spent
    Twist(encoding="stacked"),  # gzip, gzip
    Twist(encoding="bomb"),
    Twist(body="node", node="poison"),  # a lone surrogate, U+FFFE, bidi and C1 controls
    Twist(body="node", node="escaped_surrogate"),
    Twist(body="node", node="huge"),  # estimatedDuration: 1e300
    Twist(body="node", node="year_1"),
    Twist(body="node", node="year_9999"),
]
"""What issue 12 found: always among the examples, each source starting at another one."""
CROSS_ORIGIN = [Twist(status=status, pick=0) for status in (302, 307)]
"""A redirect to another host, which must never get the token."""


@PROPERTY
@given(plan=plans(NAMES))
@example(plan={n: ISSUE_12[i % 10 :] + ISSUE_12[: i % 10] for i, n in enumerate(NAMES)})
@example(plan=dict.fromkeys(NAMES, CROSS_ORIGIN))
def test_hostile_answers_never_stop_the_engine_nor_make_it_lie(
    plan: dict[str, list[Twist]],
) -> None:
    asyncio.run(run_example(plan))


@settings(PROPERTY, max_examples=1)
@given(plan=plans(NAMES))
def test_hostile_answers_over_real_sockets(plan: dict[str, list[Twist]]) -> None:
    asyncio.run(run_example(plan, sockets=True))


@pytest.mark.soak
@settings(PROPERTY, max_examples=12)
@given(plan=plans(NAMES, per_source=8))
def test_soak_hostile_answers_many_examples(plan: dict[str, list[Twist]]) -> None:
    asyncio.run(run_example(plan, rounds=5))


@pytest.mark.soak
@settings(PROPERTY, max_examples=4)
@given(plan=plans(NAMES, per_source=8))
def test_soak_hostile_answers_over_real_sockets(plan: dict[str, list[Twist]]) -> None:
    asyncio.run(run_example(plan, rounds=5, sockets=True))


def test_every_registered_source_type_has_a_config_builder() -> None:
    from buildradiator.sources.catalog import REGISTRY

    # A new provider must join this test: say how to point it at a base URL in BUILDERS.
    assert set(REGISTRY) <= set(BUILDERS), set(REGISTRY) - set(BUILDERS)
    assert set(REGISTRY) <= set(TYPE_OF.values())


# -- faults the property found, each met again on a real socket ---------------------------------


def cctray_feed(name: str = "svc") -> bytes:
    return (f'<Projects><Project name="{name}" activity="Sleeping" lastBuildStatus="Success" '
            'lastBuildLabel="1" lastBuildTime="2026-11-26T11:00:00Z"/></Projects>').encode()  # fmt: skip


def feed_config(url: str) -> Config:
    from buildradiator.sources.catalog import parse_config

    return parse_config(f'[[sources]]\nname = "feed"\ntype = "cctray"\nurl = "{url}/cc.xml"\n')


async def test_a_validator_that_is_not_ascii_is_never_sent_back() -> None:
    """An ``ETag`` (or ``Last-Modified``) with bytes outside ASCII was kept and sent back in
    ``If-None-Match``, which httpx cannot encode: every later poll failed with "unexpected
    payload (UnicodeEncodeError)", whatever the server answered."""
    from hostile_server import HostileServer, answer

    async with HostileServer() as server:
        server.route("/cc.xml", answer(200, cctray_feed(), {"Content-Type": "application/xml",
                                       "ETag": '"caf\xe9"', "Last-Modified": "l\xfcn"}))  # fmt: skip
        engine = Engine(feed_config(server.url), http=HttpClient(clock=FakeClock()))
        try:
            for _ in range(2):
                await engine.poll_source("feed")
                assert engine.slots["feed"].error is None, str(engine.slots["feed"].error)
        finally:
            await engine.aclose()
    assert len(server.seen) == 2


async def test_a_copy_that_could_not_be_read_is_not_used_again_after_a_304() -> None:
    """A 200 whose body was spoiled on the way (cut, rewritten by a proxy) but kept its
    ``ETag`` was kept as the copy for conditional requests: the server then said 304 to that
    ETag, and the radiator showed "invalid" forever, long after the server answered well."""
    from hostile_server import HostileServer, Seen, answer

    spoiled = {"count": 0}

    def route(seen: Seen) -> bytes:
        xml = {"Content-Type": "application/xml", "ETag": '"v2"'}
        if seen.headers.get("if-none-match") == '"v2"':
            return answer(304, b"", {"ETag": '"v2"'})
        spoiled["count"] += 1
        return answer(200, cctray_feed()[:25] if spoiled["count"] == 1 else cctray_feed(), xml)

    async with HostileServer() as server:
        server.route("/cc.xml", route)
        engine = Engine(feed_config(server.url), http=HttpClient(clock=FakeClock()))
        try:
            await engine.poll_source("feed")
            assert engine.slots["feed"].error is not None
            await engine.poll_source("feed")
            assert engine.slots["feed"].error is None, str(engine.slots["feed"].error)
        finally:
            await engine.aclose()
