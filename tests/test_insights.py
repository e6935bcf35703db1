"""Insights are pure functions: each fact on a known input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from buildradiator.model import Build, Health, Pipeline, ServiceCheck, Status
from buildradiator.rules import insights

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def b(i: int, status: Status, *, attempt: int = 1, minutes: float = 5, author: str = "a") -> Build:
    """Build i finished i hours before T0 (so index 0 is the newest)."""
    finished = T0 - timedelta(hours=i)
    return Build(
        source="s",
        pipeline="p",
        id=str(i),
        status=status,
        attempt=attempt,
        started_at=finished - timedelta(minutes=minutes),
        finished_at=finished,
        commit=f"sha{i}",
        author=author,
        message=f"msg {i}",
    )


def pipe(*builds: Build, in_flight: tuple[Build, ...] = (), name: str = "p") -> Pipeline:
    return Pipeline(source="s", key=name, name=name, recent=builds, in_flight=in_flight)


def test_red_streak_starts_at_the_first_failure_after_green() -> None:
    p = pipe(
        b(0, Status.FAILED),
        b(1, Status.CANCELED),
        b(2, Status.FAILED, author="Mallory"),
        b(3, Status.PASSED),
    )
    window = insights.pipeline_window(p, stale=False)
    assert window is not None
    assert window.streak == 2
    assert window.author == "Mallory" and window.commit == "sha2"
    assert window.since == T0 - timedelta(hours=2)


def test_green_or_canceled_head_is_not_broken() -> None:
    assert insights.pipeline_window(pipe(b(0, Status.PASSED), b(1, Status.FAILED)), False) is None
    assert insights.pipeline_window(pipe(b(0, Status.CANCELED), b(1, Status.FAILED)), False) is None
    assert insights.pipeline_window(pipe(), False) is None


def test_broken_windows_oldest_first_and_services_included() -> None:
    old = pipe(b(0, Status.FAILED), b(5, Status.FAILED), b(6, Status.PASSED), name="old")
    new = pipe(b(0, Status.FAILED), b(1, Status.PASSED), name="new")
    down = ServiceCheck(source="h", name="payments", health=Health.DOWN, checked_at=T0)
    up = ServiceCheck(source="h", name="checkout", health=Health.UP, checked_at=T0)
    since = {("h", "payments@"): T0 - timedelta(hours=3)}
    stale = frozenset({"h"})
    windows = insights.broken_windows(
        insights.pipeline_windows([new, old], stale), [down, up], stale, since
    )
    assert [w.name for w in windows] == ["old", "payments", "new"]
    assert windows[1].stale and windows[1].since == T0 - timedelta(hours=3)


def test_green_since_is_the_latest_green_streak_start() -> None:
    a = pipe(b(0, Status.PASSED), b(1, Status.PASSED), b(2, Status.FAILED))
    c = pipe(b(0, Status.PASSED), b(4, Status.PASSED))
    assert insights.green_since([a, c], None) == T0 - timedelta(hours=1)
    assert insights.green_since([a, c], T0) == T0
    assert insights.green_since([], None) is None


def test_retried_to_green_counts_attempts_over_one() -> None:
    p = pipe(
        b(0, Status.PASSED, attempt=2),
        b(1, Status.PASSED),
        b(2, Status.FAILED),
        b(3, Status.PASSED, attempt=3),
    )
    [summary] = insights.flaky_summaries([p])
    assert (summary.retried_to_green, summary.green) == (2, 3)


def test_estimate_is_the_median_of_green_durations() -> None:
    running = Build(source="s", pipeline="p", id="r", status=Status.RUNNING)
    given = Build(source="s", pipeline="p", id="g", status=Status.RUNNING, estimated_seconds=99)
    p = pipe(
        b(0, Status.PASSED, minutes=4),
        b(1, Status.FAILED, minutes=1),
        b(2, Status.PASSED, minutes=6),
        b(3, Status.PASSED, minutes=10),
        in_flight=(running, given),
    )
    estimated = insights.with_estimates(p)
    assert estimated.in_flight[0].estimated_seconds == 360
    assert estimated.in_flight[1].estimated_seconds == 99
    assert (
        insights.with_estimates(pipe(in_flight=(running,))).in_flight[0].estimated_seconds is None
    )


def test_sort_red_then_running_then_rest() -> None:
    red = pipe(b(0, Status.FAILED), name="zeta")
    running = pipe(
        b(0, Status.PASSED),
        name="beta",
        in_flight=(Build(source="s", pipeline="p", id="r", status=Status.RUNNING),),
    )
    green = pipe(b(0, Status.PASSED), name="alpha")
    assert [p.name for p in insights.sort_pipelines([green, running, red])] == [
        "zeta",
        "beta",
        "alpha",
    ]


def test_sort_never_shows_stale_data_as_running_or_green() -> None:
    running = pipe(
        b(0, Status.PASSED),
        name="beta",
        in_flight=(Build(source="s", pipeline="p", id="r", status=Status.RUNNING),),
    )
    unknown = pipe(name="gamma")
    green = pipe(b(0, Status.PASSED), name="alpha")
    fresh = insights.sort_pipelines([green, unknown, running])
    assert [p.name for p in fresh] == ["beta", "gamma", "alpha"]
    # The same pipelines from a stale source: all "the rest" (unknown before passed, then by
    # name), none of them running or green.
    stale = insights.sort_pipelines([green, unknown, running], frozenset({"s"}))
    assert [p.name for p in stale] == ["gamma", "alpha", "beta"]


def test_label_applies_display_names_and_first_matching_group() -> None:
    p = Pipeline(source="jenkins", key="job/pay-api", name="pay-api")
    groups = [("Web", ("web-*",)), ("Payments", ("jenkins:pay*", "billing")), ("All", ("*",))]
    named = insights.label(p, {"job/pay-api": "Payments API"}, groups)
    assert named.name == "Payments API" and named.group == "Payments"
    assert insights.label(p, {"pay-api": "P"}, []).name == "P"
    other = Pipeline(source="gh", key="x", name="billing")
    assert insights.label(other, {}, groups).group == "Payments"
    assert insights.label(Pipeline(source="gh", key="y", name="docs"), {}, groups).group == "All"
    plain = Pipeline(source="gh", key="z", name="z")
    assert insights.label(plain, {}, []) is plain


def test_a_group_the_source_reports_stands_unless_ours_matches() -> None:
    from buildradiator.model import Pipeline
    from buildradiator.rules.insights import label

    remote = Pipeline(source="central", key="gh:acme/x", name="acme/x", group="Payments team")
    assert label(remote, {}, []).group == "Payments team"
    assert label(remote, {}, [("Ours", ["acme/*"])]).group == "Ours"
