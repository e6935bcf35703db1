"""``buildradiator serve``: one engine, many screens.

The engine polls the CI APIs once, in the same asyncio loop as an aiohttp server; every screen
reads what it published. Each published snapshot is rendered once (``Board.publish``): the JSON
document, the CCTray feed and their strong ETags, and the ``/healthz`` answer, so that a request
costs a dict lookup and thirty screens cost the CI APIs nothing more than one.

Endpoints, GET and HEAD only (anything else: 405 with ``Allow``):

- ``/snapshot.json``: the document of ``status --json``; ``ETag`` + ``If-None-Match`` -> 304;
- ``/cc.xml``: the pipelines as a CCTray feed, with an ETag too;
- ``/metrics``: Prometheus exposition, rendered at most once a second per snapshot (ages move);
- ``/healthz``: ``ok`` while every source is fresh, else 503 naming the ones that are not (or
  saying "engine stopped");
- ``/``: the radiator in a browser (``[serve] browser``, ``webview``), else a plain list of the
  endpoints. Its WebSocket only opens for the server's own pages (``serve_origins``).

Every answer carries ``Cache-Control: no-cache`` and the instance header (a ``radiator`` source
uses it to notice that it reads itself). With ``[serve] token_env`` every endpoint but
``/healthz`` wants ``Authorization: Bearer <token>``; a browser, which cannot send that header,
opens ``/?token=...`` once and is given the token as an HttpOnly cookie instead. The token is
compared in constant time and never logged (aiohttp's own log lines are redacted, and the
access log is off). ``serve_limits`` keeps bad clients from costing anyone else anything.

The engine stopping is no secret kept: see ``serve`` and ``serve.board.Board.stopped``. The
application itself (the endpoints and the guard before them) is ``serve.app.make_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from buildradiator.errors import BuildRadiatorError
from buildradiator.serve.app import COOKIE, METHODS, make_app
from buildradiator.serve.board import (
    JSON_TYPE,
    TEXT_TYPE,
    Board,
    Body,
    Published,
    body,
    error_text,
    health_of,
)
from buildradiator.serve.limits import ConnectionGate, LimitedSite, Limits, bind, reap_unread
from buildradiator.serve.origins import Origins
from buildradiator.serve.setup import (
    RedactingHandler,
    ServeError,
    exposure_warning,
    resolve_token,
    route_server_logs,
)
from buildradiator.serve.webhooks import WebhookReceiver

if TYPE_CHECKING:
    from buildradiator.engine.engine import Engine

__all__ = [
    "COOKIE",
    "JSON_TYPE",
    "METHODS",
    "TEXT_TYPE",
    "Board",
    "Body",
    "EngineStopped",
    "Published",
    "RadiatorServer",
    "RedactingHandler",
    "ServeError",
    "Served",
    "body",
    "browser_mount",
    "exposure_warning",
    "health_of",
    "make_app",
    "resolve_token",
    "route_server_logs",
    "serve",
]

log = logging.getLogger("buildradiator.serve.server")

STOPPED_LINGER = 5.0
"""Seconds ``serve`` goes on answering after its engine stopped ("engine stopped" on
``/healthz``, ``"running": false`` in the JSON), so screens and monitors see why before the
process exits (a browser session reads every 3 s)."""


class EngineStopped(BuildRadiatorError):
    """The engine stopped: something unexpected escaped it. The message says what (the
    exception's type and words); the traceback is in the log."""


@dataclass(frozen=True)
class Served:
    """Where the browser view is mounted: the server's own URL (for its sessions), the pages
    allowed to open it, and its token, if any."""

    url: str
    origins: Origins
    token: str | None = field(repr=False)


# -- the server ----------------------------------------------------------------------------------


def local_url(host: str, port: int) -> str:
    """Where this machine reaches the server: a wildcard address is reached over loopback."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class RadiatorServer:
    """The HTTP side: ``await start()``, then ``url``; ``await aclose()``."""

    def __init__(
        self,
        board: Board,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        limits: Limits | None = None,
        browser: Callable[[web.Application, Served], None] | None = None,
        allowed_origins: Iterable[str] = (),
        hooks: WebhookReceiver | None = None,
    ) -> None:
        self.board = board
        self.hooks = hooks
        self.host, self.port = host, port
        self.token = token
        self.limits = limits or Limits()
        self.gate = ConnectionGate(self.limits)
        self.origins = Origins(host, allowed_origins)
        self._browser = browser
        self._runner: web.AppRunner | None = None
        self._reaper: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return local_url(self.host, self.port)

    @property
    def open_connections(self) -> int:
        server = self._runner.server if self._runner is not None else None
        return len(server.connections) if server is not None else 0

    async def start(self) -> None:
        sock = bind(self.host, self.port)
        try:
            self.port = sock.getsockname()[1]
            mount = self._browser
            served = Served(url=self.url, origins=self.origins, token=self.token)
            app = make_app(
                self.board,
                token=self.token,
                limits=self.limits,
                browser=(lambda a: mount(a, served)) if mount is not None else None,
                gate=self.gate,
                origins=self.origins,
                hooks=self.hooks,
            )
            limits = self.limits
            runner = web.AppRunner(
                app,
                access_log=None,  # a request line may carry ?token=
                handle_signals=False,
                keepalive_timeout=limits.keepalive,
                max_line_size=limits.max_line_size,
                max_field_size=limits.max_field_size,
                max_headers=limits.max_headers,
                shutdown_timeout=limits.shutdown_timeout,
            )
            await runner.setup()
            self._runner = runner
            site = LimitedSite(runner, sock, self.gate)
            await site.start()
        except BaseException:
            sock.close()
            await self.aclose()
            raise
        assert runner.server is not None
        every = min(1.0, max(0.05, limits.write_timeout / 4))
        self._reaper = asyncio.create_task(reap_unread(runner.server, limits.write_timeout, every))

    async def aclose(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> RadiatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def serve(
    engine: Engine,
    *,
    host: str,
    port: int,
    token: str | None,
    browser: Callable[[web.Application, Served], None] | None = None,
    limits: Limits | None = None,
    ready: Callable[[RadiatorServer], None] | None = None,
    linger: float | None = None,
    allowed_origins: Iterable[str] = (),
    hooks: WebhookReceiver | None = None,
) -> None:
    """Run ``engine`` and the server in this loop until cancelled.

    Should the engine stop (something unexpected escaped ``Engine.run``), the board says so at
    once, the traceback goes to the log, the server goes on answering "engine stopped" for
    ``linger`` seconds (default ``STOPPED_LINGER``; a cancel ends it sooner) and ``EngineStopped``
    is raised: the process must exit non-zero, never serve the last state as if all were well.
    ``allowed_origins``: pages besides the server's own that may use it (``[serve]``)."""
    board = Board(engine.clock)
    server = RadiatorServer(
        board,
        host=host,
        port=port,
        token=token,
        limits=limits,
        browser=browser,
        allowed_origins=allowed_origins,
        hooks=hooks,
    )
    async with server:
        if ready is not None:
            ready(server)
        try:
            await engine.run(board.publish)
        except Exception as exc:
            failure: Exception = exc
        else:
            failure = RuntimeError("the engine returned while serve still ran")
        words = error_text(failure)
        board.stopped(f"{type(failure).__name__} (the traceback is in the server's log)", words)
        log.error("engine stopped: %s", words, exc_info=failure)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(STOPPED_LINGER if linger is None else linger)
    raise EngineStopped(f"engine stopped: {words}") from failure


def browser_mount(
    title: str, *, max_sessions_per_address: int | None = None
) -> Callable[[web.Application, Served], None]:
    """``webview.add_browser`` with this server's settings (imported only when wanted); the
    pages allowed to open it are the server's (``RadiatorServer(allowed_origins=...)``)."""
    from buildradiator.serve import browser as webview

    per_address = max_sessions_per_address or webview.MAX_SESSIONS_PER_ADDRESS

    def mount(app: web.Application, served: Served) -> None:
        webview.add_browser(
            app,
            url=served.url,
            token=served.token,
            title=title,
            origins=served.origins,
            max_sessions_per_address=per_address,
        )

    return mount
