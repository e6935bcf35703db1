"""The one way sources talk HTTP.

``HttpClient.get`` wraps one shared ``httpx.AsyncClient`` and adds what every source needs and
none should write again:

- conditional requests: the last ``ETag``/``Last-Modified`` per URL is sent back, and a 304 is
  answered from our copy of the last body (GitHub does not count a 304 against the quota);
- one rate budget per API host: the quota headers are read on every answer, and once a host says
  "no more until T" every request to it fails fast with ``RateLimited`` until T, without touching
  the network;
- a hard deadline for the whole exchange (a server that drips one byte a second still ends) and a
  cap on the body size;
- every failure turned into a ``SourceError`` in plain words, with tokens redacted from URLs.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import hashlib
import json
import logging
import math
import socket
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from buildradiator.clock import Clock
from buildradiator.errors import (
    AuthFailed,
    BadPayload,
    NotFound,
    RateLimited,
    ServerError,
    SourceError,
    Timeout,
    Unreachable,
)
from buildradiator.model import RateInfo
from buildradiator.text import scrub_json
from buildradiator.urls import brief_url, host_of, origin_of, redact

__all__ = ["brief_url", "host_of", "redact"]

MAX_BODY = 10 * 1024 * 1024
USER_AGENT = "buildradiator (+https://github.com/buildradiator/buildradiator)"


class _RedactingFilter(logging.Filter):
    """httpx logs every request URL at INFO; a URL may carry a token in its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(str(arg)) if isinstance(arg, httpx.URL | str) and "://" in str(arg) else arg
                for arg in record.args
            )
        return True


_REDACTING = _RedactingFilter()


def _guard_httpx_logs() -> None:
    logger = logging.getLogger("httpx")
    if _REDACTING not in logger.filters:
        logger.addFilter(_REDACTING)


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
            except ValueError:
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


@dataclass(frozen=True)
class Response:
    """A complete answer (or our copy of it, after a 304)."""

    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes
    not_modified: bool = False
    """True when the server said 304 and ``content`` is our copy of the last body."""
    elapsed_ms: float = 0.0
    rate: RateInfo | None = None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, every string scrubbed (``text.scrub``), or ``BadPayload`` saying
        in words what came instead."""
        return decode_json(self.content, self.url)


def decode_json(content: bytes | str, url: str = "") -> Any:
    """A JSON document from a server, every string scrubbed of what no screen, file or feed can
    hold (``text.scrub_json``), or ``BadPayload`` in words."""
    where = f" ({brief_url(url)})" if url else ""
    raw = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    if looks_like_html(raw):
        raise BadPayload(f"answered with an HTML page where JSON was expected{where}")
    try:
        text = raw.decode(json.detect_encoding(raw))
        text = text.removeprefix("\ufeff")
        return scrub_json(text, json.loads(text))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        if not raw.strip():
            raise BadPayload(f"answered with an empty body{where}") from None
        raise BadPayload(
            f"answered with invalid JSON ({type(exc).__name__}: truncated or not JSON)"
        ) from None


def looks_like_html(content: bytes) -> bool:
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


@dataclass
class _Cached:
    etag: str | None
    last_modified: str | None
    content: bytes
    headers: httpx.Headers


@dataclass
class HostBudget:
    """The quota of one API host, as its last answer described it."""

    rate: RateInfo | None = None
    blocked_until: datetime | None = None
    requests: int = 0
    not_modified: int = 0
    lock: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))


@dataclass
class RequestCount:
    """Requests one poll sent (see ``counting``): what it cost the API's quota."""

    sent: int = 0
    not_modified: int = 0
    copies: list[str] = field(default_factory=list)
    """Keys of the conditional-request copies the poll kept or re-used (see ``forget``)."""

    @property
    def quota(self) -> int:
        """Requests that count against a quota that does not charge for a 304 (GitHub)."""
        return self.sent - self.not_modified


_COUNTING: ContextVar[RequestCount | None] = ContextVar("buildradiator_counting", default=None)


@contextmanager
def counting() -> Iterator[RequestCount]:
    """Count the requests sent inside this block (and the tasks it starts): the engine wraps
    each poll in it to learn what the poll cost, since one source may send many requests."""
    count = RequestCount()
    token = _COUNTING.set(count)
    try:
        yield count
    finally:
        _COUNTING.reset(token)


class HttpClient:
    """Shared by all sources of one engine. See the module docstring."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        clock: Clock | None = None,
        max_body: int = MAX_BODY,
        cache_entries: int = 4096,
    ) -> None:
        self.client = client or make_client()
        _guard_httpx_logs()
        self.clock = clock or Clock()
        self.max_body = max_body
        self.budgets: dict[str, HostBudget] = {}
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_entries = cache_entries
        self._unverified: HttpClient | None = None

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._unverified is not None:
            await self._unverified.client.aclose()

    def unverified(self) -> HttpClient:
        """A sibling that skips TLS verification, for the sources that ask for it (and only
        them). It shares the rate budgets and the conditional-request cache with this one."""
        if self._unverified is None:
            sibling = HttpClient(
                make_client(verify=False), clock=self.clock, max_body=self.max_body
            )
            sibling.budgets, sibling._cache = self.budgets, self._cache
            sibling._cache_entries = self._cache_entries
            self._unverified = sibling
        return self._unverified

    def budget(self, url: str, api: RateHeaders | None = None) -> HostBudget:
        """The quota of one API on one host. Keyed by host *and* API family, since one host
        may serve several APIs (a proxy, the simulator) whose quotas have nothing in common."""
        key = host_of(url) + "|" + (api.name if api else "")
        budget = self.budgets.get(key)
        if budget is None:
            budget = self.budgets[key] = HostBudget()
        return budget

    async def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float = 10.0,
        rate_headers: RateHeaders | None = None,
        conditional: bool = False,
        verify_ok: tuple[int, ...] = (200,),
    ) -> Response:
        """GET ``url`` and return a complete answer whose status is in ``verify_ok``.

        Any other outcome raises a ``SourceError``. With ``conditional=True`` the validators of the
        last answer are sent along and a 304 returns our copy of that answer. ``timeout`` covers
        the whole exchange: the wait for a free connection to the host, every redirect, the body.
        """
        request = self.client.build_request(
            "GET", url, params=params, headers=headers or {}, timeout=timeout
        )
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        if auth:
            request.headers["Authorization"] = basic_auth(*auth)
        shown = redact(str(request.url))
        host = request.url.host
        budget = self.budget(str(request.url), rate_headers)
        now = self.clock.now()
        if budget.blocked_until and now < budget.blocked_until:
            raise RateLimited(
                f"rate limited by {host} until {budget.blocked_until:%H:%M:%S} UTC",
                retry_at=budget.blocked_until,
            )
        # Two sources may poll one URL with different credentials: key the copy on all of them
        # (hashed, so no token sits in the key).
        cache_key = str(request.url) + "|" + _credential_digest(request.headers)
        cached = self._cache.get(cache_key) if conditional else None
        if cached:
            if cached.etag:
                request.headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                request.headers["If-Modified-Since"] = cached.last_modified

        started = self.clock.monotonic()
        loop = asyncio.get_running_loop()
        asked, slot_at = loop.time(), None
        count = _COUNTING.get()
        try:
            async with asyncio.timeout(timeout):
                async with budget.lock:
                    slot_at = loop.time()
                    budget.requests += 1
                    if count is not None:
                        count.sent += 1
                    status, resp_headers, content = await self._exchange(request, timeout)
        except TimeoutError:
            waited = (slot_at if slot_at is not None else loop.time()) - asked
            queue = (
                f" ({waited:.1f}s of it waiting for a free connection to {host})"
                if waited >= timeout / 4
                else ""
            )
            raise Timeout(f"no complete answer from {host} within {timeout:g}s{queue}") from None
        except SourceError:
            raise
        except httpx.TimeoutException:
            raise Timeout(f"no answer from {host} within {timeout:g}s") from None
        except httpx.ConnectError as exc:
            raise Unreachable(_connect_words(host, exc)) from None
        except httpx.RemoteProtocolError:
            raise Unreachable(f"{host} closed the connection without a complete answer") from None
        except httpx.DecodingError:
            raise BadPayload(f"answer from {host} could not be decoded") from None
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach {host}: {type(exc).__name__}") from None
        except httpx.InvalidURL:
            raise Unreachable(f"invalid URL {brief_url(shown)}") from None
        except (httpx.HTTPError, httpx.StreamError) as exc:
            raise SourceError(f"cannot read {host}: {_short(exc) or type(exc).__name__}") from None
        except (OverflowError, ValueError, UnicodeError) as exc:
            # What a malformed answer makes the HTTP stack raise (a length no integer holds,
            # a header no codec reads): the server's fault, in words.
            raise BadPayload(
                f"answer from {host} could not be read ({type(exc).__name__})"
            ) from None
        elapsed_ms = (self.clock.monotonic() - started) * 1000
        now = self.clock.now()
        rate = rate_headers.parse(resp_headers, now) if rate_headers else None
        if rate:
            budget.rate = rate

        if status == 304 and cached:
            budget.not_modified += 1
            if count is not None:
                count.not_modified += 1
            self._cache.move_to_end(cache_key)
            if count is not None:
                count.copies.append(cache_key)
            return Response(shown, 200, cached.headers, cached.content, True, elapsed_ms, rate)
        if status in verify_ok:
            # Only successful answers are worth re-using after a 304.
            validators = resp_headers.get("etag") or resp_headers.get("last-modified")
            if conditional and 200 <= status < 300 and validators:
                self._remember(cache_key, resp_headers, content)
                if count is not None:
                    count.copies.append(cache_key)
            return Response(shown, status, resp_headers, content, False, elapsed_ms, rate)
        raise self._error(status, resp_headers, content, shown, host, rate, budget)

    async def _exchange(
        self, request: httpx.Request, timeout: float
    ) -> tuple[int, httpx.Headers, bytes]:
        """Send ``request`` and follow its redirects by our policy: within its origin with
        everything it carries; to another origin only when it carries no credential, and then
        with nothing of ours; never more than ``MAX_REDIRECTS`` times."""
        origin = origin_of(str(request.url))
        credentialed = _carries_credentials(request.headers)
        for _ in range(MAX_REDIRECTS + 1):
            status, headers, content = await self._send(request)
            location = headers.get("location")
            if status not in _REDIRECTS or not location:
                return status, headers, content
            host = request.url.host
            try:
                target = request.url.join(location)
            except httpx.InvalidURL:
                raise BadPayload(f"{host} redirected to an invalid URL") from None
            if target.scheme not in ("http", "https"):
                raise SourceError(f"{host} redirected to a URL that is not http(s)")
            if origin_of(str(target)) == origin:
                kept = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            elif credentialed:
                raise SourceError(
                    f"{host} redirected to {brief_url(str(target))} (another origin): not "
                    "followed, the request carries credentials; if that is where the API "
                    "lives, put it in the source's url"
                )
            else:
                kept = {k: v for k, v in request.headers.items() if k.lower() in _PLAIN_HEADERS}
                origin = origin_of(str(target))
            request = self.client.build_request("GET", target, headers=kept, timeout=timeout)
        raise SourceError(f"too many redirects from {request.url.host} (more than {MAX_REDIRECTS})")

    async def _send(self, request: httpx.Request) -> tuple[int, httpx.Headers, bytes]:
        """One request; the body inflated as it streams, capped, never inflated in one go."""
        host = request.url.host
        response = await self.client.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body:
                raise BadPayload(
                    f"answer from {host} is larger than {self.max_body // 1024} KiB "
                    f"({int(declared) // 1024} KiB)"
                )
            if response.is_stream_consumed:
                # An answer built in memory (httpx.MockTransport's): already whole and decoded.
                if len(response.content) > self.max_body:
                    raise BadPayload(
                        f"answer from {host} is larger than {self.max_body // 1024} KiB"
                    )
                return response.status_code, response.headers, response.content
            inflater = _Inflater(response.headers.get("content-encoding", ""), host)
            chunks: list[bytes] = []
            size = 0
            async for raw in response.aiter_raw():
                for piece in inflater.feed(raw):
                    size += len(piece)
                    if size > self.max_body:
                        raise BadPayload(
                            f"answer from {host} is larger than {self.max_body // 1024} KiB"
                        )
                    chunks.append(piece)
                    if len(piece) >= _Inflater.STEP:
                        await asyncio.sleep(0)  # a big answer never holds the loop
            return response.status_code, response.headers, b"".join(chunks)
        finally:
            await response.aclose()

    def forget(self, keys: list[str]) -> None:
        """Drop these copies: a poll could not read what they hold, and a 304 to their
        validators must not hand the same unreadable body back forever."""
        for key in keys:
            self._cache.pop(key, None)

    def _remember(self, key: str, headers: httpx.Headers, content: bytes) -> None:
        etag, modified = _validator(headers.get("etag")), _validator(headers.get("last-modified"))
        if etag is None and modified is None:
            return  # nothing we could send back
        self._cache[key] = _Cached(etag, modified, content, headers)
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)

    def _error(
        self,
        status: int,
        headers: httpx.Headers,
        content: bytes,
        shown: str,
        host: str,
        rate: RateInfo | None,
        budget: HostBudget,
    ) -> SourceError:
        now = self.clock.now()
        retry_at, asked = retry_after(headers, now)
        quota_spent = rate is not None and rate.remaining == 0
        body = content[:2000].decode("utf-8", errors="replace").lower()
        if status == 429 or (
            status == 403 and (quota_spent or retry_at is not None or "rate limit" in body)
        ):
            if retry_at is None and quota_spent and rate and rate.reset_at:
                retry_at = rate.reset_at
            if retry_at is not None:
                retry_at, clamped = clamp_wait(retry_at, now)
                asked = clamped or asked
                budget.blocked_until = retry_at
                until = f" until {retry_at:%H:%M:%S} UTC{asked}"
            else:
                until = asked
            return RateLimited(f"rate limited by {host} (HTTP {status}){until}", retry_at=retry_at)
        if status == 401:
            return AuthFailed(f"{host} refused the credentials (HTTP 401): token missing or wrong")
        if status == 403:
            return AuthFailed(f"{host} denied access (HTTP 403): the token lacks permission")
        if status == 404:
            return NotFound(f"not found (HTTP 404): {brief_url(shown)}")
        what = " (an HTML error page)" if looks_like_html(content) else ""
        if status >= 500:
            return ServerError(f"server error from {host} (HTTP {status}){what}")
        return SourceError(f"unexpected answer from {host} (HTTP {status}){what}")


def retry_after(headers: httpx.Headers, now: datetime) -> tuple[datetime | None, str]:
    """When ``Retry-After`` says to come back (seconds or an HTTP date), and words for a wait
    too long to write as a date at all."""
    raw = headers.get("retry-after")
    if not raw:
        return None, ""
    raw = raw.strip()
    if raw.isdigit():
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


def _connect_words(host: str, exc: Exception) -> str:
    """Plain words for a failed connection. httpx often says only "All connection attempts
    failed": the real reason (refused, DNS, unreachable) is further down the exception chain."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        words in text
        for words in (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo",
            "name resolution",
            "no address associated",
        )
    ):
        return f"cannot resolve host {host} (DNS)"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return f"cannot reach {host}: connection refused"
    if "ssl" in text or "certificate" in text or "tls" in text:
        return f"TLS failure talking to {host}: {_short(exc)}"
    codes = {getattr(e, "errno", None) for e in chain}
    if codes & {errno.EHOSTUNREACH, errno.ENETUNREACH}:
        return f"cannot reach {host}: no route to host"
    return f"cannot reach {host}: {_short(exc) or type(exc).__name__}"


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text[:120]


MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
ACCEPT_ENCODING = "gzip, deflate"
"""What we can inflate as it streams (``_Inflater``); nothing else is asked for."""
_PLAIN_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "host",
        "if-modified-since",
        "if-none-match",
        "user-agent",
        "x-github-api-version",
    }
)
"""Headers that say nothing about who asks. Any other header (``Authorization``, GitLab's
``PRIVATE-TOKEN``, CircleCI's ``Circle-Token``, a health check's configured headers) is treated
as a credential: it never leaves the origin it was meant for."""


def _validator(value: str | None) -> str | None:
    """A validator as it can be sent back: printable ASCII (a header value httpx can encode),
    else none (a server's ``ETag: "caf\xe9"`` made every later request fail to build)."""
    return value if value and value.isascii() and value.isprintable() else None


def _carries_credentials(headers: httpx.Headers) -> bool:
    return any(name.lower() not in _PLAIN_HEADERS for name in headers)


def _credential_digest(headers: httpx.Headers) -> str:
    secrets = sorted((k.lower(), v) for k, v in headers.items() if k.lower() not in _PLAIN_HEADERS)
    return hashlib.sha256(repr(secrets).encode()).hexdigest()[:16] if secrets else ""


def basic_auth(username: str, password: str) -> str:
    """The ``Authorization`` value of HTTP Basic auth (RFC 7617, UTF-8)."""
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class _Inflater:
    """A body's ``Content-Encoding`` undone as it streams, ``STEP`` bytes at a time: a few KiB
    of gzip that inflate to gigabytes are stopped by the size cap after at most ``STEP`` more
    bytes. One coding only: a stacked one (``gzip, gzip``) is refused, as is one we never
    asked for."""

    STEP = 256 * 1024

    def __init__(self, header: str, host: str) -> None:
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        self.host = host
        if len(codings) > 1:
            raise BadPayload(f"answer from {host} uses stacked encodings ({header}): refused")
        self.coding = codings[0] if codings else None
        if self.coding not in (None, "gzip", "x-gzip", "deflate"):
            raise BadPayload(f"answer from {host} uses an encoding we did not ask for ({header})")
        self._fresh = True
        self._z = self._new()

    def _new(self, raw_deflate: bool = False) -> Any:
        if self.coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.coding is None:
            if data:
                yield data
            return
        while data:
            try:
                out = self._z.decompress(data, self.STEP)
            except zlib.error:
                if self.coding == "deflate" and self._fresh:
                    # Some servers send raw deflate without the zlib wrapper the RFC asks for.
                    self._fresh, self._z = False, self._new(raw_deflate=True)
                    continue
                raise BadPayload(f"answer from {self.host} could not be decoded") from None
            self._fresh = False
            rest = self._z.unconsumed_tail
            if self._z.eof:
                rest = self._z.unused_data
                # Another gzip member may follow; anything else after the end is ignored.
                if not rest.startswith(b"\x1f\x8b"):
                    rest = b""
                self._z = self._new()
            if out:
                yield out
            elif rest == data:
                return
            data = rest


def make_client(*, verify: bool = True) -> httpx.AsyncClient:
    """The engine's shared client: HTTP/1.1 keep-alive. It follows no redirect by itself:
    ``HttpClient`` does, by its own policy (httpx would send custom credential headers along
    to another host)."""
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        verify=verify,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
    )
