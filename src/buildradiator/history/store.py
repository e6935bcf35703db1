"""The history file itself: opening it, setting a corrupt one aside, the lock, transactions,
interned pipelines and retention.

``Store`` is the base of ``history.History``: the facts (``history_builds``, ``history_tests``)
build on it and reach SQLite only through ``_db``, ``_transaction`` and the ``guarded`` decorator,
which serialises calls and recovers once from corruption found mid-run.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, Self, TypeVar

from buildradiator.clock import Clock
from buildradiator.history.schema import Corrupt, check_header, migrate, validate
from buildradiator.history.stage_schema import delete_stages_before
from buildradiator.paths import private_dir, private_file
from buildradiator.rules.streaks import DAY

# The public module's name: users filter and read the warnings under ``buildradiator.history``.
log = logging.getLogger("buildradiator.history")

PRUNE_EVERY = 3600.0
"""Seconds between two prunes; ``prune()`` called more often returns at once."""

_CORRUPT_WORDS = ("malformed", "not a database", "encrypted", "corrupt", "no such table")

S = TypeVar("S", bound="Store")
P = ParamSpec("P")
T = TypeVar("T")


def guarded(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Serialise calls, and start a fresh store (once) if SQLite finds the file corrupt."""

    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.DatabaseError as exc:
                if not _looks_corrupt(exc):
                    raise
                self._recover(f"SQLite reports: {exc}")
                return method(self, *args, **kwargs)

    functools.update_wrapper(wrapper, method)
    return wrapper


# SQLite's result codes for a file that may be perfectly good but cannot be used now or by us.
_IN_USE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL",
           "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH", "SQLITE_NOMEM")  # fmt: skip


def _not_ours_to_move(exc: sqlite3.Error) -> bool:
    """Locked by another process, read-only, a full disk, an I/O error: no sign of damage."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    return name.startswith(_IN_USE)


def _looks_corrupt(exc: sqlite3.DatabaseError) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return False
    text = str(exc).lower()
    return any(word in text for word in _CORRUPT_WORDS)


class Store:
    """The connection and what every fact shares. Make one with ``open(path)`` or ``memory()``."""

    BUSY_TIMEOUT = 5.0
    """Seconds to wait for another process's write lock on the file before giving up on it."""

    def __init__(self, path: Path | None, retention_days: int, clock: Clock) -> None:
        self.path = path
        self.retention_days = retention_days
        self.clock = clock
        self.generation = 0
        self._lock = threading.RLock()
        self._pids: dict[tuple[str, str], int] = {}
        self._names: dict[int, tuple[str, str]] = {}
        self._last_prune: float | None = None
        self.notices: list[str] = []
        """What the user must be told (a damaged file set aside), for the screen and ``check``."""
        self.unusable: str | None = None
        """Why the file could not be used at all (the history is in memory for this run)."""
        self._db = self._connect()

    # --- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, retention_days: int = 90, clock: Clock | None = None) -> Self:
        """The store at ``path`` (created with its parent directories). Never raises: an
        unusable file is moved aside and a fresh one started."""
        return cls(Path(path), retention_days, clock or Clock())

    @classmethod
    def memory(cls, *, retention_days: int = 90, clock: Clock | None = None) -> Self:
        return cls(None, retention_days, clock or Clock())

    def _connect(self) -> sqlite3.Connection:
        if self.path is None:
            return self._init(sqlite3.connect(":memory:", check_same_thread=False))
        try:
            private_dir(self.path.parent)
            try:
                check_header(self.path)
                private_file(self.path)
                return self._init(self._raw_connect())
            except sqlite3.DatabaseError as exc:
                # Locked by another process, read-only, an I/O error: the file may be perfectly
                # good (and someone else's to write), so it stays where it is.
                if _not_ours_to_move(exc):
                    raise
                self._move_aside(str(exc))
            except Corrupt as exc:
                self._move_aside(str(exc))
            private_file(self.path)
            return self._init(self._raw_connect())
        except (OSError, sqlite3.Error) as exc:
            log.warning(
                "history: cannot use %s (%s); keeping history in memory for this run",
                self.path,
                exc,
            )
            self.unusable = str(exc)[:80]
            self.notices.append(
                f"history file {self.path} cannot be used ({self.unusable}): left as it is; "
                "history is kept in memory for this run (red-since, ETAs and trends start over)"
            )
            return self._init(sqlite3.connect(":memory:", check_same_thread=False))

    def _raw_connect(self) -> sqlite3.Connection:
        assert self.path is not None
        # isolation_level=None: we open and commit transactions ourselves, one per write call.
        return sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=self.BUSY_TIMEOUT
        )

    def _init(self, db: sqlite3.Connection) -> sqlite3.Connection:
        try:
            db.isolation_level = None
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA temp_store=MEMORY")
            db.execute("PRAGMA cache_size=-16000")  # 16 MB: the hot index pages stay in memory
            migrate(db)
            validate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self, why: str) -> None:
        assert self.path is not None
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                src.replace(Path(str(target) + suffix))
        log.warning(
            "history: %s cannot be used (%s); moved it to %s and started a fresh history",
            self.path,
            why,
            target.name,
        )
        self.notices.append(
            f"history file was damaged ({why[:80]}): moved aside to {target}; "
            "a fresh history started (red-since, ETAs and trends start over)"
        )

    def _recover(self, why: str) -> None:
        """Mid-run corruption: set the file aside and carry on with a fresh one."""
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        self._forget()
        self.generation += 1
        if self.path is None:
            self._db = self._init(sqlite3.connect(":memory:", check_same_thread=False))
            return
        try:
            self._move_aside(why)
        except OSError as exc:
            log.warning("history: cannot move %s aside (%s)", self.path, exc)
        self._db = self._connect()

    def _forget(self) -> None:
        """Drop everything read from the file (it is being replaced); subclasses add theirs."""
        self._forget_pipelines()

    def _forget_pipelines(self) -> None:
        self._pids.clear()
        self._names.clear()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- retention --------------------------------------------------------------------------

    @guarded
    def prune(self, *, force: bool = False) -> int:
        """Drop builds and test runs older than the retention. Cheap (index range deletes) and
        throttled to once per ``PRUNE_EVERY`` seconds unless ``force``. Returns rows deleted."""
        mono = self.clock.monotonic()
        if (
            not force
            and self._last_prune is not None
            and 0 <= mono - self._last_prune < PRUNE_EVERY
        ):
            return 0
        self._last_prune = mono
        db = self._db
        newest = db.execute(
            "SELECT max((SELECT max(finished_at) FROM builds WHERE pipeline_id = p.id))"
            " FROM pipelines p"
        ).fetchone()[0]
        now = self.clock.now().timestamp()
        # Never cut closer than the retention before the newest build: a clock that jumped
        # years ahead must not empty the store.
        cutoff = min(now, newest if newest is not None else now) - self.retention_days * DAY
        with self._transaction() as db:
            before = db.total_changes
            db.execute(
                "DELETE FROM builds WHERE pipeline_id IN (SELECT id FROM pipelines)"
                " AND finished_at < ?",
                (cutoff,),
            )
            db.execute(
                "DELETE FROM test_results WHERE run_id IN (SELECT id FROM test_runs WHERE at < ?)",
                (cutoff,),
            )
            db.execute("DELETE FROM test_runs WHERE at < ?", (cutoff,))
            deleted = db.total_changes - before
            delete_stages_before(db, cutoff)
            if deleted:
                db.execute(
                    """DELETE FROM pipelines WHERE
                         NOT EXISTS (SELECT 1 FROM builds WHERE pipeline_id = pipelines.id)
                         AND NOT EXISTS (SELECT 1 FROM test_runs WHERE pipeline_id = pipelines.id)"""
                )
                db.execute(
                    "DELETE FROM tests WHERE NOT EXISTS"
                    " (SELECT 1 FROM test_results WHERE test_id = tests.id)"
                )
                db.execute("DELETE FROM test_flakes WHERE test_id NOT IN (SELECT id FROM tests)")
            db.execute("DELETE FROM daily WHERE day < ?", (int(cutoff // DAY),))
        if deleted:
            # Interned ids may now name deleted pipelines. Day rollups kept in memory stay:
            # they still describe those days as they were.
            self._forget_pipelines()
            self.generation += 1
        return deleted

    # --- shared helpers ---------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _pid(self, db: sqlite3.Connection, key: tuple[str, str]) -> int:
        pid = self._pids.get(key)
        if pid is None:
            db.execute("INSERT OR IGNORE INTO pipelines (source, key) VALUES (?, ?)", key)
            pid = int(
                db.execute("SELECT id FROM pipelines WHERE source = ? AND key = ?", key).fetchone()[
                    0
                ]
            )
            self._pids[key] = pid
            self._names[pid] = key
        return pid

    def _find_pid(self, source: str, pipeline: str) -> int | None:
        key = (source, pipeline)
        pid = self._pids.get(key)
        if pid is None:
            row = self._db.execute(
                "SELECT id FROM pipelines WHERE source = ? AND key = ?", key
            ).fetchone()
            if row is None:
                return None
            pid = self._pids[key] = int(row[0])
            self._names[pid] = key
        return pid

    def _name_of(self, pid: int) -> tuple[str, str]:
        name = self._names.get(pid)
        if name is None:
            row = self._db.execute("SELECT source, key FROM pipelines WHERE id = ?", (pid,))
            found = row.fetchone()
            name = (str(found[0]), str(found[1])) if found else ("?", "?")
            self._names[pid] = name
        return name
