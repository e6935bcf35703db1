"""A hostile HTTP server on 127.0.0.1, for tests that meet a fault the way the radiator would.

It speaks raw HTTP/1.1 over a real socket, so whatever a test scripts reaches httpx exactly as
written: a stacked ``Content-Encoding``, a ``Retry-After`` in the year 9999, a redirect to another
port, a body that never ends. Each route is a function of the request returning the raw answer
(head and body), or a coroutine that writes to the socket itself. Every request is recorded with
its headers, so a test can prove what was (not) sent where.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


Answer = bytes | Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Route = Callable[[Seen], Answer]


def answer(
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    reason: str = "OK",
    length: bool = True,
) -> bytes:
    """A whole raw HTTP/1.1 answer."""
    head = [f"HTTP/1.1 {status} {reason}"]
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if length:
        all_headers.setdefault("Content-Length", str(len(body)))
    head += [f"{k}: {v}" for k, v in all_headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def json_answer(text: str, headers: dict[str, str] | None = None, status: int = 200) -> bytes:
    return answer(status, text.encode("utf-8"), headers)


def gzip_bomb(inflated: int, layers: int = 2) -> bytes:
    """``inflated`` zero bytes gzipped ``layers`` times: a few KB on the wire."""
    data = gzip.compress(b"\0" * inflated, compresslevel=9)
    for _ in range(layers - 1):
        data = gzip.compress(data, compresslevel=9)
    return data


@dataclass
class HostileServer:
    """``async with HostileServer(routes) as server:`` then ``server.url``."""

    routes: dict[str, Route] = field(default_factory=dict)
    host: str = "127.0.0.1"
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        return self.url

    default: Route | None = None
    """Answers every path without a route of its own (else a GitHub-shaped 404)."""

    def route(self, path: str, what: Route | bytes) -> None:
        """Answer ``path`` (the target without its query) with ``what``: raw bytes, or a
        function of the request returning them (or a coroutine writing to the socket)."""
        self.routes[path] = what if callable(what) else (lambda _seen: what)

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[HostileServer]:
        """Serve from a loop of its own in a thread, for code under test that runs its own
        loop (``cli.main``, the Textual app)."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        async def start() -> None:
            await self.__aenter__()
            ready.set()

        asyncio.run_coroutine_threadsafe(start(), loop).result(5)
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.__aexit__(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = ([*lines[0].split(" "), "", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                seen = Seen(method, target, headers)
                self.seen.append(seen)
                route = self.routes.get(seen.path, self.default)
                what: Answer = route(seen) if route else answer(404, b'{"message":"Not Found"}')
                if isinstance(what, bytes):
                    writer.write(what)
                    await writer.drain()
                else:
                    await what(reader, writer)
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept the request and never answer."""
    await asyncio.sleep(3600)
