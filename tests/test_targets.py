"""[[targets]] judged on known facts: every measure, unknown data, scopes, groups, trend and the
window before; the words the views use; and the engine putting them on every snapshot."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.config.loading import GroupConfig
from buildradiator.config.share import TargetConfig
from buildradiator.engine import engine as engine_mod
from buildradiator.model import (
    Build,
    Deployment,
    DeployState,
    FlakyTestInfo,
    Pipeline,
    PipelineFacts,
    Snapshot,
    SourceResult,
    Status,
    TargetStatus,
)
from buildradiator.rules.targets import (
    change,
    default_name,
    evaluate,
    evaluate_one,
    goal_words,
    met_glyph,
    summary,
    unmet,
    value_text,
)
from buildradiator.sources.base import Source
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def target(measure: str, goal: str, **kwargs: object) -> TargetConfig:
    return TargetConfig.model_validate({"measure": measure, "goal": goal, **kwargs})


def pipe(key: str, *, name: str | None = None, group: str | None = None) -> Pipeline:
    build = Build(source="gh", pipeline=key, id="1", status=Status.PASSED)
    return Pipeline(source="gh", key=key, name=name or key, group=group, recent=(build,))


def series(old: float | None, prev: float | None, last: float | None) -> tuple[float | None, ...]:
    """30 days: 16 days of ``old``, 7 of ``prev`` (the window before), 7 of ``last``."""
    return (old,) * 16 + (prev,) * 7 + (last,) * 7


def snap(
    pipelines: tuple[Pipeline, ...] = (),
    facts: tuple[PipelineFacts, ...] = (),
    **kwargs: object,
) -> Snapshot:
    return Snapshot(taken_at=NOW, pipelines=pipelines, facts=facts, **kwargs)  # type: ignore[arg-type]


def facts(key: str, **kwargs: object) -> PipelineFacts:
    return PipelineFacts(source="gh", key=key, **kwargs)  # type: ignore[arg-type]


# --- main green share ---------------------------------------------------------------------


def green_estate() -> Snapshot:
    # Exact binary fractions, so the sums compare exactly.
    a = series(0.25, 0.75, 1.0)
    a = (*a[:-1], None)  # today unknown for a: ignored, not zero
    b = series(0.25, 0.5, 0.875)
    return snap(
        (pipe("acme/monolith", name="Monolith"), pipe("acme/billing")),
        (facts("acme/monolith", green_share=a), facts("acme/billing", green_share=b)),
    )


def test_main_green_share_is_the_mean_of_pipelines_over_the_window() -> None:
    t = evaluate_one(target("main_green_share", ">= 90%"), green_estate())
    assert t.value == pytest.approx((1.0 + 0.875) / 2)
    assert t.previous == pytest.approx((0.75 + 0.5) / 2)
    assert t.met is True
    assert t.scope == "all pipelines" and t.window_days == 7
    # Two windows of daily means, oldest first; today only b knows.
    assert len(t.trend) == 14
    assert t.trend[:7] == pytest.approx([0.625] * 7)
    assert t.trend[7:13] == pytest.approx([0.9375] * 6)
    assert t.trend[13] == pytest.approx(0.875)


def test_main_green_share_missed_and_for_one_pipeline_by_key_shows_its_name() -> None:
    t = evaluate_one(target("main_green_share", ">= 95%", pipeline="acme/monolith"), green_estate())
    assert t.value == pytest.approx(1.0) and t.met is True
    assert t.scope == "Monolith"
    assert t.name == "main green >= 95% for Monolith over 7 d"
    t = evaluate_one(target("main_green_share", ">= 95%", pipeline="acme/billing"), green_estate())
    assert t.value == pytest.approx(0.875) and t.met is False


def test_no_history_is_unknown_never_met() -> None:
    bare = snap((pipe("acme/monolith"),))
    for measure, goal in (
        ("main_green_share", ">= 1%"),
        ("mttr", "<= 100d"),
        ("duration_p50", "<= 100h"),
        ("duration_p90", "<= 100h"),
        ("flaky_tests", "<= 1000"),
        ("retry_share", "<= 100%"),
        ("deploy_drift", "<= 1000 commits"),
    ):
        t = evaluate_one(target(measure, goal), bare)
        assert t.value is None and t.met is None, measure
        assert value_text(t.measure, t.value) == "no data yet"
        assert met_glyph(t) == "?"


def test_a_window_of_only_unknown_days_is_unknown() -> None:
    s = snap((pipe("p"),), (facts("p", green_share=series(1.0, 1.0, None)),))
    t = evaluate_one(target("main_green_share", ">= 50%"), s)
    assert t.value is None and t.met is None
    assert t.previous == pytest.approx(1.0)  # the week before is still known


def test_a_window_longer_than_history_has_no_previous() -> None:
    s = snap((pipe("p"),), (facts("p", green_share=series(0.5, 0.5, 1.0)),))
    t = evaluate_one(target("main_green_share", ">= 50%", window_days=30), s)
    assert t.value == pytest.approx((16 * 0.5 + 7 * 0.5 + 7 * 1.0) / 30)
    assert t.previous is None and change(t) is None
    assert len(t.trend) == 30


# --- durations, MTTR ----------------------------------------------------------------------


def test_mttr_is_the_mean_of_every_recovery_in_the_window() -> None:
    a = (None,) * 23 + (600.0, None, 1200.0, None, None, None, None)
    b = (None,) * 23 + (None, None, None, 3000.0, None, None, None)
    s = snap((pipe("a"), pipe("b")), (facts("a", mttr_seconds=a), facts("b", mttr_seconds=b)))
    t = evaluate_one(target("mttr", "<= 20m"), s)
    assert t.value == pytest.approx((600 + 1200 + 3000) / 3)  # pooled, not per pipeline
    assert t.met is False and t.previous is None
    assert value_text("mttr", t.value) == "26m40s"
    t = evaluate_one(target("mttr", "<= 20m", pipeline="a"), s)
    assert t.value == pytest.approx(900.0) and t.met is True


def test_duration_p50_and_p90_over_the_window_with_the_overall_figure_as_fallback() -> None:
    a = facts(
        "a",
        p50_trend=series(100.0, 300.0, 200.0),
        p90_trend=series(100.0, 900.0, 600.0),
        p50_seconds=999.0,
    )
    # No daily series (no dated builds yet): its overall p50 stands in.
    b = facts("b", p50_seconds=400.0, p90_seconds=800.0)
    s = snap((pipe("a"), pipe("b")), (a, b))
    p50 = evaluate_one(target("duration_p50", "<= 5m"), s)
    assert p50.value == pytest.approx(300.0) and p50.met is True
    assert p50.previous == pytest.approx(300.0)  # only a knows the week before
    p90 = evaluate_one(target("duration_p90", "< 10m"), s)
    assert p90.value == pytest.approx(700.0) and p90.met is False
    assert p90.previous == pytest.approx(900.0)
    moved = change(p90)
    assert moved == ("▼ 3m20s", 1)  # shorter builds: towards a "<" goal
    assert p90.trend[-1] == pytest.approx(600.0)


# --- flaky tests, retries -----------------------------------------------------------------


def flaky_estate() -> Snapshot:
    a = facts("a", flakes=(9,) * 16 + (1,) * 7 + (0, 0, 2, 0, 0, 1, 0))
    b = facts("b", flakes=(0,) * 27 + (1, 0, 0))
    return snap((pipe("a"), pipe("b")), (a, b))


def test_flaky_tests_sum_the_window_and_compare_with_the_week_before() -> None:
    t = evaluate_one(target("flaky_tests", "<= 5"), flaky_estate())
    assert t.value == 4 and t.previous == 7 and t.met is True
    assert value_text(t.measure, t.value) == "4 tests"
    assert change(t) == ("▼ 3", 1)
    assert change(t, ascii=True) == ("v 3", 1)
    assert list(t.trend[-7:]) == [0, 0, 2, 0, 1, 1, 0]
    assert list(t.trend[:7]) == [1] * 7
    t = evaluate_one(target("flaky_tests", "< 1", pipeline="b"), flaky_estate())
    assert t.value == 1 and t.met is False


def test_flaky_tests_without_history_count_the_listed_tests_of_the_scope() -> None:
    def test(name: str, *where: str) -> FlakyTestInfo:
        return FlakyTestInfo(
            classname="c",
            name=name,
            times_flaked=3,
            retried_builds=1,
            lost_seconds=0,
            first_seen=NOW,
            last_seen=NOW,
            pipelines=where,
        )

    listed = (test("t1", "gh:a"), test("t2", "gh:a", "gh:b"), test("t3", "gh:gone"))
    s = snap((pipe("a"), pipe("b")), flaky_tests=listed)
    assert evaluate_one(target("flaky_tests", "<= 5"), s).value == 3  # every test listed
    t = evaluate_one(target("flaky_tests", "<= 1", pipeline="b"), s)
    assert t.value == 1 and t.met is True and t.trend == () and t.previous is None
    assert evaluate_one(target("flaky_tests", "<= 1", pipeline="a"), s).met is False


def test_retry_share_reads_the_week_or_the_month_weighted_by_builds() -> None:
    a = facts("a", retried_7d=1, green_7d=2, retried_30d=2, green_30d=10)
    b = facts("b", retried_7d=0, green_7d=18, retried_30d=3, green_30d=40)
    s = snap((pipe("a"), pipe("b")), (a, b))
    week = evaluate_one(target("retry_share", "<= 10%"), s)
    assert week.value == pytest.approx(1 / 20) and week.met is True
    assert week.window_days == 7 and week.name.endswith("over 7 d")
    month = evaluate_one(target("retry_share", "<= 5%", window_days=14), s)
    assert month.value == pytest.approx(5 / 50) and month.met is False
    assert month.window_days == 30 and month.name.endswith("over 30 d")
    assert value_text("retry_share", month.value) == "10.0%"
    none_green = snap((pipe("a"),), (facts("a"),))
    assert evaluate_one(target("retry_share", "<= 5%"), none_green).value is None


# --- deploy drift -------------------------------------------------------------------------


def deploy(service: str, behind: int | None, *, env: str = "prod", key: str = "") -> Deployment:
    return Deployment(
        source="gh",
        service=service,
        environment=env,
        state=DeployState.SUCCEEDED,
        behind_by=behind,
        pipeline=key or None,
    )


def test_deploy_drift_is_the_most_behind_deployment_of_the_scope() -> None:
    s = snap(
        (pipe("acme/shop"), pipe("acme/pay", group="payments")),
        deployments=(
            deploy("checkout", 3, key="acme/shop"),
            deploy("checkout", 12, env="staging", key="acme/shop"),
            deploy("payments", 4, key="acme/pay"),
            deploy("search", None),
        ),
    )
    t = evaluate_one(target("deploy_drift", "<= 10 commits"), s)
    assert t.value == 12 and t.met is False and t.scope == "all services"
    assert t.name == "deploy drift <= 10 commits for all services"  # now, no window
    assert value_text(t.measure, t.value) == "12 commits"
    t = evaluate_one(target("deploy_drift", "<= 5", service="pay*"), s)
    assert t.value == 4 and t.met is True and t.scope == "payments"
    t = evaluate_one(target("deploy_drift", "<= 5", group="payments"), s)
    assert t.value == 4 and t.scope == "payments"
    t = evaluate_one(target("deploy_drift", "<= 5", service="search"), s)
    assert t.value is None and t.met is None  # drift not known
    t = evaluate_one(target("deploy_drift", "<= 5", service="ghost"), s)
    assert t.value is None and t.scope == "(no service matches 'ghost')"
    assert evaluate_one(target("deploy_drift", "<= 5"), snap()).value is None


# --- scopes and groups --------------------------------------------------------------------


def test_scopes_by_glob_group_and_nothing_matched() -> None:
    s = snap(
        (
            pipe("acme/pay-api", group="payments"),
            pipe("acme/pay-web", group="payments"),
            pipe("acme/docs"),
            pipe("acme/pay-legacy"),  # not labelled yet: the group's patterns decide
            pipe("acme/pay-batch", group="batch"),  # joined an earlier group: not ours
        ),
        (
            facts("acme/pay-api", green_share=series(1, 1, 1.0)),
            facts("acme/pay-web", green_share=series(1, 1, 0.5)),
            facts("acme/docs", green_share=series(1, 1, 0.0)),
            facts("acme/pay-legacy", green_share=series(1, 1, 0.75)),
            facts("acme/pay-batch", green_share=series(1, 1, 0.0)),
        ),
    )
    groups = [GroupConfig(name="payments", pipelines=["acme/pay-*"])]
    t = evaluate_one(target("main_green_share", ">= 90%", group="payments"), s, groups)
    assert t.value == pytest.approx((1.0 + 0.5 + 0.75) / 3) and t.scope == "payments"
    t = evaluate_one(target("main_green_share", ">= 90%", pipeline="gh:acme/pay-w*"), s)
    assert t.value == pytest.approx(0.5) and t.scope == "acme/pay-web"
    t = evaluate_one(target("main_green_share", ">= 90%", pipeline="acme/pay-*"), s)
    assert t.scope == "acme/pay-*" and t.value == pytest.approx(2.25 / 4)
    t = evaluate_one(target("main_green_share", ">= 90%", pipeline="nope/*"), s)
    assert t.value is None and t.met is None and t.trend == ()
    assert t.scope == "(no pipeline matches 'nope/*')"
    assert t.name == "main green >= 90% for nope/* over 7 d"
    t = evaluate_one(target("main_green_share", ">= 90%", group="ops"), s, groups)
    assert t.value is None and t.scope == "(no group named 'ops')"
    lonely = [*groups, GroupConfig(name="empty", pipelines=["zzz*"])]
    t = evaluate_one(target("main_green_share", ">= 90%", group="empty"), s, lonely)
    assert t.value is None and t.scope == "(no pipeline in group 'empty')"
    t = evaluate_one(target("main_green_share", ">= 90%"), s)
    assert t.scope == "all pipelines" and t.value == pytest.approx(2.25 / 5)


def test_evaluate_keeps_config_order_and_custom_names() -> None:
    configs = [
        target("flaky_tests", "<=3", name="Fewer flakes"),
        target("main_green_share", ">=90%", pipeline="a"),
    ]
    out = evaluate(configs, flaky_estate())
    assert [t.name for t in out] == ["Fewer flakes", "main green >= 90% for a over 7 d"]
    assert [t.goal for t in out] == ["<= 3", ">= 90%"]
    assert evaluate([], flaky_estate()) == ()


def test_default_names_are_plain_ascii() -> None:
    t = target("duration_p90", "  <1.5h ", pipeline="x", window_days=14)
    assert goal_words(t.goal) == "< 1.5h"
    assert default_name(t, "x") == "build p90 < 1.5h for x over 14 d"
    assert default_name(t, "x").isascii()


# --- words for the views ------------------------------------------------------------------


def status(value: float | None, previous: float | None, goal: str, measure: str) -> TargetStatus:
    return TargetStatus(
        name="n",
        measure=measure,
        scope="all pipelines",
        goal=goal,
        window_days=7,
        value=value,
        previous=previous,
        met=None,
    )


def test_change_is_better_when_it_moves_towards_the_goal() -> None:
    assert change(status(0.97, 0.95, ">= 95%", "main_green_share")) == ("▲ 2.0%", 1)
    assert change(status(0.93, 0.95, ">= 95%", "main_green_share")) == ("▼ 2.0%", -1)
    assert change(status(0.95, 0.95, ">= 95%", "main_green_share")) == ("=", 0)
    assert change(status(0.2, 0.1, "<= 10%", "retry_share"), ascii=True) == ("^ 10.0%", -1)
    assert change(status(90.0, 30.0, "<= 10m", "mttr")) == ("▲ 1m00s", -1)
    assert change(status(2.0, 5.0, "> 1", "deploy_drift")) == ("▼ 3", -1)
    assert change(status(None, 5.0, "<= 1", "flaky_tests")) is None


def test_values_in_their_units_and_the_summary() -> None:
    assert value_text("main_green_share", 0.9724) == "97.2%"
    assert value_text("duration_p50", 750.0) == "12m30s"
    assert value_text("mttr", 3 * 86400 + 7200) == "3d 2h"
    assert value_text("deploy_drift", 1.0) == "1 commit"
    assert value_text("flaky_tests", 3.0) == "3 tests"
    known = [
        status(1, None, ">= 1", "flaky_tests").model_copy(update={"met": True}),
        status(1, None, ">= 1", "flaky_tests").model_copy(update={"met": False, "name": "x"}),
        status(None, None, ">= 1", "flaky_tests"),
    ]
    assert summary(known) == "1 of 3 met, 1 no data yet"
    assert [t.name for t in unmet(known)] == ["x"]
    assert [met_glyph(t, ascii=True) for t in known] == ["+", "x", "?"]


# --- the engine ---------------------------------------------------------------------------

CONFIG = """
[[sources]]
name = "one"
type = "health"
url = "http://one.example/health"

[[groups]]
name = "payments"
pipelines = ["acme/pay*"]

[[targets]]
measure = "deploy_drift"
goal = "<= 5 commits"
group = "payments"

[[targets]]
measure = "main_green_share"
goal = ">= 95%"
pipeline = "acme/pay*"
"""


class Scripted(Source):  # type: ignore[type-arg]
    type = "scripted"

    def __init__(self, config, http) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config, http)
        self.result = SourceResult()

    async def poll(self) -> SourceResult:
        return self.result


async def test_the_engine_judges_every_target_on_every_snapshot(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    monkeypatch.setattr(engine_mod, "make_source", lambda config, http: Scripted(config, http))
    http = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))),
        clock=clock,
    )
    engine = build_engine(parse_config(CONFIG), http=http, clock=clock, rng=random.Random(1))
    try:
        first = engine.snapshot()
        assert [t.value for t in first.targets] == [None, None]
        assert first.targets[0].scope == "(no pipeline in group 'payments')"
        source = engine.slots["one"].source
        assert isinstance(source, Scripted)
        source.result = SourceResult(
            pipelines=(pipe("acme/pay-api"),),  # the engine labels it with its group
            deployments=(deploy("payments", 7, key="acme/pay-api"),),
        )
        await engine.poll_source("one")
        drift, green = engine.snapshot().targets
        assert drift.value == 7 and drift.met is False and drift.scope == "payments"
        # No history store: the green share is unknown, never "met".
        assert green.value is None and green.met is None and green.scope == "acme/pay-api"
    finally:
        await engine.aclose()
