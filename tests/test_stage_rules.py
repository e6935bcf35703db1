"""Build time per stage (rules.stages): quantiles of crafted histograms, the dominant stage,
the trend, and what is said when no provider names stages."""

from __future__ import annotations

import math

import pytest

from buildradiator.rules.dora import ESTATE, Fact
from buildradiator.rules.stages import (
    SEPARATOR,
    STAGES_UNKNOWN,
    StageBucket,
    quantile,
    stage_bucket,
    stage_facts,
)


def rows(pipeline: str, stage: str, *seconds: float) -> list[StageBucket]:
    out: dict[float, int] = {}
    for s in seconds:
        out[stage_bucket(s)] = out.get(stage_bucket(s), 0) + 1
    return [StageBucket(pipeline, stage, b, n) for b, n in out.items()]


def by_scope(facts: list[Fact], days: int = 30) -> dict[str, Fact]:
    return {f.scope: f for f in facts if f.window_days == days}


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [(0, 0), (-5, 0), (math.nan, 0), (math.inf, 0), (12.7, 12), (59.9, 59), (60, 60), (62, 60),
     (63.5, 63), (600, 594), (3600, 3442)],
)  # fmt: skip
def test_buckets_are_seconds_then_five_percent_steps(seconds: float, bucket: float) -> None:
    assert stage_bucket(seconds) == bucket


def test_a_bucket_is_never_more_than_five_percent_below() -> None:
    for s in range(60, 20000, 7):
        assert s / 1.05 - 1 <= stage_bucket(s) <= s  # 5%, then whole seconds


def test_quantiles_of_a_histogram() -> None:
    assert quantile({}, 0.5) is None
    assert quantile({10.0: 1}, 0.9) == 10.0
    counts = {float(s): 1 for s in range(1, 11)}
    assert quantile(counts, 0.5) == 5.0 and quantile(counts, 0.9) == 9.0


def test_the_dominant_stage_is_named_with_its_share_and_the_estate_points_at_the_slowest() -> None:
    shop = (
        rows("gl:shop", "build", 180, 200, 220)
        + rows("gl:shop", "test", 540, 600, 660)
        + rows("gl:shop", "deploy", 55, 60, 65)
    )
    api = rows("gl:api", "build", 100, 100) + rows("gl:api", "test", 50, 50)
    facts = stage_facts(30, shop + api, [])
    scoped = by_scope(facts)
    test = scoped[f"gl:shop{SEPARATOR}test"]
    assert test.value == stage_bucket(600) and test.p90 == stage_bucket(660)
    assert test.note.startswith("test dominates: 70% of the build")
    assert "dominates" not in scoped[f"gl:shop{SEPARATOR}build"].note
    assert scoped[f"gl:api{SEPARATOR}build"].note.startswith("build dominates")
    estate = facts[0]
    assert estate.scope == "estate" and estate.value == test.value
    assert "slowest: gl:shop › test" in estate.note
    assert "test in 1 of 2 pipelines" in estate.note and "build in 1 of 2" in estate.note
    assert estate.samples == 3 * 3 + 2 * 2
    assert all(f.trend is None for f in facts)  # nothing before: no trend


def test_one_stage_only_is_all_of_the_build_and_does_not_dominate_itself() -> None:
    facts = stage_facts(7, rows("az:app", "Build", 300, 320), [])
    (only,) = [f for f in facts if f.scope != "estate"]
    assert only.note == "100% of the build's stage time" and only.samples == 2


def test_the_trend_against_the_window_before() -> None:
    this = rows("bk:web", "test", 600, 600, 600)
    before = rows("bk:web", "test", 300, 300)
    (_, fact) = stage_facts(30, this, before)
    assert fact.previous == stage_bucket(300) and fact.trend == "worse"
    (_, faster) = stage_facts(30, before, this)
    assert faster.trend == "better"


def test_a_stage_gone_quiet_is_left_out_and_a_new_one_has_no_trend() -> None:
    this = rows("bk:web", "lint", 30)
    before = rows("bk:web", "test", 300) + rows("bk:web", "lint", 30)
    facts = stage_facts(7, this, before)
    assert [f.scope for f in facts] == ["estate", f"bk:web{SEPARATOR}lint"]
    assert facts[1].trend == "same"


def test_no_stage_times_at_all_says_what_gives_them() -> None:
    (fact,) = stage_facts(30, [], [], known=False)
    assert fact.value is None and fact.note == STAGES_UNKNOWN and "GitLab" in fact.note


def test_a_gap_in_the_window_says_so_in_plain_words() -> None:
    (fact,) = stage_facts(7, [], rows("gl:shop", "test", 500), known=True)
    assert fact.value is None and fact.note == "no green build with stage times in the last 7 days"


def test_empty_buckets_count_for_nothing() -> None:
    (fact,) = stage_facts(7, [StageBucket("gl:x", "test", 10.0, 0)], [])
    assert fact.value is None


def test_the_estate_counts_a_stage_name_whatever_its_case() -> None:
    facts = stage_facts(
        7, rows("az:a", "Test", 500) + rows("az:a", "Build", 100) + rows("gl:b", "test", 400)
        + rows("gl:b", "build", 100),
        [],
    )  # fmt: skip
    assert facts[0].note.lower().endswith("dominant stage: test in 2 of 2 pipelines")


def test_the_time_lost_to_retries_is_said_beside_the_dominant_stage() -> None:
    shop = rows("gl:shop", "build", 100) + rows("gl:shop", "test", 500)
    facts = by_scope(stage_facts(30, shop, [], retries={"gl:shop": 5400.0, "gl:other": 60.0}))
    assert facts[f"gl:shop{SEPARATOR}test"].note.endswith("; retries cost 1.5h in 30 days")
    assert "retries" not in facts[f"gl:shop{SEPARATOR}build"].note
    quiet = by_scope(stage_facts(30, shop, [], retries={"gl:shop": 0.0}))
    assert "retries" not in quiet[f"gl:shop{SEPARATOR}test"].note


def test_dominant_only_keeps_the_estate_and_each_pipelines_slowest_stage() -> None:
    from buildradiator.rules.stages import dominant_only

    other = Fact("retry_time", ESTATE, 7, 60.0, "seconds")
    facts = [other, *stage_facts(7, rows("gl:a", "build", 100) + rows("gl:a", "test", 500)
                                 + rows("gl:b", "lint", 30), [])]  # fmt: skip
    assert [(f.key, f.scope) for f in dominant_only(facts)] == [
        ("retry_time", "estate"),
        ("stage_time", "estate"),
        ("stage_time", f"gl:a{SEPARATOR}test"),
        ("stage_time", f"gl:b{SEPARATOR}lint"),
    ]
