"""The demo tells one clear story: the whole loop of its script, on a fake clock, through the
real engine against the simulator, never shows more than two broken windows at once, and each
event of the headline happens on its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.model import Snapshot
from buildradiator.simulator import moments
from buildradiator.simulator.demo_config import demo_config_text
from buildradiator.simulator.scenario import SCRIPT_SECONDS
from buildradiator.simulator.server import Simulator
from buildradiator.sources.catalog import parse_config

STEP = 10.0
"""Script seconds between polls; the named moments are polled too. Every state of the script
lasts longer than this (the shortest, billing's red main, 14 s)."""
HEADLINE = {"acme/monolith", "acme/billing", "payments", "payments (prod)"}


def windows(snap: Snapshot) -> list[tuple[str, str, str]]:
    return [(w.kind, w.source, w.name) for w in snap.broken]


@pytest.fixture(scope="module")
def loop() -> Iterator[list[tuple[float, Snapshot]]]:
    """One whole loop of the script, polled every ``STEP`` and at each named moment."""
    import asyncio

    async def play() -> list[tuple[float, Snapshot]]:
        clock = FakeClock()
        with Simulator(clock=clock) as sim:
            sim.slow_seconds = 0.0  # no real waits: /health/search only slows the test
            engine = build_engine(parse_config(demo_config_text(sim.base_url)), clock=clock)
            seen: list[tuple[float, Snapshot]] = []
            named = {v for k, v in vars(moments).items() if k.isupper()}
            grid = {k * STEP for k in range(int(SCRIPT_SECONDS // STEP))}
            try:
                at = 0.0
                for t in sorted(grid | named):
                    clock.advance(t - at)
                    at = t
                    seen.append((t, await engine.poll_all()))
            finally:
                await engine.aclose()
            assert sim.errors == []
        return seen

    yield asyncio.run(play())


def test_never_more_than_two_broken_windows(loop: list[tuple[float, Snapshot]]) -> None:
    crowded = [(t, windows(s)) for t, s in loop if len(s.broken) > 2]
    assert crowded == [], "more than two broken windows at once:\n" + "\n".join(
        f"  {t:5.0f}s: {w}" for t, w in crowded
    )


def test_the_headline_is_alone_on_the_screen(loop: list[tuple[float, Snapshot]]) -> None:
    """While main is red, billing's re-run is pending, or payments is in trouble, nothing
    else is broken: each event visible on its own."""
    mixed = []
    for t, snap in loop:
        names = {w.name for w in snap.broken}
        if names & HEADLINE and names - HEADLINE:
            mixed.append((t, windows(snap)))
        if {"acme/monolith", "acme/billing"} <= names or (
            names & {"acme/monolith", "acme/billing"} and names & {"payments", "payments (prod)"}
        ):
            mixed.append((t, windows(snap)))
    assert mixed == [], "\n".join(f"  {t:5.0f}s: {w}" for t, w in mixed)


def at(loop: list[tuple[float, Snapshot]], t: float) -> Snapshot:
    """The snapshot polled last at or before script second ``t``."""
    return [s for when, s in loop if when <= t][-1]


def test_every_event_of_the_story_still_happens(loop: list[tuple[float, Snapshot]]) -> None:
    # Main goes red after Mallory's commit, twice in a row, and is fixed.
    snap = at(loop, moments.MAIN_RED)
    [red] = snap.broken
    assert (red.name, red.author, red.message) == ("acme/monolith", "Mallory", "Fix login flow")
    assert (red.commit or "").startswith("c0ffee0")
    [red] = at(loop, moments.MAIN_RED_TWICE).broken
    assert red.name == "acme/monolith" and red.streak == 2
    assert at(loop, moments.MAIN_FIXED).broken == ()

    # Billing fails its first attempt, and goes green on the re-run.
    assert [w.name for w in at(loop, moments.FLAKY_RED).broken] == ["acme/billing"]
    snap = at(loop, moments.FLAKY_GREEN)
    assert snap.broken == ()
    [billing] = [f for f in snap.flaky if f.name == "acme/billing"]
    assert billing.retried_to_green >= 1

    # The payments deploy is suspect: down, its alert firing, a blocker open, HOLD.
    snap = at(loop, moments.DEPLOY_SUSPECT)
    assert sorted((w.kind, w.name) for w in snap.broken) == [
        ("deploy", "payments (prod)"),
        ("service", "payments"),
    ]
    assert any(c.name == "PaymentsHighErrorRate" for c in snap.services)
    assert [b.title for b in snap.blockers if b.source == "blockers"] == [
        "Checkout returns 500 for EUR carts"
    ]
    assert snap.gate is not None and not snap.gate.go
    snap = at(loop, moments.FIXED_FORWARD)
    assert snap.broken == () and not any(c.name == "PaymentsHighErrorRate" for c in snap.services)

    # The CCTray feed is unreachable for a while, alone.
    snap = at(loop, moments.FEED_DOWN)
    state = snap.source_state("jenkins")
    assert state is not None and state.error and state.stale
    assert snap.broken == ()
    assert at(loop, moments.ACT_TWO).source_state("jenkins").error is None  # type: ignore[union-attr]

    # Act 2: every CI's red main in turn.
    red_sources = {w.source for _, s in loop for w in s.broken if w.kind == "pipeline"}
    assert red_sources >= {"github", "jenkins", "jenkins-ci", "buildkite", "circleci",
                           "buildbot", "gitlab"}  # fmt: skip
    late = {w.source for t, s in loop if t >= moments.ACT_TWO for w in s.broken}
    assert "github" not in late and "health-payments" not in late
    assert sorted(w.source for w in at(loop, moments.TWO_RED).broken) == ["buildkite", "jenkins-ci"]
    [mobile] = at(loop, moments.CCTRAY_RED).broken
    assert (mobile.source, mobile.name) == ("jenkins", "mobile-app")
    # The loop ends as it began: all green.
    assert at(loop, moments.QUIET_END).broken == ()
