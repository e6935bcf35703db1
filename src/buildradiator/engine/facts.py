"""What history adds to a snapshot: red since / broke it across restarts, ETAs from the median
of successful builds, retry shares, trends and the flaky-test ranking.

The engine owns one ``HistoryFacts``. ``record`` writes the finished builds a poll brought that
were not written before, and ``refresh`` recomputes the facts when the store changed
(``History.generation``) or the set of pipelines did; the engine calls both in a worker thread,
since SQLite blocks and the first computation over a year of history takes a few hundred ms.
``current`` is what the screen gets: always the last computed facts, never a query.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from buildradiator.history import History
from buildradiator.model import (
    BrokenWindow,
    Build,
    FlakyTestInfo,
    Pipeline,
    PipelineFacts,
    ReportedFlake,
    SourceResult,
)

log = logging.getLogger("buildradiator.engine.facts")

TREND_DAYS = 30
FLAKY_WINDOW_DAYS = 7
FLAKY_LIMIT = 20


@dataclass(frozen=True)
class Facts:
    per_pipeline: dict[tuple[str, str], PipelineFacts] = field(default_factory=dict)
    flaky_tests: tuple[FlakyTestInfo, ...] = ()


class HistoryFacts:
    """The engine's window on the history store. See the module docstring."""

    def __init__(self, history: History) -> None:
        self.history = history
        self._written: dict[str, set[tuple[str, str, int]]] = {}
        self._tests_written: dict[str, set[tuple[str, str, int]]] = {}
        self._tested: set[tuple[str, str]] = set()
        """(source, pipeline) pairs test runs were recorded for: their flakes are ranked even
        when no source shows that pipeline (a ``junit`` source shows none)."""
        self._cache_key: tuple[int, frozenset[tuple[str, str]]] | None = None
        self._cache = Facts()
        self._lock = threading.Lock()

    def record(self, source: str, result: SourceResult) -> int:
        """Write the finished builds of one poll that this run has not written yet."""
        seen = {(p.key, b.id, b.attempt): b for p in result.pipelines for b in p.recent}
        with self._lock:
            new = [b for key, b in seen.items() if key not in self._written.get(source, set())]
            # Only what the source still shows is remembered: the set stays as small as a poll.
            self._written[source] = set(seen)
        written = self.history.record_builds(new) if new else 0
        written += self._record_tests(source, result)
        if written:
            self.history.prune()
        return written

    def _record_tests(self, source: str, result: SourceResult) -> int:
        runs = {(r.pipeline, r.build_id, r.attempt): r for r in result.test_runs}
        with self._lock:
            done = self._tests_written.setdefault(source, set())
            new = [run for key, run in runs.items() if key not in done]
            if len(done) > 10_000:
                # A radiator runs for weeks: start the memory afresh. Recording a run again
                # replaces its results, so the worst case is one rewrite, never a duplicate.
                done.clear()
            done.update(runs)
        for run in new:
            # The run names its pipeline's source: a junit source may report for a pipeline
            # another source shows.
            self._tested.add((run.source, run.pipeline))
            self.history.record_tests(
                run.source,
                run.pipeline,
                run.build_id,
                run.commit,
                run.results,
                build_attempt=run.attempt,
                at=run.finished_at,
            )
        return len(new)

    def refresh(self, keys: Iterable[tuple[str, str]]) -> bool:
        """Recompute the facts for these pipelines if anything changed; True if it did."""
        wanted = frozenset(keys) | self._tested
        cache_key = (self.history.generation, wanted)
        if cache_key == self._cache_key:
            return False
        self._cache = self._compute(wanted)
        self._cache_key = cache_key
        return True

    def current(self) -> Facts:
        """The last computed facts (never queries the store)."""
        return self._cache

    def _compute(self, keys: frozenset[tuple[str, str]]) -> Facts:
        h = self.history
        per: dict[tuple[str, str], PipelineFacts] = {}
        for source, key in keys - self._tested:
            streak = h.red_streak(source, key)
            durations = h.durations(source, key)
            week, month = h.retry_share(source, key, 7), h.retry_share(source, key, 30)
            trend = h.trends(source, key, TREND_DAYS)
            per[(source, key)] = PipelineFacts(
                source=source,
                key=key,
                strip=tuple(h.recent_strip(source, key)),
                p50_seconds=durations.p50 if durations else None,
                p90_seconds=durations.p90 if durations else None,
                retried_7d=week.retried_to_green,
                green_7d=week.green,
                retry_share_7d=week.share,
                retry_minutes_7d=week.retry_minutes,
                retried_30d=month.retried_to_green,
                green_30d=month.green,
                retry_share_30d=month.share,
                retry_minutes_30d=month.retry_minutes,
                green_share=tuple(trend.green_share),
                mttr_seconds=tuple(trend.mttr_seconds),
                p50_trend=tuple(trend.p50_seconds),
                p90_trend=tuple(trend.p90_seconds),
                flakes=tuple(trend.flakes),
                red_since=streak.since if streak else None,
                red_streak=streak.count if streak else 0,
                broke_commit=streak.commit if streak else None,
                broke_author=streak.author if streak else None,
                broke_message=streak.message if streak else None,
                broke_url=streak.url if streak else None,
                last_green_commit=streak.last_green_commit if streak else None,
                newest_red_commit=streak.newest_commit if streak else None,
            )
        flaky = tuple(
            FlakyTestInfo(
                classname=t.classname,
                name=t.name,
                times_flaked=t.times_flaked,
                retried_builds=t.retried_builds,
                lost_seconds=t.lost_seconds,
                first_seen=t.first_seen,
                last_seen=t.last_seen,
                pipelines=tuple(f"{s}:{p}" for s, p in t.pipelines),
            )
            for t in h.flaky_tests(FLAKY_WINDOW_DAYS, FLAKY_LIMIT, only=list(keys))
        )
        return Facts(per, flaky)


def with_history(window: BrokenWindow, facts: PipelineFacts | None) -> BrokenWindow:
    """A red main as history knows it: the streak may reach back past what the API returned
    (and past a restart), so history's first failing build and count win when they are older."""
    if facts is None or facts.red_since is None or window.kind != "pipeline":
        return window
    if window.since is not None and window.since <= facts.red_since:
        return window.model_copy(
            update={
                "last_green_commit": facts.last_green_commit,
                "newest_commit": facts.newest_red_commit,
            }
        )
    return window.model_copy(
        update={
            "since": facts.red_since,
            "streak": max(window.streak, facts.red_streak),
            "commit": facts.broke_commit,
            "author": facts.broke_author,
            "message": facts.broke_message,
            "url": facts.broke_url or window.url,
            "last_green_commit": facts.last_green_commit,
            "newest_commit": facts.newest_red_commit,
        }
    )


def with_eta(pipeline: Pipeline, facts: PipelineFacts | None) -> Pipeline:
    """In-flight builds without a provider estimate get the median of successful builds."""
    if facts is None or facts.p50_seconds is None or not pipeline.in_flight:
        return pipeline
    if all(b.estimated_seconds for b in pipeline.in_flight):
        return pipeline
    builds: tuple[Build, ...] = tuple(
        b if b.estimated_seconds else b.model_copy(update={"estimated_seconds": facts.p50_seconds})
        for b in pipeline.in_flight
    )
    return pipeline.model_copy(update={"in_flight": builds})


def merge_reported(
    ranked: Iterable[FlakyTestInfo], reported: Iterable[ReportedFlake], now: datetime
) -> tuple[FlakyTestInfo, ...]:
    """The history ranking with the tests providers call flaky themselves (CircleCI insights,
    Buildkite Test Engine) folded in: one entry per test, the larger count of the two, the
    pipelines of both; ranked again by impact (times flaked, builds retried, time lost)."""
    reported = list(reported)
    if not reported:
        return tuple(ranked)
    merged: dict[tuple[str, str], FlakyTestInfo] = {(t.classname, t.name): t for t in ranked}
    for flake in reported:
        key = (flake.classname, flake.name)
        where = f"{flake.source}:{flake.pipeline}"
        first = flake.first_seen or flake.last_seen or now
        last = flake.last_seen or now
        known = merged.get(key)
        if known is None:
            merged[key] = FlakyTestInfo(
                classname=flake.classname,
                name=flake.name,
                times_flaked=max(1, flake.times_flaked),
                retried_builds=0,
                lost_seconds=0.0,
                first_seen=min(first, last),
                last_seen=last,
                pipelines=(where,),
            )
            continue
        merged[key] = known.model_copy(
            update={
                "times_flaked": max(known.times_flaked, flake.times_flaked),
                "first_seen": min(known.first_seen, first),
                "last_seen": max(known.last_seen, last),
                "pipelines": tuple(sorted({*known.pipelines, where})),
            }
        )
    ranked_all = sorted(
        merged.values(),
        key=lambda t: (-t.times_flaked, -t.retried_builds, -t.lost_seconds, t.classname, t.name),
    )
    return tuple(ranked_all[:FLAKY_LIMIT])
