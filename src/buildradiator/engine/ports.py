"""What the engine is handed instead of importing it: a deriver that turns what the sources said
into what the views show (``rules.derive.Derivation``), a recorder that writes finished builds to
history and answers what history knows (``history.facts.HistoryFacts``), and subscribers to its
snapshots (``export.cache.CacheWriter``). ``assemble.build_engine`` wires the real ones; without
them the engine publishes the sources' data as polled, records nothing and writes no file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from buildradiator.model import Facts, ReportedFlake, Snapshot, SourceResult


class Deriver(Protocol):
    """Decides everything the sources do not say (see ``rules.derive``)."""

    def observe(self, results: Iterable[SourceResult], now: datetime) -> None:
        """Called after every poll with every source's last good result."""

    def derive(self, raw: Snapshot, reported: Sequence[ReportedFlake]) -> Snapshot:
        """The snapshot every view shows, from the engine's raw one."""


class Recorder(Protocol):
    """Keeps what the engine saw (see ``history.facts``). ``record`` and ``refresh`` block: the
    engine calls them in a worker thread."""

    def record(self, source: str, result: SourceResult) -> object:
        """Write the finished builds and test runs of one poll."""

    def refresh(self, keys: Iterable[tuple[str, str]]) -> object:
        """Recompute the facts for these (source, pipeline key) pairs if anything changed."""

    def current(self) -> Facts:
        """The last computed facts (never blocks)."""

    @property
    def notices(self) -> tuple[str, ...]:
        """What the user must know about the store, in plain words."""


class AsPolled:
    """The deriver of an engine handed none: the sources' data as polled, nothing derived."""

    def observe(self, results: Iterable[SourceResult], now: datetime) -> None:
        return None

    def derive(self, raw: Snapshot, reported: Sequence[ReportedFlake]) -> Snapshot:
        return raw


@dataclass
class Subscriber:
    """A callable handed every published snapshot and, with ``every`` seconds, the current one
    at least that often even when nothing changed (the cache stays young for ``status``)."""

    call: Callable[[Snapshot], None]
    every: float | None = None
    last: float | None = None
    """Monotonic time of the last call."""

    def due(self, now: float) -> bool:
        return self.every is not None and (self.last is None or now - self.last >= self.every)
