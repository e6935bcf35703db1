"""The tables behind build time per stage (schema version 3).

- ``build_stages``: one row per stage of a finished build (``Build.stages``), keyed on the build
  and the stage name, so a build recorded again adds nothing. ``bucket`` is ``seconds`` rounded
  down to its histogram step (``rules.stages.stage_bucket``); ``passed`` says whether the build
  passed (a failed build stops early: only green builds count in the quantiles).
- ``stage_days``: per UTC day, pipeline, stage and bucket, how many green builds' stages fell
  there. A trigger keeps it current as ``build_stages`` rows are added.
- ``stage_windows``: the sum of ``stage_days`` over a run of past days (a report window up to
  yesterday), computed once and kept while it holds (``stage_windows_done``): a month of a busy
  estate is ~150,000 day rows but a few thousand window rows. The same trigger drops a window
  a late stage row falls in; a new day makes new windows (the old ones are dropped then).

Retention drops both like builds (``delete_stages_before``, from ``Store.prune``).
"""

from __future__ import annotations

import sqlite3

DAY = 86400

STAGE_MIGRATION: tuple[str, ...] = (
    """CREATE TABLE build_stages (
        pipeline_id INTEGER NOT NULL,
        build_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        stage TEXT NOT NULL,
        position INTEGER NOT NULL,
        seconds REAL NOT NULL,
        bucket REAL NOT NULL,
        passed INTEGER NOT NULL,
        finished_at REAL NOT NULL,
        PRIMARY KEY (pipeline_id, build_id, attempt, stage)
    ) WITHOUT ROWID""",
    "CREATE INDEX build_stages_by_time ON build_stages (finished_at)",
    """CREATE TABLE stage_days (
        day INTEGER NOT NULL,
        pipeline_id INTEGER NOT NULL,
        stage TEXT NOT NULL,
        bucket REAL NOT NULL,
        builds INTEGER NOT NULL,
        PRIMARY KEY (day, pipeline_id, stage, bucket)
    ) WITHOUT ROWID""",
    """CREATE TABLE stage_windows (
        first_day INTEGER NOT NULL,
        last_day INTEGER NOT NULL,
        pipeline_id INTEGER NOT NULL,
        stage TEXT NOT NULL,
        bucket REAL NOT NULL,
        builds INTEGER NOT NULL,
        PRIMARY KEY (first_day, last_day, pipeline_id, stage, bucket)
    ) WITHOUT ROWID""",
    """CREATE TABLE stage_windows_done (
        first_day INTEGER NOT NULL,
        last_day INTEGER NOT NULL,
        made_for INTEGER NOT NULL,
        PRIMARY KEY (first_day, last_day)
    ) WITHOUT ROWID""",
    """CREATE TRIGGER build_stages_roll_up AFTER INSERT ON build_stages WHEN NEW.passed
    BEGIN
        INSERT INTO stage_days (day, pipeline_id, stage, bucket, builds)
        VALUES (CAST(NEW.finished_at / 86400 AS INTEGER), NEW.pipeline_id, NEW.stage,
                NEW.bucket, 1)
        ON CONFLICT (day, pipeline_id, stage, bucket) DO UPDATE SET builds = builds + 1;
        DELETE FROM stage_windows_done
        WHERE first_day <= CAST(NEW.finished_at / 86400 AS INTEGER)
          AND last_day >= CAST(NEW.finished_at / 86400 AS INTEGER);
    END""",
)
"""Statements, not one script: the trigger's body holds a ``;``."""

STAGE_COLUMNS: dict[str, set[str]] = {
    "build_stages": {
        "pipeline_id", "build_id", "attempt", "stage", "position", "seconds", "bucket", "passed",
        "finished_at",
    },
    "stage_days": {"day", "pipeline_id", "stage", "bucket", "builds"},
    "stage_windows": {"first_day", "last_day", "pipeline_id", "stage", "bucket", "builds"},
    "stage_windows_done": {"first_day", "last_day", "made_for"},
}  # fmt: skip


def delete_stages_before(db: sqlite3.Connection, cutoff: float) -> None:
    """Retention: stage rows and day rollups older than ``cutoff`` go, as builds do."""
    db.execute("DELETE FROM build_stages WHERE finished_at < ?", (cutoff,))
    db.execute("DELETE FROM stage_days WHERE day < ?", (int(cutoff // DAY),))
    db.execute("DELETE FROM stage_windows_done WHERE first_day < ?", (int(cutoff // DAY),))
    db.execute("DELETE FROM stage_windows WHERE first_day < ?", (int(cutoff // DAY),))
