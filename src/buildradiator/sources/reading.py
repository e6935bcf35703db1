"""What reading builds from any CI shares: a status vocabulary, a row's two lists of builds,
epoch times, one of each id, the names running in a stage, and the summary line of a source
whose rows are jobs or builders.

Pure functions over payloads and model objects; no requests.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from buildradiator.fmt import plural
from buildradiator.model import Build, Pipeline, Status

T = TypeVar("T")

STAGE_NAMES = 3
"""Running jobs named in a stage at most; more become "+N more" so the row stays readable."""


@dataclass(frozen=True)
class Vocabulary:
    """A CI's words for the state of a pipeline or workflow, read into our ``Status``."""

    finished: Mapping[str, Status]
    """Words of an ended run (lower case): ``success`` -> passed..."""
    active: Mapping[str, Status]
    """Words of a run not ended: ``running`` -> running, ``created`` -> queued..."""
    no_signal: frozenset[str] = frozenset()
    """Words of a run that says nothing about the branch (skipped): left out."""
    shown: Mapping[str, str] = field(default_factory=dict)
    """The words shown instead of the CI's own, where it has a clearer one."""

    def read(self, word: str | None, *, ended: bool) -> tuple[Status, str] | None:
        """Our status and the word to show; ``None`` for a run to leave out. A word we do not
        know is ``unknown`` once the run has ended, waiting (queued) before: newer servers add
        waiting states, and waiting is the safe reading."""
        said = word or "unknown"
        key = said.lower()
        if key in self.no_signal:
            return None
        if key in self.finished:
            return self.finished[key], said
        if key in self.active:
            return self.active[key], self.shown.get(key, said)
        return (Status.UNKNOWN if ended else Status.QUEUED), said


@dataclass
class BuildLists:
    """The builds of one row as a poll reads them, newest first: those that ended and those in
    flight (a ``Pipeline``'s ``recent`` and ``in_flight``)."""

    recent: list[Build] = field(default_factory=list)
    in_flight: list[Build] = field(default_factory=list)

    def add(self, build: Build) -> None:
        (self.in_flight if build.status.in_flight else self.recent).append(build)


def from_epoch(value: float | None) -> datetime | None:
    """Epoch seconds or milliseconds (a value that can only be milliseconds, past the year 5138
    as seconds, is read as milliseconds); zero, negative and out-of-range values are unknown."""
    if value is None or value <= 0:
        return None
    seconds = value / 1000 if value >= 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def first_of_each(items: Iterable[T], key: Callable[[T], Hashable]) -> list[T]:
    """``items`` in their order, each key once (the first wins): a run listed twice (it moved
    between pages while they were read) would otherwise count twice."""
    seen: set[Hashable] = set()
    out: list[T] = []
    for item in items:
        ident = key(item)
        if ident not in seen:
            seen.add(ident)
            out.append(item)
    return out


def some_names(names: Iterable[str], more: str = " more") -> str:
    """The first ``STAGE_NAMES`` distinct names, then how many more: ``unit, lint, docs +2 more``
    (``more=""`` for a bare ``+2``)."""
    unique = list(dict.fromkeys(names))
    extra = len(unique) - STAGE_NAMES
    return ", ".join(unique[:STAGE_NAMES]) + (f" +{extra}{more}" if extra > 0 else "")


def activity(pipelines: Iterable[Pipeline], noun: str) -> str:
    """``3 jobs, 1 running, 0 queued, 1 red``: the summary of a source whose rows are ``noun``."""
    rows = list(pipelines)
    running = sum(1 for p in rows for b in p.in_flight if b.status is Status.RUNNING)
    queued = sum(1 for p in rows for b in p.in_flight if b.status is Status.QUEUED)
    red = sum(1 for p in rows if p.status is Status.FAILED)
    text = f"{plural(len(rows), noun)}, {running} running, {queued} queued"
    return text + (f", {red} red" if red else "")
