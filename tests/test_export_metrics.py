"""The Prometheus export (``/metrics``), read back with prometheus_client's own text parser."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from buildradiator.export.metrics import CONTENT_TYPE, TOP_FLAKY_TESTS, metrics_text
from buildradiator.model import (
    Blocker,
    BrokenWindow,
    Deployment,
    DeployState,
    FlakyTestInfo,
    GateReason,
    Health,
    Pipeline,
    PipelineFacts,
    ReleaseGate,
    ServiceCheck,
    Snapshot,
    SourceState,
    Status,
    TargetStatus,
)
from snapshot_fixtures import NOW, ago, build, green_estate, pipeline, red_estate_with_history

LATER = NOW + timedelta(seconds=60)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(data: bytes) -> tuple[Samples, dict[str, str]]:
    """Every sample by (name, labels), and every family's HELP; duplicates fail the test (a
    real Prometheus would reject the whole scrape)."""
    samples: Samples = {}
    helps: dict[str, str] = {}
    for family in text_string_to_metric_families(data.decode("utf-8")):
        assert family.name.startswith("buildradiator_"), family.name
        assert family.type == "gauge", family.name
        helps[family.name] = family.documentation
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in samples, f"duplicate series {key}"
            samples[key] = s.value
    return samples, helps


def get(samples: Samples, metric: str, /, **labels: str) -> float | None:
    return samples.get(("buildradiator_" + metric, tuple(sorted(labels.items()))))


def series(samples: Samples, metric: str) -> list[dict[str, str]]:
    return [dict(labels) for n, labels in samples if n == "buildradiator_" + metric]


def full_estate() -> Snapshot:
    """The red estate with history, plus deploys, blockers, a HOLD and targets."""
    snap = red_estate_with_history()
    deployments = (
        Deployment(
            source="gh-deploy",
            service="checkout",
            environment="production",
            state=DeployState.RUNNING,
            behind_by=4,
            deployed_at=ago(3600),
        ),
        Deployment(
            source="argocd",
            service="payments",
            environment="prod",
            state=DeployState.FAILED,
            suspect="error rate up after deploy",
        ),
    )
    blockers = (
        Blocker(source="issues", id="#12", title="Data loss on retry"),
        Blocker(source="jira", id="SHOP-42", title="Checkout broken on Safari"),
    )
    gate = ReleaseGate(
        go=False,
        reasons=(
            GateReason(kind="main_red", text="main red: acme/monolith"),
            GateReason(kind="service_down", text="payments down"),
            GateReason(kind="blockers", text="2 blockers"),
            GateReason(kind="service_down", text="search warn"),
        ),
    )
    targets = (
        TargetStatus(
            name="main green >= 95% (7 d)",
            measure="main_green_share",
            scope="all",
            goal=">= 95%",
            window_days=7,
            value=0.91,
            met=False,
        ),
        TargetStatus(
            name="p90 <= 10m",
            measure="duration_p90",
            scope="acme/monolith",
            goal="<= 10m",
            window_days=30,
            value=581.0,
            met=True,
        ),
        TargetStatus(
            name="flaky < 5",
            measure="flaky_tests",
            scope="all",
            goal="< 5",
            window_days=7,
        ),
        TargetStatus(
            name="from a newer radiator",
            measure="happiness",
            scope="all",
            goal="about right",
            window_days=7,
            value=3.0,
        ),
    )
    return snap.model_copy(
        update={"deployments": deployments, "blockers": blockers, "gate": gate, "targets": targets}
    )


def test_pipelines_of_a_known_snapshot() -> None:
    samples, _ = parse(metrics_text(full_estate(), LATER))
    mono = {"source": "gh", "pipeline": "acme/monolith"}
    # Enum-style status: exactly one 1 per pipeline.
    assert get(samples, "pipeline_status", **mono, status="failed") == 1
    assert get(samples, "pipeline_status", **mono, status="passed") == 0
    for p in full_estate().pipelines:
        ones = [
            labels["status"]
            for labels in series(samples, "pipeline_status")
            if (labels["source"], labels["pipeline"]) == (p.source, p.key)
            and get(samples, "pipeline_status", **labels) == 1
        ]
        assert ones == [p.status.value]
    assert (
        get(
            samples,
            "pipeline_status",
            source="jenkins",
            pipeline="platform/core",
            status="canceled",
        )
        == 1
    )
    assert get(samples, "pipeline_info", **mono, name="acme/monolith", branch="main", group="") == 1
    assert get(samples, "pipeline_running", **mono) == 1
    assert get(samples, "pipeline_queued", source="gh", pipeline="acme/ledger") == 1
    assert get(samples, "pipeline_running", source="gh", pipeline="acme/ledger") == 0
    # Red since the broken window's start (14m32s before NOW), seen a minute later.
    assert get(samples, "pipeline_red_since_seconds", **mono) == 14 * 60 + 32 + 60
    assert get(samples, "pipeline_red_streak", **mono) == 3
    assert get(samples, "pipeline_red_since_seconds", source="gh", pipeline="acme/billing") == 0
    assert get(samples, "pipeline_red_streak", source="gh", pipeline="acme/billing") == 0
    assert get(samples, "pipeline_last_build_timestamp_seconds", **mono) == (
        ago(14 * 60).timestamp()
    )
    # From history's facts.
    assert get(samples, "pipeline_build_duration_seconds", **mono, quantile="0.5") == 372
    assert get(samples, "pipeline_build_duration_seconds", **mono, quantile="0.9") == 581
    assert get(samples, "pipeline_retry_share", **mono, window="7d") == 2 / 11
    assert get(samples, "pipeline_retry_share", **mono, window="30d") == 5 / 48
    # Unknown stays absent: ledger's facts know no durations or shares, docs-site has no facts.
    assert (
        get(
            samples,
            "pipeline_build_duration_seconds",
            source="gh",
            pipeline="acme/ledger",
            quantile="0.5",
        )
        is None
    )
    assert (
        get(samples, "pipeline_retry_share", source="gh", pipeline="docs-site", window="7d") is None
    )


def test_flaky_tests_services_and_overall() -> None:
    samples, _ = parse(metrics_text(full_estate(), LATER))
    assert get(samples, "flaky_tests") == 3
    assert (
        get(
            samples,
            "flaky_test_times_flaked",
            classname="com.acme.billing.LoginTest",
            name="testRedirect",
        )
        == 12
    )
    # Rich markup is just text in a label.
    markup = "[bold red]boom[/] [link=http://x]y[/link]"
    assert (
        get(samples, "flaky_test_times_flaked", classname="tests.test_cart.CartSpec", name=markup)
        == 7
    )
    assert get(samples, "service_up", service="payments", environment="prod") == 0
    assert get(samples, "service_up", service="checkout", environment="prod") == 1
    assert get(samples, "service_health", service="search", environment="prod", health="warn") == 1
    assert get(samples, "service_health", service="search", environment="prod", health="up") == 0
    check = {
        "source": "health",
        "check": "payments",
        "service": "payments",
        "environment": "prod",
        "kind": "health",
    }
    assert get(samples, "service_check_up", **check) == 0
    assert get(samples, "service_check_latency_seconds", **check) == 0.12
    assert get(samples, "service_check_muted", **check) == 0
    assert get(samples, "broken_windows", kind="pipeline") == 1
    assert get(samples, "broken_windows", kind="service") == 1
    assert get(samples, "broken_windows", kind="deploy") == 0
    assert get(samples, "snapshot_timestamp_seconds") == NOW.timestamp()
    assert get(samples, "snapshot_age_seconds") == 60


def test_deployments_blockers_and_gate() -> None:
    samples, _ = parse(metrics_text(full_estate(), LATER))
    checkout = {"source": "gh-deploy", "service": "checkout", "environment": "production"}
    payments = {"source": "argocd", "service": "payments", "environment": "prod"}
    assert get(samples, "deployment_behind_commits", **checkout) == 4
    assert get(samples, "deployment_behind_commits", **payments) is None
    assert get(samples, "deployment_in_progress", **checkout) == 1
    assert get(samples, "deployment_in_progress", **payments) == 0
    assert get(samples, "deployment_failed", **payments) == 1
    assert get(samples, "deployment_failed", **checkout) == 0
    assert get(samples, "deployment_suspect", **payments) == 1
    assert get(samples, "deployment_suspect", **checkout) == 0
    assert get(samples, "deployment_live_timestamp_seconds", **checkout) == ago(3600).timestamp()
    assert get(samples, "release_blockers") == 2
    assert get(samples, "release_gate_go") == 0
    assert get(samples, "release_gate_hold_reasons", kind="service_down") == 2
    assert get(samples, "release_gate_hold_reasons", kind="main_red") == 1
    go = full_estate().model_copy(update={"gate": ReleaseGate(go=True)})
    assert get(parse(metrics_text(go, LATER))[0], "release_gate_go") == 1


def test_no_gate_means_no_gate_metric() -> None:
    samples, helps = parse(metrics_text(red_estate_with_history(), LATER))
    assert red_estate_with_history().gate is None
    assert "buildradiator_release_gate_go" not in helps
    assert get(samples, "release_gate_go") is None
    assert get(samples, "release_blockers") == 0


def test_sources_fresh_stale_failing_and_quota() -> None:
    samples, _ = parse(metrics_text(full_estate(), LATER))
    gh = {"source": "gh", "type": "github"}
    bk = {"source": "buildkite", "type": "buildkite"}
    assert get(samples, "source_up", **gh) == 1
    assert get(samples, "source_stale", **gh) == 0
    assert get(samples, "source_last_success_timestamp_seconds", **gh) == ago(4).timestamp()
    assert get(samples, "source_rate_remaining", **gh) == 4812
    assert get(samples, "source_rate_limit", **gh) == 5000
    assert get(samples, "source_rate_remaining", **bk) is None
    # The stale one: down, stale, its error kind, and its pipelines marked stale.
    assert get(samples, "source_up", **bk) == 0
    assert get(samples, "source_stale", **bk) == 1
    assert get(samples, "source_error", **bk, kind="unreachable") == 1
    assert [labels["source"] for labels in series(samples, "source_error")] == ["buildkite"]
    assert get(samples, "pipeline_stale", source="buildkite", pipeline="acme/reports") == 1
    assert get(samples, "pipeline_stale", source="gh", pipeline="acme/monolith") == 0
    # Never polled yet: not up, and no last-success time invented.
    fresh = Snapshot(taken_at=NOW, sources=(SourceState(name="new", type="gitlab"),))
    samples, _ = parse(metrics_text(fresh, NOW))
    assert get(samples, "source_up", source="new", type="gitlab") == 0
    assert (
        get(samples, "source_last_success_timestamp_seconds", source="new", type="gitlab") is None
    )


def test_targets() -> None:
    samples, _ = parse(metrics_text(full_estate(), LATER))
    green = {"target": "main green >= 95% (7 d)", "measure": "main_green_share", "scope": "all"}
    p90 = {"target": "p90 <= 10m", "measure": "duration_p90", "scope": "acme/monolith"}
    flaky = {"target": "flaky < 5", "measure": "flaky_tests", "scope": "all"}
    odd = {"target": "from a newer radiator", "measure": "happiness", "scope": "all"}
    assert get(samples, "target_value", **green) == 0.91
    assert get(samples, "target_goal", **green) == 0.95
    assert get(samples, "target_met", **green) == 0
    assert get(samples, "target_value", **p90) == 581
    assert get(samples, "target_goal", **p90) == 600
    assert get(samples, "target_met", **p90) == 1
    # Unknown value: goal only; no verdict claimed.
    assert get(samples, "target_value", **flaky) is None
    assert get(samples, "target_goal", **flaky) == 5
    assert get(samples, "target_met", **flaky) is None
    # A goal this radiator cannot read: the value still, no goal.
    assert get(samples, "target_value", **odd) == 3
    assert get(samples, "target_goal", **odd) is None


def test_empty_snapshot() -> None:
    data = metrics_text(Snapshot(taken_at=NOW), NOW)
    samples, helps = parse(data)
    assert get(samples, "flaky_tests") == 0
    assert get(samples, "release_blockers") == 0
    assert get(samples, "broken_windows", kind="pipeline") == 0
    assert get(samples, "snapshot_age_seconds") == 0
    assert series(samples, "pipeline_status") == [] and series(samples, "source_up") == []
    assert series(samples, "target_value") == [] and series(samples, "service_up") == []
    # The families are still documented, so a scrape shows what could be there.
    assert "buildradiator_pipeline_status" in helps and "buildradiator_target_met" in helps


def test_every_family_is_documented() -> None:
    _, helps = parse(metrics_text(full_estate(), LATER))
    assert len(helps) >= 35
    assert all(len(doc) > 15 for doc in helps.values()), helps


HOSTILE = 'a "quoted" \\back\\slash {brace} } = , # HELP x\nline2\r\x00\x1b[31mred'


def test_hostile_label_values_stay_in_their_label() -> None:
    hostile_pipe = Pipeline(
        source='src"}',
        key=HOSTILE,
        name=HOSTILE,
        branch="main\nbuildradiator_fake 1",
        recent=(build(HOSTILE, 1, Status.FAILED, finished=30),),
    )
    snap = Snapshot(
        taken_at=NOW,
        pipelines=(hostile_pipe,),
        services=(
            ServiceCheck(source="health", name=HOSTILE, environment="prod}", health=Health.DOWN),
        ),
        sources=(SourceState(name='src"}', type="github", error="x", error_kind='bad"\n'),),
        flaky_tests=(
            FlakyTestInfo(
                classname="C\\D",
                name=HOSTILE,
                times_flaked=3,
                retried_builds=1,
                lost_seconds=0,
                first_seen=ago(10),
                last_seen=ago(5),
            ),
        ),
        targets=(
            TargetStatus(
                name=HOSTILE,
                measure="flaky_tests",
                scope="}",
                goal="<= 5",
                window_days=7,
                value=1,
                met=True,
            ),
        ),
    )
    data = metrics_text(snap, NOW)
    # No line is injected: every line is a comment or a sample of ours.
    for line in data.decode().splitlines():
        assert line.startswith(
            ("# HELP buildradiator_", "# TYPE buildradiator_", "buildradiator_")
        ), line
    samples, _ = parse(data)
    clean = 'a "quoted" \\back\\slash {brace} } = , # HELP x line2red'
    assert get(samples, "pipeline_status", source='src"}', pipeline=clean, status="failed") == 1
    assert (
        get(
            samples,
            "pipeline_info",
            source='src"}',
            pipeline=clean,
            name=clean,
            branch="main buildradiator_fake 1",
            group="",
        )
        == 1
    )
    assert get(samples, "service_up", service=clean, environment="prod}") == 0
    assert get(samples, "source_error", source='src"}', type="github", kind='bad"') == 1
    assert get(samples, "flaky_test_times_flaked", classname="C\\D", name=clean) == 3
    assert get(samples, "target_met", target=clean, measure="flaky_tests", scope="}") == 1


def test_duplicate_label_sets_are_exported_once_worst_first() -> None:
    # Two alerts of one name on one service (different instances): one series, the worst.
    up = ServiceCheck(
        source="am", name="HighLatency", service="shop", kind="alert", health=Health.UP
    )
    down = up.model_copy(update={"health": Health.DOWN})
    twin = pipeline("acme/x", (build("acme/x", 1, Status.PASSED, finished=10),))
    snap = Snapshot(taken_at=NOW, services=(up, down), pipelines=(twin, twin))
    samples, _ = parse(metrics_text(snap, NOW))  # parse() fails on duplicates
    check = {
        "source": "am",
        "check": "HighLatency",
        "service": "shop",
        "environment": "",
        "kind": "alert",
    }
    assert get(samples, "service_check_up", **check) == 0
    assert len(series(samples, "pipeline_running")) == 1


def test_red_without_window_or_history_counts_the_failing_builds() -> None:
    snap = green_estate()
    red = pipeline(
        "acme/solo",
        (
            build("acme/solo", 3, Status.FAILED, finished=100),
            build("acme/solo", 2, Status.FAILED, finished=700),
            build("acme/solo", 1, Status.PASSED, finished=2000),
        ),
    )
    never = Pipeline(
        source="gh", key="acme/never", name="never", recent=(build("acme/never", 1, Status.FAILED),)
    )
    snap = snap.model_copy(update={"pipelines": (*snap.pipelines, red, never)})
    samples, _ = parse(metrics_text(snap, NOW))
    assert get(samples, "pipeline_red_streak", source="gh", pipeline="acme/solo") == 2
    assert get(samples, "pipeline_red_since_seconds", source="gh", pipeline="acme/solo") == 700
    # Red since an unknown time: absent, never a made-up 0.
    assert get(samples, "pipeline_red_since_seconds", source="gh", pipeline="acme/never") is None
    assert get(samples, "pipeline_red_streak", source="gh", pipeline="acme/never") == 1


def test_only_the_top_flaky_tests_get_series() -> None:
    tests = tuple(
        FlakyTestInfo(
            classname="T",
            name=f"test_{i:02d}",
            times_flaked=i,
            retried_builds=0,
            lost_seconds=0,
            first_seen=ago(100),
            last_seen=ago(10),
        )
        for i in range(1, 31)
    )
    samples, _ = parse(metrics_text(Snapshot(taken_at=NOW, flaky_tests=tests), NOW))
    assert get(samples, "flaky_tests") == 30
    named = sorted(labels["name"] for labels in series(samples, "flaky_test_times_flaked"))
    assert len(named) == TOP_FLAKY_TESTS
    assert named == [f"test_{i:02d}" for i in range(31 - TOP_FLAKY_TESTS, 31)]


def test_content_type_and_no_textual() -> None:
    assert CONTENT_TYPE == CONTENT_TYPE_LATEST
    code = (
        "import sys, buildradiator.export.metrics, buildradiator.export.cctray;"
        "assert not any(m.split('.')[0] == 'textual' for m in sys.modules), 'textual imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_red_since_and_streak_prefer_the_broken_window_then_history() -> None:
    # The source sent one build only; the engine's window and history know the longer story.
    one = (build("acme/a", 9, Status.FAILED, finished=60),)
    a = pipeline("acme/a", one)
    b = pipeline("acme/b", (build("acme/b", 9, Status.FAILED, finished=60),))
    window = BrokenWindow(
        kind="pipeline", source="gh", key="acme/a", name="acme/a", since=ago(5000), streak=7
    )
    facts = PipelineFacts(source="gh", key="acme/b", red_since=ago(3000), red_streak=4)
    snap = Snapshot(taken_at=NOW, pipelines=(a, b), broken=(window,), facts=(facts,))
    samples, _ = parse(metrics_text(snap, NOW))
    assert get(samples, "pipeline_red_streak", source="gh", pipeline="acme/a") == 7
    assert get(samples, "pipeline_red_since_seconds", source="gh", pipeline="acme/a") == 5000
    assert get(samples, "pipeline_red_streak", source="gh", pipeline="acme/b") == 4
    assert get(samples, "pipeline_red_since_seconds", source="gh", pipeline="acme/b") == 3000
