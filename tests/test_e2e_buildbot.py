"""End to end: the Buildbot source and the engine against the simulated master over loopback."""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.catalog import parse_config


def pipe(snapshot: Snapshot, name: str) -> Pipeline:
    matches = [p for p in snapshot.pipelines if p.source == "buildbot" and p.name == name]
    assert matches, [p.name for p in snapshot.pipelines]
    return matches[0]


def config_text(sim: Simulator) -> str:
    return "[radiator]\ninterval = 3.0\n\n" + sim.providers["buildbot"].demo_sources(sim.base_url)


def test_the_demo_config_watches_the_simulated_master() -> None:
    with Simulator() as sim:
        text = demo_config_text(sim.base_url)
    assert 'name = "buildbot"' in text and 'type = "buildbot"' in text


async def test_the_buildbot_story_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(parse_config(config_text(sim)))
        try:
            sim.set_time(420)
            snap = await engine.poll_all()
            state = snap.source_state("buildbot")
            assert state is not None and state.error is None, state
            assert {p.name for p in snap.pipelines} == {
                "docs",
                "linux-x86_64",
                "macos-arm64",
                "windows-x64",
            }
            # Chen's change broke macOS: a broken window naming him, from the build's changes.
            [window] = [w for w in snap.broken if w.source == "buildbot"]
            assert window.name == "macos-arm64" and window.author == "Chen Wei"
            assert window.message == "Port allocator to arm64"
            # The linux build given back with RETRY passed on its second attempt.
            linux = pipe(snap, "linux-x86_64")
            assert linux.status is Status.PASSED and linux.recent[0].attempt == 2
            assert linux.recent[1].provider_status == "retry"
            [flaky] = [f for f in snap.flaky if f.pipeline == "linux-x86_64"]
            assert flaky.retried_to_green >= 1
            # Windows is green with warnings, and runs through its steps.
            windows = pipe(snap, "windows-x64")
            assert windows.status is Status.PASSED
            assert windows.recent[0].provider_status == "warnings"
            (running,) = windows.in_flight
            assert running.status is Status.RUNNING and running.stage == "running 'test'"
            assert pipe(snap, "docs").recent[0].provider_status == "cancelled"

            # A second red build in a row: an EXCEPTION.
            sim.set_time(450)
            snap = await engine.poll_all()
            [window] = [w for w in snap.broken if w.source == "buildbot"]
            assert window.streak == 2 and window.author == "Chen Wei"
            assert pipe(snap, "macos-arm64").recent[0].provider_status == "exception"

            # Dana's fix is green; a docs build waits for a worker.
            sim.set_time(490)
            snap = await engine.poll_all()
            assert not [w for w in snap.broken if w.source == "buildbot"]
            assert pipe(snap, "macos-arm64").recent[0].author == "Dana Smith"
            (waiting,) = pipe(snap, "docs").in_flight
            assert waiting.status is Status.QUEUED and waiting.stage == "waiting for a worker"
            assert sim.errors == []
        finally:
            await engine.aclose()
