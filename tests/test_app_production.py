"""The Production panel and the release gate as a user sees them: in the panel, on the wall,
in the pane's count line; untrusted titles never become markup."""

from __future__ import annotations

from app_helpers import make_app, rows
from buildradiator.model import (
    Blocker,
    Deployment,
    DeployState,
    GateReason,
    Health,
    ReleaseGate,
    ServiceCheck,
    Snapshot,
)
from buildradiator.ui.widgets import CompactSummary, Production
from buildradiator.ui.widgets.production import production_rows
from buildradiator.ui.widgets.wall_tiles import wall_tiles
from snapshot_fixtures import MARKUP_MESSAGE, NOW, ago, red_estate


def production_estate() -> Snapshot:
    snap = red_estate()
    alert = ServiceCheck(source="am", name="PaymentsHighErrorRate", service="payments",
                         environment="prod", kind="alert", health=Health.DOWN, severity="critical",
                         detail="5xx above 1% for 5m", since=ago(300))  # fmt: skip
    silenced = ServiceCheck(source="am", name="DiskWillFill", service="checkout",
                            environment="prod", kind="alert", health=Health.DOWN,
                            muted="silenced")  # fmt: skip
    deployments = (
        Deployment(source="argocd", service="payments", environment="prod",
                   state=DeployState.SUCCEEDED, revision="9f3c2ab1d4e5f6a7b8c9", deployed_at=ago(420),
                   suspect="HTTP 503 1m after 9f3c2ab went live"),
        Deployment(source="deploys", service="monolith", environment="production",
                   state=DeployState.RUNNING, revision="aaaaaaa1111111", deployed_at=ago(7200),
                   target_revision="bbbbbbb2222222", started_at=ago(95), behind_by=7,
                   oldest_undeployed_at=ago(3 * 3600)),
        Deployment(source="deploys", service="monolith", environment="staging",
                   state=DeployState.FAILED, revision="aaaaaaa1111111", detail="helm upgrade failed"),
    )  # fmt: skip
    blockers = (Blocker(source="blockers", id="#412", title=MARKUP_MESSAGE, opened_at=ago(3600)),)
    gate = ReleaseGate(go=False, reasons=(
        GateReason(kind="main_red", text="main red: acme/monolith"),
        GateReason(kind="blockers", text=f"1 release blocker: #412 {MARKUP_MESSAGE}"),
    ))  # fmt: skip
    return snap.model_copy(
        update={
            "services": (*snap.services, alert, silenced),
            "deployments": deployments,
            "blockers": blockers,
            "gate": gate,
        }
    )


def test_rows_gate_then_blockers_then_services_worst_first() -> None:
    texts = [
        "  ".join("".join(t for t, _ in c) for c in r.cells)
        for r in production_rows(production_estate(), NOW)
    ]
    assert texts[0].startswith("✖ HOLD  release")
    assert "main red: acme/monolith · 1 release blocker" in texts[0]
    assert texts[1] == f"⚑ blocker  #412  open 1h  {MARKUP_MESSAGE}"
    payments = next(t for t in texts if "  payments prod  " in t)
    assert payments.startswith("✖ down  payments prod  suspect 9f3c2ab  ")
    # Why comes first: the alert, before the code and latency.
    assert "  alert PaymentsHighErrorRate: 5xx above 1% for 5m" in payments
    monolith = next(t for t in texts if "monolith production" in t)
    assert "deploying 1m35s  live aaaaaaa 2h  7 behind main (oldest 3h)" in monolith
    staging = next(t for t in texts if "monolith staging" in t)
    assert "deploy failed" in staging and "helm upgrade failed" in staging
    checkout = next(t for t in texts if "  checkout prod  " in t)
    assert "muted: DiskWillFill (silenced)" in checkout


def test_go_reads_calm() -> None:
    snap = production_estate().model_copy(update={"gate": ReleaseGate(go=True)})
    first = production_rows(snap, NOW)[0]
    assert "".join(t for t, _ in first.cells[0]) == "✔ GO"
    assert "".join(t for t, _ in first.cells[3]) == "nothing holds the release"


def test_wall_has_a_hold_tile_and_a_suspect_deploy_tile() -> None:
    tiles = {t.key: t for t in wall_tiles(production_estate(), NOW)}
    assert tiles["gate"].word == "HOLD" and "main red" in tiles["gate"].detail
    payments = tiles["service\x1fpayments\x1fprod"]
    assert payments.word == "SUSPECT DEPLOY" and payments.filled
    assert tiles["service\x1fmonolith\x1fstaging"].word == "DEPLOY FAILED"
    deploying = tiles["service\x1fmonolith\x1fproduction"]
    assert (deploying.word, deploying.detail) == ("DEPLOYING 1m35s", "7 behind main")
    live = production_estate().model_copy(update={"deployments": (Deployment(
        source="deploys", service="monolith", environment="production",
        state=DeployState.SUCCEEDED, revision="aaaaaaa1111111", behind_by=3),)})  # fmt: skip
    tile = {t.key: t for t in wall_tiles(live, NOW)}["service\x1fmonolith\x1fproduction"]
    assert (tile.word, tile.detail) == ("LIVE aaaaaaa", "3 behind main")


async def test_panel_and_pane_show_the_gate_and_keep_markup_literal() -> None:
    app = make_app(production_estate())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        table = app.query_one(Production)
        shown = rows(table)
        assert shown[0].startswith("✖ HOLD  release")
        assert MARKUP_MESSAGE in shown[1]  # literal: no markup was parsed
        assert "release HOLD" in str(table.border_subtitle)
    app = make_app(production_estate())
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()
        line = app.query_one(CompactSummary).plain
        assert "release HOLD" in line
