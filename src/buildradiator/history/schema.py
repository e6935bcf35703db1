"""The history file's layout: its tables, the migrations that build them, and the checks that
tell a file we can use from one we must set aside.

``meta.schema_version`` plus ``MIGRATIONS`` take a file from any older version to the current one;
a file that is not a database, is truncated, is someone else's database, or was written by a newer
buildradiator raises ``Corrupt`` (the store then moves it aside and starts afresh).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from buildradiator.history.delivery_schema import DELIVERY_COLUMNS, DELIVERY_MIGRATION
from buildradiator.history.stage_schema import STAGE_COLUMNS, STAGE_MIGRATION

SCHEMA_VERSION = 3

MIGRATIONS: list[tuple[int, str | tuple[str, ...]]] = [
    (
        1,
        """
        CREATE TABLE pipelines (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            UNIQUE (source, key)
        );
        CREATE TABLE builds (
            id INTEGER PRIMARY KEY,
            pipeline_id INTEGER NOT NULL,
            build_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            number INTEGER,
            branch TEXT,
            commit_sha TEXT,
            author TEXT,
            message TEXT,
            status TEXT NOT NULL,
            provider_status TEXT,
            started_at REAL,
            finished_at REAL NOT NULL,
            time_guessed INTEGER NOT NULL DEFAULT 0,
            url TEXT,
            UNIQUE (pipeline_id, build_id, attempt)
        );
        CREATE INDEX builds_by_time ON builds (pipeline_id, finished_at, attempt);
        CREATE TABLE tests (
            id INTEGER PRIMARY KEY,
            classname TEXT NOT NULL,
            name TEXT NOT NULL,
            UNIQUE (classname, name)
        );
        CREATE TABLE test_runs (
            id INTEGER PRIMARY KEY,
            pipeline_id INTEGER NOT NULL,
            build_id TEXT NOT NULL,
            build_attempt INTEGER NOT NULL,
            commit_sha TEXT,
            at REAL NOT NULL,
            total INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            flaky INTEGER NOT NULL,
            UNIQUE (pipeline_id, build_id, build_attempt)
        );
        CREATE INDEX test_runs_by_time ON test_runs (at);
        CREATE INDEX test_runs_by_pipeline ON test_runs (pipeline_id, at);
        CREATE INDEX test_runs_by_commit ON test_runs (pipeline_id, commit_sha);
        CREATE TABLE test_results (
            run_id INTEGER NOT NULL,
            test_id INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            status TEXT NOT NULL,
            duration REAL,
            PRIMARY KEY (run_id, test_id, attempt)
        ) WITHOUT ROWID;
        CREATE INDEX test_results_by_test ON test_results (test_id);
        CREATE TABLE test_flakes (
            test_id INTEGER PRIMARY KEY,
            first_at REAL NOT NULL
        );
        CREATE TABLE daily (
            pipeline_id INTEGER NOT NULL,
            day INTEGER NOT NULL,
            green INTEGER NOT NULL,
            retried INTEGER NOT NULL,
            retry_seconds REAL NOT NULL,
            green_seconds REAL NOT NULL,
            known_seconds REAL NOT NULL,
            mttr_sum REAL NOT NULL,
            mttr_n INTEGER NOT NULL,
            p50 REAL,
            p90 REAL,
            flakes INTEGER NOT NULL,
            end_green INTEGER,
            PRIMARY KEY (pipeline_id, day)
        ) WITHOUT ROWID;
        """,
    ),
    (2, DELIVERY_MIGRATION),
    (3, STAGE_MIGRATION),
]
"""Each a script of ``;``-separated statements, or the statements one by one."""

# What a store of the current version must have; anything else is "wrong schema".
_EXPECTED = {
    "meta": {"key", "value"},
    "pipelines": {"id", "source", "key"},
    "builds": {
        "id", "pipeline_id", "build_id", "attempt", "number", "branch", "commit_sha", "author",
        "message", "status", "provider_status", "started_at", "finished_at", "time_guessed", "url",
    },
    "tests": {"id", "classname", "name"},
    "test_runs": {
        "id", "pipeline_id", "build_id", "build_attempt", "commit_sha", "at", "total", "failed",
        "flaky",
    },
    "test_results": {"run_id", "test_id", "attempt", "status", "duration"},
    "test_flakes": {"test_id", "first_at"},
    "daily": {
        "pipeline_id", "day", "green", "retried", "retry_seconds", "green_seconds",
        "known_seconds", "mttr_sum", "mttr_n", "p50", "p90", "flakes", "end_green",
    },
    **DELIVERY_COLUMNS,
    **STAGE_COLUMNS,
}  # fmt: skip


class Corrupt(Exception):
    """The file cannot be used as our store; why, in words."""


def migrate(db: sqlite3.Connection) -> None:
    """Bring ``db`` to ``SCHEMA_VERSION`` in one transaction, or raise ``Corrupt``."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            other = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name != 'meta'"
            ).fetchone()[0]
            if other:
                raise Corrupt("it is a database, but not a buildradiator history")
            version = 0
        else:
            try:
                version = int(row[0])
            except ValueError:
                raise Corrupt("its schema version is not a number") from None
        if version > SCHEMA_VERSION:
            raise Corrupt(
                f"it was written by a newer buildradiator (schema {version} > {SCHEMA_VERSION})"
            )
        for target, script in MIGRATIONS:
            if target > version:
                statements = script.split(";") if isinstance(script, str) else script
                for statement in statements:
                    if statement.strip():
                        db.execute(statement)
                version = target
        db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(version),),
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def validate(db: sqlite3.Connection) -> None:
    """Raise ``Corrupt`` unless every table has the columns the current version needs."""
    for table, columns in _EXPECTED.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if not columns <= have:
            raise Corrupt(f"table {table} lacks columns {sorted(columns - have)}")


def check_header(path: Path) -> None:
    """Cheap checks SQLite itself would only trip over later: not a database at all, or
    truncated (the header names more pages than the file holds)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return  # SQLite makes an empty file into a database
    with path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise Corrupt("it is not an SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    wal = Path(str(path) + "-wal")
    # With a WAL present the main file may legitimately lag behind; SQLite sorts that out.
    if (not wal.exists() or wal.stat().st_size == 0) and pages * page_size > size:
        raise Corrupt(f"it is truncated ({size} bytes, the header says {pages * page_size})")


def why_not_a_history(path: Path) -> str | None:
    """Why the file at ``path`` is no buildradiator history we can read, in words; None when it
    is one. Only reads (a reader like ``report`` must never move nor rewrite a file it was
    pointed at: that is for the radiator itself, on its own file)."""
    if path.is_dir():
        return "it is a directory"
    try:
        if path.stat().st_size == 0:
            return "it is empty"
        check_header(path)
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (OSError, Corrupt, sqlite3.Error) as exc:
        return str(exc)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            return "it is a database, but not a buildradiator history"
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = str(row[0]) if row else ""
        if not (version.isascii() and version.isdigit()):
            return "it is a database, but not a buildradiator history"
        if int(version) > SCHEMA_VERSION:
            return f"it was written by a newer buildradiator (schema {version} > {SCHEMA_VERSION})"
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        db.close()
    return None
