"""The red streak and build durations, from history's rows; and the plain rows and time
helpers every history rule shares. Pure functions, no I/O, no clock: ``history.History`` reads rows
out of SQLite and hands them here.

Times are UTC epoch seconds (``float``) inside the computations and aware ``datetime`` in the facts
handed to the views.

- **Red streak.** Newest first: failed builds count, canceled/unknown are stepped over, the first
  passed build ends it (it is the "last green"). The first failing build is the oldest one counted.
- **Durations.** The median and 90th percentile of recent successful builds: the basis of an ETA.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from buildradiator.model import Status

DAY = 86400.0


def when(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


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


@dataclass(frozen=True, slots=True)
class Durations:
    """Durations of recent successful builds, in seconds: the basis of an ETA."""

    p50: float
    p90: float
    samples: int


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
