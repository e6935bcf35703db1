"""What keeps one bad client of ``buildradiator serve`` from costing the engine or the other
screens anything: per-address token buckets, per-address and global caps on open connections
with reserves for newcomers and for ``/healthz`` (``ConnectionGate``), and a reaper for
connections whose answer nobody reads.

The gate also keeps the header deadline (``Limits.header_timeout``): a request head trickled
byte by byte is cut off after a few seconds, the first from the connection's opening. aiohttp
covers the rest (see ``Limits``): its parser refuses oversized request lines and headers, and
its keep-alive timer closes a connection idle between requests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from buildradiator.instance import ID, INSTANCE_HEADER


@dataclass(frozen=True)
class Limits:
    """The knobs; the defaults suit a few hundred screens polling every few seconds.

    Connections are admitted in this order (``ConnectionGate``): an address holding
    ``max_clients_per_address`` gets no more; the last ``new_address_reserve`` of the
    ``max_clients`` slots only go to addresses holding none; beyond ``max_clients``,
    ``healthz_reserve`` more (``healthz_per_address`` per address) may ask ``/healthz`` and
    nothing else; any other connection is answered 503 at once. So a flood from one address, or
    from a few, leaves room for everyone else and for the monitor asking whether all is well."""

    rate: float = 20.0
    """Requests per second each remote address may make, on average..."""
    burst: int = 40
    """...and at once (a browser loading the page fetches a dozen files together)."""
    max_clients: int = 200
    """Connections open at once; beyond them only the ``/healthz`` reserve, then 503."""
    max_clients_per_address: int = 32
    """Connections one remote address may hold at once (browsers open six per host)."""
    new_address_reserve: int | None = None
    """Slots of ``max_clients`` kept for addresses that hold no connection yet; default a
    tenth."""
    healthz_reserve: int = 16
    """Connections beyond ``max_clients`` that may ask ``/healthz`` (and only that)..."""
    healthz_per_address: int = 2
    """...at most this many of them from one address."""
    header_timeout: float = 5.0
    """The header deadline: seconds a request head may take, from a connection's opening for
    the first, from its first byte for the next ones; past it the connection is closed
    (slowloris). WebSocket frames are not request heads."""
    keepalive: float = 15.0
    """Seconds a connection may sit idle between requests (aiohttp's keep-alive timer, also
    armed from a connection's opening)."""
    write_timeout: float = 30.0
    """Seconds an answer may sit unread in the send buffer before the connection is cut."""
    max_line_size: int = 8190
    max_field_size: int = 8190
    max_headers: int = 64
    shutdown_timeout: float = 2.0

    @property
    def reserve_for_new(self) -> int:
        if self.new_address_reserve is not None:
            return min(self.new_address_reserve, self.max_clients - 1)
        return self.max_clients // 10


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


REFUSAL_BODY = b"too many connections to this radiator; try again shortly\n"
_REFUSAL = (
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Retry-After: 5\r\n"
    "Cache-Control: no-cache\r\n"
    f"{INSTANCE_HEADER}: {ID}\r\n"
    "Connection: close\r\n"
    f"Content-Length: {len(REFUSAL_BODY)}\r\n"
    "\r\n"
).encode() + REFUSAL_BODY


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


SERVE, HEALTHZ, REFUSE, DROP = "serve", "healthz", "refuse", "drop"
"""What ``ConnectionGate.admit`` decides for a new connection."""
MAX_LINGERING = 256
LINGERING_PER_ADDRESS = 4
"""Refused connections waiting for their request (a second at most) so the client can read its
503; beyond these, a refused connection is dropped at once (a connect flood costs no memory)."""


def client_address(peername: object) -> str:
    """A peer's address as one key per client: an IPv4 peer of a dual-stack socket
    (``::ffff:10.0.0.5``) is the same client as ``10.0.0.5``."""
    if not isinstance(peername, tuple) or not peername:
        return "?"
    text = str(peername[0])
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class ConnectionGate:
    """Who gets a connection slot (see ``Limits``): counts per address, O(1) per connection."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._held: Counter[str] = Counter()
        self._counts: dict[str, Counter[str]] = {HEALTHZ: Counter(), REFUSE: Counter()}
        self._totals = {SERVE: 0, HEALTHZ: 0, REFUSE: 0}
        self.healthz_only: set[object] = set()
        """The request handlers admitted into the ``/healthz`` reserve."""

    def admit(self, address: str) -> str:
        limits = self.limits
        held = self._held[address] if address in self._held else 0
        if held < limits.max_clients_per_address:
            # Addresses already holding a connection leave the last slots to newcomers.
            room = limits.max_clients - (limits.reserve_for_new if held else 0)
            if self._totals[SERVE] < room:
                return SERVE
        if (
            self._totals[HEALTHZ] < limits.healthz_reserve
            and self._counts[HEALTHZ][address] < limits.healthz_per_address
        ):
            return HEALTHZ
        if (
            self._totals[REFUSE] < MAX_LINGERING
            and self._counts[REFUSE][address] < LINGERING_PER_ADDRESS
        ):
            return REFUSE
        return DROP

    def enter(self, address: str, verdict: str) -> None:
        self._totals[verdict] += 1
        counts = self._held if verdict == SERVE else self._counts[verdict]
        counts[address] += 1

    def leave(self, address: str, verdict: str) -> None:
        self._totals[verdict] -= 1
        counts = self._held if verdict == SERVE else self._counts[verdict]
        counts[address] -= 1
        if counts[address] <= 0:
            del counts[address]  # the tables hold open connections only

    def held(self, address: str) -> int:
        return self._held.get(address, 0)


_HTTP_START = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\r\n")
"""Bytes a request line may start with. After a head, anything else is not HTTP any more: the
frames of a WebSocket (a frame's first byte is its FIN bit and opcode), or junk aiohttp refuses."""


class _Gated(asyncio.Protocol):
    """A new connection's protocol: asks the gate, then hands every event to the protocol that
    serves it (aiohttp's request handler, or ``_Refuse``), and tells the gate when it is gone.

    It also keeps the header deadline, which aiohttp does not have (its keep-alive timer only
    covers a connection's start and idle time): each request head must end (CRLF CRLF) within
    ``header_timeout`` of its first byte (the first one: of the connection's opening), or the
    connection is closed. It reads the bytes as they pass, nothing more."""

    def __init__(
        self,
        gate: ConnectionGate,
        make_handler: Callable[[], RequestHandler],
        header_timeout: float,
    ) -> None:
        self._gate, self._make = gate, make_handler
        self._inner: asyncio.Protocol | None = None
        self._address, self._verdict = "?", DROP
        self._transport: asyncio.Transport | None = None
        self._header_timeout = header_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = False
        self._watching = True
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        address = client_address(transport.get_extra_info("peername"))
        verdict = self._gate.admit(address)
        if verdict == DROP:
            transport.abort()
            return
        self._address, self._verdict = address, verdict
        self._gate.enter(address, verdict)
        inner: asyncio.Protocol = _Refuse() if verdict == REFUSE else self._make()
        if verdict == HEALTHZ:
            self._gate.healthz_only.add(inner)
        self._inner, self._transport = inner, transport
        if verdict == REFUSE:
            self._watching = False  # it keeps its own one-second clock
        else:
            self._head_begins()  # silence is no way around the deadline
        inner.connection_made(transport)

    def _head_begins(self) -> None:
        self._in_head = True
        self._deadline = asyncio.get_running_loop().call_later(self._header_timeout, self._too_slow)

    def _too_slow(self) -> None:
        self._deadline = None
        if self._transport is not None:
            self._transport.close()

    def _watch(self, data: bytes) -> None:
        while data:
            if not self._in_head:
                if data[0] not in _HTTP_START:
                    self._watching = False
                    return
                self._head_begins()
            seen = self._tail + data
            end = seen.find(b"\r\n\r\n")
            if end < 0:
                self._tail = seen[-3:]
                return
            # A complete head: its deadline is met; what follows is the next one, if anything.
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._in_head, self._tail = False, b""
            data = seen[end + 4 :]

    def data_received(self, data: bytes) -> None:
        if self._watching:
            self._watch(data)
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        inner, self._inner, self._transport = self._inner, None, None
        if inner is None:
            return
        self._gate.leave(self._address, self._verdict)
        self._gate.healthz_only.discard(inner)
        inner.connection_lost(exc)


class LimitedSite(web.SockSite):
    """A ``SockSite`` on a socket bound beforehand (so the port is known before the app is
    built: the browser view needs the URL) whose connections pass the ``ConnectionGate``."""

    def __init__(self, runner: web.BaseRunner, sock: socket.socket, gate: ConnectionGate) -> None:
        super().__init__(runner, sock)
        self._gate = gate

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        gate = self._gate

        header_timeout = gate.limits.header_timeout

        def protocol() -> asyncio.BaseProtocol:
            return _Gated(gate, server, header_timeout)

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
