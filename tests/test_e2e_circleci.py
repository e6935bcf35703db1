"""End to end: the CircleCI source and the engine against the simulator's CircleCI over loopback."""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.config.loading import Config
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.catalog import parse_config


def only(config: Config, kind: str) -> Config:
    # Only this provider's sources: another provider's trouble must not fail this test.
    return config.model_copy(update={"sources": [s for s in config.sources if s.type == kind]})


def row(snapshot: Snapshot, workflow: str) -> Pipeline:
    key = f"gh/acme/mobile-api:{workflow}"
    matches = [p for p in snapshot.pipelines if p.source == "circleci" and p.key == key]
    assert matches, [p.key for p in snapshot.pipelines]
    return matches[0]


async def test_the_circleci_story_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(only(parse_config(demo_config_text(sim.base_url)), "circleci"))
        try:
            # Erin's build-test runs; her deploy waits for approval.
            sim.set_time(60)
            snap = await engine.poll_all()
            assert snap.source_state("circleci").error is None  # type: ignore[union-attr]
            build_test, deploy = row(snap, "build-test"), row(snap, "deploy")
            assert build_test.name == "acme/mobile-api · build-test"
            (running,) = build_test.in_flight
            assert running.status is Status.RUNNING and running.stage == "integration"
            assert running.author == "erin"
            (held,) = deploy.in_flight
            assert held.status is Status.QUEUED
            assert held.provider_status == "on hold (approval)"
            assert held.stage == "hold-for-release (approval)"

            # Farid's unit tests fail while integration still runs: failing, red but running.
            sim.set_time(510)
            snap = await engine.poll_all()
            (failing,) = row(snap, "build-test").in_flight
            assert failing.status is Status.RUNNING
            assert failing.provider_status == "failing: unit"

            # Failed: a broken window naming Farid and his commit.
            sim.set_time(530)
            snap = await engine.poll_all()
            [window] = [w for w in snap.broken if w.source == "circleci"]
            assert window.author == "farid" and window.message == "Upgrade Kotlin to 2.1"
            assert window.commit and len(window.commit) == 40

            # The re-run is in flight: main stays red until it has passed.
            sim.set_time(560)
            snap = await engine.poll_all()
            build_test = row(snap, "build-test")
            assert build_test.status is Status.FAILED
            assert build_test.in_flight[0].attempt == 2

            # The re-run passed: green only after a re-run.
            sim.set_time(585)
            snap = await engine.poll_all()
            build_test = row(snap, "build-test")
            assert build_test.status is Status.PASSED and build_test.last is not None
            assert build_test.last.attempt == 2
            assert not [w for w in snap.broken if w.source == "circleci"]
            [flaky] = [f for f in snap.flaky if f.pipeline == "gh/acme/mobile-api:build-test"]
            assert flaky.retried_to_green >= 1
            assert row(snap, "deploy").status is Status.PASSED
            assert not sim.errors
        finally:
            await engine.aclose()


async def test_the_flaky_tests_insight_reaches_the_poll_and_grows() -> None:
    # One fake clock for the simulator and the engine: moving it moves the story a loop on and
    # lets the next insight read (at most every flaky_every = 600 s) happen.
    clock = FakeClock()
    with Simulator(clock=clock) as sim:
        engine = build_engine(
            only(parse_config(demo_config_text(sim.base_url)), "circleci"), clock=clock
        )
        try:
            sim.set_time(585)  # Farid's re-run has gone green: one more flake of his unit test
            snap = await engine.poll_all()
            result = engine.slots["circleci"].result
            assert result is not None, snap.source_state("circleci")
            rows = {p.key for p in result.pipelines}
            flakes = {f.classname: f for f in result.flaky_reports}
            assert len(flakes) == 3
            assert all(f.pipeline == "gh/acme/mobile-api:build-test" for f in flakes.values())
            assert "gh/acme/mobile-api:build-test" in rows
            kotlin = flakes["com.acme.mobile.KotlinFlowTest"]
            assert (kotlin.name, kotlin.times_flaked, kotlin.job) == (
                "collects the flow after resume",
                3,
                "unit",
            )
            assert kotlin.url and "/pipelines/gh/acme/mobile-api/" in kotlin.url
            screens = flakes["ui.snapshots.[bold red]Screens[/]"]
            assert "\x1b" not in screens.name and "pwned" not in screens.name
            assert screens.name.startswith("renders <Banner/>[/bold]")
            assert "3 flaky tests (insights)" in result.summary

            clock.advance(1200)  # two loops on
            sim.set_time(585)
            await engine.poll_all()
            result = engine.slots["circleci"].result
            assert result is not None
            grown = {f.classname: f.times_flaked for f in result.flaky_reports}
            assert grown["com.acme.mobile.KotlinFlowTest"] == 5
            assert grown["com.acme.mobile.sync.SyncWorkerTest"] == 4
            assert not sim.errors
        finally:
            await engine.aclose()
