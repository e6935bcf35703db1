"""What ``derive`` works out for each pipeline, worked out once per pipeline object.

Domain objects are frozen: a pipeline object that is the very one seen before (``is``) has the
same display name, group, estimates, red streak, broken window, retry count and sort key as
before. The engine derives a whole snapshot after every source's answer (40 times a cycle over
2,000 GitHub repositories in 40 sources), and most of those pipelines did not change: profiled at
2,000 pipelines, deriving them all again cost ~45 ms a snapshot, of it ~14,000 pydantic
validations of windows and retry summaries built again from the same builds.

An entry holds the object it was derived from, so its identity cannot be reused by another
object while the entry lives; a pipeline that changed is a new object and is derived afresh.
Memory is bounded: each ``derive_all`` keeps only the entries of the pipelines it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from buildradiator.model import BrokenWindow, FlakySummary, Pipeline
from buildradiator.rules import insights

SortKey = tuple[int, int, str]
T = TypeVar("T")


@dataclass(slots=True)
class Derived:
    """One pipeline's derived facts (see the module docstring)."""

    pipeline: Pipeline
    """The source's object these were derived from (held: see the module docstring)."""
    shown: Pipeline
    """Labelled (display name, group) and with estimates for its builds in flight."""
    red: bool
    green_start: datetime | None
    flaky: FlakySummary | None
    windows: dict[bool, BrokenWindow | None] = field(default_factory=dict)
    """The broken window of a red main, by whether its source is stale."""
    keys: dict[bool, SortKey] = field(default_factory=dict)
    """The sort key, by whether its source is stale."""
    made: dict[str, tuple[object, object, object]] = field(default_factory=dict)
    """``PipelineMemo.once``: per purpose, the window and argument it was made from, and it."""

    def window(self, stale: bool) -> BrokenWindow | None:
        if stale not in self.windows:
            self.windows[stale] = insights.pipeline_window(self.shown, stale)
        return self.windows[stale]

    def key(self, stale: bool) -> SortKey:
        if stale not in self.keys:
            self.keys[stale] = insights.sort_key(
                self.shown, frozenset({self.shown.source}) if stale else frozenset()
            )
        return self.keys[stale]


class PipelineMemo:
    """Derived facts per pipeline object for one config's names and groups."""

    def __init__(
        self, names: Mapping[str, Mapping[str, str]], groups: Sequence[tuple[str, Sequence[str]]]
    ) -> None:
        self._names = names
        self._groups = groups
        self._entries: dict[tuple[str, str], Derived] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def derive_all(self, pipelines: Iterable[Pipeline]) -> list[Derived]:
        """Each pipeline's facts, in order: kept where the object is the one seen before,
        derived afresh otherwise. Entries of pipelines not given are dropped."""
        old = self._entries
        new: dict[tuple[str, str], Derived] = {}
        out = []
        for pipeline in pipelines:
            ident = (pipeline.source, pipeline.key)
            entry = old.get(ident)
            if entry is None or entry.pipeline is not pipeline:
                entry = new.get(ident)
                if entry is None or entry.pipeline is not pipeline:
                    entry = self._derive(pipeline)
            new[ident] = entry
            out.append(entry)
        self._entries = new
        return out

    def is_red(self, pipeline: Pipeline) -> bool:
        """Whether main is red (``insights.red_streak``), from the entry when it is current."""
        entry = self._entries.get((pipeline.source, pipeline.key))
        if entry is not None and entry.pipeline is pipeline:
            return entry.red
        return bool(insights.red_streak(pipeline))

    def once(self, window: BrokenWindow, purpose: str, arg: object, make: Callable[[], T]) -> T:
        """``make()``, kept with the entry of the window's pipeline while the window and ``arg``
        are the very objects it was made from (a window of no pipeline: made every time)."""
        entry = self._entries.get((window.source, window.key))
        if entry is None:
            return make()
        kept = entry.made.get(purpose)
        if kept is not None and kept[0] is window and kept[1] is arg:
            return kept[2]  # type: ignore[return-value]
        made = make()
        entry.made[purpose] = (window, arg, made)
        return made

    def _derive(self, pipeline: Pipeline) -> Derived:
        shown = insights.label(
            insights.with_estimates(pipeline), self._names.get(pipeline.source, {}), self._groups
        )
        return Derived(
            pipeline=pipeline,
            shown=shown,
            red=bool(insights.red_streak(pipeline)),
            green_start=insights.green_streak_start(pipeline),
            flaky=insights.flaky_summary(shown),
        )
