"""The built-in simulator answering in-process, and loopback servers that misbehave, shared by
the fault matrix, the fuzzers, the soak and the secrets tests: every source type in the matrix
(``SOURCE_TYPES``), a MockTransport handler speaking the simulator's API shapes
(``sim_handler``), the demo config's source of a type (``demo_source``), a ``LoopbackServer``
and a port nobody listens on (``refused_port``). The ``self_signed`` TLS context is a fixture in
``conftest.py``."""

from __future__ import annotations

import asyncio
import email.message
import socket
import ssl
from collections.abc import Callable
from typing import Any

import httpx

from buildradiator import instance
from buildradiator.config.loading import SourceBase
from buildradiator.export.document import to_json
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.catalog import PROVIDERS, parse_config
from buildradiator.sources.junit.config import JUnitSource
from buildradiator.sources.radiator.config import RadiatorFeedSource
from snapshot_fixtures import red_estate

SOURCE_TYPES = tuple(p.type for p in PROVIDERS)
"""Every declared provider: a new one joins the fault matrix by being declared."""


# -- the simulator, answering in-process -------------------------------------------------------


JUNIT_REPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1">
  <testsuite name="com.acme.checkout.CartTest" tests="3" failures="1" time="0.41">
    <testcase classname="com.acme.checkout.CartTest" name="addsItem" time="0.12"/>
    <testcase classname="com.acme.checkout.CartTest" name="removesItem" time="0.08"/>
    <testcase classname="com.acme.checkout.CartTest" name="appliesCoupon" time="0.21">
      <failure message="expected 90 but was 100" type="java.lang.AssertionError">at CartTest.java:42</failure>
    </testcase>
  </testsuite>
</testsuites>
"""


# As another radiator process writes it (its own instance id, not this test process's).
RADIATOR_DOC = to_json(red_estate()).replace(instance.ID, "f" * 32).encode()


def sim_handler(sim: Simulator) -> Callable[[httpx.Request], httpx.Response]:
    """A MockTransport handler answering from the simulator's API shapes, for any host (and a
    JUnit report, an artifact the simulator does not serve, under ``/junit/``)."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/junit/"):
            return httpx.Response(
                200, headers={"content-type": "application/xml"}, content=JUNIT_REPORT
            )
        if request.url.path.startswith("/radiator/"):
            # Another radiator's /snapshot.json (``buildradiator serve``): a fixed estate.
            return httpx.Response(
                200,
                headers={"content-type": "application/json", "etag": '"radiator-1"'},
                content=RADIATOR_DOC,
            )
        headers = email.message.Message()
        for name, value in request.headers.items():
            headers[name] = value
        answer = sim.answer(request.url.raw_path.decode("ascii"), headers)
        if answer.drop:
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

    return handle


def demo_source(kind: str, base: str, name: str, **update: Any) -> SourceBase:
    """The demo config's first source of ``kind`` (rebased on ``base``), renamed."""
    if kind == "junit":
        return JUnitSource(
            type="junit", name=name, urls=[f"{base}/junit/TEST-cart.xml"], pipeline="acme/shop"
        ).model_copy(update=update)
    if kind == "radiator":
        return RadiatorFeedSource(type="radiator", name=name, url=f"{base}/radiator").model_copy(
            update=update
        )
    if kind == "jenkins":
        # A Jenkins API token only works with its user name (Basic auth).
        update = {"username": "radiator", **update}
    config = parse_config(demo_config_text(base))
    found = next(s for s in config.sources if s.type == kind)  # type: ignore[attr-defined]
    return found.model_copy(update={"name": name, **update})


# -- real loopback sockets ------------------------------------------------------------------------


class LoopbackServer:
    """A tiny server misbehaving in one way (or ``ok``: answering "OK", over TLS when given a
    context): ``hang`` (accept, never answer), ``drip`` (headers,
    then a body byte every 0.05 s), ``close`` (read the request, hang up), ``plain`` (plain HTTP
    on the port a client expects TLS on), ``tls`` (a self-signed certificate)."""

    def __init__(self, mode: str, tls: ssl.SSLContext | None = None) -> None:
        self.mode = mode
        self.tls = tls
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> LoopbackServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self._writers.append(writer)
        try:
            if self.mode in ("hang", "tls"):
                await asyncio.Event().wait()
            if self.mode == "plain":
                await reader.read(100)
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            await reader.readuntil(b"\r\n\r\n")
            if self.mode == "close":
                return
            if self.mode == "ok":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK")
                await writer.drain()
                return
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n"
            )
            await writer.drain()
            # One byte a second against a 6 s timeout, scaled down twenty times: each read gets a
            # byte well within any per-read timeout, so only the whole-exchange deadline ends it.
            while True:
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.05)
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()


def refused_port() -> int:
    """A loopback port nobody listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
