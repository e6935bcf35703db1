"""Per-day rollups of one pipeline's builds: what ``retry_share`` and ``trends`` are made of.

Past days are computed once from the builds, stored in ``daily`` and kept in memory; a write
that touches a day drops that day and every later one (``_invalidate``). Today is computed live and
carried forward in memory while nothing is written. The rules themselves are ``rules.trends.day_stats``.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import astuple
from pathlib import Path
from typing import Any

from buildradiator.clock import Clock
from buildradiator.history.store import Store
from buildradiator.rules.streaks import DAY, BuildRow, status_of
from buildradiator.rules.trends import DayStats, day_stats


class Rollups(Store):
    """The store with its day rollups; the base of the facts that write or read builds."""

    def __init__(self, path: Path | None, retention_days: int, clock: Clock) -> None:
        self._live: dict[int, tuple[int, float, DayStats]] = {}
        """Today's stats per pipeline: (day, counted until, stats)."""
        self._kept: dict[int, dict[int, DayStats]] = {}
        """The ``daily`` rows read so far, per pipeline: past days change only by a write."""
        super().__init__(path, retention_days, clock)

    def _forget(self) -> None:
        super()._forget()
        self._live.clear()
        self._kept.clear()

    def _invalidate(self, db: sqlite3.Connection, pid: int, t: float) -> None:
        """Rows of ``pid`` changed from time ``t`` on: drop the day rollups they feed (that day
        and later: a status carries forward, and a failure makes the next day's green a retry)."""
        db.execute("DELETE FROM daily WHERE pipeline_id = ? AND day >= ?", (pid, int(t // DAY)))
        self._live.pop(pid, None)
        kept = self._kept.get(pid)
        if kept:
            day = int(t // DAY)
            for d in [d for d in kept if d >= day]:
                del kept[d]

    def _days(self, pid: int, days: int) -> list[DayStats]:
        """The stats of the last ``days`` UTC days, today last. Past days come from the
        ``daily`` table (computed once, then kept until a write touches them); today is computed
        live and carried forward in memory while nothing is written."""
        now = self.clock.now().timestamp()
        today = int(now // DAY)
        first = today - max(1, days) + 1
        stored = self._kept.setdefault(pid, {})
        missing = [d for d in range(first, today) if d not in stored]
        if missing:
            stored.update(
                (r[0], DayStats(*r))
                for r in self._db.execute(
                    "SELECT day, green, retried, retry_seconds, green_seconds, known_seconds,"
                    " mttr_sum, mttr_n, p50, p90, flakes, end_green"
                    " FROM daily WHERE pipeline_id = ? AND day >= ? AND day < ?",
                    (pid, missing[0], today),
                )
            )
            missing = [d for d in range(first, today) if d not in stored]
        if missing:
            filled = self._compute_days(pid, missing[0], today - 1, today * DAY)
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO daily (pipeline_id, day, green, retried,"
                    " retry_seconds, green_seconds, known_seconds, mttr_sum, mttr_n, p50, p90,"
                    " flakes, end_green) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(pid, *astuple(s)) for s in filled],
                )
            stored.update((s.day, s) for s in filled)
        live = self._live.get(pid)
        if live is not None and live[0] == today and 0 <= now - live[1]:
            today_stats = live[2].extended(now - live[1])
        else:
            today_stats = self._compute_days(pid, today, today, now)[0]
        self._live[pid] = (today, now, today_stats)
        return [stored[d] for d in range(first, today)] + [today_stats]

    def _compute_days(self, pid: int, first: int, last: int, until: float) -> list[DayStats]:
        start = first * DAY
        context = start - DAY  # a failure the day before makes a green today a retry
        rows = self._rows(pid, context, (last + 1) * DAY)
        flaky_runs = [
            r[0]
            for r in self._db.execute(
                "SELECT at FROM test_runs WHERE pipeline_id = ? AND at >= ? AND at < ?"
                " AND flaky > 0",
                (pid, start, (last + 1) * DAY),
            )
        ]
        return day_stats(
            rows,
            first_day=first,
            last_day=last,
            until=until,
            initial=self._spell_before(pid, context),
            flaky_runs_at=flaky_runs,
        )

    def _spell_before(self, pid: int, t: float) -> tuple[float, bool] | None:
        """The spell in progress at ``t``: since when, and green? A red one is dated from its
        first failure after the last green, so a recovery inside the window has its true MTTR."""
        last = self._db.execute(
            "SELECT finished_at, status FROM builds WHERE pipeline_id = ? AND finished_at < ?"
            " AND status IN ('passed', 'failed') ORDER BY finished_at DESC LIMIT 1",
            (pid, t),
        ).fetchone()
        if last is None:
            return None
        if last[1] == "passed":
            return (last[0], True)
        green = self._db.execute(
            "SELECT finished_at FROM builds WHERE pipeline_id = ? AND finished_at < ?"
            " AND status = 'passed' ORDER BY finished_at DESC LIMIT 1",
            (pid, t),
        ).fetchone()
        red = self._db.execute(
            "SELECT finished_at FROM builds WHERE pipeline_id = ? AND finished_at > ?"
            " AND finished_at < ? AND status = 'failed' ORDER BY finished_at LIMIT 1",
            (pid, green[0] if green else -math.inf, t),
        ).fetchone()
        return (red[0] if red else last[0], False)

    def _rows(self, pid: int, since: float, until: float) -> list[BuildRow]:
        return [
            _build_row(r)
            for r in self._db.execute(
                "SELECT finished_at, status, started_at, commit_sha, build_id, attempt"
                " FROM builds WHERE pipeline_id = ? AND finished_at >= ? AND finished_at < ?"
                " ORDER BY finished_at, attempt",
                (pid, since, until),
            )
        ]


def _build_row(r: tuple[Any, ...]) -> BuildRow:
    return BuildRow(
        finished_at=r[0],
        status=status_of(r[1]),
        started_at=r[2],
        commit=r[3],
        build_id=r[4],
        attempt=r[5],
    )
