"""The facts the history store answers, and the pure computations behind them.

``history.History`` reads rows out of SQLite and hands them to the functions here; nothing in this
module does I/O or reads a clock, so every rule is tested on hand-made rows.

Times are UTC epoch seconds (``float``) inside the computations and aware ``datetime`` in the facts
handed to the views.

The rules, in one place:

- **Status timeline.** A ``passed`` build makes a pipeline green from its finish, a ``failed``
  one red. ``canceled`` and ``unknown`` builds change nothing: a cancel on a red main leaves it red,
  and "we do not know" is not a recovery.
- **Red streak.** Newest first: failed builds count, canceled/unknown are stepped over, the first
  passed build ends it (it is the "last green"). The first failing build is the oldest one counted.
- **Retried to green.** A passed build "needed a retry" when a build of the same commit failed
  before it (a re-run, a retried job, a Jenkins rebuild, GitHub's ``run_attempt > 1``). Builds
  without a commit are grouped by build id, so attempts of one run still count. "Minutes spent on
  retries" are the durations of every build of that commit after its first failure, the green one
  included: the cost of the painkiller.
- **Flaky test.** A test flaked when it failed and passed on the same commit of the same pipeline:
  in two builds (each failed build that was then re-run counts, and was "retried because of it"),
  within one build (Surefire ``flakyFailure``, or the same test twice: failed then passed), or when
  the same commit also had a test run with no failure at all (a clean re-run).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from buildradiator.model import Status, TestStatus

DAY = 86400.0


def when(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


# --- the facts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Streak:
    """The current red streak of one pipeline."""

    source: str
    pipeline: str
    count: int
    """How many builds in a row have failed (canceled ones not counted)."""
    since: datetime
    """When the first failing build of the streak finished: main has been red since then."""
    build_id: str
    number: int | None
    commit: str | None
    """The commit of the first failing build: who broke it."""
    author: str | None
    message: str | None
    url: str | None
    newest_commit: str | None
    """The commit of the newest failing build."""
    last_green_commit: str | None
    """The commit of the last green build before the streak, when history has one."""
    last_green_at: datetime | None

    @property
    def commit_range(self) -> tuple[str | None, str | None]:
        """``(last green commit, newest failing commit)``: where to look for the culprit."""
        return (self.last_green_commit, self.newest_commit)


@dataclass(frozen=True, slots=True)
class Durations:
    """Durations of recent successful builds, in seconds: the basis of an ETA."""

    p50: float
    p90: float
    samples: int


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


@dataclass(frozen=True, slots=True)
class FlakyTest:
    """One flaky test, with its impact over the window."""

    classname: str
    name: str
    times_flaked: int
    retried_builds: int
    """Builds that failed because of it and had to be re-run."""
    lost_seconds: float
    """Build time spent on those failed builds, plus in-build reruns of the test."""
    first_seen: datetime
    """The first flake of it that history holds (not only this window)."""
    last_seen: datetime
    pipelines: tuple[tuple[str, str], ...] = field(default=())
    """``(source, pipeline)`` where it flaked in the window."""


# --- plain rows -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildRow:
    """One recorded build as the computations see it."""

    finished_at: float
    status: Status
    started_at: float | None = None
    commit: str | None = None
    build_id: str = ""
    attempt: int = 1

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at < self.started_at:
            return None
        return self.finished_at - self.started_at


class _HasStatus(Protocol):
    @property
    def status(self) -> Status: ...


R = TypeVar("R", bound=_HasStatus)


_STATUSES = {s.value: s for s in Status}


def status_of(value: object) -> Status:
    """A stored status word back as ``Status``; anything unexpected is ``unknown``."""
    return _STATUSES.get(value, Status.UNKNOWN) if isinstance(value, str) else Status.UNKNOWN


# --- computations ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) with linear interpolation between ranks; ``None`` when empty."""
    clean = sorted(v for v in values if math.isfinite(v))
    if not clean:
        return None
    pos = (len(clean) - 1) * min(1.0, max(0.0, q))
    lo = math.floor(pos)
    hi = min(lo + 1, len(clean) - 1)
    return clean[lo] + (clean[hi] - clean[lo]) * (pos - lo)


def durations_of(seconds: Sequence[float]) -> Durations | None:
    p50 = percentile(seconds, 0.5)
    p90 = percentile(seconds, 0.9)
    if p50 is None or p90 is None:
        return None
    return Durations(p50=p50, p90=p90, samples=len(seconds))


def scan_streak(newest_first: Iterable[R]) -> tuple[list[R], R | None]:
    """The failing rows of the current red streak (newest first) and the green row that ended
    it. Reads only as far as it must, so a database cursor can be passed in."""
    failing: list[R] = []
    for row in newest_first:
        if row.status is Status.FAILED:
            failing.append(row)
        elif row.status is Status.PASSED:
            return failing, row
    return failing, None


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


# --- flaky tests ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One stored test result with its run's context."""

    test_id: int
    status: TestStatus
    duration: float | None
    run_id: int
    pipeline_id: int
    commit: str | None
    at: float


@dataclass(frozen=True, slots=True)
class FlakeEvent:
    """The flakes of one test on one commit of one pipeline."""

    test_id: int
    pipeline_id: int
    times: int
    retried_runs: tuple[int, ...]
    """Runs where it failed (and was not rescued in the run) before passing on the commit."""
    test_seconds: float
    """Time of the in-run reruns (flaky and rescued attempts)."""
    first_at: float
    last_at: float


_PASSING = {TestStatus.PASSED, TestStatus.FLAKY}


def flake_events(rows: Iterable[ResultRow], clean: set[tuple[int, str]]) -> list[FlakeEvent]:
    """Group results by (pipeline, commit, test) and find the flakes; ``clean`` holds the
    (pipeline, commit) pairs that had a test run without any failure."""
    groups: dict[tuple[int, str, int], list[ResultRow]] = defaultdict(list)
    for row in rows:
        commit = row.commit or f"\0run{row.run_id}"  # no commit: only in-run signals count
        groups[(row.pipeline_id, commit, row.test_id)].append(row)
    events: list[FlakeEvent] = []
    for (pipeline_id, commit, test_id), group in groups.items():
        by_run: dict[int, list[ResultRow]] = defaultdict(list)
        for row in group:
            by_run[row.run_id].append(row)
        in_run = 0
        test_seconds = 0.0
        failed_runs: list[int] = []
        passed_somewhere = (pipeline_id, commit) in clean
        times: list[float] = []
        for run_id, results in by_run.items():
            statuses = {r.status for r in results}
            if statuses & _PASSING:
                passed_somewhere = True
            if TestStatus.FLAKY in statuses or (
                TestStatus.FAILED in statuses and TestStatus.PASSED in statuses
            ):
                in_run += 1
                times.extend(r.at for r in results)
                test_seconds += sum(
                    r.duration or 0.0 for r in results if r.status is not TestStatus.PASSED
                )
            elif TestStatus.FAILED in statuses:
                failed_runs.append(run_id)
        retried = failed_runs if passed_somewhere else []
        for run_id in retried:
            times.extend(r.at for r in by_run[run_id])
        if in_run + len(retried) == 0:
            continue
        events.append(
            FlakeEvent(
                test_id=test_id,
                pipeline_id=pipeline_id,
                times=in_run + len(retried),
                retried_runs=tuple(sorted(retried)),
                test_seconds=test_seconds,
                first_at=min(times),
                last_at=max(times),
            )
        )
    return events


@dataclass
class FlakyTally:
    """The events of one test added up; ``History`` turns it into a ``FlakyTest``."""

    test_id: int
    times: int = 0
    retried: int = 0
    lost_seconds: float = 0.0
    first_at: float = math.inf
    last_at: float = -math.inf
    pipeline_ids: set[int] = field(default_factory=set)


def rank_flaky(
    events: Iterable[FlakeEvent], run_seconds: dict[int, float], limit: int
) -> list[FlakyTally]:
    """Tests by impact: times flaked, then builds retried, then time lost. ``run_seconds`` gives
    the build duration of a retried run (a run missing from it costs nothing we know of)."""
    tallies: dict[int, FlakyTally] = {}
    for ev in events:
        tally = tallies.setdefault(ev.test_id, FlakyTally(ev.test_id))
        tally.times += ev.times
        tally.retried += len(ev.retried_runs)
        tally.lost_seconds += ev.test_seconds + sum(
            run_seconds.get(r, 0.0) for r in ev.retried_runs
        )
        tally.first_at = min(tally.first_at, ev.first_at)
        tally.last_at = max(tally.last_at, ev.last_at)
        tally.pipeline_ids.add(ev.pipeline_id)
    ranked = sorted(
        tallies.values(), key=lambda t: (-t.times, -t.retried, -t.lost_seconds, t.test_id)
    )
    return ranked[: max(0, limit)]
