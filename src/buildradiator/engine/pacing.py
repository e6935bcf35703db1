"""When each source is polled next: its interval with jitter, faster while builds are in flight,
spread out when its API host's quota runs low, and after an error with backoff (``Retry-After``
first, then the API's reset header, both as ``RateLimited.retry_at``, then exponential)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from buildradiator.clock import Clock
from buildradiator.config.loading import SourceBase
from buildradiator.engine.slots import Slot
from buildradiator.errors import RateLimited, SourceError
from buildradiator.sources.http import MAX_SERVER_WAIT, HostBudget, HttpClient

JITTER = 0.1
"""Each delay is stretched or shrunk by up to 10% so that sources drift apart."""
IN_FLIGHT_FACTOR = 3.0
"""While builds run, poll this many times more often (never under MIN_INTERVAL)."""
MIN_INTERVAL = 2.0
PUSH_GAP = 0.05
"""Seconds between the answer of a source the server pushes to and its next (waiting) request."""
MAX_BACKOFF = 600.0
RATE_LIMIT_BACKOFF = 60.0
"""Without Retry-After or a reset time, a rate-limited source waits 60 s, doubling (api-facts)."""
MAX_DELAY = 86400.0 * 1.2
"""No poll is ever scheduled further away than the longest interval, jitter included."""
LOW_QUOTA = 0.2
"""Below this share of its quota left, a host's sources are spread out until the reset."""


class Pacing:
    """The delays of the engine's sources (see the module docstring)."""

    def __init__(
        self,
        http: HttpClient,
        clock: Clock,
        rng: random.Random,
        slots: Mapping[str, Slot],
        url_of: Callable[[SourceBase], str],
    ) -> None:
        self.http = http
        self.clock = clock
        self.rng = rng
        self.slots = slots
        self.url_of = url_of

    def budget(self, slot: Slot) -> HostBudget:
        return self.http.budget(self.url_of(slot.config), slot.source.rate_headers)

    def jitter(self, delay: float) -> float:
        return delay * (1 + self.rng.uniform(-JITTER, JITTER))

    def success_delay(self, slot: Slot) -> float:
        if slot.source.pushes:
            return PUSH_GAP  # the next request waits at the server for the next change
        delay = slot.interval
        if slot.in_flight:
            delay = max(MIN_INTERVAL, min(delay, slot.interval / IN_FLIGHT_FACTOR))
        delay = max(delay, self.quota_delay(slot))
        return self.jitter(delay)

    def quota_delay(self, slot: Slot) -> float:
        """Spread the polls of every source on a host so its remaining quota lasts to the reset."""
        rate = self.budget(slot).rate
        if not rate or rate.remaining is None or not rate.limit or not rate.reset_at:
            return 0.0
        if rate.remaining > rate.limit * LOW_QUOTA:
            return 0.0
        until_reset = (rate.reset_at - self.clock.now()).total_seconds()
        # Every source on this budget gets the same gap, sized so that all of them together
        # (each costing what its polls cost) spend no more than what is left until the reset.
        budget = self.budget(slot)
        spend = sum(s.quota_cost for s in self.slots.values() if self.budget(s) is budget)
        # At most an hour: a reset time in the far future is a server's mistake, not a plan.
        return min(MAX_SERVER_WAIT, max(0.0, until_reset) * spend / max(1, rate.remaining))

    def error_delay(self, slot: Slot, exc: SourceError) -> float:
        if isinstance(exc, RateLimited):
            if exc.retry_at is not None:
                wait = (exc.retry_at - self.clock.now()).total_seconds()
                return min(max(MIN_INTERVAL, wait), MAX_SERVER_WAIT) + self.rng.uniform(0, 5)
            return self.jitter(min(RATE_LIMIT_BACKOFF * 2 ** (slot.failures - 1), 3600.0))
        return self.backoff(slot)

    def backoff(self, slot: Slot) -> float:
        base = max(MIN_INTERVAL, min(slot.interval, 30.0))
        return self.jitter(min(base * 2 ** (slot.failures - 1), max(MAX_BACKOFF, slot.interval)))
