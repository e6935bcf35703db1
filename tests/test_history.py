"""The history store on known histories: each fact, restarts, corruption, kills, retention."""

from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.model import Build, Status, TestResult, TestStatus

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
P, F, C = Status.PASSED, Status.FAILED, Status.CANCELED


def build(n: int, status: Status, ago: timedelta, *, dur: float = 300.0, attempt: int = 1,
          commit: str | None = None, pipeline: str = "acme/app", source: str = "gh",
          author: str = "Ada") -> Build:  # fmt: skip
    end = NOW - ago
    return Build(
        source=source,
        pipeline=pipeline,
        id=str(n),
        number=n,
        attempt=attempt,
        branch="main",
        status=status,
        started_at=end - timedelta(seconds=dur),
        finished_at=end,
        commit=commit or f"c{n}",
        author=author,
        message=f"change {n}",
        url=f"https://ci.example/{n}",
    )


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


def count(path: Path, table: str = "builds") -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# --- red streak ---------------------------------------------------------------------------


RED_HISTORY = [
    build(1, P, h(10), commit="good1"),
    build(2, P, h(8), commit="good2"),
    build(3, F, h(3.2), commit="bad3", author="Bob"),
    build(4, C, h(2.5)),
    build(5, F, h(2), commit="bad5"),
    build(6, F, h(1), commit="bad6"),
]


def test_red_streak_names_first_failure_and_range(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        store.record_builds(RED_HISTORY)
        streak = store.red_streak("gh", "acme/app")
    assert streak is not None
    assert streak.count == 3
    assert streak.since == NOW - h(3.2)
    assert (streak.commit, streak.author, streak.message) == ("bad3", "Bob", "change 3")
    assert streak.build_id == "3" and streak.url == "https://ci.example/3"
    assert streak.commit_range == ("good2", "bad6")
    assert streak.last_green_at == NOW - h(8)


def test_red_streak_survives_a_restart(db_path: Path, clock: FakeClock) -> None:
    with History.open(db_path, clock=clock) as store:
        store.record_builds(RED_HISTORY)
    clock.advance(3600)
    with History.open(db_path, clock=clock) as store:
        streak = store.red_streak("gh", "acme/app")
    assert streak is not None
    # "red for 4h 12m", not "red for 4s".
    assert clock.now() - streak.since == h(4.2)
    assert streak.count == 3


def test_no_streak_when_green_or_unknown_pipeline(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        store.record_builds([*RED_HISTORY, build(7, P, h(0.5)), build(8, C, h(0.2))])
        assert store.red_streak("gh", "acme/app") is None
        assert store.red_streak("gh", "nope") is None
        assert store.red_streak("renamed", "acme/app") is None


def test_streak_without_any_green_in_history(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        store.record_builds([build(1, F, h(5)), build(2, F, h(4))])
        streak = store.red_streak("gh", "acme/app")
    assert streak is not None and streak.count == 2 and streak.last_green_commit is None


# --- recording ----------------------------------------------------------------------------


def test_duplicates_are_recorded_once_and_updates_replace(db_path: Path, clock: FakeClock) -> None:
    with History.open(db_path, clock=clock) as store:
        assert store.record_builds(RED_HISTORY) == 6
        gen = store.generation
        assert store.record_builds(RED_HISTORY) == 0  # a re-poll: nothing new
        assert store.generation == gen
        assert store.record_builds([RED_HISTORY[-1], RED_HISTORY[-1]]) == 0
        fixed = build(6, P, h(1), commit="bad6")  # the same build, now reported passed
        assert store.record_builds([fixed]) == 1
        assert store.red_streak("gh", "acme/app") is None
        assert store.record_builds([build(6, F, h(1), attempt=2)]) == 1  # a new attempt: a row
    assert count(db_path) == 7


def test_in_flight_builds_are_not_recorded(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        running = build(1, Status.RUNNING, h(0))
        queued = build(2, Status.QUEUED, h(0))
        assert store.record_builds([running, queued]) == 0
        assert store.recent_strip("gh", "acme/app") == []


def test_build_without_times_keeps_its_first_seen_time(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        bare = Build(source="gh", pipeline="p", id="1", status=F)
        assert store.record_builds([bare]) == 1
        clock.advance(600)
        assert store.record_builds([bare]) == 0  # a re-poll does not move it to "now"
        streak = store.red_streak("gh", "p")
    assert streak is not None and streak.since == NOW


# --- ETA, strip, retries ------------------------------------------------------------------


def test_durations_of_recent_successful_builds(clock: FakeClock) -> None:
    builds = [build(i, P, h(50 - i), dur=60.0 * i) for i in range(1, 11)]
    builds += [build(11, F, h(1), dur=9999), build(12, C, h(0.5), dur=9999)]
    with History.memory(clock=clock) as store:
        store.record_builds(builds)
        d = store.durations("gh", "acme/app", n=5)  # builds 6..10: 360..600 s
        assert store.durations("gh", "other") is None
    assert d is not None and d.samples == 5
    assert d.p50 == 480.0 and d.p90 == pytest.approx(576.0)


def test_recent_strip_newest_first(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        store.record_builds(RED_HISTORY)
        assert store.recent_strip("gh", "acme/app", n=4) == [F, F, C, F]
        assert len(store.recent_strip("gh", "acme/app")) == 6


def test_retry_share_over_7_and_30_days(clock: FakeClock) -> None:
    day = 24.0
    builds = [
        build(1, F, h(20 * day), commit="a", dur=600),
        build(1, P, h(20 * day - 1), commit="a", attempt=2, dur=600),  # retried green, 20 d ago
        build(2, P, h(10 * day), commit="b"),
        build(3, F, h(2 * day), commit="c", dur=120),
        build(4, F, h(2 * day - 1), commit="c", dur=120),  # a rebuild (new id), still red
        build(5, P, h(2 * day - 2), commit="c", dur=180),  # then green: needed retries
        build(6, P, h(1), commit="d"),
    ]
    with History.memory(clock=clock) as store:
        store.record_builds(builds)
        week = store.retry_share("gh", "acme/app", 7)
        month = store.retry_share("gh", "acme/app", 30)
        assert store.retry_share("gh", "gone", 7).share is None
    assert (week.green, week.retried_to_green) == (2, 1)
    assert week.retry_seconds == 120 + 180
    assert (month.green, month.retried_to_green) == (4, 2)
    assert month.share == 0.5
    assert month.retry_minutes == (120 + 180 + 600) / 60


# --- trends --------------------------------------------------------------------------------


def test_trends_daily_series(db_path: Path, clock: FakeClock) -> None:
    midnight = NOW.replace(hour=0)
    builds = [
        build(1, P, NOW - (midnight - timedelta(days=2)), dur=100),  # 2 days ago 00:00, green
        build(2, F, NOW - (midnight - timedelta(days=1) + h(6)), dur=50),  # yesterday 06:00
        build(3, P, NOW - (midnight - timedelta(days=1) + h(12)), dur=300),  # 12:00, fixed
        build(4, P, h(6), dur=200),  # today 06:00
    ]
    assert NOW - builds[3].finished_at == h(6)  # type: ignore[operator]
    with History.open(db_path, clock=clock) as store:
        store.record_builds(builds)
        t = store.trends("gh", "acme/app", days=3)
    assert t.end == midnight + timedelta(days=1)
    assert t.green_share == [1.0, 0.75, 1.0]
    assert t.mttr_seconds == [None, 6 * 3600.0, None]
    assert t.p50_seconds == [100.0, 300.0, 200.0]
    assert t.flakes == [0, 0, 0]
    # After a restart the kept day rollups give the same answer; a late build changes it.
    with History.open(db_path, clock=clock) as store:
        assert store.trends("gh", "acme/app", days=3) == t
        late = build(9, P, NOW - (midnight - timedelta(days=2) + h(3)), dur=500, commit="c1")
        store.record_builds([build(8, F, NOW - (midnight - timedelta(days=2) + h(2)),
                                   commit="c1"), late])  # fmt: skip
        t2 = store.trends("gh", "acme/app", days=3)
    assert t2.green_share[0] == pytest.approx(23 / 24)  # red 02:00..03:00
    assert t2.flakes[0] == 1  # c1 failed then passed
    assert t2.p50_seconds[0] == 300.0


def test_trends_of_today_follow_the_clock(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        store.record_builds([build(1, F, h(12))])  # red since midnight
        assert store.trends("gh", "acme/app", 1).green_share == [0.0]
        store.record_builds([build(2, P, h(6))])
        clock.advance(6 * 3600)  # 18:00: 6 h red, 12 h green
        assert store.trends("gh", "acme/app", 1).green_share == [pytest.approx(12 / 18)]
        clock.advance(3 * 3600)
        assert store.trends("gh", "acme/app", 1).green_share == [pytest.approx(15 / 21)]
        assert store.trends("gh", "acme/app", 1).mttr_seconds == [6 * 3600.0]
        assert store.trends("gh", "unknown", 2).green_share == [None, None]


# --- flaky tests ---------------------------------------------------------------------------


def tr(name: str, status: TestStatus, dur: float = 1.0, attempt: int = 1) -> TestResult:
    return TestResult(name=name, classname="suite", status=status, duration=dur, attempt=attempt)


def test_flaky_ranking_from_recorded_tests(clock: FakeClock) -> None:
    ok = TestStatus.PASSED
    with History.memory(clock=clock) as store:
        store.record_builds([
            build(1, F, h(30), commit="x", dur=600),
            build(1, P, h(29), commit="x", attempt=2, dur=600),
            build(2, F, h(20), commit="y", dur=400),
            build(2, P, h(19), commit="y", attempt=2, dur=400),
            build(3, P, h(5), commit="z"),
        ])  # fmt: skip
        store.record_tests(
            "gh", "acme/app", "1", "x", [tr("t_net", TestStatus.FAILED), tr("t_ok", ok)]
        )
        store.record_tests(
            "gh", "acme/app", "1", "x", [tr("t_net", ok), tr("t_ok", ok)], build_attempt=2
        )
        store.record_tests(
            "gh",
            "acme/app",
            "2",
            "y",
            [tr("t_net", TestStatus.FAILED), tr("t_db", TestStatus.FAILED)],
        )
        store.record_tests(
            "gh", "acme/app", "2", "y", [tr("t_net", ok), tr("t_db", ok)], build_attempt=2
        )
        store.record_tests(
            "gh",
            "acme/app",
            "3",
            "z",
            [tr("t_io", TestStatus.FLAKY, dur=7.0), tr("t_skip", TestStatus.SKIPPED)],
        )
        # A real failure, on a commit that never passed, is not a flake.
        store.record_tests("gh", "acme/app", "4", "w", [tr("t_real", TestStatus.FAILED)])
        ranked = store.flaky_tests(window_days=7, limit=10)
    assert [t.name for t in ranked] == ["t_net", "t_db", "t_io"]
    net = ranked[0]
    assert (net.times_flaked, net.retried_builds, net.lost_seconds) == (2, 2, 1000.0)
    assert net.first_seen == NOW - h(30) and net.last_seen == NOW - h(20)
    assert net.pipelines == ("gh:acme/app",)
    assert (ranked[2].retried_builds, ranked[2].lost_seconds) == (0, 7.0)


def test_flaky_first_seen_reaches_before_the_window(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        for n, days in ((1, 40), (2, 2)):
            at = NOW - timedelta(days=days)
            store.record_tests("gh", "p", str(n), f"c{n}", [tr("t", TestStatus.FAILED)], at=at)
            store.record_tests("gh", "p", str(n), f"c{n}", [tr("t", TestStatus.PASSED)],
                               build_attempt=2, at=at + h(1))  # fmt: skip
        (flaky,) = store.flaky_tests(window_days=7)
    assert flaky.times_flaked == 1
    assert flaky.first_seen == NOW - timedelta(days=40)


def test_clean_rerun_proves_a_flake_even_when_passes_are_not_listed(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        # The pass comes first, then a failure on the same commit (a scheduled re-run).
        store.record_tests("gh", "p", "1", "c", [tr("a", TestStatus.PASSED)], at=NOW - h(3))
        store.record_tests("gh", "p", "2", "c", [tr("b", TestStatus.FAILED)], at=NOW - h(2))
        assert [t.name for t in store.flaky_tests()] == ["b"]


def test_flaky_only_for_configured_pipelines(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        for source in ("old-name", "gh"):
            store.record_tests(source, "p", "1", "c", [tr(f"t_{source}", TestStatus.FLAKY)])
        assert len(store.flaky_tests()) == 2
        assert [t.name for t in store.flaky_tests(only=[("gh", "p")])] == ["t_gh"]
        assert store.flaky_tests(only=[("removed", "p")]) == []


def test_recording_tests_again_replaces_them(db_path: Path, clock: FakeClock) -> None:
    with History.open(db_path, clock=clock) as store:
        store.record_tests("gh", "p", "1", "c", [tr("t", TestStatus.FLAKY)])
        store.record_tests("gh", "p", "1", "c", [tr("t", TestStatus.FLAKY)])
        assert store.flaky_tests()[0].times_flaked == 1
        store.record_tests("gh", "p", "1", "c", [tr("t", TestStatus.PASSED)])
        assert store.flaky_tests() == []
    assert count(db_path, "test_runs") == 1


def test_duplicate_attempt_numbers_are_both_kept(clock: FakeClock) -> None:
    with History.memory(clock=clock) as store:
        kept = store.record_tests(
            "gh", "p", "1", "c", [tr("t", TestStatus.FAILED), tr("t", TestStatus.PASSED)]
        )
        assert kept == 2
        assert store.flaky_tests()[0].times_flaked == 1


# --- robustness ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"this is not a database at all, just text" * 10, b"SQLite format 3\x00" + b"\x00" * 50],
    ids=["garbage", "short-header"],
)
def test_corrupt_file_is_moved_aside(db_path: Path, clock: FakeClock, content: bytes,
                                     caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with caplog.at_level(logging.WARNING), History.open(db_path, clock=clock) as store:
        assert store.record_builds(RED_HISTORY) == 6
    aside = list(db_path.parent.glob("history.sqlite3.corrupt-*"))
    assert [p.name for p in aside] == ["history.sqlite3.corrupt-20261126T120000Z"]
    assert aside[0].read_bytes() == content
    assert "moved it to history.sqlite3.corrupt-20261126T120000Z" in caplog.text
    assert count(db_path) == 6


def test_truncated_file_is_moved_aside(db_path: Path, clock: FakeClock) -> None:
    with History.open(db_path, clock=clock) as store:
        store.record_builds([build(i, P, h(i)) for i in range(1, 2000)])
    data = db_path.read_bytes()
    assert not Path(f"{db_path}-wal").exists() or Path(f"{db_path}-wal").stat().st_size == 0
    db_path.write_bytes(data[: len(data) // 2])
    with History.open(db_path, clock=clock) as store:
        assert store.recent_strip("gh", "acme/app") == []
        store.record_builds(RED_HISTORY)
        assert store.red_streak("gh", "acme/app") is not None
    assert len(list(db_path.parent.glob("*.corrupt-*"))) == 1


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE contacts (name TEXT)",  # another program's database
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '99')",  # a newer buildradiator
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '1');"
        "CREATE TABLE builds (id INTEGER)",  # our version number, wrong tables
    ],
    ids=["foreign", "newer", "wrong-tables"],
)
def test_wrong_schema_is_moved_aside(db_path: Path, clock: FakeClock, sql: str) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as db:
        db.executescript(sql)
    db.close()
    with History.open(db_path, clock=clock) as store:
        assert store.record_builds(RED_HISTORY) == 6
    assert len(list(db_path.parent.glob("*.corrupt-*"))) == 1


def test_unwritable_location_falls_back_to_memory(tmp_path: Path, clock: FakeClock) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with History.open(blocker / "sub" / "history.sqlite3", clock=clock) as store:
        assert store.record_builds(RED_HISTORY) == 6
        assert store.red_streak("gh", "acme/app") is not None


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from buildradiator.history import History
    from buildradiator.model import Build, Status

    store = History.open(Path(sys.argv[1]))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    n = 0
    while True:
        batch = [
            Build(source="gh", pipeline="p", id=str(n + i), status=Status.PASSED,
                  finished_at=t0 + timedelta(seconds=n + i), message="x" * 200)
            for i in range(200)
        ]
        store.record_builds(batch)
        n += 200
        print(n, flush=True)
    """
)


def test_kill_mid_write_loses_nothing_committed(db_path: Path, clock: FakeClock) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    committed = 0
    deadline = time.monotonic() + 20
    while committed < 3000 and time.monotonic() < deadline:
        committed = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert committed >= 3000
    with History.open(db_path, clock=clock) as store:
        assert len(store.recent_strip("gh", "p", n=10**6)) >= committed
    assert not list(db_path.parent.glob("*.corrupt-*"))


def test_retention_prunes_old_rows_hourly(db_path: Path, clock: FakeClock) -> None:
    with History.open(db_path, retention_days=10, clock=clock) as store:
        store.record_builds([build(1, P, timedelta(days=20)), build(2, F, timedelta(days=5))])
        store.record_builds([build(3, P, timedelta(days=20), pipeline="removed")])
        store.record_tests("gh", "acme/app", "1", "c1", [tr("t", TestStatus.FLAKY)],
                           at=NOW - timedelta(days=20))  # fmt: skip
        assert store.trends("gh", "acme/app", 30).green_share[9] == 1.0
        assert store.prune() == 4  # two builds, one test run, one result
        assert store.recent_strip("gh", "acme/app") == [F]
        assert store.recent_strip("gh", "removed") == []
        store.record_builds([build(4, P, timedelta(days=16))])
        assert store.prune() == 0  # not an hour yet
        clock.advance(3601)
        assert store.prune() == 1
        assert store.flaky_tests(window_days=30) == []
    assert count(db_path, "pipelines") == 1
    assert count(db_path, "tests") == 0


def test_clock_jumping_forward_does_not_wipe_the_store(clock: FakeClock) -> None:
    with History.memory(retention_days=10, clock=clock) as store:
        store.record_builds(RED_HISTORY)
        clock.advance(86400 * 365 * 5)
        assert store.prune() == 0
        assert store.red_streak("gh", "acme/app") is not None


def test_clock_going_backwards(clock: FakeClock) -> None:
    with History.memory(retention_days=10, clock=clock) as store:
        store.record_builds(RED_HISTORY)
        store.trends("gh", "acme/app", 7)
        clock.advance(-86400 * 3)  # back three days: every build is "in the future"
        assert store.prune(force=True) == 0
        assert store.record_builds([build(7, P, h(0.5))]) == 1
        assert store.record_builds(RED_HISTORY) == 0
        t = store.trends("gh", "acme/app", 7)
        assert len(t.green_share) == 7
        assert store.retry_share("gh", "acme/app", 7).green >= 0
        assert store.red_streak("gh", "acme/app") is None  # build 7 is the newest verdict
        clock.advance(86400 * 3)
        assert store.trends("gh", "acme/app", 1).green_share[0] is not None


def test_corruption_found_mid_run_starts_a_fresh_store(db_path: Path, clock: FakeClock) -> None:
    with History.open(db_path, clock=clock) as store:
        store.record_builds([build(i, P, h(i)) for i in range(1, 3000)])
    with History.open(db_path, clock=clock) as store:
        # Another program scribbles over the pages behind the header while we run.
        with db_path.open("r+b") as f:
            f.seek(4096 * 2)
            f.write(b"\xa5" * 4096 * 20)
        strip = store.recent_strip("gh", "acme/app")
        assert strip == []  # the fresh store knows nothing, and nothing raised
        assert store.record_builds(RED_HISTORY) == 6
    assert len(list(db_path.parent.glob("*.corrupt-*"))) == 1
    assert count(db_path) == 6
