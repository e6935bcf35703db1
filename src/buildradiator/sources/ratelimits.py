"""How an API says how much of its quota is left and when to come back: the rate headers each
API sends, ``Retry-After``, and the budget one host's requests share."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from buildradiator.errors import RateLimited
from buildradiator.model import RateInfo


@dataclass(frozen=True)
class RateHeaders:
    """How an API names its quota headers, and what its reset header counts."""

    name: str
    """The API family (``github``...), part of the rate budget's key."""
    prefix: str
    reset_is_epoch: bool = True
    """GitHub and GitLab send a unix time; Buildkite sends seconds left."""

    def parse(self, headers: httpx.Headers, now: datetime) -> RateInfo | None:
        def num(name: str) -> int | None:
            raw = headers.get(self.prefix + name)
            try:
                return int(float(raw)) if raw is not None else None
            except (ValueError, OverflowError):  # "nan", "inf", "1e999": no whole number
                return None

        limit, remaining, reset = num("limit"), num("remaining"), num("reset")
        if limit is None and remaining is None:
            return None
        reset_at = None
        if reset is not None:
            if self.reset_is_epoch:
                reset_at = epoch_time(reset, now)
            else:
                reset_at = later(now, reset)
        return RateInfo(limit=limit, remaining=remaining, reset_at=reset_at)


MAX_SERVER_WAIT = 3600.0
"""The longest wait a server can impose (``Retry-After``, a quota reset): one hour. A server
asking for more (a date in 9999, thirty digits of seconds) is asked again after an hour, and
the source's message says what it asked for."""


_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def epoch_time(seconds: float, now: datetime) -> datetime | None:
    """A unix time from a header as a datetime, ``None`` when it is none a calendar holds."""
    try:
        when = datetime.fromtimestamp(seconds, tz=now.tzinfo or UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return when


def later(now: datetime, seconds: float) -> datetime:
    """``now`` plus a number of seconds from a server, never past what a datetime can hold."""
    if not math.isfinite(seconds) or seconds > (_LATEST - now).total_seconds():
        return _LATEST
    return now + timedelta(seconds=max(0.0, seconds))


def clamp_wait(when: datetime, now: datetime) -> tuple[datetime, str]:
    """A server-given time to come back, at most ``MAX_SERVER_WAIT`` away, and the words that
    say so when it was cut (with the date when it is not today)."""
    if (when - now).total_seconds() <= MAX_SERVER_WAIT:
        return when, ""
    asked = f"{when:%H:%M:%S} UTC" if when.date() == now.date() else f"{when:%Y-%m-%d %H:%M} UTC"
    return now + timedelta(
        seconds=MAX_SERVER_WAIT
    ), f"; it asked to wait until {asked}: trying again in at most 1h"


GITHUB_RATE = RateHeaders("github", "x-ratelimit-")


GITLAB_RATE = RateHeaders("gitlab", "ratelimit-")


BUILDKITE_RATE = RateHeaders("buildkite", "ratelimit-", reset_is_epoch=False)


@dataclass
class HostBudget:
    """The quota of one API host, as its last answer described it."""

    rate: RateInfo | None = None
    blocked_until: datetime | None = None
    requests: int = 0
    not_modified: int = 0
    lock: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))


def retry_after(headers: httpx.Headers, now: datetime) -> tuple[datetime | None, str]:
    """When ``Retry-After`` says to come back (seconds or an HTTP date), and words for a wait
    too long to write as a date at all."""
    raw = headers.get("retry-after")
    if not raw:
        return None, ""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit():  # RFC 9110's DIGIT; isdigit alone takes "²" too
        seconds = float(raw) if len(raw) < 300 else math.inf
        if seconds > MAX_SERVER_WAIT:
            shown = raw if len(raw) <= 12 else raw[:12] + "…"
            return (
                now + timedelta(seconds=MAX_SERVER_WAIT),
                f"; it asked to wait {shown} s: trying again in at most 1h",
            )
        return now + timedelta(seconds=seconds), ""
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, ""
    return (when if when.tzinfo else when.replace(tzinfo=now.tzinfo)), ""


def rate_limited(
    host: str,
    status: int,
    budget: HostBudget,
    now: datetime,
    retry_at: datetime | None,
    asked: str = "",
    *,
    otherwise: str = "",
) -> RateLimited:
    """A rate-limited answer as the error that says so. With a time to come back (cut to at
    most ``MAX_SERVER_WAIT`` away), every source on the host then waits without touching the
    network; ``otherwise`` says what happens when the server named no time."""
    until = otherwise
    if retry_at is not None:
        retry_at, clamped = clamp_wait(retry_at, now)
        budget.blocked_until = retry_at
        until = f" until {retry_at.astimezone(UTC):%H:%M:%S} UTC{clamped or asked}"
    return RateLimited(f"rate limited by {host} (HTTP {status}){until}", retry_at=retry_at)


@dataclass
class RequestCount:
    """Requests one poll sent (see ``counting``): what it cost the API's quota."""

    sent: int = 0
    not_modified: int = 0
    copies: list[str] = field(default_factory=list)
    """Keys of the conditional-request copies the poll kept or re-used (``HttpClient.forget``)."""

    @property
    def quota(self) -> int:
        """Requests that count against a quota that does not charge for a 304 (GitHub)."""
        return self.sent - self.not_modified


COUNTING: ContextVar[RequestCount | None] = ContextVar("buildradiator_counting", default=None)


@contextmanager
def counting() -> Iterator[RequestCount]:
    """Count the requests sent inside this block (and the tasks it starts): the engine wraps
    each poll in it to learn what the poll cost, since one source may send many requests."""
    count = RequestCount()
    token = COUNTING.set(count)
    try:
        yield count
    finally:
        COUNTING.reset(token)
