"""What travels on the wire and how it is read: the answer a source gets, JSON and HTML bodies,
compressed bodies inflated in steps, credentials and which headers carry none, the words for a
connection that failed, and the one ``httpx`` client with its logs kept free of tokens."""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import logging
import re
import socket
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from buildradiator.errors import (
    BadPayload,
)
from buildradiator.model import RateInfo
from buildradiator.text import scrub_json
from buildradiator.urls import brief_url, redact


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


def connect_words(host: str, exc: Exception) -> str:
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
        return f"TLS failure talking to {host}: {short_error(exc)}"
    codes = {getattr(e, "errno", None) for e in chain}
    if codes & {errno.EHOSTUNREACH, errno.ENETUNREACH}:
        return f"cannot reach {host}: no route to host"
    return f"cannot reach {host}: {short_error(exc) or type(exc).__name__}"


def short_error(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text[:120]


MAX_REDIRECTS = 5


REDIRECTS = (301, 302, 303, 307, 308)


ACCEPT_ENCODING = "gzip, deflate"
"""What we can inflate as it streams (``Inflater``); nothing else is asked for."""


PLAIN_HEADERS = frozenset(
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


def carries_credentials(headers: httpx.Headers) -> bool:
    return any(name.lower() not in PLAIN_HEADERS for name in headers)


_UNSENDABLE = re.compile(r"[^\t\x20-\x7e]")
"""What no header value can carry: anything but printable ASCII and tab."""


def unsendable(headers: dict[str, str] | None) -> str | None:
    """Why a request cannot go out when a header value holds what HTTP cannot carry (not
    ASCII, a control, a line break), naming the header, never its value; else ``None``. It is
    the token: pasted with an accent or an invisible character, or a variable of two lines."""
    names = [name for name, value in (headers or {}).items() if _UNSENDABLE.search(value)]
    if not names:
        return None
    return (
        f"the {names[0]} header holds a line break, a control or a character that is not "
        "ASCII, which HTTP cannot carry: check the token (a second line, an accent or an "
        "invisible character copied with it)"
    )


def credential_digest(headers: httpx.Headers) -> str:
    secrets = sorted((k.lower(), v) for k, v in headers.items() if k.lower() not in PLAIN_HEADERS)
    return hashlib.sha256(repr(secrets).encode()).hexdigest()[:16] if secrets else ""


def next_link(response: Response) -> str | None:
    """The ``rel="next"`` URL of an answer's ``Link`` header (GitHub's and Buildkite's paging).
    The token goes along with every request: check its ``origin_of`` before following it."""
    link = httpx.Response(200, headers=response.headers).links.get("next")
    return (link.get("url") or None) if link else None


def basic_auth(username: str, password: str) -> str:
    """The ``Authorization`` value of HTTP Basic auth (RFC 7617, UTF-8)."""
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class Inflater:
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


def guard_httpx_logs() -> None:
    logger = logging.getLogger("httpx")
    if _REDACTING not in logger.filters:
        logger.addFilter(_REDACTING)


def make_client(*, verify: bool = True) -> httpx.AsyncClient:
    """The engine's shared client: HTTP/1.1 keep-alive. It follows no redirect by itself:
    ``HttpClient`` does, by its own policy (httpx would send custom credential headers along
    to another host). It keeps no cookie: every source authenticates by its own token, and
    one jar for all of them would send one user's session (Jenkins' ``JSESSIONID``) along with
    another source's requests to the same host."""
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        cookies=no_cookies,
        follow_redirects=False,
        verify=verify,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
    )
