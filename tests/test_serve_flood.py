"""Slowloris against ``serve``, over real loopback sockets: hundreds of connections that trickle
a request head byte by byte and never finish it, from one address and from several (Linux routes
all of 127.0.0.0/8 on ``lo``, so 127.0.0.2, 127.0.0.3... are distinct clients). Whatever the
flood holds, another client gets its ``/healthz`` and ``/snapshot.json`` every time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from buildradiator.clock import FakeClock
from buildradiator.export.document import to_json
from buildradiator.serve.limits import Limits
from buildradiator.serve.server import Board, RadiatorServer
from snapshot_fixtures import green_estate

FLOOD_LIMITS = Limits(rate=1000.0, burst=1000, keepalive=60.0)
"""The shipped connection limits; only the rate limit is lifted (the normal client asks often)
and the header deadline is long, so the flood holds its connections for the whole test (the
deadline has its own test)."""


@asynccontextmanager
async def served(limits: Limits) -> AsyncIterator[RadiatorServer]:
    board = Board(FakeClock())
    board.publish(green_estate())
    async with RadiatorServer(board, port=0, limits=limits) as server:
        yield server


class Slowloris:
    """Connections from ``source`` that each send a request head's first bytes, then one more
    byte every 100 ms, never the end; a connection the server closes is opened again."""

    def __init__(self, port: int, source: str, count: int) -> None:
        self.port, self.source, self.count = port, source, count
        self.tasks: list[asyncio.Task[None]] = []
        self.connected = 0

    async def _one(self) -> None:
        while True:
            writer = None
            try:
                _, writer = await asyncio.open_connection(
                    "127.0.0.1", self.port, local_addr=(self.source, 0)
                )
                self.connected += 1
                writer.write(b"GET /snapshot.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                while True:
                    await writer.drain()
                    await asyncio.sleep(0.1)
                    writer.write(b"a")
            except OSError:
                await asyncio.sleep(0.05)  # cut off or refused: come back
            finally:
                if writer is not None:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()

    async def __aenter__(self) -> Slowloris:
        self.tasks = [asyncio.create_task(self._one()) for _ in range(self.count)]
        # Every connection has been tried at least once.
        while self.connected < self.count:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def client(server: RadiatorServer, source: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=server.url, transport=transport, timeout=5.0)


async def every_time(server: RadiatorServer, source: str, rounds: int = 10) -> list[int]:
    """A normal client's codes: a fresh connection for each request, as a new screen's."""
    codes = []
    expected = to_json(green_estate()).encode()
    for _ in range(rounds):
        for path in ("/healthz", "/snapshot.json"):
            async with client(server, source) as http:
                answer = await http.get(path)
            codes.append(answer.status_code)
            if path == "/snapshot.json" and answer.status_code == 200:
                assert answer.content == expected
    return codes


async def test_a_slowloris_flood_from_one_address_starves_nobody() -> None:
    async with served(FLOOD_LIMITS) as server, Slowloris(server.port, "127.0.0.1", 400):
        assert await every_time(server, "127.0.0.2") == [200] * 20
        # The flood holds no more than its share.
        assert server.open_connections <= FLOOD_LIMITS.max_clients // 2


async def test_healthz_keeps_a_reserve_that_floods_cannot_take() -> None:
    # Ten slots: one address's flood takes all it may (nine: the tenth is kept for newcomers),
    # a second address's flood the tenth. A monitor from a third address still gets /healthz.
    limits = Limits(rate=1000.0, burst=1000, keepalive=60.0, max_clients=10)
    async with (
        served(limits) as server,
        Slowloris(server.port, "127.0.0.1", 400),
        Slowloris(server.port, "127.0.0.2", 100),
        client(server, "127.0.0.3") as monitor,
    ):
        for _ in range(10):
            health = await monitor.get("/healthz")
            assert (health.status_code, health.text) == (200, "ok\n")
            # The reserve is for /healthz only: the data waits for a slot.
            data = await monitor.get("/snapshot.json")
            assert data.status_code == 503
            assert data.headers["Retry-After"] == "5"


async def test_a_flood_from_many_addresses_leaves_room_for_a_new_one() -> None:
    async with served(FLOOD_LIMITS) as server, contextlib.AsyncExitStack() as stack:
        for n in range(1, 9):  # 8 addresses, more connections than the server has slots
            await stack.enter_async_context(Slowloris(server.port, f"127.0.0.{n}", 60))
        assert await every_time(server, "127.0.0.50") == [200] * 20


DEADLINE = Limits(rate=1000.0, burst=1000, header_timeout=0.3, keepalive=60.0)
"""A short header deadline and a long idle keep-alive: what closes a connection here is the
deadline, never aiohttp's keep-alive timer."""


async def trickle_until_closed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seconds: float = 5.0
) -> bool:
    """Send one more byte of a header every 100 ms: whether the server closed the connection
    within ``seconds`` (far longer than the deadline under test)."""
    for _ in range(int(seconds * 10)):
        try:
            writer.write(b"a")
            await writer.drain()
            if await asyncio.wait_for(reader.read(1), 0.1) == b"":
                return True
        except TimeoutError:
            continue
        except ConnectionError:
            return True
    return False


@asynccontextmanager
async def connection(
    server: RadiatorServer,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def healthz_on(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(len(b"ok\n"))
    return head


def test_the_shipped_header_deadline_is_a_few_seconds() -> None:
    assert Limits().header_timeout <= 5.0
    assert Limits().keepalive >= Limits().header_timeout  # idle keep-alive is not the deadline


async def test_a_first_request_head_has_a_deadline_from_the_opening() -> None:
    async with served(DEADLINE) as server, connection(server) as (reader, writer):
        writer.write(b"GET /snapshot.json HTTP/1.1\r\nX-Slow: ")
        assert await trickle_until_closed(reader, writer)
    async with served(DEADLINE) as server, connection(server) as (reader, _):
        # Saying nothing at all is no way around it.
        assert await asyncio.wait_for(reader.read(1), 5.0) == b""


async def test_every_request_head_has_a_deadline_not_only_the_first() -> None:
    async with served(DEADLINE) as server, connection(server) as (reader, writer):
        assert (await healthz_on(reader, writer)).startswith(b"HTTP/1.1 200")
        # A second request on the same connection, trickled: cut off all the same.
        writer.write(b"GET /snapshot.json HTTP/1.1\r\nX-Slow: ")
        assert await trickle_until_closed(reader, writer)


async def test_an_idle_kept_alive_connection_is_not_cut_by_the_deadline() -> None:
    async with served(DEADLINE) as server, connection(server) as (reader, writer):
        assert (await healthz_on(reader, writer)).startswith(b"HTTP/1.1 200")
        await asyncio.sleep(3 * DEADLINE.header_timeout)  # idle between requests: allowed
        assert (await healthz_on(reader, writer)).startswith(b"HTTP/1.1 200")
