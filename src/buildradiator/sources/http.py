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

Quotas live in ``ratelimits``, what travels (answers, bodies, credentials) in ``wire``; their
public names are re-exported here, the one door of the HTTP layer.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
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
from buildradiator.sources.ratelimits import (
    BUILDKITE_RATE,
    COUNTING,
    GITHUB_RATE,
    GITLAB_RATE,
    MAX_SERVER_WAIT,
    HostBudget,
    RateHeaders,
    clamp_wait,
    counting,
    epoch_time,
    later,
    rate_limited,
    retry_after,
)
from buildradiator.sources.wire import (
    ACCEPT_ENCODING,
    MAX_REDIRECTS,
    PLAIN_HEADERS,
    REDIRECTS,
    Inflater,
    Response,
    basic_auth,
    carries_credentials,
    connect_words,
    credential_digest,
    decode_json,
    guard_httpx_logs,
    looks_like_html,
    make_client,
    next_link,
    short_error,
    unsendable,
)
from buildradiator.urls import brief_url, host_of, origin_of, redact

__all__ = [
    "BUILDKITE_RATE",
    "GITHUB_RATE",
    "GITLAB_RATE",
    "MAX_SERVER_WAIT",
    "HostBudget",
    "HttpClient",
    "RateHeaders",
    "Response",
    "basic_auth",
    "brief_url",
    "clamp_wait",
    "counting",
    "decode_json",
    "epoch_time",
    "host_of",
    "later",
    "looks_like_html",
    "make_client",
    "next_link",
    "rate_limited",
    "redact",
    "retry_after",
]

MAX_BODY = 10 * 1024 * 1024


@dataclass
class _Cached:
    etag: str | None
    last_modified: str | None
    content: bytes
    headers: httpx.Headers


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
        guard_httpx_logs()
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
        method: str = "GET",
        content: bytes | None = None,
    ) -> Response:
        """GET ``url`` and return a complete answer whose status is in ``verify_ok``.

        Any other outcome raises a ``SourceError``. With ``conditional=True`` the validators of the
        last answer are sent along and a 304 returns our copy of that answer. ``timeout`` covers
        the whole exchange: the wait for a free connection to the host, every redirect, the body.
        """
        problem = unsendable(headers)  # said before httpx or h11 quote the value in an error
        if problem is not None:
            raise SourceError(problem)
        request = self.client.build_request(
            method, url, params=params, headers=headers or {}, content=content, timeout=timeout
        )
        conditional = conditional and method == "GET"
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
        cache_key = str(request.url) + "|" + credential_digest(request.headers)
        cached = self._cache.get(cache_key) if conditional else None
        if cached:
            if cached.etag:
                request.headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                request.headers["If-Modified-Since"] = cached.last_modified

        started = self.clock.monotonic()
        loop = asyncio.get_running_loop()
        asked, slot_at = loop.time(), None
        count = COUNTING.get()
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
            raise Unreachable(connect_words(host, exc)) from None
        except httpx.RemoteProtocolError:
            raise Unreachable(f"{host} closed the connection without a complete answer") from None
        except httpx.DecodingError:
            raise BadPayload(f"answer from {host} could not be decoded") from None
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach {host}: {type(exc).__name__}") from None
        except httpx.InvalidURL:
            raise Unreachable(f"invalid URL {brief_url(shown)}") from None
        except (httpx.HTTPError, httpx.StreamError) as exc:
            raise SourceError(
                f"cannot read {host}: {short_error(exc) or type(exc).__name__}"
            ) from None
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
                count.copies.append(cache_key)
            self._cache.move_to_end(cache_key)
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
        credentialed = carries_credentials(request.headers)
        for _ in range(MAX_REDIRECTS + 1):
            status, headers, content = await self._send(request)
            location = headers.get("location")
            if status not in REDIRECTS or not location:
                return status, headers, content
            host = request.url.host
            try:
                target = request.url.join(location)
            except httpx.InvalidURL:
                raise BadPayload(f"{host} redirected to an invalid URL") from None
            if request.method != "GET":
                raise SourceError(
                    f"{host} redirected a {request.method} to {brief_url(str(target))}: not "
                    "followed; put the address it names in the source's config"
                )
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
                kept = {k: v for k, v in request.headers.items() if k.lower() in PLAIN_HEADERS}
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
            inflater = Inflater(response.headers.get("content-encoding", ""), host)
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
                    if len(piece) >= Inflater.STEP:
                        await asyncio.sleep(0)  # a big answer never holds the loop
            return response.status_code, response.headers, b"".join(chunks)
        finally:
            await response.aclose()

    def forget(self, keys: list[str]) -> None:
        """Drop copies a poll could not read: a 304 must not hand them back forever."""
        for key in keys:
            self._cache.pop(key, None)

    def _remember(self, key: str, headers: httpx.Headers, content: bytes) -> None:
        etag, modified = _validator(headers.get("etag")), _validator(headers.get("last-modified"))
        if etag is None and modified is None:
            return
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
            return rate_limited(host, status, budget, now, retry_at, asked)
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


def _validator(value: str | None) -> str | None:
    """A validator httpx can send back (printable ASCII), else none: ``ETag: "caf\xe9"``."""
    return value if value and value.isascii() and value.isprintable() else None
