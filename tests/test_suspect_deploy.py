"""A suspect deploy is a broken window everywhere: its Production row says so and sorts with the
broken, and its reason keeps its label (issue "Never lie, never die")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from buildradiator.clock import FakeClock
from buildradiator.model import Deployment, DeployState, Health, ServiceCheck, Snapshot
from buildradiator.rules import insights
from buildradiator.rules.deploywatch import suspect_reason
from buildradiator.rules.production import service_rows
from buildradiator.ui.app import BuildRadiatorApp
from screen import screen_text

CLOCK = FakeClock()
NOW = CLOCK.now()
LIVE = NOW - timedelta(minutes=4)


def query(health: Health, detail: str) -> ServiceCheck:
    return ServiceCheck(
        source="prom", name="5xx share", service="payments", environment="prod",
        kind="query", health=health, detail=detail, checked_at=NOW,
    )  # fmt: skip


def payments_deploy(suspect: str | None) -> Deployment:
    return Deployment(
        source="argocd", service="payments", environment="prod", state=DeployState.SUCCEEDED,
        revision="abc1234def5678", deployed_at=LIVE, finished_at=LIVE, suspect=suspect,
    )  # fmt: skip


def test_the_suspect_reason_names_the_check_it_comes_from() -> None:
    down = query(Health.DOWN, "0.034 > 0.01")
    why = suspect_reason(
        payments_deploy(None), [down], lambda c: LIVE + timedelta(minutes=2), NOW,
        timedelta(minutes=15),
    )  # fmt: skip
    assert why is not None and why.startswith("5xx share 0.034 > 0.01 2m after abc1234")


def estate() -> Snapshot:
    """payments recovered to warn (HTTP 200) but the deploy before it stays suspect."""
    health = ServiceCheck(
        source="health", name="payments", environment="prod", health=Health.UP,
        http_status=200, checked_at=NOW,
    )  # fmt: skip
    search = ServiceCheck(source="health", name="search", environment="prod", health=Health.UP)
    services = (health, query(Health.WARN, "0.006 > 0.005"), search)
    deployments = (payments_deploy("5xx share 0.034 > 0.01 2m after abc1234 went live"),)
    broken = insights.broken_windows((), services, frozenset(), {}, deployments)
    return Snapshot(taken_at=NOW, services=services, deployments=deployments, broken=broken)


def test_a_suspect_deploy_makes_its_row_broken_and_first() -> None:
    rows = service_rows(estate())
    assert [r.service for r in rows] == ["payments", "search"]
    assert rows[0].health is Health.DOWN
    assert any("deploy suspect" in r for r in rows[0].reasons)


class Feed:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        publish(self.snapshot)
        await asyncio.Event().wait()

    def poll_now(self) -> None:
        pass


async def test_the_screen_agrees_with_the_banner() -> None:
    app = BuildRadiatorApp(Feed(estate()), clock=CLOCK)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause(0.3)
        text = screen_text(app)
    lines = text.split("\n")
    assert "DEPLOY SUSPECT" in text
    # The reason keeps its label, and is not quoted as if it were a commit message.
    assert "5xx share 0.034 > 0.01" in text and '"5xx share' not in text
    payments = [line for line in lines if "payments" in line and "prod" in line]
    assert payments and all("✔ up" not in line for line in payments), payments
