"""Test results and the flaky-test ranking.

Results are stored selectively (see ``history``): every ``failed``/``flaky`` one, and a ``passed``
one only for a test that failed on the same commit before or earlier in the same run; each run
also keeps its counts, so a later clean run on that commit proves a failed test passed.
``test_flakes`` keeps each test's first flake so "first seen" needs no scan of all history. The
rules are ``rules.flaky.flake_events`` and ``rules.flaky.rank_flaky``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from buildradiator.history.rollups import Rollups
from buildradiator.history.store import guarded
from buildradiator.model import FlakyTestInfo, TestResult, TestStatus
from buildradiator.rules.flaky import ResultRow, flake_events, rank_flaky
from buildradiator.rules.streaks import DAY, when

_TEST_STATUSES = {s.value for s in TestStatus}


class TestFacts(Rollups):
    """Recording test results, and the flaky ranking read from them."""

    @guarded
    def record_tests(
        self,
        source: str,
        pipeline: str,
        build_id: str,
        commit: str | None,
        results: Iterable[TestResult],
        *,
        build_attempt: int = 1,
        at: datetime | None = None,
    ) -> int:
        """Record the test results of one build (attempt). Recording the same build again
        replaces its results. ``at`` defaults to the build's recorded finish, else now.
        Returns how many results were kept (see the module docstring for which)."""
        results = list(results)
        with self._transaction() as db:
            pid = self._pid(db, (source, pipeline))
            if at is not None:
                when_ts = at.timestamp()
            else:
                row = db.execute(
                    "SELECT finished_at FROM builds"
                    " WHERE pipeline_id = ? AND build_id = ? AND attempt = ?",
                    (pid, build_id, build_attempt),
                ).fetchone()
                when_ts = row[0] if row else self.clock.now().timestamp()
            by_test: dict[tuple[str, str], set[TestStatus]] = {}
            for r in results:
                by_test.setdefault((r.classname, r.name), set()).add(r.status)
            failed_here = {k for k, s in by_test.items() if TestStatus.FAILED in s}
            total = sum(1 for s in by_test.values() if s != {TestStatus.SKIPPED})
            failed = sum(
                1 for k in failed_here if not by_test[k] & {TestStatus.PASSED, TestStatus.FLAKY}
            )
            flaky = sum(
                1
                for s in by_test.values()
                if TestStatus.FLAKY in s or {TestStatus.FAILED, TestStatus.PASSED} <= s
            )
            run_id = db.execute(
                """INSERT INTO test_runs (pipeline_id, build_id, build_attempt, commit_sha, at,
                                          total, failed, flaky)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (pipeline_id, build_id, build_attempt) DO UPDATE SET
                       commit_sha = excluded.commit_sha, at = excluded.at,
                       total = excluded.total, failed = excluded.failed, flaky = excluded.flaky
                   RETURNING id""",
                (pid, build_id, build_attempt, commit, when_ts, total, failed, flaky),
            ).fetchone()[0]
            db.execute("DELETE FROM test_results WHERE run_id = ?", (run_id,))
            failed_before: set[tuple[str, str]] = set()
            if commit:
                failed_before = set(
                    db.execute(
                        """SELECT DISTINCT t.classname, t.name
                           FROM test_runs r
                           JOIN test_results x ON x.run_id = r.id
                           JOIN tests t ON t.id = x.test_id
                           WHERE r.pipeline_id = ? AND r.commit_sha = ? AND r.id != ?
                             AND x.status = 'failed'""",
                        (pid, commit, run_id),
                    ).fetchall()
                )
            keep_passes = failed_here | failed_before
            kept: list[tuple[int, int, int, str, float | None]] = []
            used: set[tuple[int, int]] = set()
            for r in results:
                key = (r.classname, r.name)
                if r.status is TestStatus.SKIPPED:
                    continue
                if r.status is TestStatus.PASSED and key not in keep_passes:
                    continue
                test_id = self._test_id(db, key)
                attempt = max(1, r.attempt)
                while (test_id, attempt) in used:  # a duplicate attempt number: keep both
                    attempt += 1
                used.add((test_id, attempt))
                kept.append((run_id, test_id, attempt, r.status.value, r.duration))
            db.executemany(
                "INSERT INTO test_results (run_id, test_id, attempt, status, duration)"
                " VALUES (?, ?, ?, ?, ?)",
                kept,
            )
            self._note_flakes(db, pid, commit, run_id)
            self._invalidate(db, pid, when_ts)
        self.generation += 1
        return len(kept)

    @guarded
    def flaky_tests(
        self,
        window_days: int = 7,
        limit: int = 20,
        *,
        only: Iterable[tuple[str, str]] | None = None,
    ) -> list[FlakyTestInfo]:
        """The flakiest tests of the last ``window_days``, by impact (see ``trends``).
        ``only`` restricts it to these (source, pipeline) pairs, e.g. the configured ones."""
        since = self.clock.now().timestamp() - window_days * DAY
        allowed: set[int] | None = None
        if only is not None:
            allowed = {pid for key in only if (pid := self._find_pid(*key)) is not None}
        rows = self._results(since=since, allowed=allowed)
        clean = {
            (r[0], r[1])
            for r in self._db.execute(
                "SELECT pipeline_id, commit_sha FROM test_runs"
                " WHERE at >= ? AND failed = 0 AND total > 0 AND commit_sha IS NOT NULL",
                (since - DAY,),
            )
        }
        events = flake_events(rows, clean)
        retried = {r for ev in events for r in ev.retried_runs}
        ranked = rank_flaky(events, self._run_seconds(retried), limit)
        out = []
        for tally in ranked:
            names = self._db.execute(
                "SELECT classname, name FROM tests WHERE id = ?", (tally.test_id,)
            ).fetchone()
            if names is None:
                continue
            known = self._db.execute(
                "SELECT first_at FROM test_flakes WHERE test_id = ?", (tally.test_id,)
            ).fetchone()
            first = min(tally.first_at, known[0]) if known else tally.first_at
            first_seen, last_seen = when(first), when(tally.last_at)
            assert first_seen is not None and last_seen is not None
            out.append(
                FlakyTestInfo(
                    classname=names[0],
                    name=names[1],
                    times_flaked=tally.times,
                    retried_builds=tally.retried,
                    lost_seconds=tally.lost_seconds,
                    first_seen=first_seen,
                    last_seen=last_seen,
                    pipelines=tuple(
                        ":".join(name) for name in sorted(map(self._name_of, tally.pipeline_ids))
                    ),
                )
            )
        return out

    def _test_id(self, db: sqlite3.Connection, key: tuple[str, str]) -> int:
        row = db.execute("SELECT id FROM tests WHERE classname = ? AND name = ?", key).fetchone()
        if row is not None:
            return int(row[0])
        cursor = db.execute("INSERT INTO tests (classname, name) VALUES (?, ?)", key)
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _results(
        self, *, since: float | None = None, test_id: int | None = None, allowed: set[int] | None
    ) -> list[ResultRow]:
        """Stored results with their run's context: those of the runs since ``since``, or all
        those of one test."""
        select = (
            "SELECT x.test_id, x.status, x.duration, r.id, r.pipeline_id, r.commit_sha, r.at"
            " FROM test_runs r JOIN test_results x ON x.run_id = r.id"
        )
        if test_id is not None:
            cursor = self._db.execute(select + " WHERE x.test_id = ?", (test_id,))
        else:
            cursor = self._db.execute(select + " WHERE r.at >= ?", (since or 0.0,))
        return [
            ResultRow(r[0], TestStatus(r[1]), r[2], r[3], r[4], r[5], r[6])
            for r in cursor
            if r[1] in _TEST_STATUSES and (allowed is None or r[4] in allowed)
        ]

    def _run_seconds(self, run_ids: set[int]) -> dict[int, float]:
        out: dict[int, float] = {}
        for run_id in run_ids:
            row = self._db.execute(
                """SELECT b.finished_at - b.started_at FROM test_runs r
                   JOIN builds b ON b.pipeline_id = r.pipeline_id AND b.build_id = r.build_id
                                AND b.attempt = r.build_attempt
                   WHERE r.id = ?""",
                (run_id,),
            ).fetchone()
            if row is not None and row[0] is not None and row[0] >= 0:
                out[run_id] = float(row[0])
        return out

    def _note_flakes(
        self, db: sqlite3.Connection, pid: int, commit: str | None, run_id: int
    ) -> None:
        """Keep each test's first flake, so "first seen" needs no scan of all history."""
        if commit:
            rows = [
                ResultRow(r[0], TestStatus(r[1]), r[2], r[3], pid, commit, r[4])
                for r in db.execute(
                    "SELECT x.test_id, x.status, x.duration, r.id, r.at"
                    " FROM test_runs r JOIN test_results x ON x.run_id = r.id"
                    " WHERE r.pipeline_id = ? AND r.commit_sha = ?",
                    (pid, commit),
                )
                if r[1] in _TEST_STATUSES
            ]
            clean = db.execute(
                "SELECT 1 FROM test_runs WHERE pipeline_id = ? AND commit_sha = ?"
                " AND failed = 0 AND total > 0 LIMIT 1",
                (pid, commit),
            ).fetchone()
            events = flake_events(rows, {(pid, commit)} if clean else set())
        else:
            rows = [
                ResultRow(r[0], TestStatus(r[1]), r[2], run_id, pid, None, r[3])
                for r in db.execute(
                    "SELECT x.test_id, x.status, x.duration, r.at"
                    " FROM test_runs r JOIN test_results x ON x.run_id = r.id WHERE r.id = ?",
                    (run_id,),
                )
                if r[1] in _TEST_STATUSES
            ]
            events = flake_events(rows, set())
        db.executemany(
            """INSERT INTO test_flakes (test_id, first_at) VALUES (?, ?)
               ON CONFLICT (test_id) DO UPDATE SET first_at = min(first_at, excluded.first_at)""",
            [(ev.test_id, ev.first_at) for ev in events],
        )
