"""The demo's production story through the real engine and simulator, each snapshot recorded
with ``record_snapshot``: the suspect payments deploy, its outage and the HOLD come back out
of history as a restore time, a service restore, a failed change and time on hold."""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.history.deliveries import record_snapshot
from buildradiator.history.delivery_recorder import DeliveryRecorder
from buildradiator.history.delivery_report import delivery_facts
from buildradiator.rules.dora import Fact
from buildradiator.simulator import moments
from buildradiator.simulator.demo_config import demo_config_text
from buildradiator.simulator.server import Simulator
from buildradiator.sources.catalog import parse_config


def fact(facts: list[Fact], key: str, scope: str = "estate") -> Fact:
    return next(f for f in facts if f.key == key and f.scope == scope and f.window_days == 7)


async def test_the_production_story_becomes_delivery_facts() -> None:
    clock = FakeClock()
    history = History.memory(clock=clock)
    with Simulator(clock=clock) as sim:
        config = parse_config(demo_config_text(sim.base_url))
        engine = build_engine(config, clock=clock, history=history)
        recorder = DeliveryRecorder(history)  # what the engine's subscriber would be
        at = 0.0
        try:
            for t in (30, 200, moments.DEPLOY_SUSPECT, moments.FIXED_FORWARD, moments.ACT_TWO, 560):
                clock.advance(t - at)
                at = t
                snap = await engine.poll_all()
                recorder(snap)
                assert recorder.flush()
                assert record_snapshot(history, snap) == 0  # the same snapshot again: nothing
        finally:
            await engine.aclose()
            recorder.close()
    suspect = history._db.execute(
        "SELECT commit_sha FROM deploys WHERE service = 'payments' AND suspect IS NOT NULL"
    ).fetchall()
    assert [sha[:7] for (sha,) in suspect] == ["8e4abf2"]  # fixed forward by the next deploy
    # Argo CD's sync had no id while it ran; once it ended, its running row made way.
    states = history._db.execute("SELECT state FROM deploys WHERE service = 'payments'")
    assert "running" not in {state for (state,) in states}
    facts = delivery_facts(history, now=clock.now(), windows=(7,))
    restore = fact(facts, "time_to_restore")
    assert restore.samples >= 1 and restore.value and restore.band == "elite"
    failure = fact(facts, "change_failure_rate")
    assert failure.value and failure.value > 0 and failure.band
    assert fact(facts, "deploy_frequency").value
    assert fact(facts, "restore_service").samples >= 1
    hold = fact(facts, "gate_hold")
    assert hold.value and "deploy_suspect" in hold.note
    staging = [f for f in facts if f.key == "change_failure_rate" and "staging" in f.scope]
    assert staging and staging[0].value == 1.0 and staging[0].band is None
