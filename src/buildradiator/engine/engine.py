"""The engine: schedules every source, keeps the last good data, publishes snapshots.

Textual-free asyncio. One ``HttpClient`` (one ``httpx.AsyncClient``) serves every source. Each
source is polled on its own interval with jitter, faster while it has builds in flight, later
when its API host's quota runs low, and after an error with backoff: ``Retry-After`` first, then
the API's reset header (both arrive as ``RateLimited.retry_at``), then exponential. A failing
source keeps its last good data (marked stale) and never delays the others.

The same engine serves the TUI (``run`` + ``poll_now``, the app's ``SnapshotFeed``), the one-shot
commands (``poll_all``) and the exports.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from buildradiator.clock import Clock
from buildradiator.config.loading import Config, SourceBase
from buildradiator.engine.facts import Facts, HistoryFacts, merge_reported, with_eta, with_history
from buildradiator.errors import BadPayload, RateLimited, SourceError
from buildradiator.export.document import write_cache
from buildradiator.history import History
from buildradiator.model import (
    Blocker,
    BrokenWindow,
    Deployment,
    Freshness,
    Health,
    Pipeline,
    RateInfo,
    ServiceCheck,
    Snapshot,
    SourceResult,
    SourceState,
)
from buildradiator.rules import insights
from buildradiator.rules.deploywatch import DeployWatch
from buildradiator.rules.gate import release_gate
from buildradiator.rules.production import with_drift
from buildradiator.rules.targets import evaluate
from buildradiator.sources.catalog import make_source
from buildradiator.sources.base import Source
from buildradiator.sources.http import (
    MAX_SERVER_WAIT,
    HostBudget,
    HttpClient,
    counting,
    host_of,
    make_client,
)

log = logging.getLogger("buildradiator.engine.engine")

JITTER = 0.1
"""Each delay is stretched or shrunk by up to 10% so that sources drift apart."""
IN_FLIGHT_FACTOR = 3.0
"""While builds run, poll this many times more often (never under MIN_INTERVAL)."""
MIN_INTERVAL = 2.0
MAX_BACKOFF = 600.0
RATE_LIMIT_BACKOFF = 60.0
"""Without Retry-After or a reset time, a rate-limited source waits 60 s, doubling (api-facts)."""
CACHE_EVERY = 10.0
"""Seconds between rewrites of the snapshot cache when only freshness changed."""
MAX_DELAY = 86400.0 * 1.2
"""No poll is ever scheduled further away than the longest interval, jitter included."""
LOW_QUOTA = 0.2
"""Below this share of its quota left, a host's sources are spread out until the reset."""


@dataclass
class Slot:
    """What the engine knows about one source."""

    config: SourceBase
    source: Source[SourceBase]
    interval: float
    stale_after: float
    result: SourceResult | None = None
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    error: SourceError | None = None
    failures: int = 0
    next_due: float = 0.0
    next_poll: datetime | None = None
    host: str = ""
    rate: RateInfo | None = field(default=None)
    quota_cost: float = 1.0
    """Quota-counted requests per poll (moving average): a source may watch many repos."""
    cached: bool = False
    """``result`` is the last run's, from the snapshot cache: no poll of this run confirmed it."""

    @property
    def in_flight(self) -> bool:
        return bool(self.result and any(p.in_flight for p in self.result.pipelines))


class Engine:
    """See the module docstring."""

    def __init__(
        self,
        config: Config,
        *,
        http: HttpClient | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        cache_path: Path | None = None,
        history: History | None = None,
    ) -> None:
        self.config = config
        self.cache_path = cache_path
        self.facts = HistoryFacts(history) if history is not None else None
        """History: every finished build is recorded; red since, ETAs, trends come from it."""
        """Where each published snapshot is written, for ``status --format`` and a quick start."""
        self.clock = clock or (http.clock if http else Clock())
        self.http = http or HttpClient(make_client(), clock=self.clock)
        for unverified in (s for s in config.sources if not s.verify_tls):
            log.warning("TLS verification is off for source %s", unverified.name)
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.slots: dict[str, Slot] = {}
        for source_config in config.sources:
            # TLS verification is off only for the sources that say so, never for the rest.
            client = self.http if source_config.verify_tls else self.http.unverified()
            source = make_source(source_config, client)
            self.slots[source_config.name] = Slot(
                config=source_config,
                source=source,
                interval=config.interval_of(source_config),
                stale_after=config.stale_after_of(source_config),
                host=host_of(_url_of(source_config)),
            )
        self._groups = [(g.name, tuple(g.pipelines)) for g in config.groups]
        self._down_since: dict[tuple[str, str], datetime] = {}
        self._recovered_at: datetime | None = None
        self._was_broken = False
        self._wake = asyncio.Event()
        self._cache_written = -CACHE_EVERY
        self._stale_seen: frozenset[str] = frozenset()
        self._last: Snapshot | None = None
        self._watch = DeployWatch(timedelta(minutes=config.release.verify_minutes))

    # -- polling ---------------------------------------------------------------------------

    async def poll_source(self, name: str) -> None:
        """Poll one source now and schedule its next poll. Never raises (but on cancel): a
        source's failure is its error, and a failure of the bookkeeping around it (a bug, a
        server-given number no arithmetic survives) still schedules the next poll."""
        slot = self.slots[name]
        try:
            delay = await self._poll(name, slot)
        except Exception:
            log.exception("scheduling source %s failed", name)
            delay = MAX_BACKOFF
        self._schedule(slot, delay)

    async def _poll(self, name: str, slot: Slot) -> float:
        """Poll, keep the result or the error, and say how long until the next poll."""
        slot.last_attempt = self.clock.now()
        try:
            with counting() as cost:
                result = await slot.source.guarded_poll()
        except SourceError as exc:
            if isinstance(exc, BadPayload):
                self.http.forget(cost.copies)  # ask afresh next time, not "not modified"
            slot.error = exc
            slot.failures += 1
            log.info("source %s failed: %s", name, exc)
            delay = self._error_delay(slot, exc)
        except Exception as exc:  # a bug in our code must not stop the radiator either
            log.exception("source %s crashed", name)
            slot.error = SourceError(f"internal error ({type(exc).__name__}); see the log")
            slot.failures += 1
            delay = self._backoff(slot)
        else:
            slot.result = result
            slot.error = None
            slot.failures = 0
            slot.last_success = self.clock.now()
            slot.cached = False
            slot.quota_cost = 0.5 * slot.quota_cost + 0.5 * max(1, cost.quota)
            delay = self._success_delay(slot)
            await self._record(name, result)
        slot.rate = self._budget(slot).rate
        self._observe()
        return delay

    def _schedule(self, slot: Slot, delay: float) -> None:
        """Set the next poll ``delay`` seconds from now, the delay kept finite and at most
        MAX_DELAY whatever produced it."""
        if not math.isfinite(delay):
            delay = MAX_BACKOFF
        delay = min(max(0.0, delay), MAX_DELAY)
        slot.next_due = self.clock.monotonic() + delay
        slot.next_poll = self.clock.now() + timedelta(seconds=delay)

    async def poll_all(self) -> Snapshot:
        """Poll every source once, concurrently, and return the snapshot (one-shot commands)."""
        await asyncio.gather(*(self.poll_source(name) for name in self.slots))
        return self.snapshot()

    async def _record(self, name: str, result: SourceResult) -> None:
        """Write the poll's finished builds to history, off the event loop (SQLite blocks).
        A failing store costs the history facts, never the radiator."""
        if self.facts is None:
            return
        try:
            await asyncio.to_thread(self.facts.record, name, result)
            await self.refresh_facts()
        except Exception:
            log.exception("recording the builds of %s in history failed", name)

    async def refresh_facts(self) -> None:
        """Recompute history's facts in a worker thread when the store or the set of pipelines
        changed; snapshots then carry them. Cheap when nothing changed."""
        if self.facts is None:
            return
        keys = [
            (p.source, p.key)
            for slot in self.slots.values()
            if slot.result is not None
            for p in slot.result.pipelines
        ]
        await asyncio.to_thread(self.facts.refresh, keys)

    def poll_now(self) -> None:
        """Make every source due now (the ``r`` key)."""
        now = self.clock.monotonic()
        for slot in self.slots.values():
            if not isinstance(slot.error, RateLimited):
                slot.next_due = min(slot.next_due, now)
        self._wake.set()

    def seed(self, snapshot: Snapshot) -> None:
        """Start from a cached snapshot: its data shows (stale by its age) until fresh data
        replaces it, source by source. Sources no longer in the config are dropped."""
        for state in snapshot.sources:
            slot = self.slots.get(state.name)
            if slot is None or slot.result is not None or state.last_success is None:
                continue
            slot.result = SourceResult(
                pipelines=tuple(p for p in snapshot.pipelines if p.source == state.name),
                services=tuple(s for s in snapshot.services if s.source == state.name),
                deployments=tuple(d for d in snapshot.deployments if d.source == state.name),
                blockers=tuple(b for b in snapshot.blockers if b.source == state.name),
            )
            slot.last_success = state.last_success
            slot.cached = True
        self._observe()

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        """Poll forever, calling ``publish`` with each snapshot that differs from the last.

        Each source's answer is published as soon as it arrives: a slow source never holds
        back what the others already know.
        """
        if self._last is None:
            self._publish_if_changed(publish, force=True)
        try:
            if self.facts is not None:
                # Seeded data (from the cache) gets its history facts before the first poll;
                # a history that fails here costs those facts, never the radiator.
                try:
                    await self.refresh_facts()
                except Exception:
                    log.exception("reading history's facts failed")
                self._publish_if_changed(publish)
            while True:
                now = self.clock.monotonic()
                due = [name for name, slot in self.slots.items() if slot.next_due <= now]
                polls = [asyncio.ensure_future(self.poll_source(name)) for name in due]
                try:
                    for done in asyncio.as_completed(polls):
                        await done
                        self._publish_if_changed(publish)
                finally:
                    # Cancelled (the app quits, serve stops): no poll may outlive the client
                    # that is about to close under it.
                    pending = [p for p in polls if not p.done()]
                    for poll in pending:
                        poll.cancel()
                    if pending:
                        await asyncio.gather(*pending, return_exceptions=True)
                if not due:
                    # Woken only to see whether data went stale: building a whole snapshot to
                    # find out costs more than the question, so ask the question first.
                    stale = self._stale_names()
                    if stale != self._stale_seen:
                        self._publish_if_changed(publish)
                    elif self.cache_path is not None:
                        self._refresh_cache()
                await self._sleep_until_next()
        finally:
            # The client's connections belong to this loop: close them here, not later.
            await self.aclose()

    async def _sleep_until_next(self) -> None:
        now = self.clock.monotonic()
        next_due = min((s.next_due for s in self.slots.values()), default=now + 60)
        # Wake at least every 5 s so that staleness turns on even when nothing is polled.
        delay = max(0.0, min(next_due - now, 5.0))
        self._wake.clear()
        sleeper = asyncio.ensure_future(self.clock.sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    def _publish_if_changed(self, publish: Callable[[Snapshot], None], force: bool = False) -> None:
        snapshot = self.snapshot()
        changed = force or self._last is None or _content(snapshot) != _content(self._last)
        self._stale_seen = snapshot.stale_sources
        if changed:
            self._last = snapshot
            publish(snapshot)
        # The cache also serves `status --format tmux`, which wants it younger than one interval:
        # rewrite it now and then even when only the freshness moved (no publish for that).
        cache_due = self.clock.monotonic() - self._cache_written >= CACHE_EVERY
        if self.cache_path is not None and (snapshot.pipelines or snapshot.services):
            if changed or cache_due:
                write_cache(self.cache_path, snapshot)
                self._cache_written = self.clock.monotonic()

    def _stale_names(self) -> frozenset[str]:
        return frozenset(name for name, slot in self.slots.items() if self.is_stale(slot))

    def _refresh_cache(self) -> None:
        """Keep the cache younger than an interval for `status --format`, at most every
        CACHE_EVERY seconds, even while nothing is published."""
        if self.clock.monotonic() - self._cache_written >= CACHE_EVERY and self.cache_path:
            snapshot = self.snapshot()
            if snapshot.pipelines or snapshot.services:
                write_cache(self.cache_path, snapshot)
                self._cache_written = self.clock.monotonic()

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- scheduling ------------------------------------------------------------------------

    def _budget(self, slot: Slot) -> HostBudget:
        return self.http.budget(_url_of(slot.config), slot.source.rate_headers)

    def _jitter(self, delay: float) -> float:
        return delay * (1 + self.rng.uniform(-JITTER, JITTER))

    def _success_delay(self, slot: Slot) -> float:
        delay = slot.interval
        if slot.in_flight:
            delay = max(MIN_INTERVAL, min(delay, slot.interval / IN_FLIGHT_FACTOR))
        delay = max(delay, self._quota_delay(slot))
        return self._jitter(delay)

    def _quota_delay(self, slot: Slot) -> float:
        """Spread the polls of every source on a host so its remaining quota lasts to the reset."""
        rate = self._budget(slot).rate
        if not rate or rate.remaining is None or not rate.limit or not rate.reset_at:
            return 0.0
        if rate.remaining > rate.limit * LOW_QUOTA:
            return 0.0
        until_reset = (rate.reset_at - self.clock.now()).total_seconds()
        # Every source on this budget gets the same gap, sized so that all of them together
        # (each costing what its polls cost) spend no more than what is left until the reset.
        budget = self._budget(slot)
        spend = sum(s.quota_cost for s in self.slots.values() if self._budget(s) is budget)
        # At most an hour: a reset time in the far future is a server's mistake, not a plan.
        return min(MAX_SERVER_WAIT, max(0.0, until_reset) * spend / max(1, rate.remaining))

    def _error_delay(self, slot: Slot, exc: SourceError) -> float:
        if isinstance(exc, RateLimited):
            if exc.retry_at is not None:
                wait = (exc.retry_at - self.clock.now()).total_seconds()
                return min(max(MIN_INTERVAL, wait), MAX_SERVER_WAIT) + self.rng.uniform(0, 5)
            return self._jitter(min(RATE_LIMIT_BACKOFF * 2 ** (slot.failures - 1), 3600.0))
        return self._backoff(slot)

    def _backoff(self, slot: Slot) -> float:
        base = max(MIN_INTERVAL, min(slot.interval, 30.0))
        return self._jitter(min(base * 2 ** (slot.failures - 1), max(MAX_BACKOFF, slot.interval)))

    # -- snapshot --------------------------------------------------------------------------

    def freshness(self, slot: Slot) -> Freshness:
        """The one definition of fresh: this run has data, its last poll succeeded, and that
        was within the source's limit. Everything else is stale, for a reason."""
        if slot.last_success is None:
            return Freshness.WAITING
        if slot.cached:
            return Freshness.CACHED
        if slot.error is not None:
            return Freshness.STALE
        age = (self.clock.now() - slot.last_success).total_seconds()
        return Freshness.STALE if age > slot.stale_after else Freshness.FRESH

    def is_stale(self, slot: Slot) -> bool:
        """Not fresh, for any reason (``freshness``): never counts as green."""
        return self.freshness(slot) is not Freshness.FRESH

    def snapshot(self) -> Snapshot:
        now = self.clock.now()
        pipelines: list[Pipeline] = []
        services: list[ServiceCheck] = []
        deployments: list[Deployment] = []
        blockers: list[Blocker] = []
        reported = []
        states: list[SourceState] = []
        stale: set[str] = set()
        for name, slot in self.slots.items():
            freshness = self.freshness(slot)
            is_stale = freshness is not Freshness.FRESH
            if is_stale:
                stale.add(name)
            if slot.result is not None:
                names = slot.config.names
                pipelines.extend(
                    insights.label(insights.with_estimates(p), names, self._groups)
                    for p in slot.result.pipelines
                )
                services.extend(slot.result.services)
                deployments.extend(slot.result.deployments)
                blockers.extend(slot.result.blockers)
                reported.extend(slot.result.flaky_reports)
            states.append(
                SourceState(
                    name=name,
                    type=slot.config.type,  # type: ignore[attr-defined]
                    last_success=slot.last_success,
                    last_attempt=slot.last_attempt,
                    error=str(slot.error) if slot.error else None,
                    error_kind=slot.error.kind if slot.error else None,
                    stale=is_stale,
                    freshness=freshness,
                    next_poll=slot.next_poll,
                    rate=slot.rate,
                )
            )
        stale_sources = frozenset(stale)
        facts = self._facts()
        if facts.per_pipeline:
            pipelines = [with_eta(p, facts.per_pipeline.get((p.source, p.key))) for p in pipelines]
        if self.config.radiator.privacy:
            pipelines = [insights.anonymous(p) for p in pipelines]
        deployments = self._watch.judge(
            with_drift(deployments, pipelines),
            services,
            lambda c: self._down_since.get(insights.service_key(c)),
            now,
        )
        if self.config.radiator.privacy:
            deployments = [d.model_copy(update={"author": None}) for d in deployments]
            blockers = [b.model_copy(update={"author": None}) for b in blockers]
        broken = insights.broken_windows(
            pipelines, services, stale_sources, self._down_since, deployments
        )
        if facts.per_pipeline:
            broken = self._with_history(broken, facts)
        snapshot = Snapshot(
            taken_at=now,
            title=self.config.radiator.title,
            pipelines=insights.sort_pipelines(pipelines),
            services=tuple(services),
            sources=tuple(states),
            broken=broken,
            flaky=insights.flaky_summaries(pipelines),
            green_since=None if broken else insights.green_since(pipelines, self._recovered_at),
            stale_sources=stale_sources,
            facts=tuple(facts.per_pipeline.values()),
            flaky_tests=merge_reported(facts.flaky_tests, reported, now),
            deployments=tuple(deployments),
            blockers=tuple(blockers),
        )
        snapshot = snapshot.model_copy(
            update={
                "gate": release_gate(snapshot, self.config.release),
                "notices": tuple(self.facts.history.notices) if self.facts is not None else (),
            }
        )
        targets = evaluate(self.config.targets, snapshot, self.config.groups)
        return snapshot.model_copy(update={"targets": targets})

    def _facts(self) -> Facts:
        return self.facts.current() if self.facts is not None else Facts()

    def _with_history(
        self, broken: tuple[BrokenWindow, ...], facts: Facts
    ) -> tuple[BrokenWindow, ...]:
        windows = [with_history(w, facts.per_pipeline.get((w.source, w.key))) for w in broken]
        if self.config.radiator.privacy:
            windows = [w.model_copy(update={"author": None}) for w in windows]
        return tuple(sorted(windows, key=lambda w: w.since.timestamp() if w.since else 1e18))

    def _observe(self) -> None:
        """After each poll: remember what no API says, i.e. when each service was first seen
        down and when the last broken window closed."""
        now = self.clock.now()
        results = [s.result for s in self.slots.values() if s.result is not None]
        services = [c for r in results for c in r.services]
        down = set()
        for check in services:
            key = insights.service_key(check)
            if check.health is Health.DOWN and not check.muted:
                down.add(key)
                self._down_since.setdefault(key, check.checked_at or now)
        for key in list(self._down_since):
            if key not in down:
                del self._down_since[key]
        pipelines = [p for r in results for p in r.pipelines]
        broken = bool(down) or any(insights.red_streak(p) for p in pipelines)
        if self._was_broken and not broken:
            self._recovered_at = now
        self._was_broken = broken


def _url_of(config: SourceBase) -> str:
    """The API base a source talks to (its rate budget is that host's)."""
    return str(
        getattr(config, "api_url", None)
        or getattr(config, "url", None)
        or getattr(config, "api_base", "")
    )


def _content(snapshot: Snapshot) -> Snapshot:
    """The snapshot without the fields that change on every poll even when nothing happened.

    A successful poll that found nothing new changes only ``last_success``: that is not worth a
    publish (and a redraw of every panel). Whether a source is fresh is still published: its
    ``stale`` flag and ``error`` are part of the content, and the views show a healthy source
    without an age.
    """
    return snapshot.model_copy(
        update={
            "taken_at": snapshot.taken_at.replace(year=2000),
            "sources": tuple(
                s.model_copy(
                    update={
                        "last_attempt": None,
                        "next_poll": None,
                        "rate": None,
                        "last_success": None if s.error is None and not s.stale else s.last_success,
                    }
                )
                for s in snapshot.sources
            ),
        }
    )
