"""The demo's script at fixed moments: what ``buildradiator demo`` shows, as snapshots.

The simulator, the real sources and the engine run over loopback HTTP on one fake clock, with the
demo's backfilled history, exactly as the demo wires them; the script is read at a few moments.
Taken once per test module (about 2 s), so every screen size replays the same snapshots.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.model import Snapshot
from buildradiator.simulator import Simulator, demo_config_text, moments
from buildradiator.simulator.backfill import backfill
from buildradiator.sources.catalog import parse_config

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MOMENTS = (
    moments.CALM,
    moments.MAIN_RED,
    moments.FLAKY_GREEN,
    moments.DEPLOY_SUSPECT,
    moments.FEED_DOWN,
    moments.TWO_RED,
)
"""The script's named moments: calm, main red, green after a retry, the worst of production
(service down, deploy suspect, HOLD), a feed down, two red mains."""


@dataclass(frozen=True)
class Demo:
    before: Snapshot
    """What the engine publishes before any source has answered."""
    moments: tuple[tuple[float, Snapshot], ...]


async def _play(sim: Simulator, clock: FakeClock) -> Demo:
    config = parse_config(demo_config_text(sim.base_url), "<demo>")
    history = History.memory(clock=clock)
    first = build_engine(config, clock=clock)
    try:
        seen = await first.poll_all()
    finally:
        await first.aclose()
    backfill(history, seen.pipelines, now=clock.now())
    engine = build_engine(config, clock=clock, history=history)
    try:
        before = engine.snapshot()
        moments = []
        at = 0.0
        for moment in MOMENTS:
            clock.advance(moment - at)
            at = moment
            moments.append((moment, await engine.poll_all()))
    finally:
        await engine.aclose()
        history.close()
    return Demo(before, tuple(moments))


def play_demo() -> Demo:
    clock = FakeClock(START)
    sim = Simulator(clock=clock, start=START)
    sim.start()
    try:
        return asyncio.run(_play(sim, clock))
    finally:
        sim.stop()
