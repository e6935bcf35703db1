"""End to end: the GitLab source and the engine against the simulator's GitLab over loopback."""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.config.loading import Config
from buildradiator.engine.engine import Engine
from buildradiator.model import Pipeline, Snapshot, Status, TestRun, TestStatus
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.simulator.sim_gitlab import BROKEN_CASE, FLAKY_CASE
from buildradiator.sources.catalog import parse_config


def only(config: Config, kind: str) -> Config:
    # Only this provider's sources: another provider's trouble must not fail this test.
    return config.model_copy(update={"sources": [s for s in config.sources if s.type == kind]})


def runs_of(engine: Engine) -> tuple[TestRun, ...]:
    """The test runs of the GitLab source's last poll."""
    result = engine.slots["gitlab"].result
    assert result is not None
    return result.test_runs


def status_of(run: TestRun, name: str) -> TestStatus:
    [result] = [r for r in run.results if r.name == name]
    return result.status


def row(snapshot: Snapshot, key: str) -> Pipeline:
    matches = [p for p in snapshot.pipelines if p.source == "gitlab" and p.key == key]
    assert matches, [p.key for p in snapshot.pipelines]
    return matches[0]


async def test_the_gitlab_story_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(only(parse_config(demo_config_text(sim.base_url)), "gitlab"))
        try:
            # Alice's pipeline runs its test stage.
            sim.set_time(60)
            snap = await engine.poll_all()
            assert snap.source_state("gitlab").error is None  # type: ignore[union-attr]
            store = row(snap, "acme/storefront")
            (running,) = store.in_flight
            assert running.status is Status.RUNNING and running.stage == "test › rspec"
            assert running.author == "Alice Nguyen"
            assert running.estimated_seconds  # from the history's durations
            assert store.status is Status.PASSED

            # It passed, with its allowed-to-fail lint job failing; Terraform waits on a person.
            sim.set_time(110)
            snap = await engine.poll_all()
            store = row(snap, "acme/storefront")
            assert store.last is not None
            assert store.last.provider_status == "passed with allowed failures: lint"
            terraform = row(snap, "4242")
            assert terraform.name == "platform/terraform"
            (blocked,) = terraform.in_flight
            assert blocked.status is Status.QUEUED and blocked.provider_status == "manual"
            assert blocked.stage == "apply › apply (manual)"

            # Grace's commit turns main red: a broken window with author and message.
            sim.set_time(490)
            snap = await engine.poll_all()
            [window] = [w for w in snap.broken if w.source == "gitlab"]
            assert window.author == "Grace Kim"
            assert window.message == "Switch checkout to the new tax API"
            assert window.url and "/-/pipelines/" in window.url

            # Bob's fix fails too: two in a row, still Grace's window.
            sim.set_time(537)
            snap = await engine.poll_all()
            [window] = [w for w in snap.broken if w.source == "gitlab"]
            assert window.streak == 2 and window.author == "Grace Kim"
            # Its test report, read once it had failed: the flaky test failed on attempt 1.
            bob = row(snap, "acme/storefront").recent[0]
            [first] = [r for r in runs_of(engine) if r.build_id == bob.id]
            assert first.attempt == 1 and first.commit == bob.commit
            assert status_of(first, FLAKY_CASE) is TestStatus.FAILED
            assert status_of(first, BROKEN_CASE) is TestStatus.PASSED  # Bob fixed that one

            # rspec is retried and the pipeline goes green on attempt 2.
            sim.set_time(580)
            snap = await engine.poll_all()
            store = row(snap, "acme/storefront")
            assert store.status is Status.PASSED and store.last is not None
            assert store.last.attempt == 2 and store.last.author == "Bob Okafor"
            assert not [w for w in snap.broken if w.source == "gitlab"]
            [flaky] = [f for f in snap.flaky if f.pipeline == "acme/storefront"]
            assert flaky.retried_to_green >= 1
            # The retry re-ran the pipeline: its report is read again, and now the test passes.
            [second] = [r for r in runs_of(engine) if r.build_id == store.last.id]
            assert second.attempt == 2 and second.commit == first.commit
            assert status_of(second, FLAKY_CASE) is TestStatus.PASSED
            assert len(second.results) == 20
            assert not sim.errors
        finally:
            await engine.aclose()
