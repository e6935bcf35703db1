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

The engine stopping is no secret kept: see ``serve`` and ``serve_board.Board.stopped``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from buildradiator.errors import BuildRadiatorError
from buildradiator.export import metrics as export_metrics
from buildradiator.instance import ID, INSTANCE_HEADER
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
from buildradiator.serve.limits import (
    REFUSAL_BODY,
    ConnectionGate,
    LimitedSite,
    Limits,
    TokenBuckets,
    bind,
    client_address,
    reap_unread,
)
from buildradiator.serve.limits import retry_after as _retry_after
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
    "JSON_TYPE",
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

METHODS = "GET, HEAD"
COOKIE = "buildradiator_token"
STOPPED_LINGER = 5.0
MAX_WAIT = 60
"""Longest a screen's ``Prefer: wait`` may hold a ``/snapshot.json`` request, in seconds."""
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


# -- the app -------------------------------------------------------------------------------------


def _text(status: int, words: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=words.encode("utf-8"),
        headers={"Content-Type": TEXT_TYPE, **(headers or {})},
    )


def _none_match(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): ``W/`` does not matter."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _answer(request: web.Request, item: Body) -> web.Response:
    headers = {"ETag": item.etag}
    inm = request.headers.get("If-None-Match")
    if inm is not None and _none_match(inm, item.etag):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = item.content_type
    return web.Response(body=item.data, headers=headers)


def _prefer_wait(header: str | None) -> float:
    """Seconds a request says it will wait (``Prefer: wait=25``), at most ``MAX_WAIT``; 0 when
    it does not say so, or says nonsense."""
    if not header:
        return 0.0
    for preference in header.split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "wait":
            digits = value.strip().strip('"')
            if digits.isdigit() and len(digits) <= 6:
                return float(min(int(digits), MAX_WAIT))
    return 0.0


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def _same(given: str | None, token: bytes) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), token)


def make_app(
    board: Board,
    *,
    token: str | None = None,
    limits: Limits | None = None,
    browser: Callable[[web.Application], None] | None = None,
    gate: ConnectionGate | None = None,
    origins: Origins | None = None,
    hooks: WebhookReceiver | None = None,
) -> web.Application:
    """The aiohttp application (without a server). ``browser`` mounts the browser view at ``/``;
    without it ``/`` lists the endpoints. ``gate``: the server's connection gate, whose
    ``/healthz``-only connections get nothing else. ``origins``: on a loopback address, only
    requests addressed to it are answered (DNS rebinding)."""
    addressed_here = origins.addressed_here if origins is not None else (lambda _host: True)
    limits = limits or Limits()
    buckets = TokenBuckets(limits.rate, limits.burst, board.clock.monotonic)
    secret = token.encode("utf-8") if token else None
    healthz_only = gate.healthz_only if gate is not None else set()

    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if hooks is not None and request.method == "POST" and request.path.startswith("/hooks/"):
            # CI events: the receiver checks each provider's signature and rates on its own
            # (the CI knows its webhook secret, not this radiator's token).
            return await handler(request)
        # Cheapest refusals first: a flood costs a dict lookup per request, nothing more.
        if request.method not in ("GET", "HEAD"):
            return _text(405, "read-only: GET and HEAD only\n", {"Allow": METHODS})
        if not addressed_here(request.headers.get("Host")):
            return _text(
                421,
                "this radiator listens on loopback and answers requests addressed to loopback "
                "only; a proxy's name goes in [serve] allowed_origins\n",
            )
        if request.protocol in healthz_only and request.path != "/healthz":
            # Admitted beyond the caps only so that /healthz always answers.
            refused = _text(503, REFUSAL_BODY.decode(), {"Retry-After": "5", "Connection": "close"})
            refused.force_close()
            return refused
        wait = buckets.take(client_address((request.remote,)))
        if wait > 0:
            return _text(
                429, "too many requests from this address; slow down\n",
                {"Retry-After": _retry_after(wait)},
            )  # fmt: skip
        if secret is not None and request.path != "/healthz":
            if not (_same(_bearer(request), secret) or _same(request.cookies.get(COOKIE), secret)):
                if request.path == "/" and _same(request.query.get("token"), secret):
                    return _token_to_cookie(request)
                return _text(
                    401,
                    "this radiator wants a token: Authorization: Bearer <token>\n",
                    {"WWW-Authenticate": 'Bearer realm="buildradiator"'},
                )
        return await handler(request)

    async def stamp(request: web.Request, response: web.StreamResponse) -> None:
        response.headers[INSTANCE_HEADER] = ID
        response.headers.setdefault("Cache-Control", "no-cache")

    def current(*, live: bool = False) -> Published:
        """The published snapshot; ``live``: only while the engine runs (a feed that cannot
        say "unknown" must not pass the last state off as the current one)."""
        if board.stop_reason is not None and (live or board.current is None):
            raise web.HTTPServiceUnavailable(text=f"engine stopped: {board.stop_reason}\n")
        if board.current is None:
            raise web.HTTPServiceUnavailable(
                text="no snapshot yet: the engine is starting\n", headers={"Retry-After": "1"}
            )
        return board.current

    async def snapshot_json(request: web.Request) -> web.Response:
        item = current().json
        wait = _prefer_wait(request.headers.get("Prefer"))
        inm = request.headers.get("If-None-Match")
        if wait and inm is not None and _none_match(inm, item.etag):
            # A screen that has this snapshot waits here for the next one: it hears of a
            # change the moment it is published, not on its next poll (RFC 7240 "wait").
            await board.changed_since(item.etag, wait)
            answer = _answer(request, current().json)
            answer.headers["Preference-Applied"] = f"wait={wait:g}"
            return answer
        return _answer(request, item)

    async def cc_xml(request: web.Request) -> web.Response:
        return _answer(request, current(live=True).cc)

    async def metrics(request: web.Request) -> web.Response:
        data = board.metrics(current(live=True))
        if hooks is not None:
            data += hooks.metrics_text().encode("utf-8")
        return web.Response(body=data, headers={"Content-Type": export_metrics.CONTENT_TYPE})

    async def healthz(request: web.Request) -> web.Response:
        answer = health()
        if request.protocol in healthz_only:
            answer.force_close()  # a reserved slot: free it for the next monitor at once
        return answer

    def health() -> web.Response:
        if board.stop_reason is not None:
            return _text(503, f"engine stopped: {board.stop_reason}\n")
        now = board.current
        if now is None:
            return _text(503, "not fresh: no snapshot yet (the engine is starting)\n")
        return web.Response(
            status=200 if now.healthy else 503, body=now.health, headers={"Content-Type": TEXT_TYPE}
        )

    async def index(request: web.Request) -> web.Response:
        lines = [
            "buildradiator serve: one engine, many screens",
            "",
            "  /snapshot.json   the snapshot (as `buildradiator status --json`), with ETag",
            "  /cc.xml          every pipeline as a CCTray feed (CCMenu, nevergreen, BuildNotify)",
            "  /metrics         Prometheus exposition",
            "  /healthz         200 while every source is fresh, else 503",
            "",
        ]
        return _text(200, "\n".join(lines))

    app = web.Application(middlewares=[guard])
    app.on_response_prepare.append(stamp)
    app.router.add_get("/snapshot.json", snapshot_json)
    app.router.add_get("/cc.xml", cc_xml)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    if hooks is not None:
        hooks.mount(app)
    if browser is not None:
        browser(app)
    else:
        app.router.add_get("/", index)
    return app


def _token_to_cookie(request: web.Request) -> web.Response:
    """A browser opened ``/?token=...``: keep the token in an HttpOnly cookie and send the
    browser to the same page without it, so it stays out of the address bar and history."""
    query = request.rel_url.query.copy()
    token = query.popone("token")
    location = str(request.rel_url.with_query(query))
    response = web.Response(status=303, headers={"Location": location})
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
    return response


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
