"""What history adds to a snapshot: red since / broke it across restarts, ETAs from the median
of successful builds, retry shares, trends and the flaky-test ranking.

The engine is handed one ``HistoryFacts`` as its recorder (``assemble.build_engine``). ``record`` writes the finished builds a poll brought that
were not written before, and ``refresh`` recomputes the facts when the store changed
(``History.generation``) or the set of pipelines did; the engine calls both in a worker thread,
since SQLite blocks and the first computation over a year of history takes a few hundred ms.
``current`` is what the screen gets: always the last computed facts, never a query.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime, tzinfo

from buildradiator.history import History
from buildradiator.history.delivery_report import delivery_facts
from buildradiator.model import DeliveryFact, Facts, FlakyTestInfo, PipelineFacts, SourceResult
from buildradiator.rules.facts import FLAKY_LIMIT
from buildradiator.rules.stages import dominant_only

log = logging.getLogger("buildradiator.history.facts")

TREND_DAYS = 30
FLAKY_WINDOW_DAYS = 7
FULL_EVERY = 60.0
"""Seconds. ``refresh`` recomputes only the pipelines whose builds or tests it wrote since the
last computation (at 2,000 pipelines a whole computation costs ~250 ms and ran after every
source's poll); every pipeline's facts, whose 7- and 30-day windows slide with time, at least
this often, and at once when anything else changed the store (retention, another writer)."""
DELIVERY_GAP = 300.0
"""Seconds. The delivery measures (``history.delivery_report``: a few queries over 30 and 60
days, ~190 ms on a year of history) are recomputed when the store changed, at most this often:
measures over weeks gain nothing from a fresher minute, and a radiator that polls every 30 s
would otherwise spend a core's fifth on them."""
DELIVERY_EVERY = 900.0
"""Seconds. And at least this often, whatever changed: their windows slide with time."""
DELIVERY_WINDOWS = (7, 30)


class HistoryFacts:
    """The engine's recorder: its window on the history store. See the module docstring."""

    def __init__(self, history: History, *, tz: tzinfo | None = None) -> None:
        self.history = history
        self.tz = tz
        """The zone of the busiest hours on main (``None``: UTC)."""
        self._delivery: tuple[DeliveryFact, ...] = ()
        self._delivery_at: datetime | None = None
        self._delivery_key: tuple[int, float] | None = None
        """(generation, monotonic time) of the last delivery computation."""
        self._written: dict[str, set[tuple[str, str, int, bool]]] = {}
        """Per source, the builds written: (pipeline, id, attempt, whether with stages), so a
        build whose stage times came a poll later is written again (only its stages are new)."""
        self._tests_written: dict[str, set[tuple[str, str, int]]] = {}
        self._tested: set[tuple[str, str]] = set()
        """(source, pipeline) pairs test runs were recorded for: their flakes are ranked even
        when no source shows that pipeline (a ``junit`` source shows none)."""
        self._cache_key: tuple[int, frozenset[tuple[str, str]]] | None = None
        self._cache = Facts()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._dirty: set[tuple[str, str]] = set()
        """(source, pipeline) pairs written since the last computation."""
        self._explained = 0
        """Bumps of ``History.generation`` by those writes (any other: compute everything)."""
        self._full_at: float | None = None
        self._write_problem: str | None = None
        """Why the last write failed, in words; ``None`` once one succeeds."""

    def record(self, source: str, result: SourceResult) -> int:
        """Write the finished builds of one poll that this run has not written yet."""
        seen = {
            (p.key, b.id, b.attempt, bool(b.stages)): b for p in result.pipelines for b in p.recent
        }
        with self._lock:
            new = [b for key, b in seen.items() if key not in self._written.get(source, set())]
        dirty = {(b.source, b.pipeline) for b in new}
        with self._write_lock:
            before = self.history.generation
            try:
                written = self.history.record_builds(new) if new else 0
                written += self._record_tests(source, result, dirty)
                pruned = self.history.prune() if written else 0
            except (sqlite3.Error, OSError) as exc:
                # Nothing is marked written: the next poll showing these builds tries again.
                where = self.history.path or "(in memory)"
                self._write_problem = (
                    f"history file {where} cannot be written now ({str(exc)[:80]}): "
                    "finished builds are not recorded until it can be"
                )
                raise
            self._write_problem = None
            bumps = self.history.generation - before
        with self._lock:
            # Only what the source still shows is remembered: the set stays as small as a poll.
            self._written[source] = set(seen)
            self._dirty |= dirty
            # Rows retention dropped may have been any pipeline's: not explained by ``dirty``.
            self._explained += bumps if not pruned else -(10**9)
        return written

    def _record_tests(self, source: str, result: SourceResult, dirty: set[tuple[str, str]]) -> int:
        runs = {(r.pipeline, r.build_id, r.attempt): r for r in result.test_runs}
        with self._lock:
            done = self._tests_written.setdefault(source, set())
            new = {key: run for key, run in runs.items() if key not in done}
            if len(done) > 10_000:
                # A radiator runs for weeks: start the memory afresh. Recording a run again
                # replaces its results, so the worst case is one rewrite, never a duplicate.
                done.clear()
        for key, run in new.items():
            # The run names its pipeline's source: a junit source may report for a pipeline
            # another source shows.
            self._tested.add((run.source, run.pipeline))
            dirty.add((run.source, run.pipeline))
            self.history.record_tests(
                run.source,
                run.pipeline,
                run.build_id,
                run.commit,
                run.results,
                build_attempt=run.attempt,
                at=run.finished_at,
            )
            with self._lock:
                done.add(key)  # only once written: a failed write is tried again
        return len(new)

    def refresh(self, keys: Iterable[tuple[str, str]]) -> bool:
        """Recompute the facts for these pipelines if anything changed; True if it did."""
        wanted = frozenset(keys) | self._tested
        generation = self.history.generation
        cache_key = (generation, wanted)
        delivered = self._refresh_delivery(generation)
        if cache_key == self._cache_key:
            if delivered:
                self._cache = dataclasses.replace(
                    self._cache, delivery=self._delivery, delivery_at=self._delivery_at
                )
            return delivered
        now = self.history.clock.monotonic()
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            explained, self._explained = self._explained, 0
        last = self._cache_key
        if (
            last is not None
            and last[1] == wanted
            and generation - last[0] == explained
            and self._full_at is not None
            and 0 <= now - self._full_at < FULL_EVERY
        ):
            self._cache = self._update(dirty & wanted, wanted)
        else:
            self._cache = self._compute(wanted)
            self._full_at = now
        self._cache_key = cache_key
        return True

    def _refresh_delivery(self, generation: int) -> bool:
        """Recompute the delivery measures if due (see ``DELIVERY_GAP``); True if it did. A
        store that fails here costs these measures (the last ones stay), never the rest."""
        now = self.history.clock.monotonic()
        with self._lock:  # the engine refreshes after each source's poll, maybe at once
            last = self._delivery_key
            if last is not None:
                since = now - last[1]
                due = since >= DELIVERY_EVERY or (generation != last[0] and since >= DELIVERY_GAP)
                if not due:
                    return False
            self._delivery_key = (generation, now)
        try:
            at = self.history.clock.now()
            facts = delivery_facts(self.history, now=at, windows=DELIVERY_WINDOWS, tz=self.tz)
            # Of the stage times, the estate's and each pipeline's dominant stage: a snapshot (every
            # screen, /metrics) stays as long as the pipelines, not pipelines x stages.
            self._delivery = tuple(dominant_only(facts))
            self._delivery_at = at
        except Exception:
            log.exception("computing the delivery measures from history failed")
            return False
        return True

    def current(self) -> Facts:
        """The last computed facts (never queries the store)."""
        return self._cache

    @property
    def notices(self) -> tuple[str, ...]:
        """What the store has to say in plain words (the file was damaged and moved aside), and
        the last write's failure while it lasts."""
        problem = self._write_problem
        return (*self.history.notices, *((problem,) if problem else ()))

    def _compute(self, keys: frozenset[tuple[str, str]]) -> Facts:
        per = {(source, key): self._facts_of(source, key) for source, key in keys - self._tested}
        return Facts(per, self._flaky(keys), self._delivery, self._delivery_at)

    def _update(
        self,
        changed: frozenset[tuple[str, str]] | set[tuple[str, str]],
        keys: frozenset[tuple[str, str]],
    ) -> Facts:
        """The last facts with those of the ``changed`` pipelines computed again."""
        per = dict(self._cache.per_pipeline)
        for source, key in set(changed) - self._tested:
            per[(source, key)] = self._facts_of(source, key)
        return Facts(per, self._flaky(keys), self._delivery, self._delivery_at)

    def _facts_of(self, source: str, key: str) -> PipelineFacts:
        h = self.history
        streak = h.red_streak(source, key)
        durations = h.durations(source, key)
        week, month = h.retry_share(source, key, 7), h.retry_share(source, key, 30)
        trend = h.trends(source, key, TREND_DAYS)
        return PipelineFacts(
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

    def _flaky(self, keys: frozenset[tuple[str, str]]) -> tuple[FlakyTestInfo, ...]:
        return tuple(self.history.flaky_tests(FLAKY_WINDOW_DAYS, FLAKY_LIMIT, only=list(keys)))
