"""A finished build's stages from its jobs, whatever the provider: what ``Build.stages`` holds.

Every source hands ``stage_times`` one ``(stage name, started, finished)`` triple per job (the
provider's stage where it names one, else the job's own name). Jobs of one stage may run in
parallel, so a stage lasts from its first job's start to its last job's end. A job without both
times (skipped, never started, garbage), or one that ends before it starts, is left out; a stage
left with no job is left out. Never raises: the worst payload gives no stages.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime

from buildradiator.model import EARLIEST, LATEST, MAX_SECONDS, StageTime
from buildradiator.sources.base import parse_iso
from buildradiator.text import clean_text

KEPT = 2000
"""Finished builds whose stages a ``StageMemo`` remembers (the oldest forgotten first)."""
MAX_STAGES = 32
"""Stages kept per build at most (a matrix of 500 jobs named apart is not 500 stages)."""

Stages = tuple[StageTime, ...]
Span = tuple[object, object, object]
"""(name, started, finished): a name as the payload gave it; times as ISO text or datetimes."""


def _moment(value: object) -> datetime | None:
    """A time within belief (Azure's ``0001-01-01`` means "never"), else ``None``."""
    when = (
        value
        if isinstance(value, datetime)
        else parse_iso(value)
        if isinstance(value, str)
        else None
    )
    if when is None or when.tzinfo is None or not EARLIEST <= when < LATEST:
        return None
    return when


def stage_times(spans: Iterable[Span]) -> tuple[StageTime, ...]:
    """The stages of one finished build, in the order they started (see the module docstring)."""
    found: dict[str, list[datetime]] = {}
    for name, started, finished in spans:
        if not isinstance(name, str):
            continue
        label = clean_text(name).strip()
        start, end = _moment(started), _moment(finished)
        if not label or start is None or end is None or end < start:
            continue
        span = found.get(label)
        if span is None:
            if len(found) >= MAX_STAGES:
                continue
            found[label] = [start, end]
        else:
            span[0], span[1] = min(span[0], start), max(span[1], end)
    stages = []
    for label, (start, end) in sorted(found.items(), key=lambda kv: kv[1][0]):
        seconds = (end - start).total_seconds()
        if 0.0 <= seconds <= MAX_SECONDS:
            stages.append(StageTime(name=label, seconds=seconds))
    return tuple(stages)


class StageMemo:
    """The stages of finished builds that cost a request each (GitHub, CircleCI jobs): read
    once per build and remembered, so a poll never asks again. Bounded: ``KEPT`` builds."""

    def __init__(self) -> None:
        self._known: dict[Hashable, tuple[StageTime, ...]] = {}

    def known(self, key: Hashable) -> tuple[StageTime, ...] | None:
        """The stages read for this build; ``None`` when not read yet."""
        return self._known.get(key)

    def keep(self, key: Hashable, stages: tuple[StageTime, ...]) -> tuple[StageTime, ...]:
        self._known[key] = stages
        while len(self._known) > KEPT:
            del self._known[next(iter(self._known))]
        return stages
