"""Stage times of finished builds: written with the builds (``insert_stages``, in the same
transaction, once per build and stage), read as day-rolled histograms (``stage_buckets``).
The tables and the trigger that rolls them up are in ``history.stage_schema``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from buildradiator.history.store import Store, guarded
from buildradiator.model import StageTime
from buildradiator.rules.stages import StageBucket, stage_bucket

DAY = 86400

StageRow = tuple[int, str, int, tuple[StageTime, ...], bool, float]
"""(pipeline id, build id, attempt, stages, passed, finished at)."""


def insert_stages(db: sqlite3.Connection, builds: Iterable[StageRow]) -> int:
    """Add the stages of these builds; a stage already recorded for a build is left alone
    (so its day rollup counts it once). Returns the rows added."""
    rows = [
        (pid, build_id, attempt, s.name, i, s.seconds, stage_bucket(s.seconds), int(passed), at)
        for pid, build_id, attempt, stages, passed, at in builds
        for i, s in enumerate(stages)
    ]
    if not rows:
        return 0
    before = db.total_changes
    db.executemany(
        "INSERT OR IGNORE INTO build_stages (pipeline_id, build_id, attempt, stage, position,"
        " seconds, bucket, passed, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return db.total_changes - before


def _compute(db: sqlite3.Connection, first_day: int, last_day: int, today: int) -> None:
    """Sum the day rollups of first_day..last_day into ``stage_windows``; windows made for
    another day are dropped (a report's windows move with the day)."""
    for table in ("stage_windows", "stage_windows_done"):
        db.execute(
            f"DELETE FROM {table} WHERE (first_day, last_day) IN"  # noqa: S608 - constants only
            " (SELECT first_day, last_day FROM stage_windows_done WHERE made_for != ?"
            "  UNION SELECT ?, ?)",
            (today, first_day, last_day),
        )
    db.execute(
        "INSERT INTO stage_windows (first_day, last_day, pipeline_id, stage, bucket, builds)"
        " SELECT ?, ?, pipeline_id, stage, bucket, sum(builds) FROM stage_days"
        " WHERE day >= ? AND day <= ? GROUP BY pipeline_id, stage, bucket",
        (first_day, last_day, first_day, last_day),
    )
    db.execute(
        "INSERT INTO stage_windows_done (first_day, last_day, made_for) VALUES (?, ?, ?)",
        (first_day, last_day, today),
    )


@guarded
def stage_buckets(store: Store, first_day: int, last_day: int, *, today: int) -> list[StageBucket]:
    """The stage histograms of green builds that finished on UTC days first_day..last_day,
    per pipeline (named ``source:key``) and stage: the days before ``today`` from a window
    summed once (``stage_windows``), today live."""
    counts: dict[tuple[int, str, float], int] = {}

    def add(rows: Iterable[tuple[Any, ...]]) -> None:
        for pid, stage, bucket, n in rows:
            key = (int(pid), str(stage), float(bucket))
            counts[key] = counts.get(key, 0) + int(n)

    with store._lock:
        db = store._db
        past_last = min(last_day, today - 1)
        if first_day <= past_last:
            span = (first_day, past_last)
            done = db.execute(
                "SELECT 1 FROM stage_windows_done WHERE first_day = ? AND last_day = ?", span
            ).fetchone()
            if done is None:
                with store._transaction() as tx:
                    _compute(tx, first_day, past_last, today)
            add(
                db.execute(
                    "SELECT pipeline_id, stage, bucket, builds FROM stage_windows"
                    " WHERE first_day = ? AND last_day = ?",
                    span,
                )
            )
        if first_day <= today <= last_day:
            add(
                db.execute(
                    "SELECT pipeline_id, stage, bucket, builds FROM stage_days WHERE day = ?",
                    (today,),
                )
            )
        names = {pid: store._name_of(pid) for pid in {key[0] for key in counts}}
    return [
        StageBucket(f"{names[pid][0]}:{names[pid][1]}", stage, bucket, n)
        for (pid, stage, bucket), n in counts.items()
    ]


@guarded
def any_stages(store: Store) -> bool:
    """Whether history holds any stage time at all (else no source gives them)."""
    with store._lock:
        return store._db.execute("SELECT 1 FROM build_stages LIMIT 1").fetchone() is not None
