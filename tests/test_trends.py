"""The pure computations behind the history facts, on hand-made rows (no SQLite)."""

from __future__ import annotations

import pytest

from buildradiator.model import Status, TestStatus
from buildradiator.rules.flaky import ResultRow, flake_events, rank_flaky
from buildradiator.rules.streaks import DAY, BuildRow, percentile, scan_streak, status_of
from buildradiator.rules.trends import (
    DayStats,
    day_stats,
    needed_retry,
    recoveries,
    retry_share_of,
    status_changes,
    time_by_day,
    trend_of,
)

P, F, C, U = Status.PASSED, Status.FAILED, Status.CANCELED, Status.UNKNOWN
D0 = 20000  # a UTC day number
T0 = D0 * DAY


def row(t: float, status: Status, *, dur: float = 60.0, commit: str | None = None,
        build: str = "", attempt: int = 1) -> BuildRow:  # fmt: skip
    return BuildRow(finished_at=t, status=status, started_at=t - dur, commit=commit,
                    build_id=build, attempt=attempt)  # fmt: skip


def test_percentile_interpolates_and_ignores_non_finite() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0], 0.9) == 91.0
    assert percentile([float("nan"), 3.0, float("inf"), 1.0], 0.5) == 2.0


def test_status_of_unknown_words() -> None:
    assert status_of("failed") is F
    assert status_of("weird") is U
    assert status_of(None) is U


def test_streak_steps_over_cancels_and_stops_at_green() -> None:
    rows = [row(9, F, commit="c9"), row(8, C), row(7, F, commit="c7"), row(6, U),
            row(5, F, commit="c5"), row(4, P, commit="c4"), row(3, F)]  # fmt: skip
    failing, green = scan_streak(rows)
    assert [r.commit for r in failing] == ["c9", "c7", "c5"]
    assert green is not None and green.commit == "c4"


def test_streak_is_empty_when_newest_verdict_is_green() -> None:
    failing, green = scan_streak([row(3, C), row(2, P), row(1, F)])
    assert failing == [] and green is not None and green.finished_at == 2


def test_streak_with_no_green_in_history() -> None:
    failing, green = scan_streak([row(2, F), row(1, F)])
    assert len(failing) == 2 and green is None


def test_scan_streak_reads_lazily() -> None:
    consumed = []

    def rows():  # type: ignore[no-untyped-def]
        for r in [row(3, F), row(2, P), row(1, F)]:
            consumed.append(r)
            yield r

    scan_streak(rows())
    assert len(consumed) == 2


def test_needed_retry_by_commit_and_by_build_without_commit() -> None:
    rows = [
        row(1, F, commit="a"),
        row(2, P, commit="a"),  # re-run of a: retry
        row(3, P, commit="b"),  # new commit: not a retry
        row(4, F, build="7", attempt=1),  # no commit: grouped by build id
        row(5, P, build="7", attempt=2),
        row(6, P, build="8"),
    ]
    assert needed_retry(rows) == [False, True, False, False, True, False]


def test_status_changes_and_recoveries() -> None:
    rows = [row(10, P), row(20, F), row(25, C), row(30, F), row(40, U), row(50, P), row(60, P)]
    changes = status_changes(rows)
    assert changes == [(10, True), (20, False), (50, True)]
    assert recoveries(changes) == [(50, 30.0)]
    # A red spell in progress before the rows keeps its true start.
    assert recoveries(status_changes([row(50, P)], initial=(5.0, False))) == [(50, 45.0)]


def test_time_by_day_splits_spells_across_days_and_stops_at_now() -> None:
    changes = [(T0 - 3600, True), (T0 + 6 * 3600, False), (T0 + DAY + 3600, True)]
    green, known = time_by_day(changes, T0, 2, until=T0 + DAY + 2 * 3600)
    assert green == [6 * 3600, 3600]
    assert known == [DAY, 2 * 3600]
    # Time before the first known status is not counted at all.
    green, known = time_by_day([(T0 + DAY / 2, True)], T0, 1, until=T0 + DAY)
    assert green == [DAY / 2] and known == [DAY / 2]


def test_day_stats_on_a_known_history() -> None:
    h = 3600.0
    rows = [
        row(T0 - h, F, commit="x"),  # context: the day before, red
        row(T0 + 1 * h, P, commit="x", dur=600),  # re-run of x: a retry, recovers
        row(T0 + 2 * h, P, commit="y", dur=300),
        row(T0 + 3 * h, F, commit="z", dur=200),
        row(T0 + 5 * h, F, commit="z", dur=200),  # re-run, still red: retry minutes count
        row(T0 + 7 * h, P, commit="w", dur=900),  # a fix: recovery after 4 h, not a retry
        row(T0 + DAY + h, C, commit="v"),
    ]
    first, second = day_stats(rows, first_day=D0, last_day=D0 + 1, until=T0 + DAY + 2 * h,
                              initial=(T0 - 5 * h, False), flaky_runs_at=[T0 + 4 * h])  # fmt: skip
    assert (first.green, first.retried) == (3, 1)
    assert first.retry_seconds == 600 + 200
    assert first.mttr_n == 2 and first.mttr_sum == 6 * h + 4 * h  # red since T0-5h, and 3h..7h
    assert first.p50 == 600 and first.p90 == pytest.approx(600 + 0.8 * 300)  # of 300, 600, 900
    assert first.flakes == 2  # one build retried to green + one test run with a flaky test
    assert first.known_seconds == DAY
    assert first.green_seconds == (3 - 1) * h + (DAY - 7 * h)
    assert first.end_green is True
    assert second.known_seconds == 2 * h and second.green_seconds == 2 * h
    assert second.green == 0 and second.p50 is None


def test_live_day_extends_without_recounting() -> None:
    s = DayStats(day=D0, green_seconds=10, known_seconds=20, end_green=True)
    assert s.extended(5).green_seconds == 15 and s.extended(5).known_seconds == 25
    red = DayStats(day=D0, green_seconds=10, known_seconds=20, end_green=False)
    assert red.extended(5).green_seconds == 10 and red.extended(5).known_seconds == 25
    assert s.extended(-3) is s  # the clock went backwards: nothing to add


def test_retry_share_and_trend_from_days() -> None:
    days = [DayStats(day=D0 + i, green=4, retried=i, retry_seconds=60.0 * i,
                     green_seconds=i * 10.0, known_seconds=40.0 if i else 0.0,
                     mttr_sum=100.0 * i, mttr_n=1 if i else 0, flakes=i) for i in range(4)]  # fmt: skip
    share = retry_share_of(days, 2)
    assert (share.green, share.retried_to_green) == (8, 5)
    assert share.share == 5 / 8 and share.retry_minutes == 5.0
    assert retry_share_of([], 7).share is None
    t = trend_of(days)
    assert t.green_share == [None, 0.25, 0.5, 0.75]
    assert t.mttr_seconds == [None, 100.0, 200.0, 300.0]
    assert t.flakes == [0, 1, 2, 3]
    assert t.start.timestamp() == T0 and t.end.timestamp() == T0 + 4 * DAY


def res(test: int, status: TestStatus, run: int, *, commit: str | None = "c1",
        at: float = 0.0, dur: float = 1.0, pipeline: int = 1) -> ResultRow:  # fmt: skip
    return ResultRow(test, status, dur, run, pipeline, commit, at)


def test_flake_across_builds_on_the_same_commit() -> None:
    rows = [res(1, TestStatus.FAILED, 10, at=1), res(1, TestStatus.PASSED, 11, at=2),
            res(2, TestStatus.FAILED, 10, at=1)]  # fmt: skip
    (event,) = flake_events(rows, set())
    assert event.test_id == 1 and event.times == 1 and event.retried_runs == (10,)
    # Test 2 failed and the commit also had a clean run: it flaked too.
    events = flake_events(rows, {(1, "c1")})
    assert {e.test_id for e in events} == {1, 2}


def test_failure_on_another_commit_is_not_a_flake() -> None:
    rows = [res(1, TestStatus.FAILED, 10, commit="a"), res(1, TestStatus.PASSED, 11, commit="b")]
    assert flake_events(rows, {(1, "b")} - {(1, "b")}) == []
    # and the same commit in another pipeline does not count either
    rows = [res(1, TestStatus.FAILED, 10), res(1, TestStatus.PASSED, 11, pipeline=2)]
    assert flake_events(rows, set()) == []


def test_in_run_flakes_surefire_and_duplicates() -> None:
    rows = [
        res(1, TestStatus.FLAKY, 10, commit=None, dur=4.0),
        res(2, TestStatus.FAILED, 10, commit=None, dur=3.0),  # same test twice in one run:
        res(2, TestStatus.PASSED, 10, commit=None, dur=2.0),  # failed, then passed
        res(3, TestStatus.FAILED, 10, commit=None),  # failed only: no flake without a commit
    ]
    events = {e.test_id: e for e in flake_events(rows, set())}
    assert set(events) == {1, 2}
    assert events[1].retried_runs == () and events[1].test_seconds == 4.0
    assert events[2].test_seconds == 3.0


def test_rank_flaky_by_times_then_retries_then_time_lost() -> None:
    rows = [
        # test 1: flaked twice (two failed builds on c1, then a pass)
        res(1, TestStatus.FAILED, 10, at=100), res(1, TestStatus.FAILED, 11, at=200),
        res(1, TestStatus.PASSED, 12, at=300),
        # test 2: once, across builds (retried), on c2
        res(2, TestStatus.FAILED, 20, commit="c2", at=50), res(2, TestStatus.PASSED, 21, commit="c2", at=60),
        # test 3: once, in-run (no build retried)
        res(3, TestStatus.FLAKY, 30, commit="c3", at=70, dur=9.0),
    ]  # fmt: skip
    ranked = rank_flaky(flake_events(rows, set()), {10: 100.0, 11: 120.0, 20: 50.0}, limit=10)
    assert [t.test_id for t in ranked] == [1, 2, 3]
    assert (ranked[0].times, ranked[0].retried, ranked[0].lost_seconds) == (2, 2, 220.0)
    assert (ranked[0].first_at, ranked[0].last_at) == (100, 200)
    assert (ranked[2].retried, ranked[2].lost_seconds) == (0, 9.0)
    assert rank_flaky(flake_events(rows, set()), {}, limit=1)[0].test_id == 1
