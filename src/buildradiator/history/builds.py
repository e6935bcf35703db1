"""Build rows and the facts read from them: red streak, ETA, recent strip, retry share, trends.

``builds`` is keyed on (pipeline, build id, attempt) and indexed on (pipeline, finished_at,
attempt): every query here is one index range scan from the newest end. The rules are in
``trends``; retry share and trends read the day rollups (``history_rollups``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from buildradiator.history.rollups import Rollups
from buildradiator.history.stages import insert_stages
from buildradiator.history.store import guarded
from buildradiator.model import Build, Status
from buildradiator.rules.streaks import (
    DAY,
    Durations,
    Streak,
    durations_of,
    scan_streak,
    status_of,
    when,
)
from buildradiator.rules.trends import DayStats, RetryShare, Trend, retry_share_of, trend_of

STREAK_SCAN_LIMIT = 20000
"""Rows read at most to find the start of a red streak (a pipeline red for a year is still red)."""

_UPSERT_BUILD = """
INSERT INTO builds (pipeline_id, build_id, attempt, number, branch, commit_sha, author, message,
                    status, provider_status, started_at, finished_at, time_guessed, url)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (pipeline_id, build_id, attempt) DO UPDATE SET
    number = excluded.number, branch = excluded.branch, commit_sha = excluded.commit_sha,
    author = excluded.author, message = excluded.message, status = excluded.status,
    provider_status = excluded.provider_status, started_at = excluded.started_at,
    finished_at = CASE WHEN excluded.time_guessed THEN builds.finished_at
                       ELSE excluded.finished_at END,
    time_guessed = builds.time_guessed AND excluded.time_guessed,
    url = excluded.url
WHERE (builds.number, builds.branch, builds.commit_sha, builds.author, builds.message,
       builds.status, builds.provider_status, builds.started_at, builds.url)
      IS NOT
      (excluded.number, excluded.branch, excluded.commit_sha, excluded.author, excluded.message,
       excluded.status, excluded.provider_status, excluded.started_at, excluded.url)
   OR (NOT excluded.time_guessed AND builds.finished_at IS NOT excluded.finished_at)
"""


@dataclass(frozen=True, slots=True)
class _StreakRow:
    build_id: str
    number: int | None
    commit: str | None
    author: str | None
    message: str | None
    status: Status
    finished_at: float
    url: str | None


class BuildFacts(Rollups):
    """Recording finished builds, and every fact read from them."""

    @guarded
    def record_builds(self, builds: Iterable[Build]) -> int:
        """Record every finished build (in-flight ones are ignored). A build already recorded
        with the same (source, pipeline, id, attempt) is replaced if anything changed, and left
        alone otherwise. Returns how many rows were added or changed."""
        now = self.clock.now().timestamp()
        rows = []
        staged = []
        earliest: dict[tuple[str, str], float] = {}
        for b in builds:
            if b.status.in_flight:
                continue
            end = b.finished_at or b.started_at or b.created_at
            guessed = end is None
            end_ts = now if end is None else end.timestamp()
            key = (b.source, b.pipeline)
            earliest[key] = min(earliest.get(key, end_ts), end_ts)
            if b.stages:
                staged.append((key, b.id, b.attempt, b.stages, b.status is Status.PASSED, end_ts))
            rows.append(
                (
                    key,
                    b.id,
                    b.attempt,
                    b.number,
                    b.branch,
                    b.commit,
                    b.author,
                    b.message,
                    b.status.value,
                    b.provider_status,
                    b.started_at.timestamp() if b.started_at else None,
                    end_ts,
                    int(guessed),
                    b.url,
                )
            )
        if not rows:
            return 0
        with self._transaction() as db:
            params = [(self._pid(db, key), *rest) for key, *rest in rows]
            # rowcount of an upsert counts inserts and updates, not the rows its WHERE skipped.
            changed = max(0, db.executemany(_UPSERT_BUILD, params).rowcount)
            insert_stages(
                db, [(self._pid(db, key), i, a, st, ok, t) for key, i, a, st, ok, t in staged]
            )
            if changed:
                for key, t in earliest.items():
                    self._invalidate(db, self._pid(db, key), t)
        if changed:
            self.generation += 1
        return changed

    @guarded
    def red_streak(self, source: str, pipeline: str) -> Streak | None:
        """The current red streak of a pipeline, or ``None`` when its last verdict is green
        (or history knows nothing of it)."""
        pid = self._find_pid(source, pipeline)
        if pid is None:
            return None
        cursor = self._db.execute(
            "SELECT build_id, number, commit_sha, author, message, status, finished_at, url"
            " FROM builds WHERE pipeline_id = ? ORDER BY finished_at DESC, attempt DESC LIMIT ?",
            (pid, STREAK_SCAN_LIMIT),
        )
        rows = (
            _StreakRow(r[0], r[1], r[2], r[3], r[4], status_of(r[5]), r[6], r[7]) for r in cursor
        )
        failing, green = scan_streak(rows)
        cursor.close()
        if not failing:
            return None
        first, newest = failing[-1], failing[0]
        since = when(first.finished_at)
        assert since is not None
        return Streak(
            source=source,
            pipeline=pipeline,
            count=len(failing),
            since=since,
            build_id=first.build_id,
            number=first.number,
            commit=first.commit,
            author=first.author,
            message=first.message,
            url=first.url,
            newest_commit=newest.commit,
            last_green_commit=green.commit if green else None,
            last_green_at=when(green.finished_at) if green else None,
        )

    @guarded
    def durations(self, source: str, pipeline: str, n: int = 20) -> Durations | None:
        """p50/p90 of the last ``n`` successful builds' durations: the ETA of a running one."""
        pid = self._find_pid(source, pipeline)
        if pid is None:
            return None
        seconds = [
            r[0]
            for r in self._db.execute(
                "SELECT finished_at - started_at FROM builds"
                " WHERE pipeline_id = ? AND status = 'passed' AND started_at IS NOT NULL"
                " AND finished_at >= started_at ORDER BY finished_at DESC LIMIT ?",
                (pid, max(0, n)),
            )
        ]
        return durations_of(seconds)

    @guarded
    def recent_strip(self, source: str, pipeline: str, n: int = 30) -> list[Status]:
        """Statuses of the last ``n`` recorded builds, newest first."""
        pid = self._find_pid(source, pipeline)
        if pid is None:
            return []
        return [
            status_of(r[0])
            for r in self._db.execute(
                "SELECT status FROM builds WHERE pipeline_id = ?"
                " ORDER BY finished_at DESC, attempt DESC LIMIT ?",
                (pid, max(0, n)),
            )
        ]

    @guarded
    def retry_share(self, source: str, pipeline: str, days: int) -> RetryShare:
        """Over the last ``days`` UTC days (today included): green builds, how many of them
        needed a retry, and the build time spent on retries."""
        pid = self._find_pid(source, pipeline)
        if pid is None:
            return RetryShare(days=days, green=0, retried_to_green=0, retry_seconds=0.0)
        return retry_share_of(self._days(pid, days), days)

    @guarded
    def trends(self, source: str, pipeline: str, days: int = 30) -> Trend:
        """Daily series over the last ``days`` UTC days (the last one is today), oldest first."""
        pid = self._find_pid(source, pipeline)
        if pid is None:
            today = int(self.clock.now().timestamp() // DAY)
            return trend_of([DayStats(day=d) for d in range(today - days + 1, today + 1)])
        return trend_of(self._days(pid, days))
