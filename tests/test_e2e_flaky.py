"""End to end: flaky tests from GitLab's test_report and Jenkins' testReport reach the ranking.

The simulator's GitLab fails ``CheckoutSpec adds item`` on Bob's first ``rspec`` and passes it on
the retry of the same commit; its Jenkins fails ``LoginTest.testRedirect`` on Farid's build and
passes it on the rebuild. Both also fail a test for real (Grace's commits), which must not rank.
The engine polls the whole demo config around those retries, with an in-memory history.
"""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.history import History
from buildradiator.model import FlakyTestInfo, Snapshot
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.simulator.sim_gitlab import BROKEN_CASE, FLAKY_CASE
from buildradiator.simulator.sim_jenkins import BROKEN_TEST, FLAKY_TEST
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.gitlab.source import GitLabCI
from buildradiator.sources.jenkins.source import Jenkins
from buildradiator.sources.testreports import MAX_REPORTS as GITLAB_REPORTS
from buildradiator.sources.testreports import MAX_REPORTS as JENKINS_REPORTS

# Around the retries: Farid's build is UNSTABLE at 330 and his rebuild passes at 385; Bob's
# rspec fails at 534 and its retry passes at 560 (pipeline green at 572).
TIMES = (300, 360, 490, 537, 580)


def reports(sim: Simulator) -> dict[str, int]:
    """Test report requests the simulator has answered so far, per provider."""
    return {
        "gitlab": sum(n for p, n in sim.requests.items() if p.endswith("/test_report")),
        "jenkins": sum(n for p, n in sim.requests.items() if "/testReport/" in p),
    }


def flaky(snapshot: Snapshot, classname: str, name: str) -> FlakyTestInfo | None:
    return next(
        (t for t in snapshot.flaky_tests if (t.classname, t.name) == (classname, name)), None
    )


async def test_flaky_tests_from_the_provider_test_apis() -> None:
    with Simulator() as sim:
        history = History.memory()
        engine = build_engine(parse_config(demo_config_text(sim.base_url)), history=history)
        try:
            gitlab = engine.slots["gitlab"].source
            jenkins = engine.slots["jenkins-ci"].source
            assert isinstance(gitlab, GitLabCI) and isinstance(jenkins, Jenkins)
            runs = {"gitlab": 0, "jenkins-ci": 0}
            snap = None
            for t in TIMES:
                before = reports(sim)
                sim.set_time(t)
                snap = await engine.poll_all()
                for name in runs:
                    state = snap.source_state(name)
                    assert state is not None and state.error is None, state
                    result = engine.slots[name].result
                    assert result is not None
                    runs[name] += len(result.test_runs)
                # Requests per poll stay bounded: at most three test reports per source.
                after = reports(sim)
                assert after["gitlab"] - before["gitlab"] <= GITLAB_REPORTS == 3
                assert after["jenkins"] - before["jenkins"] <= JENKINS_REPORTS == 3
            assert snap is not None
            # Each build's report once: a GitLab pipeline twice only when a retry re-ran it.
            counts = {
                p: n for p, n in sim.requests.items() if "test_report" in p or "testReport" in p
            }
            assert max(n for p, n in counts.items() if "testReport" in p) == 1
            assert sorted(n for p, n in counts.items() if "test_report" in p)[-2:] == [1, 2]
            assert runs["gitlab"] >= 5 and runs["jenkins-ci"] >= 5

            # Bob's pipeline: attempt 1 failed the test, its retry (same pipeline, attempt 2)
            # passed it on the same commit.
            checkout = flaky(snap, "spec.features.checkout_spec", FLAKY_CASE)
            assert checkout is not None, snap.flaky_tests
            assert checkout.times_flaked >= 2  # this loop's retry and the history's re-run
            assert checkout.retried_builds >= 1
            assert checkout.pipelines == ("gitlab:acme/storefront",)
            assert checkout.first_seen < checkout.last_seen

            cls, method = FLAKY_TEST.rsplit(".", 1)
            login = flaky(snap, cls, method)
            assert login is not None, snap.flaky_tests
            assert login.times_flaked >= 1 and login.retried_builds >= 1
            assert login.pipelines == ("jenkins-ci:monolith",)
            assert login.lost_seconds > 0  # the UNSTABLE build that had to be rebuilt

            # The tests that fail for real (on a commit that never passed them) are not flaky.
            names = {(t.classname, t.name) for t in snap.flaky_tests}
            assert ("spec.models.tax_calculator_spec", BROKEN_CASE) not in names
            assert tuple(BROKEN_TEST.rsplit(".", 1)) not in names
            # ... but they were seen failing: the runs did reach the store.
            broken = history._db.execute(
                "SELECT count(*) FROM test_results x JOIN tests t ON t.id = x.test_id"
                " WHERE x.status = 'failed' AND t.name IN (?, ?)",
                (BROKEN_CASE, BROKEN_TEST.rsplit(".", 1)[1]),
            ).fetchone()[0]
            assert broken >= 2
            assert not sim.errors
        finally:
            await engine.aclose()
            history.close()
