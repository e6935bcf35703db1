"""Production rows per service and environment, drift from builds, post-deploy verification,
and the provider flaky lists merged into the ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from buildradiator.model import (
    Build,
    Deployment,
    DeployState,
    FlakyTestInfo,
    Health,
    Pipeline,
    ReportedFlake,
    ServiceCheck,
    Snapshot,
    Status,
)
from buildradiator.rules.deploywatch import DeployWatch, suspect_reason
from buildradiator.rules.facts import merge_reported
from buildradiator.rules.production import (
    counted_health,
    deploy_health,
    drift_from_builds,
    env_key,
    same_commit,
    service_rows,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def check(health: Health, **kw: object) -> ServiceCheck:
    kw.setdefault("name", "payments")
    kw.setdefault("source", "health-payments")
    kw.setdefault("environment", "prod")
    return ServiceCheck(health=health, checked_at=NOW, **kw)  # type: ignore[arg-type]


def deploy(**kw: object) -> Deployment:
    kw.setdefault("state", DeployState.SUCCEEDED)
    kw.setdefault("environment", "production")
    kw.setdefault("service", "payments")
    return Deployment(source="argocd", **kw)  # type: ignore[arg-type]


# -- rows


def test_checks_alerts_and_deploys_of_one_service_share_a_row() -> None:
    snap = Snapshot(
        taken_at=NOW,
        services=(
            check(Health.UP),
            check(Health.DOWN, kind="alert", name="PaymentsHighErrorRate", service="payments",
                  detail="5xx above 1%", source="am"),
            check(Health.DOWN, kind="alert", name="DiskWillFill", service="payments",
                  muted="silenced", source="am"),
            check(Health.UP, name="checkout"),
        ),
        deployments=(deploy(revision="a" * 40),),
    )  # fmt: skip
    rows = service_rows(snap)
    assert [(r.service, r.health) for r in rows] == [
        ("payments", Health.DOWN),
        ("checkout", Health.UP),
    ]
    payments = rows[0]
    assert payments.deployment is not None and payments.deployment.revision == "a" * 40
    assert [c.name for c in payments.muted] == ["DiskWillFill"]
    assert payments.reasons == ("alert PaymentsHighErrorRate: 5xx above 1%",)


def test_environments_fold_but_stay_apart_from_staging() -> None:
    assert env_key("Production") == env_key("prod") == "prod"
    snap = Snapshot(
        taken_at=NOW,
        services=(check(Health.UP), check(Health.DOWN, environment="staging")),
        deployments=(deploy(environment="stg"),),
    )
    rows = service_rows(snap)
    assert [(r.environment, r.health, r.deployment is not None) for r in rows] == [
        ("staging", Health.DOWN, True),
        ("prod", Health.UP, False),
    ]


def test_a_deploy_without_checks_is_a_row_of_unknown_health() -> None:
    (row,) = service_rows(Snapshot(taken_at=NOW, deployments=(deploy(service="monolith"),)))
    assert row.service == "monolith" and row.health is Health.UNKNOWN and row.checks == ()


def test_a_suspect_deploy_is_down_and_a_failed_one_never_up() -> None:
    def health(h: Health, **d: object) -> Health:
        snap = Snapshot(taken_at=NOW, services=(check(h),), deployments=(deploy(**d),))
        (row,) = service_rows(snap)
        return deploy_health(row)

    assert health(Health.UP, suspect="HTTP 500 after deploy") is Health.DOWN
    assert health(Health.UP, state=DeployState.FAILED) is Health.WARN
    assert health(Health.DOWN, state=DeployState.FAILED) is Health.DOWN
    assert health(Health.UP) is Health.UP


def test_old_data_counts_as_unknown_whatever_it_said() -> None:
    snap = Snapshot(
        taken_at=NOW, services=(check(Health.DOWN),), stale_sources=frozenset({"health-payments"})
    )
    (row,) = service_rows(snap)
    assert row.stale and row.health is Health.DOWN and counted_health(row) is Health.UNKNOWN
    (fresh,) = service_rows(snap.model_copy(update={"stale_sources": frozenset()}))
    assert counted_health(fresh) is Health.DOWN


def test_stale_row_only_when_all_its_sources_are() -> None:
    snap = Snapshot(
        taken_at=NOW,
        services=(check(Health.UP), check(Health.UP, name="q", service="payments", source="prom")),
        stale_sources=frozenset({"health-payments"}),
    )
    assert not service_rows(snap)[0].stale
    snap = snap.model_copy(update={"stale_sources": frozenset({"health-payments", "prom"})})
    assert service_rows(snap)[0].stale


def test_a_row_is_judged_by_its_checks_not_by_its_deploy_tool_nor_a_muted_alert() -> None:
    """Neither a deploy tool (what is live) nor a silenced alert says the service is up: with
    the health check's source stale, the row is stale however fresh they are."""
    stale = frozenset({"health-payments"})
    muted = check(Health.DOWN, kind="alert", name="Disk", service="payments", source="am",
                  muted="silenced")  # fmt: skip
    snap = Snapshot(taken_at=NOW, services=(check(Health.UP), muted), deployments=(deploy(),),
                    stale_sources=stale)  # fmt: skip
    (row,) = service_rows(snap)
    assert row.stale and row.stale_source == "health-payments"
    assert counted_health(row) is Health.UNKNOWN
    # A suspect deploy makes the row down: its fresh tool then vouches for that.
    suspect = snap.model_copy(update={"deployments": (deploy(suspect="HTTP 500"),)})
    (row,) = service_rows(suspect)
    assert not row.stale and row.health is Health.DOWN
    # Only a deploy: as fresh as the deploy tool.
    (row,) = service_rows(Snapshot(taken_at=NOW, deployments=(deploy(),), stale_sources=stale))
    assert not row.stale


# -- drift from history


def build(n: int, commit: str, status: Status = Status.PASSED) -> Build:
    return Build(source="gh", pipeline="acme/shop", id=str(n), status=status, commit=commit,
                 created_at=NOW - timedelta(hours=10 - n))  # fmt: skip


def test_drift_counts_distinct_commits_newer_than_the_live_one() -> None:
    live = "1" * 40
    pipeline = Pipeline(
        source="gh", key="acme/shop", name="shop",
        recent=(build(5, "4" * 40), build(4, "3" * 40), build(3, "3" * 40, Status.FAILED),
                build(2, live), build(1, "0" * 40)),
        in_flight=(build(6, "5" * 40, Status.RUNNING),),
    )  # fmt: skip
    out = drift_from_builds(deploy(revision=live[:7], pipeline="acme/shop"), pipeline)
    assert out.behind_by == 3
    assert out.oldest_undeployed_at == NOW - timedelta(hours=7)


def test_drift_unknown_when_the_live_commit_is_not_in_the_builds() -> None:
    pipeline = Pipeline(source="gh", key="acme/shop", name="shop", recent=(build(1, "9" * 40),))
    assert drift_from_builds(deploy(revision="1" * 40), pipeline).behind_by is None
    given = deploy(revision="9" * 40, behind_by=12)
    assert drift_from_builds(given, pipeline).behind_by == 12  # the tool's own count wins


def test_same_commit_needs_seven_characters() -> None:
    assert same_commit("abcdef1234", "abcdef1")
    assert not same_commit("abc", "abcdef1234")
    assert not same_commit(None, "abcdef1")


# -- post-deploy verification


def test_down_right_after_the_deploy_is_suspect() -> None:
    live_at = NOW - timedelta(minutes=3)
    d = deploy(revision="abcdef1234", deployed_at=live_at)
    down = check(Health.DOWN, detail="HTTP 500")
    reason = suspect_reason(d, [down], lambda c: live_at + timedelta(seconds=40), NOW, WINDOW)
    assert reason == "HTTP 500 40s after abcdef1 went live"


def test_down_before_the_deploy_or_after_the_window_is_not_the_deploys_fault() -> None:
    live_at = NOW - timedelta(minutes=3)
    d = deploy(revision="abcdef1234", deployed_at=live_at)
    down = check(Health.DOWN)
    before = suspect_reason(d, [down], lambda c: live_at - timedelta(minutes=1), NOW, WINDOW)
    assert before is None
    old = deploy(revision="abcdef1234", deployed_at=NOW - timedelta(hours=2))
    assert suspect_reason(old, [down], lambda c: NOW, NOW, WINDOW) is None


def test_new_critical_alert_marks_suspect_and_other_services_do_not() -> None:
    live_at = NOW - timedelta(minutes=5)
    d = deploy(revision="abcdef1234", deployed_at=live_at)
    alert = check(Health.DOWN, kind="alert", name="PaymentsHighErrorRate", service="payments",
                  since=live_at + timedelta(minutes=2))  # fmt: skip
    other = check(Health.DOWN, name="search")
    muted = alert.model_copy(update={"muted": "silenced"})
    assert suspect_reason(d, [other, muted], lambda c: NOW, NOW, WINDOW) is None
    assert suspect_reason(d, [alert], lambda c: None, NOW, WINDOW) == (
        "alert PaymentsHighErrorRate 2m after abcdef1 went live"
    )


def test_watch_remembers_until_the_window_ends_and_the_service_recovers() -> None:
    watch = DeployWatch(WINDOW)
    live_at = NOW - timedelta(minutes=1)
    d = deploy(revision="abcdef1234", deployed_at=live_at)
    down = check(Health.DOWN, detail="HTTP 500")
    (marked,) = watch.judge([d], [down], lambda c: NOW, NOW)
    assert marked.suspect
    # The check recovers within the window: the doubt stays.
    (still,) = watch.judge([d], [check(Health.UP)], lambda c: None, NOW + timedelta(minutes=5))
    assert still.suspect == marked.suspect
    # Window over and the service is up: it no longer holds releases.
    (cleared,) = watch.judge([d], [check(Health.UP)], lambda c: None, NOW + timedelta(minutes=30))
    assert cleared.suspect is None


def test_a_newer_deploy_replaces_the_doubt() -> None:
    watch = DeployWatch(WINDOW)
    d = deploy(revision="abcdef1234", deployed_at=NOW - timedelta(minutes=1))
    watch.judge([d], [check(Health.DOWN)], lambda c: NOW, NOW)
    newer = deploy(revision="1234567abc", deployed_at=NOW + timedelta(minutes=2))
    (after,) = watch.judge([newer], [check(Health.UP)], lambda c: None, NOW + timedelta(minutes=3))
    assert after.suspect is None and watch.marks == {}


# -- provider flaky lists


def test_reported_flakes_merge_with_history_by_test() -> None:
    known = FlakyTestInfo(classname="a.B", name="test_x", times_flaked=3, retried_builds=2,
                          lost_seconds=60.0, first_seen=NOW - timedelta(days=2),
                          last_seen=NOW - timedelta(days=1), pipelines=("gh:acme/shop",))  # fmt: skip
    reported = [
        ReportedFlake(source="circle", pipeline="gh/acme/shop", classname="a.B", name="test_x",
                      times_flaked=9, last_seen=NOW),
        ReportedFlake(source="bk", pipeline="acme/app", name="checkout works", times_flaked=4),
    ]  # fmt: skip
    merged = merge_reported([known], reported, NOW)
    assert [(t.name, t.times_flaked) for t in merged] == [("test_x", 9), ("checkout works", 4)]
    assert merged[0].retried_builds == 2 and merged[0].last_seen == NOW
    assert merged[0].pipelines == ("circle:gh/acme/shop", "gh:acme/shop")
    assert merged[1].first_seen == NOW and merged[1].pipelines == ("bk:acme/app",)
    assert merge_reported([known], [], NOW) == (known,)


# -- broken windows: one per service


def test_a_service_down_by_several_checks_is_one_broken_window() -> None:
    from buildradiator.rules.insights import broken_windows

    health = check(Health.DOWN, detail="HTTP 500")
    query = check(Health.DOWN, kind="query", name="5xx share", service="payments", source="prom")
    alert = check(Health.DOWN, kind="alert", name="PaymentsHigh", service="payments",
                  source="am", since=NOW - timedelta(minutes=9))  # fmt: skip
    muted = check(Health.DOWN, kind="alert", name="Disk", service="search", muted="silenced")
    staging = check(Health.DOWN, environment="staging")
    down_since = {("health-payments", "payments@prod"): NOW - timedelta(minutes=5)}
    windows = broken_windows([], [health, query, alert, muted, staging], frozenset(), down_since)
    assert [(w.name, w.source) for w in windows] == [
        ("payments", "am"),
        ("payments", "health-payments"),
    ]
    first = windows[0]
    assert first.since == NOW - timedelta(minutes=9)
    assert first.message == "alert PaymentsHigh (+2 more down)"
