"""End to end: the Jenkins source and the engine against the simulated Jenkins over loopback."""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.model import Pipeline, Snapshot, Status, TestStatus
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.simulator.sim_jenkins import EXECUTOR_WAIT, FLAKY_TEST
from buildradiator.sources.catalog import parse_config


def pipe(snapshot: Snapshot, name: str) -> Pipeline:
    matches = [p for p in snapshot.pipelines if p.source == "jenkins-ci" and p.name == name]
    assert matches, [p.name for p in snapshot.pipelines]
    return matches[0]


def config_text(sim: Simulator) -> str:
    return "[radiator]\ninterval = 3.0\n\n" + sim.providers["jenkins"].demo_sources(sim.base_url)


def test_the_demo_config_watches_the_simulated_jenkins() -> None:
    with Simulator() as sim:
        text = demo_config_text(sim.base_url)
        ours = parse_config(config_text(sim)).sources
    assert 'name = "jenkins-ci"' in text and 'type = "jenkins"' in text
    assert [s.name for s in ours] == ["jenkins-ci"]


async def test_the_jenkins_story_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(parse_config(config_text(sim)))
        try:
            sim.set_time(260)
            snap = await engine.poll_all()
            state = snap.source_state("jenkins-ci")
            assert state is not None and state.error is None, state
            monolith = pipe(snap, "Monolith (Jenkins)")
            assert monolith.status is Status.PASSED and monolith.branch == "main"
            (running,) = monolith.in_flight
            assert running.status is Status.RUNNING and running.estimated_seconds == 45
            assert pipe(snap, "shop/feature/checkout").branch == "feature/checkout"
            assert pipe(snap, "platform/payments-api").status is Status.PASSED

            # Farid's build is UNSTABLE: main is red, by him, and the word stays on screen.
            sim.set_time(360)
            snap = await engine.poll_all()
            result = engine.slots["jenkins-ci"].result
            assert result is not None
            unstable = pipe(snap, "Monolith (Jenkins)").recent[0]
            [run] = [r for r in result.test_runs if r.build_id == unstable.id]
            cls, method = FLAKY_TEST.rsplit(".", 1)
            assert [r.status for r in run.results if r.name == method] == [TestStatus.FAILED]
            [window] = [w for w in snap.broken if w.source == "jenkins-ci"]
            assert window.name == "Monolith (Jenkins)" and window.author == "Farid Haddad"
            assert window.message == "Parallelise integration tests"
            assert pipe(snap, "Monolith (Jenkins)").recent[0].provider_status == "UNSTABLE"

            # His rebuild passes: green only after a retry. An ABORTED and a NOT_BUILT build
            # elsewhere are shown as what they are.
            sim.set_time(390)
            snap = await engine.poll_all()
            monolith = pipe(snap, "Monolith (Jenkins)")
            assert monolith.status is Status.PASSED and monolith.recent[0].attempt == 2
            assert monolith.recent[0].author == "Farid Haddad"
            assert not [w for w in snap.broken if w.source == "jenkins-ci"]
            [flaky] = [
                f for f in snap.flaky if f.source == "jenkins-ci" and f.pipeline == "monolith"
            ]
            assert flaky.retried_to_green >= 1
            # The rebuild's test report (read first: newest finished) passes the test that
            # failed in Farid's build; both runs carry the same commit.
            rebuild = monolith.recent[0]
            result = engine.slots["jenkins-ci"].result
            assert result is not None
            [run] = [r for r in result.test_runs if r.build_id == rebuild.id]
            assert (run.pipeline, run.attempt, run.commit) == ("monolith", 2, rebuild.commit)
            cls, method = FLAKY_TEST.rsplit(".", 1)
            [redirect] = [r for r in run.results if (r.classname, r.name) == (cls, method)]
            assert redirect.status is TestStatus.PASSED  # Jenkins said FIXED
            assert 10 <= len(run.results) <= 40
            payments = pipe(snap, "platform/payments-api").recent[0]
            assert (payments.status, payments.provider_status) == (Status.CANCELED, "ABORTED")
            shop = pipe(snap, "shop/feature/checkout").recent[0]
            assert (shop.status, shop.provider_status) == (Status.UNKNOWN, "NOT_BUILT")

            # Grace's FAILURE, and her fix waiting in the queue with Jenkins' reason.
            sim.set_time(465)
            snap = await engine.poll_all()
            [window] = [w for w in snap.broken if w.source == "jenkins-ci"]
            assert window.author == "Grace Kim" and window.message == "Drop Java 11 support"
            (queued,) = pipe(snap, "Monolith (Jenkins)").in_flight
            assert queued.status is Status.QUEUED and queued.stage == EXECUTOR_WAIT

            sim.set_time(530)
            snap = await engine.poll_all()
            assert pipe(snap, "Monolith (Jenkins)").status is Status.PASSED
            assert not [w for w in snap.broken if w.source == "jenkins-ci"]
            assert sim.errors == []
        finally:
            await engine.aclose()
