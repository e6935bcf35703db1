"""The whole production story of the demo through the real engine and simulator: a payments
sync goes out, its health check fails right after (a suspect deploy on the banner, HOLD), an
alert fires and resolves, a fix goes out, main runs ahead of production, a release blocker
opens and closes, and a staging deploy fails."""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.model import DeployState, Health, Snapshot
from buildradiator.simulator import moments
from buildradiator.simulator.demo_config import demo_config_text
from buildradiator.simulator.server import Simulator
from buildradiator.sources.catalog import parse_config


def deployment(snap: Snapshot, service: str, environment: str):  # type: ignore[no-untyped-def]
    found = [d for d in snap.deployments if d.service == service and d.environment == environment]
    assert len(found) == 1, snap.deployments
    return found[0]


def reasons(snap: Snapshot) -> set[str]:
    assert snap.gate is not None
    return {r.kind for r in snap.gate.reasons}


async def test_the_production_story() -> None:
    # One clock for the simulator and the engine: the post-deploy watch compares the time a
    # deploy went live (the simulator's) with the time a check was seen down (the engine's).
    clock = FakeClock()
    with Simulator(clock=clock) as sim:
        engine = build_engine(parse_config(demo_config_text(sim.base_url)), clock=clock)
        at = 0.0

        def set_time(t: float) -> None:
            nonlocal at
            clock.advance(t - at)
            at = t

        try:
            set_time(30)
            snap = await engine.poll_all()
            assert deployment(snap, "monolith", "production").state is DeployState.RUNNING
            assert snap.gate is not None

            set_time(200)
            snap = await engine.poll_all()
            payments = deployment(snap, "payments", "prod")
            assert payments.state is DeployState.RUNNING and payments.target_revision
            monolith = deployment(snap, "monolith", "production")
            assert monolith.state is DeployState.SUCCEEDED and (monolith.behind_by or 0) >= 1

            # The sync finished at 212; payments answers 500 from 217: the deploy is suspect.
            set_time(moments.DEPLOY_SUSPECT)
            snap = await engine.poll_all()
            payments = deployment(snap, "payments", "prod")
            assert payments.state is DeployState.SUCCEEDED and payments.suspect
            assert any(w.kind == "deploy" and w.name.startswith("payments") for w in snap.broken)
            assert {"deploy_suspect", "critical_alert", "service_down", "blockers"} <= reasons(snap)
            assert [b.title for b in snap.blockers if b.source == "blockers"] == [
                "Checkout returns 500 for EUR carts"
            ]
            alert = next(c for c in snap.services if c.name == "PaymentsHighErrorRate")
            assert alert.health is Health.DOWN and alert.service == "payments"

            # The fix is live, the alert resolved, the blocker closed, payments is up again.
            set_time(moments.ACT_TWO)
            snap = await engine.poll_all()
            assert not deployment(snap, "payments", "prod").suspect
            assert not any(c.name == "PaymentsHighErrorRate" for c in snap.services)
            assert snap.blockers == ()  # GitHub's closed at 290; Jira's opens at 460
            assert "blockers" not in reasons(snap)
            assert snap.gate is not None and snap.gate.go, snap.gate

            # Act 2: a staging deploy fails.
            set_time(560)
            snap = await engine.poll_all()
            assert deployment(snap, "monolith", "staging").state is DeployState.FAILED
            assert "deploy_failed" in reasons(snap)
        finally:
            await engine.aclose()
