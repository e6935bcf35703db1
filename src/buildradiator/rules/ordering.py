"""Which pipeline comes first, how a group of pipelines rolls up into one row or tile, and what may
count as green: decided here once, for the list, the wall and every other view.

- **Stale is never green.** A pipeline whose source is not fresh is never green, whatever its
  last result said; a red result from stale data stays red (a broken window is worth knowing
  even when its news is old).
- **Urgency.** Red first, then running, then the rest, then green (``Urgency``).
- **Group roll-up.** A group is red when a member is red on fresh data; else stale when any
  member's data is stale (and as urgent as red when a stale member is red); else running when
  any member runs; else passed when every member passed; else mixed.
- **In flight.** Running builds before queued ones, the longest-running first.
- **Units.** What a view lists: lone pipelines and whole groups, most urgent first, then by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from buildradiator.model import Build, Pipeline, Snapshot, Status


class Urgency(IntEnum):
    """How soon a view must show it; lower first."""

    RED = 0
    RUNNING = 1
    OTHER = 2
    GREEN = 3


def is_green(pipeline: Pipeline, stale_sources: frozenset[str]) -> bool:
    """Passed, nothing in flight, and its source fresh: the only green there is."""
    return (
        pipeline.status is Status.PASSED
        and not pipeline.in_flight
        and pipeline.source not in stale_sources
    )


def verdict_known(pipeline: Pipeline) -> bool:
    """Whether the pipeline's main is known to be green or red: its newest finished build that
    was not canceled passed or failed (a cancel says nothing, so the verdict before it stands;
    an unknown result, or no finished build at all, is no verdict)."""
    verdict = next((b.status for b in pipeline.recent if b.status is not Status.CANCELED), None)
    return verdict in (Status.PASSED, Status.FAILED)


def result_shown(pipeline: Pipeline, stale_sources: frozenset[str]) -> Status | None:
    """The last result a view may show beside the pipeline: any on fresh data; on stale data
    only red (a broken window stays worth knowing), never green nor anything else."""
    if pipeline.source not in stale_sources or pipeline.status is Status.FAILED:
        return pipeline.status
    return None


def red_count(pipelines: Iterable[Pipeline], stale_sources: frozenset[str]) -> int:
    """How many pipelines are red (``2 red of 19``): stale or not, as ``urgency`` ranks them."""
    return sum(1 for p in pipelines if urgency(p, stale_sources) is Urgency.RED)


@dataclass(frozen=True)
class Tally:
    """How many pipelines are in each state, as a count line says it (``17 green, 0 red``)."""

    green: int
    """Passed on fresh data (a build may be in flight on top)."""
    red: int
    """Failed, stale or not (a broken window stays worth knowing)."""
    running: int
    """With a build in flight on fresh data (stale data is never running)."""
    stale: int
    """On stale data and not red: its last result is not shown, so not counted."""
    other: int
    """On fresh data, neither passed nor failed (canceled, unknown, never built)."""


def tally(pipelines: Iterable[Pipeline], stale_sources: frozenset[str]) -> Tally:
    """The counts every one-line summary shows: a result counts only where ``result_shown``
    shows it, so stale data is never counted green."""
    green = red = running = stale = other = 0
    for p in pipelines:
        shown = result_shown(p, stale_sources)
        if shown is Status.FAILED:
            red += 1
        elif shown is None:
            stale += 1
        elif shown is Status.PASSED:
            green += 1
        else:
            other += 1
        if p.in_flight and p.source not in stale_sources:
            running += 1
    return Tally(green, red, running, stale, other)


def urgency(pipeline: Pipeline, stale_sources: frozenset[str]) -> Urgency:
    """Red (stale or not), then running, then the rest, then green; stale data is never running
    nor green."""
    if pipeline.status is Status.FAILED:
        return Urgency.RED
    if pipeline.source in stale_sources:
        return Urgency.OTHER
    if pipeline.in_flight:
        return Urgency.RUNNING
    return Urgency.GREEN if pipeline.status is Status.PASSED else Urgency.OTHER


class GroupState(StrEnum):
    FAILED = "failed"
    STALE = "stale"
    RUNNING = "running"
    PASSED = "passed"
    MIXED = "mixed"


@dataclass(frozen=True)
class Rollup:
    """One group as one row or tile (see the module docstring)."""

    state: GroupState
    urgency: Urgency
    members: tuple[Pipeline, ...]
    red: tuple[Pipeline, ...]
    """Members whose last result failed, stale or not."""
    stale: tuple[Pipeline, ...]
    running: tuple[Pipeline, ...]

    @property
    def count(self) -> int:
        """How many members the state is about (``failed 2 of 5``): red, stale or running
        members; every member for passed and mixed."""
        return {
            GroupState.FAILED: len(self.red),
            GroupState.STALE: len(self.stale),
            GroupState.RUNNING: len(self.running),
        }.get(self.state, len(self.members))


def roll_up(members: Iterable[Pipeline], stale_sources: frozenset[str]) -> Rollup:
    members = tuple(members)
    red = tuple(m for m in members if m.status is Status.FAILED)
    stale = tuple(m for m in members if m.source in stale_sources)
    running = tuple(m for m in members if m.in_flight)
    if any(m.source not in stale_sources for m in red):
        state, level = GroupState.FAILED, Urgency.RED
    elif stale:
        state, level = GroupState.STALE, Urgency.RED if red else Urgency.OTHER
    elif running:
        state, level = GroupState.RUNNING, Urgency.RUNNING
    elif members and all(m.status is Status.PASSED for m in members):
        state, level = GroupState.PASSED, Urgency.GREEN
    else:
        state, level = GroupState.MIXED, Urgency.OTHER
    return Rollup(state, level, members, red, stale, running)


@dataclass(frozen=True)
class Unit:
    """A lone pipeline (``group`` is ``None``) or a whole group, as a view lists it."""

    name: str
    members: tuple[Pipeline, ...]
    group: str | None
    urgency: Urgency
    rollup: Rollup | None = None
    """For a group: its roll-up."""


def units(
    pipelines: Sequence[Pipeline], stale_sources: frozenset[str], green_apart: bool = True
) -> list[Unit]:
    """Lone pipelines and whole groups, most urgent first, then by name (then key); members of a
    group in the same order. ``green_apart=False`` (the Main branches list) ranks green with the
    rest: red, then running, then everything else by name."""

    def level(u: Urgency) -> Urgency:
        return u if green_apart else min(u, Urgency.OTHER)

    groups: dict[str, list[Pipeline]] = {}
    out: list[Unit] = []
    for p in pipelines:
        if p.group is None:
            out.append(Unit(p.name, (p,), None, urgency(p, stale_sources)))
        else:
            groups.setdefault(p.group, []).append(p)
    for name, members in groups.items():
        ordered = sorted(
            members, key=lambda m: (level(urgency(m, stale_sources)), m.name.lower(), m.key)
        )
        rollup = roll_up(ordered, stale_sources)
        out.append(Unit(name, rollup.members, name, rollup.urgency, rollup))
    return sorted(out, key=lambda u: (level(u.urgency), u.name.lower(), u.members[0].key))


def in_flight_builds(snapshot: Snapshot) -> list[tuple[Pipeline, Build]]:
    """Every build in flight with its pipeline: running before queued, the longest-running
    first; those last seen on a stale source after them all (nobody knows they still run)."""
    pairs = [(p, b) for p in snapshot.pipelines for b in p.in_flight]
    stale = snapshot.stale_sources

    def started(pair: tuple[Pipeline, Build]) -> tuple[bool, int, datetime]:
        build = pair[1]
        when = build.started_at or build.created_at or snapshot.taken_at
        return (pair[0].source in stale, 0 if build.status is Status.RUNNING else 1, when)

    return sorted(pairs, key=started)


def running_now(snapshot: Snapshot) -> tuple[int, int]:
    """How many builds run and how many wait now, as the counts say it: on fresh data only
    (stale data is never running)."""
    fresh = [b for p in snapshot.pipelines if p.source not in snapshot.stale_sources
             for b in p.in_flight]  # fmt: skip
    running = sum(1 for b in fresh if b.status is Status.RUNNING)
    return running, len(fresh) - running
