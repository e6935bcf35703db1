"""End to end: the release-blockers source and the engine against the simulator's issue trackers.

The demo config watches GitHub ``acme/monolith`` (label ``release-blocker``) and a Jira JQL; the
story (``simulator/prodstory.py``, ``sim_tracker.py``) opens the GitHub blocker from 120 to 220
-- with a labelled pull request beside it that must not count -- and the Jira one from 240 to 290.
"""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.config.loading import Config
from buildradiator.engine.engine import Engine
from buildradiator.model import Blocker, Snapshot
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.simulator.prodstory import BLOCKER_OPEN, BLOCKER_TITLE
from buildradiator.simulator.sim_tracker import JIRA_OPEN, JIRA_TITLE
from buildradiator.sources.catalog import parse_config


def only(config: Config, kind: str) -> Config:
    # Only this type's sources: another provider's trouble must not fail this test.
    return config.model_copy(update={"sources": [s for s in config.sources if s.type == kind]})


def blockers(engine: Engine, snap: Snapshot, name: str) -> tuple[Blocker, ...]:
    """What the engine holds from one source after a poll, which must have succeeded."""
    state = snap.source_state(name)
    assert state is not None and state.error is None, state
    assert state.type == "blockers"
    result = engine.slots[name].result
    assert result is not None
    shown = tuple(b for b in snap.blockers if b.source == name)
    assert shown == result.blockers
    return shown


async def test_the_release_blocker_story_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(only(parse_config(demo_config_text(sim.base_url)), "blockers"))
        assert set(engine.slots) == {"blockers", "jira-blockers"}
        try:
            # Before the blocker is filed: nothing anywhere (the unlabelled bug is filtered out).
            sim.set_time(60)
            snap = await engine.poll_all()
            assert blockers(engine, snap, "blockers") == ()
            assert blockers(engine, snap, "jira-blockers") == ()

            # The GitHub blocker is open; its fix PR carries the same label and is skipped.
            sim.set_time(250)
            snap = await engine.poll_all()
            loop = sim.moment().loop
            (blocker,) = blockers(engine, snap, "blockers")
            assert blocker.title == BLOCKER_TITLE
            assert blocker.id.startswith("#") and blocker.id[1:].isdigit()
            assert blocker.author == "dana"
            assert blocker.opened_at == sim.scenario.at(loop, BLOCKER_OPEN[0]).replace(
                microsecond=0
            )
            assert blocker.url is not None
            assert blocker.url.startswith(sim.base_url + "/web/acme/monolith/issues/")
            assert blockers(engine, snap, "jira-blockers") == ()
            assert engine.slots["blockers"].result.summary.startswith(  # type: ignore[union-attr]
                "1 open release blocker "
            )

            # Closed at 290: no blockers at all.
            sim.set_time(295)
            snap = await engine.poll_all()
            assert blockers(engine, snap, "blockers") == ()
            assert blockers(engine, snap, "jira-blockers") == ()

            # The Jira one is open (its offset had no colon; it parses to the same instant).
            sim.set_time(480)
            snap = await engine.poll_all()
            assert blockers(engine, snap, "blockers") == ()
            (jira,) = blockers(engine, snap, "jira-blockers")
            assert jira.id == f"SHOP-{142 + loop}"
            assert jira.title == JIRA_TITLE
            assert jira.author == "Priya Raman"
            assert jira.url == f"{sim.base_url}/tracker/jira/browse/{jira.id}"
            opened = sim.scenario.at(loop, JIRA_OPEN[0])
            assert jira.opened_at is not None
            assert abs((jira.opened_at - opened).total_seconds()) < 0.001
            assert jira.opened_at.utcoffset() is not None
            assert not sim.errors
        finally:
            await engine.aclose()


async def test_gitlab_issues_and_a_bad_jql_against_the_simulator() -> None:
    with Simulator() as sim:
        base = sim.base_url + "/tracker"
        text = f"""
[radiator]
interval = 3.0

[[sources]]
name = "gitlab-blockers"
type = "blockers"
provider = "gitlab"
url = "{base}/gitlab/api/v4"
project = "acme/monolith"

[[sources]]
name = "jira-typo"
type = "blockers"
provider = "jira"
url = "{base}/jira"
jql = "project = SHOPP AND labels = release-blocker"
"""
        engine = build_engine(parse_config(text))
        try:
            sim.set_time(250)
            snap = await engine.poll_all()
            (blocker,) = blockers(engine, snap, "gitlab-blockers")
            assert blocker.title == BLOCKER_TITLE
            assert blocker.url is not None and "/acme/monolith/-/issues/" in blocker.url
            state = snap.source_state("jira-typo")
            assert state is not None and state.error is not None
            assert state.error.startswith("Jira rejected the JQL 'project = SHOPP")
            assert "The value 'SHOPP' does not exist for the field 'project'." in state.error
            assert not sim.errors
        finally:
            await engine.aclose()
