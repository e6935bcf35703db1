"""The wall clock is not to be trusted to move forwards: NTP steps it back, someone sets it, a
laptop sleeps and wakes. Data goes stale after the time that really passed, whatever the wall
clock says, and a stale source is never shown green."""

from __future__ import annotations

from datetime import timedelta

from buildradiator.clock import FakeClock
from buildradiator.model import SourceResult, Status
from engine_helpers import pipeline, source


def step_wall(clock: FakeClock, seconds: float) -> None:
    """The wall clock alone steps (NTP, a user); the monotonic clock does not."""
    clock._now += timedelta(seconds=seconds)


async def test_data_goes_stale_when_the_wall_clock_was_stepped_back(make_engine, clock) -> None:
    """An hour's step back made the last good poll lie an hour in the future: its age was
    negative and the data stayed "fresh", and green, for an hour beyond its source's limit."""
    eng = make_engine()
    source(eng, "one").script = [SourceResult(pipelines=(pipeline("one", Status.PASSED),))]
    await eng.poll_source("one")
    assert not eng.snapshot().source_state("one").stale  # type: ignore[union-attr]
    step_wall(clock, -3600)
    clock.advance(3 * 30 + 61)  # past the limit (three intervals and a minute), no poll since
    snap = eng.snapshot()
    assert snap.source_state("one").stale  # type: ignore[union-attr]
    assert "one" in snap.stale_sources
    assert snap.gate is not None
    assert "no fresh data from one" in {reason.text for reason in snap.gate.reasons}
    await eng.aclose()


async def test_data_is_stale_after_a_sleep_the_monotonic_clock_did_not_count(
    make_engine, clock
) -> None:
    """Linux's monotonic clock stops while a laptop sleeps: the wall clock knows the night
    passed, and that is enough to call the data stale."""
    eng = make_engine()
    await eng.poll_source("one")
    step_wall(clock, 8 * 3600)
    assert eng.snapshot().source_state("one").stale  # type: ignore[union-attr]
    await eng.aclose()
