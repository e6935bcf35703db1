"""Stage times of finished builds: written with the builds (``insert_stages``, in the same
transaction, once per build and stage), read as day-rolled histograms (``stage_buckets``).
The tables and the trigger that rolls them up are in ``history.stage_schema``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

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


@guarded
def stage_buckets(store: Store, first_day: int, last_day: int) -> list[StageBucket]:
    """The stage histograms of green builds that finished on UTC days first_day..last_day,
    per pipeline (named ``source:key``) and stage."""
    with store._lock:
        rows = store._db.execute(
            "SELECT pipeline_id, stage, bucket, sum(builds) FROM stage_days"
            " WHERE day >= ? AND day <= ? GROUP BY pipeline_id, stage, bucket",
            (first_day, last_day),
        ).fetchall()
        names = {pid: store._name_of(pid) for pid in {r[0] for r in rows}}
    return [
        StageBucket(f"{names[pid][0]}:{names[pid][1]}", str(stage), float(bucket), int(n))
        for pid, stage, bucket, n in rows
    ]


@guarded
def any_stages(store: Store) -> bool:
    """Whether history holds any stage time at all (else no source gives them)."""
    with store._lock:
        return store._db.execute("SELECT 1 FROM build_stages LIMIT 1").fetchone() is not None
