"""The wall clock is not to be trusted to move forwards: NTP steps it back, someone sets it, a
laptop sleeps and wakes. Data goes stale after the time that really passed, whatever the wall
clock says, and a stale source is never shown green. Times saved in files may be absurd too."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from buildradiator.clock import FakeClock
from buildradiator.model import SourceResult, Status
from buildradiator.ui.claims import ClaimStore
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


# -- claims made at times no clock reaches ------------------------------------------------------


@pytest.mark.parametrize(
    "at",
    ["9999-12-31T23:00:00+00:00", "9999-12-31T20:00:00-14:00"],
    ids=["year-9999", "past-9999-in-utc"],
)
def test_a_claim_at_a_time_no_clock_reaches_never_stops_the_radiator(
    tmp_path: Path, clock: FakeClock, at: str
) -> None:
    """A claims file whose claim was made in year 9999 (a clock set wrong, a hand edit) raised
    ``OverflowError`` working out when it expires: the radiator did not start at all."""
    path = tmp_path / "claims.json"
    good = {"source": "gh", "key": "acme/app", "who": "ada", "at": "2026-11-26T11:00:00+00:00"}
    odd = {"source": "gh", "key": "acme/odd", "who": "bob", "at": at}
    path.write_text(json.dumps({"version": 1, "claims": [good, odd]}))
    store = ClaimStore(path, clock)
    assert [c.key for c in store.active()] == ["acme/app"]
    assert store.warning is not None and str(path) in store.warning
    store.claim("gh", "acme/web", "cy")  # and the file still takes claims, the good one kept
    assert {c["key"] for c in json.loads(path.read_text())["claims"]} == {"acme/app", "acme/web"}
