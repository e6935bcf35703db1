"""The engine: schedules every source, keeps the last good data, publishes snapshots.

Textual-free asyncio. One ``HttpClient`` (one ``httpx.AsyncClient``) serves every source. Each
source is polled on its own interval with jitter, faster while it has builds in flight, later
when its API host's quota runs low, and after an error with backoff: ``Retry-After`` first, then
the API's reset header (both arrive as ``RateLimited.retry_at``), then exponential. A failing
source keeps its last good data (marked stale) and never delays the others.

The same engine serves the TUI (``run`` + ``poll_now``, the app's ``SnapshotFeed``), the one-shot
commands (``poll_all``) and the exports. What the views show beyond what the sources said comes
from its deriver (``rules.derive``); finished builds go to its recorder (``history.facts``); the
snapshot cache is written by a subscriber (``export.cache``). ``assemble.build_engine`` hands it
all three.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable
from datetime import timedelta

from buildradiator.clock import Clock
from buildradiator.config.loading import Config
from buildradiator.engine import pacing
from buildradiator.engine.ports import AsPolled, Deriver, Recorder, Subscriber
from buildradiator.engine.reuse import reuse
from buildradiator.engine.slots import Slot, cached_result, content, part_states
from buildradiator.errors import BadPayload, RateLimited, SourceError
from buildradiator.model import (
    Blocker,
    Deployment,
    Facts,
    Freshness,
    Pipeline,
    ReportedFlake,
    ServiceCheck,
    Snapshot,
    SourceResult,
    SourceState,
)
from buildradiator.sources.catalog import make_source, url_of
from buildradiator.sources.http import (
    HttpClient,
    counting,
    host_of,
    make_client,
)

__all__ = ["Engine", "Slot"]

log = logging.getLogger("buildradiator.engine.engine")


class Engine:
    """See the module docstring."""

    def __init__(
        self,
        config: Config,
        *,
        http: HttpClient | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        deriver: Deriver | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.config = config
        self.deriver: Deriver = deriver or AsPolled()
        """Turns what the sources said into what the views show (``rules.derive``)."""
        self.recorder = recorder
        """History: every finished build is recorded; red since, ETAs, trends come from it."""
        self._subscribers: list[Subscriber] = []
        self.clock = clock or (http.clock if http else Clock())
        self.http = http or HttpClient(make_client(), clock=self.clock)
        for unverified in (s for s in config.sources if not s.verify_tls):
            log.warning("TLS verification is off for source %s", unverified.name)
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.slots: dict[str, Slot] = {}
        self.pacing = pacing.Pacing(self.http, self.clock, self.rng, self.slots, url_of)
        for source_config in config.sources:
            # TLS verification is off only for the sources that say so, never for the rest.
            client = self.http if source_config.verify_tls else self.http.unverified()
            source = make_source(source_config, client)
            self.slots[source_config.name] = Slot(
                config=source_config,
                source=source,
                interval=config.interval_of(source_config),
                stale_after=config.stale_after_of(source_config),
                host=host_of(url_of(source_config)),
            )
        self._wake = asyncio.Event()
        self._stale_seen: frozenset[str] = frozenset()
        self._last: Snapshot | None = None

    def subscribe(self, call: Callable[[Snapshot], None], *, every: float | None = None) -> None:
        """Hand ``call`` every snapshot ``run`` publishes and, with ``every`` seconds, the
        current one at least that often even when nothing changed. A subscriber that raises
        costs its own work (logged), never the engine's."""
        self._subscribers.append(Subscriber(call, every))

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
            delay = pacing.MAX_BACKOFF
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
            delay = self.pacing.error_delay(slot, exc)
        except Exception as exc:  # a bug in our code must not stop the radiator either
            log.exception("source %s crashed", name)
            slot.error = SourceError(f"internal error ({type(exc).__name__}); see the log")
            slot.failures += 1
            delay = self.pacing.backoff(slot)
        else:
            result = slot.result = reuse(slot.result, result)
            slot.error = None
            slot.failures = 0
            slot.last_success = self.clock.now()
            slot.success_mono = self.clock.monotonic()
            slot.cached = False
            slot.quota_cost = 0.5 * slot.quota_cost + 0.5 * max(1, cost.quota)
            delay = self.pacing.success_delay(slot)
            await self._record(name, result)
        slot.rate = self.pacing.budget(slot).rate
        self._observe()
        return delay

    def _schedule(self, slot: Slot, delay: float) -> None:
        """Set the next poll ``delay`` seconds from now, the delay kept finite and at most
        MAX_DELAY whatever produced it."""
        if not math.isfinite(delay):
            delay = pacing.MAX_BACKOFF
        delay = min(max(0.0, delay), pacing.MAX_DELAY)
        slot.next_due = self.clock.monotonic() + delay
        slot.next_poll = self.clock.now() + timedelta(seconds=delay)

    async def poll_all(self) -> Snapshot:
        """Poll every source once, concurrently, and return the snapshot (one-shot commands)."""
        await asyncio.gather(*(self.poll_source(name) for name in self.slots))
        return self.snapshot()

    async def _record(self, name: str, result: SourceResult) -> None:
        """Write the poll's finished builds to history, off the event loop (SQLite blocks).
        A failing store costs the history facts, never the radiator."""
        if self.recorder is None:
            return
        try:
            await asyncio.to_thread(self.recorder.record, name, result)
            await self.refresh_facts()
        except Exception:
            log.exception("recording the builds of %s in history failed", name)

    async def refresh_facts(self) -> None:
        """Recompute history's facts in a worker thread when the store or the set of pipelines
        changed; snapshots then carry them. Cheap when nothing changed."""
        if self.recorder is None:
            return
        keys = [
            (p.source, p.key)
            for slot in self.slots.values()
            if slot.result is not None
            for p in slot.result.pipelines
        ]
        await asyncio.to_thread(self.recorder.refresh, keys)

    def poll_now(self) -> None:
        """Make every source due now (the ``r`` key)."""
        now = self.clock.monotonic()
        for slot in self.slots.values():
            if not isinstance(slot.error, RateLimited):
                slot.next_due = min(slot.next_due, now)
        self._wake.set()

    def poll_soon(self, name: str) -> bool:
        """A webhook says source ``name`` changed: poll it now (unless the server asked us to
        wait, or a poll is under way: its answer comes soon). ``False`` for an unknown name."""
        slot = self.slots.get(name)
        if slot is None:
            return False
        slot.webhook_at = self.clock.now()
        if not isinstance(slot.error, RateLimited):
            slot.next_due = min(slot.next_due, self.clock.monotonic())
            self._wake.set()
        return True

    def webhook_refused(self, name: str) -> None:
        """``serve`` refused a delivery for ``name``: counted in its state, for every screen,
        the document and ``check``."""
        slot = self.slots.get(name)
        if slot is not None:
            slot.webhook_refused += 1

    def reconcile_every(self, name: str, seconds: float) -> None:
        """Events arrive by webhook: poll ``name`` only every ``seconds`` to repair missed ones
        (or on its own interval, if that is longer)."""
        slot = self.slots[name]
        slot.webhook = True
        slot.interval = max(slot.interval, seconds)
        slot.stale_after = max(slot.stale_after, 3 * slot.interval + 60)

    def seed(self, snapshot: Snapshot) -> None:
        """Start from a cached snapshot: its data shows (stale by its age) until fresh data
        replaces it, source by source. Sources no longer in the config are dropped."""
        for state in snapshot.sources:
            slot = self.slots.get(state.name)
            if slot is None or slot.result is not None or state.last_success is None:
                continue
            slot.result = cached_result(snapshot, state.name)
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
            if self.recorder is not None:
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
                    elif self._subscribers_due():
                        self._notify(self.snapshot(), changed=False)
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
        changed = force or self._last is None or content(snapshot) != content(self._last)
        self._stale_seen = snapshot.stale_sources
        if changed:
            self._last = snapshot
            publish(snapshot)
        self._notify(snapshot, changed)

    def _notify(self, snapshot: Snapshot, changed: bool) -> None:
        """Hand the snapshot to the subscribers: each one when it changed, or when that
        subscriber wants the current one now and then (``subscribe(every=...)``)."""
        now = self.clock.monotonic()
        for subscriber in self._subscribers:
            if changed or subscriber.due(now):
                subscriber.last = now
                try:
                    subscriber.call(snapshot)
                except Exception:
                    log.exception("a subscriber to the snapshots failed")

    def _subscribers_due(self) -> bool:
        now = self.clock.monotonic()
        return any(s.due(now) for s in self._subscribers)

    def _stale_names(self) -> frozenset[str]:
        return frozenset(name for name, slot in self.slots.items() if self.is_stale(slot))

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- snapshot --------------------------------------------------------------------------

    def freshness(self, slot: Slot) -> Freshness:
        """The one definition of fresh (``Slot.freshness``), now."""
        return slot.freshness(self.clock.now(), self.clock.monotonic())

    def is_stale(self, slot: Slot) -> bool:
        """Not fresh, for any reason (``freshness``): never counts as green."""
        return self.freshness(slot) is not Freshness.FRESH

    def snapshot(self) -> Snapshot:
        """The snapshot every view shows: what the sources said (``collect``), derived."""
        raw, reported = self.collect()
        return self.deriver.derive(raw, reported)

    def collect(self) -> tuple[Snapshot, tuple[ReportedFlake, ...]]:
        """What the sources said, as polled, with each source's freshness and history's facts;
        and the tests the providers call flaky (folded into history's ranking when derived)."""
        pipelines: list[Pipeline] = []
        services: list[ServiceCheck] = []
        deployments: list[Deployment] = []
        blockers: list[Blocker] = []
        reported: list[ReportedFlake] = []
        states: list[SourceState] = []
        stale: set[str] = set()
        now, mono = self.clock.now(), self.clock.monotonic()
        for name, slot in self.slots.items():
            state = slot.state(name, now, mono)
            for one in (state, *part_states(state, slot.result)):
                states.append(one)
                if one.stale:
                    stale.add(one.name)
            if slot.result is not None:
                pipelines.extend(slot.result.pipelines)
                services.extend(slot.result.services)
                deployments.extend(slot.result.deployments)
                blockers.extend(slot.result.blockers)
                reported.extend(slot.result.flaky_reports)
        facts = self.recorder.current() if self.recorder is not None else Facts()
        delivery, delivery_at = facts.delivery, facts.delivery_at
        # Another radiator's measures (a radiator source's) cover its long history; ours here
        # would cover only what it sent since we started. The first source in the config wins.
        remote = next(
            (s.result for s in self.slots.values() if s.result and s.result.delivery), None
        )
        if remote is not None:
            delivery, delivery_at = remote.delivery, remote.delivery_at
        raw = Snapshot(
            taken_at=now,
            title=self.config.radiator.title,
            pipelines=tuple(pipelines),
            services=tuple(services),
            sources=tuple(states),
            stale_sources=frozenset(stale),
            facts=tuple(facts.per_pipeline.values()),
            flaky_tests=facts.flaky_tests,
            delivery=delivery,
            delivery_at=delivery_at,
            deployments=tuple(deployments),
            blockers=tuple(blockers),
            notices=tuple(self.recorder.notices) if self.recorder is not None else (),
        )
        return raw, tuple(reported)

    def _observe(self) -> None:
        """After each poll: the deriver watches every source's last good result (it remembers
        what no API says: when a service was first seen down, when the last window closed)."""
        results = [s.result for s in self.slots.values() if s.result is not None]
        self.deriver.observe(results, self.clock.now())
