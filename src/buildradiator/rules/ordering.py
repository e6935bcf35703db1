"""Which pipeline comes first, how a group of pipelines rolls up into one row or tile, and what may
count as green: decided here once, for the list, the wall and every other view.

- **Stale is never green.** A pipeline whose source is not fresh is never green, whatever its
  last result said; a red result from stale data stays red (a broken window is worth knowing
  even when its news is old).
- **Urgency.** Red first, then running, then the rest, then green (``Urgency``).
- **Group roll-up.** A group is red when a member is red on fresh data; else stale when any
  member's data is stale (and as urgent as red when a stale member is red); else running when
  any member runs; else passed when every member passed; else mixed.
- **Units.** What a view lists: lone pipelines and whole groups, most urgent first, then by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from buildradiator.model import Pipeline, Status


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


def units(pipelines: Sequence[Pipeline], stale_sources: frozenset[str]) -> list[Unit]:
    """Lone pipelines and whole groups, most urgent first, then by name (then key)."""
    groups: dict[str, list[Pipeline]] = {}
    out: list[Unit] = []
    for p in pipelines:
        if p.group is None:
            out.append(Unit(p.name, (p,), None, urgency(p, stale_sources)))
        else:
            groups.setdefault(p.group, []).append(p)
    for name, members in groups.items():
        ordered = sorted(members, key=lambda m: (urgency(m, stale_sources), m.name.lower(), m.key))
        rollup = roll_up(ordered, stale_sources)
        out.append(Unit(name, rollup.members, name, rollup.urgency, rollup))
    return sorted(out, key=lambda u: (u.urgency, u.name.lower(), u.members[0].key))
