"""The release gate: one pure rule per reason, and the verdict over a whole snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from buildradiator.config.loading import ReleaseConfig
from buildradiator.model import (
    Blocker,
    BrokenWindow,
    Build,
    Deployment,
    DeployState,
    Health,
    Pipeline,
    ServiceCheck,
    Snapshot,
    SourceState,
    Status,
)
from buildradiator.rules.gate import (
    bad_deploys,
    blockers_open,
    critical_alerts,
    gate_summary,
    main_red,
    production_down,
    release_gate,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def red(key: str = "acme/monolith", name: str = "Monolith") -> BrokenWindow:
    return BrokenWindow(kind="pipeline", source="gh", key=key, name=name, since=NOW)


def check(health: Health, **kw: object) -> ServiceCheck:
    kw.setdefault("name", "payments")
    kw.setdefault("source", "health-payments")
    return ServiceCheck(health=health, environment="prod", **kw)  # type: ignore[arg-type]


def deploy(state: DeployState, **kw: object) -> Deployment:
    return Deployment(source="argocd", service="payments", environment="prod", state=state, **kw)  # type: ignore[arg-type]


def green_pipeline() -> Pipeline:
    build = Build(source="gh", pipeline="acme/monolith", id="1", status=Status.PASSED)
    return Pipeline(source="gh", key="acme/monolith", name="Monolith", recent=(build,))


def snapshot(**kw: object) -> Snapshot:
    kw.setdefault("pipelines", (green_pipeline(),))
    kw.setdefault("sources", (SourceState(name="gh", type="github"),))
    return Snapshot(taken_at=NOW, **kw)  # type: ignore[arg-type]


def test_main_red_names_the_pipeline() -> None:
    (reason,) = main_red([red()])
    assert reason.kind == "main_red" and reason.text == "main red: Monolith"


def test_main_red_only_for_gated_pipelines() -> None:
    windows = [red(), red("acme/docs", "Docs")]
    assert [r.text for r in main_red(windows, ["acme/mono*"])] == ["main red: Monolith"]
    assert [r.text for r in main_red(windows, ["Docs"])] == ["main red: Docs"]


def test_service_down_is_not_an_alert_and_names_why() -> None:
    snap = snapshot(
        services=(check(Health.DOWN, detail="HTTP 500"), check(Health.WARN, name="search"))
    )
    (reason,) = production_down(snap)
    assert reason.kind == "service_down"
    assert reason.text == "payments (prod) down: HTTP 500"


def test_critical_alerts_skip_muted_and_warnings() -> None:
    alerts = [
        check(Health.DOWN, kind="alert", name="PaymentsHighErrorRate", service="payments"),
        check(Health.DOWN, kind="alert", name="DiskWillFill", muted="silenced"),
        check(Health.WARN, kind="alert", name="SearchLatencyHigh", service="search"),
    ]
    assert [r.text for r in critical_alerts(alerts)] == [
        "critical alert PaymentsHighErrorRate (payments)"
    ]


def test_failed_and_suspect_deploys() -> None:
    reasons = bad_deploys(
        [
            deploy(DeployState.FAILED, detail="helm upgrade failed"),
            deploy(DeployState.SUCCEEDED, suspect="HTTP 500 5s after abc1234 went live"),
            deploy(DeployState.SUCCEEDED),
            deploy(DeployState.RUNNING),
        ]
    )
    assert [(r.kind, r.text) for r in reasons] == [
        ("deploy_failed", "deploy of payments to prod failed: helm upgrade failed"),
        (
            "deploy_suspect",
            "deploy of payments to prod suspect: HTTP 500 5s after abc1234 went live",
        ),
    ]


def test_blockers_count_and_titles() -> None:
    blockers = [Blocker(source="b", id=f"#{n}", title=f"bug {n}") for n in range(1, 6)]
    assert blockers_open([]) == []
    (one,) = blockers_open(blockers[:1])
    assert one.text == "1 release blocker: #1 bug 1"
    (many,) = blockers_open(blockers)
    assert many.text == "5 release blockers: #1 bug 1; #2 bug 2; #3 bug 3 (+2 more)"


def test_all_clear_is_go() -> None:
    gate = release_gate(snapshot(services=(check(Health.UP),)), ReleaseConfig())
    assert gate is not None and gate.go and gate.word == "GO" and gate.reasons == ()


def test_any_reason_holds_and_all_are_listed() -> None:
    snap = snapshot(
        broken=(red(),),
        services=(check(Health.DOWN, detail="HTTP 500"),),
        deployments=(deploy(DeployState.FAILED),),
        blockers=(Blocker(source="b", id="#7", title="EUR carts"),),
    )
    gate = release_gate(snap, ReleaseConfig())
    assert gate is not None and not gate.go and gate.word == "HOLD"
    assert [r.kind for r in gate.reasons] == [
        "main_red",
        "service_down",
        "deploy_failed",
        "blockers",
    ]


def test_stale_source_holds_unless_told_otherwise() -> None:
    snap = snapshot(stale_sources=frozenset({"gh"}))
    gate = release_gate(snap, ReleaseConfig())
    assert gate is not None and [r.text for r in gate.reasons] == ["no fresh data from gh"]
    relaxed = release_gate(snap, ReleaseConfig(hold_on_stale=False))
    assert relaxed is not None and relaxed.go


def test_nothing_to_judge_or_turned_off_is_no_gate() -> None:
    assert release_gate(Snapshot(taken_at=NOW), ReleaseConfig()) is None
    assert release_gate(snapshot(), ReleaseConfig(gate=False)) is None


def test_a_blockers_source_alone_is_judged() -> None:
    snap = Snapshot(
        taken_at=NOW,
        sources=(SourceState(name="b", type="blockers", last_success=NOW - timedelta(seconds=5)),),
    )
    gate = release_gate(snap, ReleaseConfig())
    assert gate is not None and gate.go


def test_summary_folds_reasons_of_one_kind() -> None:
    snap = snapshot(broken=(red(), red("acme/docs", "Docs"), red("acme/x", "X")),
                    blockers=(Blocker(source="b", id="#7", title="EUR carts"),))  # fmt: skip
    gate = release_gate(snap, ReleaseConfig())
    assert gate is not None and len(gate.reasons) == 4
    assert gate_summary(gate) == "main red: Monolith (+2 more) · 1 release blocker: #7 EUR carts"
