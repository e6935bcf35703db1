"""Congestion at main: queue wait and depth over the day, commits per build, the oldest commit
not yet in production, time on HOLD and why, time lost to retries (build time per stage is in
``rules.stages``). Pure: the rows (mostly SQL aggregates over big tables) come from
``history.delivery_queries``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from buildradiator.rules.delivery import MainDays
from buildradiator.rules.dora import DAY, ESTATE, HOUR, Fact, trend_of

QUEUED_AFTER = 5.0
"""A build that waited longer than this (seconds) for an agent counts as queued."""
WEEK = 7 * DAY


@dataclass(frozen=True, slots=True)
class WaitBucket:
    """Main builds whose queue wait rounds down (``wait_bucket``) to ``wait`` seconds."""

    wait: float
    builds: int


@dataclass(frozen=True, slots=True)
class HourLoad:
    """Main builds queued in one hour of the day (local time), over a window."""

    hour: int
    builds: int
    queued: int
    """Of them, those that waited ``QUEUED_AFTER`` or longer."""
    wait_sum: float


@dataclass(frozen=True, slots=True)
class CommitsPerBuild:
    pipeline: str
    commits: int | None
    """Commits that landed in the window; ``None`` when history knows no commits of it."""
    builds: int


@dataclass(frozen=True, slots=True)
class Undeployed:
    """For one production service: when the oldest commit on main not live yet landed."""

    service: str
    environment: str
    landed_at: float | None
    known: bool
    """False when history cannot tell (no pipeline ships it, or its live commit was not built)."""


@dataclass(frozen=True, slots=True)
class GateChange:
    go: bool
    reasons: tuple[tuple[str, str], ...]
    at: float


def wait_bucket(seconds: float) -> float:
    """The histogram step the queue query rounds to (the SQL mirrors this): 1 s under a minute,
    10 s under an hour, a minute above."""
    if seconds < 60:
        return float(int(seconds))
    if seconds < HOUR:
        return float(int(seconds / 10) * 10)
    return float(int(seconds / 60) * 60)


def _quantile(buckets: Sequence[WaitBucket], q: float) -> float | None:
    total = sum(b.builds for b in buckets)
    if not total:
        return None
    rank = q * (total - 1)
    seen = 0
    for b in sorted(buckets, key=lambda b: b.wait):
        seen += b.builds
        if seen > rank:
            return b.wait
    return max(b.wait for b in buckets)


def queue_facts(
    days: int,
    this: Sequence[WaitBucket],
    before: Sequence[WaitBucket],
    hours: Sequence[HourLoad],
    tz_name: str,
) -> list[Fact]:
    """Queue wait p50/p90 (to the histogram's step), builds queued, and the busiest hours."""
    if not this:
        note = "no queue times recorded: the provider gave no queued time for main builds"
        return [
            Fact("queue_wait", ESTATE, days, None, "seconds", note=note),
            Fact("builds_queued", ESTATE, days, None, "builds", note=note),
            Fact("busiest_hours", ESTATE, days, None, "builds_per_hour", note=note),
        ]
    p50, p90 = _quantile(this, 0.5), _quantile(this, 0.9)
    previous = _quantile(before, 0.5)
    total = sum(b.builds for b in this)
    queued = sum(b.builds for b in this if b.wait >= QUEUED_AFTER)
    queued_before = sum(b.builds for b in before if b.wait >= QUEUED_AFTER) if before else None
    ranked = sorted(hours, key=lambda h: (-h.builds, h.hour))
    words = [
        f"{h.hour:02d}:00-{(h.hour + 1) % 24:02d}:00 {h.builds} builds,"
        f" {h.queued} queued, mean wait {h.wait_sum / h.builds:.0f}s"
        for h in ranked[:3]
        if h.builds
    ]
    top = ranked[0].builds if ranked else 0
    return [
        Fact(
            "queue_wait", ESTATE, days, p50, "seconds", p90=p90, previous=previous,
            trend=trend_of("queue_wait", p50, previous), samples=total,
            note=f"{queued} of {total} main builds waited {QUEUED_AFTER:.0f}s or more",
        ),
        Fact(
            "builds_queued", ESTATE, days, float(queued), "builds",
            previous=None if queued_before is None else float(queued_before),
            trend=trend_of("builds_queued", queued, queued_before), samples=total,
        ),
        Fact(
            "busiest_hours", ESTATE, days, top / days, "builds_per_hour", samples=total,
            note=f"{tz_name}: " + "; ".join(words),
        ),
    ]  # fmt: skip


def commits_per_build_facts(days: int, rows: Sequence[CommitsPerBuild]) -> list[Fact]:
    known = [r for r in rows if r.commits is not None and r.builds]
    unknown = len(rows) - len(known)
    if not known:
        return [
            Fact(
                "commits_per_build", ESTATE, days, None, "commits",
                note="unknown: no source reports the commits between main builds"
                " (needs a compare API; the demo records them)",
            )
        ]  # fmt: skip
    commits = sum(r.commits or 0 for r in known)
    builds = sum(r.builds for r in known)
    note = f"{commits} commits in {builds} builds"
    if unknown:
        note += f"; unknown for {unknown} pipelines"
    facts = [
        Fact(
            "commits_per_build",
            ESTATE,
            days,
            commits / builds,
            "commits",
            samples=builds,
            note=note,
        )
    ]
    facts += [
        Fact("commits_per_build", r.pipeline, days, (r.commits or 0) / r.builds, "commits", samples=r.builds)
        for r in known
    ]  # fmt: skip
    return facts


def undeployed_facts(rows: Sequence[Undeployed], *, now: float) -> list[Fact]:
    facts = []
    for r in rows:
        scope = f"{r.service}/{r.environment or '-'}"
        if not r.known:
            note = "unknown: name the pipeline it ships, and watch it, to tell what is not live"
            facts.append(Fact("oldest_undeployed", scope, 0, None, "seconds", note=note))
        elif r.landed_at is None:
            facts.append(Fact("oldest_undeployed", scope, 0, 0.0, "seconds", note="main is live"))
        else:
            facts.append(
                Fact("oldest_undeployed", scope, 0, max(0.0, now - r.landed_at), "seconds")
            )
    known = [f.value for f in facts if f.value is not None]
    if known:
        facts.insert(
            0, Fact("oldest_undeployed", ESTATE, 0, max(known), "seconds", samples=len(known))
        )
    elif not rows:
        facts.append(Fact(
            "oldest_undeployed", ESTATE, 0, None, "seconds",
            note="no production deploys recorded: add a deploy source",
        ))  # fmt: skip
    return facts


def hold_time(
    changes: Sequence[GateChange], since: float, until: float, initial: GateChange | None
) -> tuple[float, dict[str, float]]:
    """Seconds on HOLD within [since, until), and the seconds each reason kind was among the
    reasons. ``initial`` is the state in force at ``since`` (the last change before it)."""
    state = initial
    t = since
    held = 0.0
    by_kind: dict[str, float] = defaultdict(float)
    for change in [c for c in changes if since <= c.at < until] + [None]:
        end = until if change is None else change.at
        if state is not None and not state.go and end > t:
            held += end - t
            for kind in {k for k, _ in state.reasons}:
                by_kind[kind] += end - t
        if change is not None:
            state, t = change, change.at
    return held, dict(by_kind)


def gate_facts(
    days: int,
    changes: Sequence[GateChange],
    initial: GateChange | None,
    initial_before: GateChange | None,
    *,
    now: float,
) -> list[Fact]:
    if not changes and initial is None:
        note = "no release gate recorded: the gate needs main pipelines or production sources"
        return [Fact("gate_hold", ESTATE, days, None, "seconds_per_week", note=note)]
    span = days * DAY
    held, kinds = hold_time(changes, now - span, now, initial)
    held_before, _ = hold_time(changes, now - 2 * span, now - span, initial_before)
    value = held / (span / WEEK)
    known_before = initial_before is not None or any(c.at < now - span for c in changes)
    previous = held_before / (span / WEEK) if known_before else None
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    note = "; ".join(f"{kind} {seconds / HOUR:.1f}h" for kind, seconds in ranked)
    return [
        Fact(
            "gate_hold", ESTATE, days, value, "seconds_per_week", previous=previous,
            trend=trend_of("gate_hold", value, previous), note=note or "never on hold",
        )
    ]  # fmt: skip


def retry_facts(days: int, this: Sequence[MainDays], before: Sequence[MainDays]) -> list[Fact]:
    value = sum(m.retry_seconds for m in this)
    previous = sum(m.retry_seconds for m in before) if before else None
    return [
        Fact(
            "retry_time", ESTATE, days, value if this else None, "seconds", previous=previous,
            trend=trend_of("retry_time", value, previous), samples=len(this),
            note="" if this else "no main builds recorded",
        )
    ]  # fmt: skip
