"""Daily trends and the retry painkiller, from history's build rows. Pure functions, no I/O, no
clock (the red streak and durations are in ``streaks``, flaky tests in ``flaky``).

- **Status timeline.** A ``passed`` build makes a pipeline green from its finish, a ``failed``
  one red. ``canceled`` and ``unknown`` builds change nothing: a cancel on a red main leaves it red,
  and "we do not know" is not a recovery.
- **Retried to green.** A passed build "needed a retry" when a build of the same commit failed
  before it (a re-run, a retried job, a Jenkins rebuild, GitHub's ``run_attempt > 1``). Builds
  without a commit are grouped by build id, so attempts of one run still count. "Minutes spent on
  retries" are the durations of every build of that commit after its first failure, the green one
  included: the cost of the painkiller.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from buildradiator.model import Status
from buildradiator.rules.streaks import DAY, BuildRow, percentile


@dataclass(frozen=True, slots=True)
class RetryShare:
    """Over ``days``: green builds, how many of them needed a retry, and what retries cost."""

    days: int
    green: int
    retried_to_green: int
    retry_seconds: float

    @property
    def share(self) -> float | None:
        return self.retried_to_green / self.green if self.green else None

    @property
    def retry_minutes(self) -> float:
        return self.retry_seconds / 60.0


@dataclass(frozen=True, slots=True)
class Trend:
    """Daily series, oldest first, one value per UTC day (the last one is today, so far);
    ``None`` where there is no data."""

    start: datetime
    end: datetime
    green_share: list[float | None]
    """Share of the known time that the pipeline was green."""
    mttr_seconds: list[float | None]
    """Mean time to recovery of the red spells that ended that day."""
    p50_seconds: list[float | None]
    p90_seconds: list[float | None]
    flakes: list[int]
    """Builds that went green only after a retry, plus test runs with a flaky test."""


def needed_retry(oldest_first: Sequence[BuildRow]) -> list[bool]:
    """For each build: did a build of the same commit fail before it?"""
    failed: set[tuple[str, str]] = set()
    out: list[bool] = []
    for row in oldest_first:
        key = ("c", row.commit) if row.commit else ("b", row.build_id)
        out.append(key in failed)
        if row.status is Status.FAILED:
            failed.add(key)
    return out


def status_changes(
    oldest_first: Iterable[BuildRow], initial: tuple[float, bool] | None = None
) -> list[tuple[float, bool]]:
    """``(time, green?)`` at each change between green and red; canceled/unknown change nothing.
    ``initial`` is the spell in progress before the rows: when it began, and whether green."""
    changes: list[tuple[float, bool]] = [initial] if initial else []
    for row in oldest_first:
        if row.status not in (Status.PASSED, Status.FAILED):
            continue
        green = row.status is Status.PASSED
        if not changes or changes[-1][1] != green:
            changes.append((row.finished_at, green))
    return changes


def recoveries(changes: Sequence[tuple[float, bool]]) -> list[tuple[float, float]]:
    """``(recovered at, seconds red)`` for every red spell that ended in green."""
    out: list[tuple[float, float]] = []
    red_since: float | None = None
    for t, green in changes:
        if not green:
            red_since = t
        elif red_since is not None:
            out.append((t, max(0.0, t - red_since)))
            red_since = None
    return out


def time_by_day(
    changes: Sequence[tuple[float, bool]], start: float, days: int, until: float
) -> tuple[list[float], list[float]]:
    """Per day from ``start``: seconds green and seconds with a known status, counting up to
    ``until`` (now) at most. Time before the first known status is not known. One sweep."""
    end = min(start + days * DAY, until)
    green = [0.0] * days
    known = [0.0] * days
    for i, (t, is_green) in enumerate(changes):
        seg_end = changes[i + 1][0] if i + 1 < len(changes) else end
        a, b = max(t, start), min(seg_end, end)
        while a < b:
            day = min(days - 1, int((a - start) // DAY))
            cut = min(b, start + (day + 1) * DAY)
            known[day] += cut - a
            if is_green:
                green[day] += cut - a
            a = cut
    return green, known


@dataclass(frozen=True, slots=True)
class DayStats:
    """What one pipeline did on one UTC day: the unit the store keeps and the facts add up."""

    day: int
    """UTC day number: epoch seconds // 86400."""
    green: int = 0
    retried: int = 0
    retry_seconds: float = 0.0
    green_seconds: float = 0.0
    known_seconds: float = 0.0
    mttr_sum: float = 0.0
    mttr_n: int = 0
    p50: float | None = None
    p90: float | None = None
    flakes: int = 0
    end_green: bool | None = None
    """The status at the end of the counted time (carries a live day forward to a later now)."""

    def extended(self, seconds: float) -> DayStats:
        """The same day, counted ``seconds`` further (nothing happened in between)."""
        if self.end_green is None or seconds <= 0:
            return self
        return replace(
            self,
            known_seconds=self.known_seconds + seconds,
            green_seconds=self.green_seconds + (seconds if self.end_green else 0.0),
        )


def _day(t: float, start: float, days: int) -> int | None:
    if t < start:
        return None
    day = int((t - start) // DAY)
    return day if day < days else None


def day_stats(
    oldest_first: Sequence[BuildRow],
    *,
    first_day: int,
    last_day: int,
    until: float,
    initial: tuple[float, bool] | None = None,
    flaky_runs_at: Iterable[float] = (),
) -> list[DayStats]:
    """The stats of days ``first_day..last_day`` (inclusive). ``oldest_first`` should begin a
    day before ``first_day`` (context for retries); ``initial`` is the spell in progress before
    the rows (when it began, green?), so a red spell that began earlier has its true start."""
    days = last_day - first_day + 1
    start = first_day * DAY
    until = min(until, start + days * DAY)
    changes = status_changes(oldest_first, initial)
    green_s, known_s = time_by_day(changes, start, days, until)
    mttr: list[list[float]] = [[] for _ in range(days)]
    for t, seconds in recoveries(changes):
        if (d := _day(t, start, days)) is not None:
            mttr[d].append(seconds)
    durations: list[list[float]] = [[] for _ in range(days)]
    green = [0] * days
    retried = [0] * days
    retry_s = [0.0] * days
    flakes = [0] * days
    for row, retry in zip(oldest_first, needed_retry(oldest_first), strict=True):
        d = _day(row.finished_at, start, days)
        if d is None:
            continue
        if retry:
            retry_s[d] += row.duration or 0.0
        if row.status is Status.PASSED:
            green[d] += 1
            retried[d] += retry
            flakes[d] += retry
            if (dur := row.duration) is not None:
                durations[d].append(dur)
    for t in flaky_runs_at:
        if (d := _day(t, start, days)) is not None:
            flakes[d] += 1
    times = [t for t, _ in changes]
    out = []
    for i in range(days):
        last = bisect_left(times, min(until, start + (i + 1) * DAY)) - 1
        out.append(
            DayStats(
                day=first_day + i,
                green=green[i],
                retried=retried[i],
                retry_seconds=retry_s[i],
                green_seconds=green_s[i],
                known_seconds=known_s[i],
                mttr_sum=sum(mttr[i]),
                mttr_n=len(mttr[i]),
                p50=percentile(durations[i], 0.5),
                p90=percentile(durations[i], 0.9),
                flakes=flakes[i],
                end_green=changes[last][1] if last >= 0 else None,
            )
        )
    return out


def retry_share_of(stats: Sequence[DayStats], days: int) -> RetryShare:
    """Retries over the last ``days`` of ``stats`` (oldest first, the last one today)."""
    window = stats[-days:] if days > 0 else []
    return RetryShare(
        days=days,
        green=sum(s.green for s in window),
        retried_to_green=sum(s.retried for s in window),
        retry_seconds=sum(s.retry_seconds for s in window),
    )


def trend_of(stats: Sequence[DayStats]) -> Trend:
    """The sparkline series of consecutive days (oldest first)."""
    first = stats[0].day if stats else 0
    return Trend(
        start=datetime.fromtimestamp(first * DAY, UTC),
        end=datetime.fromtimestamp((first + len(stats)) * DAY, UTC),
        green_share=[
            s.green_seconds / s.known_seconds if s.known_seconds > 0 else None for s in stats
        ],
        mttr_seconds=[s.mttr_sum / s.mttr_n if s.mttr_n else None for s in stats],
        p50_seconds=[s.p50 for s in stats],
        p90_seconds=[s.p90 for s in stats],
        flakes=[s.flakes for s in stats],
    )
