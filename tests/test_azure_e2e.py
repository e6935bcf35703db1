"""End to end: the Azure Pipelines source and the engine against the simulator over loopback."""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.config.loading import Config
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.simulator import Simulator, demo_config_text, moments
from buildradiator.simulator.sim_azure import CI, NIGHTLY
from buildradiator.sources.catalog import parse_config


def only(config: Config, kind: str) -> Config:
    # Only this provider's sources: another provider's trouble must not fail this test.
    return config.model_copy(update={"sources": [s for s in config.sources if s.type == kind]})


def row(snapshot: Snapshot, definition: int) -> Pipeline:
    key = f"Platform/{definition}"
    matches = [p for p in snapshot.pipelines if p.source == "azure" and p.key == key]
    assert matches, [p.key for p in snapshot.pipelines]
    return matches[0]


def timeline_requests(sim: Simulator) -> int:
    return sum(n for path, n in sim.requests.items() if path.endswith("/timeline"))


async def test_the_azure_story_reaches_the_snapshot() -> None:
    clock = FakeClock()
    with Simulator(clock=clock) as sim:
        engine = build_engine(
            only(parse_config(demo_config_text(sim.base_url)), "azure"), clock=clock
        )
        try:
            sim.set_time(30)  # Grace's build is queued
            snap = await engine.poll_all()
            state = snap.source_state("azure")
            assert state is not None and state.error is None, state
            ci = row(snap, CI)
            assert ci.name == "platform-api CI" and ci.branch == "main"
            assert ci.status is Status.PASSED
            (queued,) = ci.in_flight
            assert queued.status is Status.QUEUED and queued.author == "Grace Kim"
            assert queued.message == "Add request tracing"
            assert ci.url is not None and ci.url.endswith(
                "/azure/acme/Platform/_build?definitionId=41"
            )
            nightly = row(snap, NIGHTLY)
            assert nightly.status is Status.PASSED and nightly.last is not None
            assert nightly.last.provider_status == "partially succeeded"
            # Run for a service identity: message and author come from the build's changes.
            assert nightly.last.message == "Bump locked dependencies"
            assert nightly.last.author == "Dana Smith"

            sim.set_time(70)
            snap = await engine.poll_all()
            (running,) = row(snap, CI).in_flight
            assert running.status is Status.RUNNING
            assert running.stage == "Test › unit, integration"
            assert running.url is not None and running.url.endswith(f"buildId={running.id}")

            sim.set_time(moments.MAIN_RED)
            snap = await engine.poll_all()
            assert not [w for w in snap.broken if w.source == "azure"]

            sim.set_time(115)
            snap = await engine.poll_all()
            ci = row(snap, CI)
            assert ci.status is Status.PASSED and not ci.in_flight
            assert ci.last is not None and ci.last.id == running.id
            assert ci.last.commit and len(ci.last.commit) == 40
            # The history's build that needed "Rerun failed jobs" is attempt 2, the others 1.
            attempts = {b.id: b.attempt for b in ci.recent}
            assert attempts.get("4805") == 2, attempts
            assert attempts.get("4804") == 1
            # ... which the snapshot counts as green only after a retry.
            [flaky] = [f for f in snap.flaky if f.source == "azure" and f.pipeline == "Platform/41"]
            assert flaky.retried_to_green == 1 and flaky.green == len(ci.recent) - 1

            # Warm: finished builds' timelines are not read again; only builds in flight cost.
            before = timeline_requests(sim)
            await engine.poll_all()
            assert timeline_requests(sim) == before
            sim.set_time(340)
            await engine.poll_all()
            assert timeline_requests(sim) == before + 1  # Bob's build, in flight
            assert not sim.errors
        finally:
            await engine.aclose()


async def test_a_wrong_project_is_named_in_words() -> None:
    with Simulator() as sim:
        text = demo_config_text(sim.base_url).replace('project = "Platform"', 'project = "Nope"')
        engine = build_engine(only(parse_config(text), "azure"))
        try:
            snap = await engine.poll_all()
            state = snap.source_state("azure")
            assert state is not None and state.error is not None
            assert "project Nope not found on 127.0.0.1" in state.error
            assert not snap.pipelines
        finally:
            await engine.aclose()
