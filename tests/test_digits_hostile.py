"""Headers with numbers in digits ASCII does not hold (superscripts, other scripts' digits): Python's
``str.isdigit`` says yes to them, ``int`` and ``float`` do not all agree. Whoever sends them, the
answer is what nonsense in that header gets: never a 500, never "unexpected payload (ValueError)"."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.clock import Clock, FakeClock
from buildradiator.config.loading import Config, RadiatorConfig
from buildradiator.history import History
from buildradiator.serve.board import Board
from buildradiator.serve.server import RadiatorServer
from buildradiator.simulator import Simulator
from buildradiator.sources.http import HttpClient
from buildradiator.sources.payload import count
from sim_helpers import demo_source, sim_handler
from snapshot_fixtures import green_estate

ODD = ["²", "１２", "٣"]
"""A superscript (``int`` refuses it), full-width and Arabic-Indic digits (``int`` reads them)."""


@pytest.fixture
async def served() -> AsyncIterator[str]:
    board = Board(Clock())
    board.publish(green_estate())
    server = RadiatorServer(board, host="127.0.0.1", port=0)
    await server.start()
    try:
        yield server.url
    finally:
        await server.aclose()


@pytest.mark.parametrize("digits", ODD)
async def test_a_wait_in_odd_digits_is_no_wait_on_serve(served: str, digits: str) -> None:
    """``Prefer: wait=²`` on /snapshot.json was a 500 (and a traceback in the log)."""
    async with httpx.AsyncClient() as client:
        etag = (await client.get(f"{served}/snapshot.json")).headers["ETag"]
        answer = await client.get(
            f"{served}/snapshot.json",
            headers={"If-None-Match": etag, "Prefer": f"wait={digits}".encode()},
        )
    assert answer.status_code in (200, 304)
    assert "Preference-Applied" not in answer.headers


@pytest.mark.parametrize("digits", ODD)
async def test_a_retry_after_in_odd_digits_is_a_rate_limit_in_words(digits: str) -> None:
    """``Retry-After: ²`` on a 429 ended every source as "unexpected payload (ValueError)"."""
    sim = Simulator()
    sim.set_time(100)
    good = sim_handler(sim)
    limited = False

    def handle(request: httpx.Request) -> httpx.Response:
        if limited:
            return httpx.Response(429, headers=[(b"Retry-After", digits.encode())], content=b"{}")
        return good(request)

    clock = FakeClock()
    kinds = ("github", "gitlab", "jenkins", "buildkite")
    config = Config(
        radiator=RadiatorConfig(interval=30),
        sources=[demo_source(kind, "http://ci.test", kind) for kind in kinds],
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    engine = build_engine(config, http=HttpClient(client, clock=clock), clock=clock,
                          rng=random.Random(1), history=History.memory(clock=clock))  # fmt: skip
    try:
        await engine.poll_all()
        limited = True
        clock.advance(60)
        snapshot = await engine.poll_all()
    finally:
        await engine.aclose()
    for kind in kinds:
        state = snapshot.source_state(kind)
        assert state is not None and state.error_kind == "rate_limited", (kind, state)
        assert "ValueError" not in (state.error or "")


@pytest.mark.parametrize(
    ("kind", "name", "value"),
    [
        ("github", "x-ratelimit-limit", "inf"),
        ("github", "x-ratelimit-remaining", "1e999"),
        ("gitlab", "ratelimit-remaining", "-inf"),
        ("bitbucket", "x-ratelimit-limit", "²"),
    ],
)
async def test_a_rate_header_no_whole_number_holds_is_ignored(
    kind: str, name: str, value: str
) -> None:
    """A good answer whose rate header said ``inf`` (or ``1e999``) failed GitHub's poll as
    "internal error (OverflowError); see the log", poll after poll, the data going stale; a
    Bitbucket limit in superscript digits as "unexpected payload (ValueError)"."""
    sim = Simulator()
    sim.set_time(100)
    good = sim_handler(sim)

    def handle(request: httpx.Request) -> httpx.Response:
        answer = good(request)
        raw = [(k, v) for k, v in answer.headers.raw if k.lower() != name.encode()]
        return httpx.Response(answer.status_code, headers=[*raw, (name.encode(), value.encode())],
                              content=answer.content)  # fmt: skip

    clock = FakeClock()
    config = Config(
        radiator=RadiatorConfig(interval=30), sources=[demo_source(kind, "http://ci.test", kind)]
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    engine = build_engine(config, http=HttpClient(client, clock=clock), clock=clock,
                          rng=random.Random(1), history=History.memory(clock=clock))  # fmt: skip
    try:
        snapshot = await engine.poll_all()
    finally:
        await engine.aclose()
    state = snapshot.source_state(kind)
    assert state is not None and state.error is None, state


@pytest.mark.parametrize("quoted", ["²", " ³ ", "١٢", "１２"])
def test_a_quoted_id_in_odd_digits_is_no_number(quoted: str) -> None:
    """``count`` promises a number or ``None``: ``"²"`` raised ``ValueError`` inside a payload's
    validation, and the whole answer was refused for one odd field."""
    assert count(quoted) is None
    assert count("42") == 42
