"""What keeps one bad client of ``buildradiator serve`` from costing the engine or the other
screens anything: per-address token buckets, a cap on open connections, and a reaper for
connections whose answer nobody reads.

aiohttp already covers the rest (see ``Limits``): its parser refuses oversized request lines and
headers, and its keep-alive timer, armed from the moment a connection opens, closes one that has
not finished a request in time (a client trickling its request line byte by byte included).
"""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from buildradiator.instance import ID, INSTANCE_HEADER


@dataclass(frozen=True)
class Limits:
    """The knobs; the defaults suit a few hundred screens polling every few seconds."""

    rate: float = 20.0
    """Requests per second each remote address may make, on average..."""
    burst: int = 40
    """...and at once (a browser loading the page fetches a dozen files together)."""
    max_clients: int = 200
    """Connections open at once; one more is answered 503 and closed."""
    keepalive: float = 15.0
    """Seconds a connection may sit without a finished request (also from its opening)."""
    write_timeout: float = 30.0
    """Seconds an answer may sit unread in the send buffer before the connection is cut."""
    max_line_size: int = 8190
    max_field_size: int = 8190
    max_headers: int = 64
    shutdown_timeout: float = 2.0


class TokenBuckets:
    """One token bucket per remote address: ``take`` says 0 when a request may go, else the
    seconds until it could (the ``Retry-After``). Memory stays bounded: full buckets carry no
    information and are forgotten once the table grows."""

    MAX_ADDRESSES = 10_000

    def __init__(self, rate: float, burst: int, monotonic: Callable[[], float]) -> None:
        self.rate, self.burst = rate, float(burst)
        self._now = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, address: str) -> float:
        now = self._now()
        tokens, last = self._buckets.get(address, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[address] = (tokens - 1.0, now)
            if len(self._buckets) > self.MAX_ADDRESSES:
                self._forget_full(now)
            return 0.0
        self._buckets[address] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        for address, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= self.burst:
                del self._buckets[address]

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


_REFUSAL_BODY = b"too many connections to this radiator; try again shortly\n"
_REFUSAL = (
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Retry-After: 5\r\n"
    "Cache-Control: no-cache\r\n"
    f"{INSTANCE_HEADER}: {ID}\r\n"
    "Connection: close\r\n"
    f"Content-Length: {len(_REFUSAL_BODY)}\r\n"
    "\r\n"
).encode() + _REFUSAL_BODY


class _Refuse(asyncio.Protocol):
    """A connection beyond the cap: answered at once without parsing anything. It lingers
    until the request has arrived (closing on unread data would reset the connection before
    the client reads the 503), one second at most."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._tail = b""
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(_REFUSAL)
        self._timer = asyncio.get_running_loop().call_later(1.0, transport.close)

    def data_received(self, data: bytes) -> None:
        seen = self._tail + data
        self._tail = seen[-3:]
        if b"\r\n\r\n" in seen:
            assert self._transport is not None
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()


class LimitedSite(web.SockSite):
    """A ``SockSite`` on a socket bound beforehand (so the port is known before the app is
    built: the browser view needs the URL) that refuses connections beyond ``max_clients``."""

    def __init__(self, runner: web.BaseRunner, sock: socket.socket, max_clients: int) -> None:
        super().__init__(runner, sock)
        self._max_clients = max_clients

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        cap = self._max_clients

        def protocol() -> asyncio.BaseProtocol:
            if len(server.connections) >= cap:
                return _Refuse()
            return server()

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(protocol, sock=self._sock, backlog=self._backlog)


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (port 0: any free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve the address {host!r}: {exc.strerror}") from exc
    return socket.create_server(address[:2], family=family)


async def reap_unread(server: web.Server, write_timeout: float, every: float) -> None:
    """Forever: cut connections whose answer has sat unsent for ``write_timeout`` seconds
    (a client that never reads). aiohttp would otherwise keep them, and their memory, forever;
    asyncio already keeps them from blocking anyone else."""
    loop = asyncio.get_running_loop()
    stuck_since: dict[RequestHandler, float] = {}
    while True:
        await asyncio.sleep(every)
        now = loop.time()
        alive = server.connections
        for handler in alive:
            transport = handler.transport
            if transport is None or transport.is_closing():
                continue
            if transport.get_write_buffer_size() == 0:
                stuck_since.pop(handler, None)
                continue
            since = stuck_since.setdefault(handler, now)
            if now - since >= write_timeout:
                transport.abort()
                stuck_since.pop(handler, None)
        for gone in set(stuck_since) - set(alive):
            del stuck_since[gone]
