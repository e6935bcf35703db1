"""Stage times in history: recorded with their build (once), rolled up per day for green builds,
read back as histograms, dropped by retention, and a version 2 file upgraded in place."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.history.delivery_report import delivery_facts
from buildradiator.history.schema import MIGRATIONS, SCHEMA_VERSION
from buildradiator.history.stages import any_stages, stage_buckets
from buildradiator.model import Build, StageTime, Status
from buildradiator.rules.stages import SEPARATOR, STAGES_UNKNOWN, StageBucket, stage_bucket

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TODAY = int(NOW.timestamp() // 86400)


def build(n: int, ago: timedelta, *stages: tuple[str, float], status: Status = Status.PASSED,
          attempt: int = 1, pipeline: str = "acme/shop") -> Build:  # fmt: skip
    return Build(
        source="gl", pipeline=pipeline, id=str(n), attempt=attempt, status=status,
        started_at=NOW - ago - timedelta(minutes=20), finished_at=NOW - ago,
        stages=tuple(StageTime(name=name, seconds=s) for name, s in stages),
    )  # fmt: skip


def rows(history: History, sql: str) -> list[tuple[object, ...]]:
    return list(history._db.execute(sql).fetchall())


def test_stages_are_recorded_once_and_rolled_up_for_green_builds_only() -> None:
    history = History.memory(clock=FakeClock(NOW))
    builds = [
        build(1, timedelta(hours=1), ("build", 180), ("test", 600)),
        build(2, timedelta(hours=2), ("build", 185), ("test", 70), status=Status.FAILED),
        build(2, timedelta(hours=1.5), ("build", 190), ("test", 610), attempt=2),  # the retry
    ]
    assert history.record_builds(builds) == 3
    assert history.record_builds(builds) == 0  # the same builds again: nothing new
    assert rows(history, "SELECT count(*) FROM build_stages") == [(6,)]
    got = sorted(
        stage_buckets(history, TODAY, TODAY, today=TODAY), key=lambda b: (b.stage, b.bucket)
    )
    assert got == [
        StageBucket("gl:acme/shop", "build", stage_bucket(180), 1),
        StageBucket("gl:acme/shop", "build", stage_bucket(190), 1),
        StageBucket("gl:acme/shop", "test", stage_bucket(600), 2),  # 600 and 610: one step
    ]
    assert stage_buckets(history, TODAY - 7, TODAY - 1, today=TODAY) == []


def test_a_build_without_stages_adds_no_stage_rows() -> None:
    history = History.memory(clock=FakeClock(NOW))
    history.record_builds([build(1, timedelta(hours=1))])
    assert not any_stages(history)
    (fact,) = [f for f in delivery_facts(history, now=NOW, windows=(7,)) if f.key == "stage_time"]
    assert fact.value is None and fact.note == STAGES_UNKNOWN


def test_delivery_facts_read_the_stages_of_each_window() -> None:
    history = History.memory(clock=FakeClock(NOW))
    history.record_builds(
        [
            build(n, timedelta(days=n % 20, hours=1), ("build", 180), ("test", 500 + n))
            for n in range(40)
        ]
        + [build(99, timedelta(hours=3), pipeline="acme/legacy")]  # no stages: no fact
    )
    facts = [f for f in delivery_facts(history, now=NOW, windows=(7, 30)) if f.key == "stage_time"]
    scopes = {(f.scope, f.window_days): f for f in facts}
    test7 = scopes[(f"gl:acme/shop{SEPARATOR}test", 7)]
    assert test7.samples == 14 and test7.note.startswith("test dominates")
    assert scopes[(f"gl:acme/shop{SEPARATOR}test", 30)].samples == 40
    assert scopes[("estate", 30)].value == scopes[(f"gl:acme/shop{SEPARATOR}test", 30)].value
    assert not any("legacy" in f.scope for f in facts)


def test_retention_drops_stage_rows_and_their_days(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    history = History.open(tmp_path / "h.sqlite", retention_days=10, clock=clock)
    history.record_builds(
        [build(1, timedelta(days=20), ("test", 600)), build(2, timedelta(hours=1), ("test", 300))]
    )
    history.prune(force=True)
    assert rows(history, "SELECT build_id FROM build_stages") == [("2",)]
    assert rows(history, "SELECT day FROM stage_days") == [(TODAY,)]
    history.close()


def test_a_version_2_file_is_upgraded_and_keeps_its_builds(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    db = sqlite3.connect(path)
    for _, script in MIGRATIONS[:2]:
        assert isinstance(script, str)
        db.executescript(script)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '2')")
    db.execute("INSERT INTO pipelines (id, source, key) VALUES (1, 'gl', 'acme/shop')")
    db.execute(
        "INSERT INTO builds (pipeline_id, build_id, attempt, status, finished_at)"
        " VALUES (1, '7', 1, 'passed', ?)",
        (NOW.timestamp() - 60,),
    )
    db.commit()
    db.close()
    history = History.open(path, clock=FakeClock(NOW))
    assert not history.notices  # upgraded, not set aside
    assert rows(history, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert SCHEMA_VERSION == 3
    assert history.recent_strip("gl", "acme/shop") == [Status.PASSED]
    history.record_builds([build(8, timedelta(minutes=1), ("test", 600))])
    assert stage_buckets(history, TODAY, TODAY, today=TODAY) == [
        StageBucket("gl:acme/shop", "test", stage_bucket(600), 1)
    ]
    history.close()
    with History.open(path, clock=FakeClock(NOW)) as again:  # and opens again as it is
        assert not again.notices and any_stages(again)


def test_a_past_window_is_summed_once_and_a_late_stage_row_still_counts() -> None:
    history = History.memory(clock=FakeClock(NOW))
    history.record_builds([build(1, timedelta(days=2), ("test", 600))])

    def week() -> int:
        return sum(b.builds for b in stage_buckets(history, TODAY - 6, TODAY, today=TODAY))

    assert week() == 1
    assert rows(history, "SELECT count(*) FROM stage_windows_done") == [(1,)]
    assert week() == 1  # read from the window, not summed again
    history.record_builds([build(2, timedelta(days=3), ("test", 610))])  # seen late
    assert rows(history, "SELECT count(*) FROM stage_windows_done") == [(0,)]
    assert week() == 2
    history.record_builds([build(3, timedelta(hours=1), ("test", 620))])  # today: live
    assert week() == 3
    assert rows(history, "SELECT count(*) FROM stage_windows_done") == [(1,)]
    # The next day, yesterday's windows give way to the new day's.
    assert sum(b.builds for b in stage_buckets(history, TODAY - 5, TODAY + 1, today=TODAY + 1)) == 3
    assert rows(history, "SELECT first_day, last_day FROM stage_windows_done") == [
        (TODAY - 5, TODAY)
    ]


def test_a_build_whose_stages_come_a_poll_later_gets_them_recorded() -> None:
    from buildradiator.history.facts import HistoryFacts
    from buildradiator.model import Pipeline, SourceResult

    history = History.memory(clock=FakeClock(NOW))
    recorder = HistoryFacts(history)

    def poll(*stages: tuple[str, float]) -> int:
        b = build(5, timedelta(minutes=5), *stages)
        pipeline = Pipeline(source="gl", key="acme/shop", name="shop", recent=(b,))
        return recorder.record("gl", SourceResult(pipelines=(pipeline,)))

    assert poll() == 1  # seen finished, its jobs not read yet
    assert not any_stages(history)
    poll(("build", 120), ("test", 480))
    assert rows(history, "SELECT stage FROM build_stages ORDER BY position") == [
        ("build",),
        ("test",),
    ]
    poll(("build", 120), ("test", 480))  # and never twice
    assert rows(history, "SELECT sum(builds) FROM stage_days") == [(2,)]
