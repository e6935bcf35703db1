"""The radiator in a browser: textual-serve's terminal page, mounted on ``buildradiator serve``'s
own aiohttp app, and ``buildradiator view``, the radiator each browser session runs.

Every browser tab gets its own radiator process (that is how textual-serve works: a Textual app
per websocket), but that process is ``buildradiator view``: one ``radiator`` source reading the
central engine's ``/snapshot.json``. Thirty TVs are thirty cheap local readers of one snapshot,
never thirty pollers of the CI APIs.

What we take from textual-serve (1.1.x) and what we do ourselves:

- its statics (xterm.js bundle ``textual.js``, css, fonts) are served as they are;
- its page template is rendered here, not by ``aiohttp_jinja2`` on the app: its ``Server``
  builds the websocket address from a fixed ``public_url`` (``http://localhost:8000`` unless
  told), which breaks for every screen that is not on the server itself. We build it from the
  address the browser used (``Host``, and ``X-Forwarded-Proto`` for a TLS-terminating proxy);
- its ``AppService`` runs the session's process and speaks Textual's web-driver protocol; we
  start the process without a shell (an argv, so no quoting of the URL can go wrong), with an
  allow-listed environment (``session_environment``) and the serve token on a pipe (never in
  its environment or on its command line), cap how many run at once (in all and per client
  address), and stop every one when the server shuts down;
- its ``Server`` mounts ``/ws`` with no check of who opens it; ours opens a session only for
  a page of this radiator (the ``Origin`` check of ``serve_origins``), after ``serve``'s
  middleware has checked the token (header or cookie) on it as on every page and static file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import textual_serve
from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.download_manager import DownloadManager

from buildradiator.serve.browser_session import (
    STOP_SECONDS,
    ViewSession,
    session_environment,
)
from buildradiator.serve.limits import client_address
from buildradiator.serve.origins import Origins

__all__ = [
    "MAX_SESSIONS",
    "MAX_SESSIONS_PER_ADDRESS",
    "STOP_SECONDS",
    "ViewSession",
    "add_browser",
    "session_environment",
    "view_command",
]

log = logging.getLogger(__name__)

MAX_SESSIONS = 32
"""Browser radiators running at once: each is a process (tens of MB), so a flood of tabs or
websocket connections is refused rather than allowed to starve the engine."""
MAX_SESSIONS_PER_ADDRESS = 4
"""...and from one client address: one screen cannot take every session from the others."""
MODES = ("auto", "default", "pane", "wall")
INDEX_PATH = "/"
WS_PATH = "/ws"
STATIC_PATH = "/static"

_PACKAGE = Path(textual_serve.__file__ or ".").parent
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_PACKAGE / "templates"),
    autoescape=True,  # the title and the Host header are not ours to trust
)
# The stock page pulls a web font from Google: a wall TV on an office network must not depend on
# (or report to) the internet; xterm.js falls back to a local monospace font.
_EXTERNAL_FONT = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>\s*", re.S)
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


@dataclass(frozen=True)
class BrowserSettings:
    url: str
    token: str | None = field(repr=False)
    title: str
    origins: Origins
    max_sessions: int
    max_sessions_per_address: int


_SETTINGS = web.AppKey("buildradiator.browser.settings", BrowserSettings)
_SESSIONS: web.AppKey[dict[web.WebSocketResponse, asyncio.Event]] = web.AppKey(
    "buildradiator.browser.sessions", dict
)
"""Each browser's socket, and an event set once its radiator process is gone."""
_PER_ADDRESS: web.AppKey[Counter[str]] = web.AppKey("buildradiator.browser.per_address", Counter)
_REFUSED: web.AppKey[set[str]] = web.AppKey("buildradiator.browser.refused_origins", set)
"""Origins refused so far, each logged once (a page retrying in a loop fills no log)."""
_DOWNLOADS = web.AppKey("buildradiator.browser.downloads", DownloadManager)


def view_command(url: str, mode: str | None = None) -> list[str]:
    """The process one browser session runs: a radiator fed by the central snapshot. The token,
    if any, is added at start as ``--token-fd N``: it travels on a pipe, never on a command line
    (where ``ps`` shows it) nor in an environment (which every child inherits)."""
    argv = [sys.executable, "-m", "buildradiator", "view", "--url", url]
    if mode:
        argv += ["--mode", mode]
    return argv


def add_browser(
    app: web.Application,
    *,
    url: str,
    token: str | None,
    title: str,
    origins: Origins | None = None,
    max_sessions: int = MAX_SESSIONS,
    max_sessions_per_address: int = MAX_SESSIONS_PER_ADDRESS,
) -> None:
    """Serve the radiator to browsers on ``app``: the page at ``/`` (``/?mode=wall`` for a wall
    screen), its websocket at ``/ws`` and textual-serve's statics under ``/static/``. ``url`` is
    where the sessions read the central snapshot (the server's own address) with ``token``;
    ``origins``: the pages allowed to open a session (default: this machine's loopback)."""
    app[_SETTINGS] = BrowserSettings(
        url, token, title, origins or Origins(), max_sessions, max_sessions_per_address
    )
    app[_SESSIONS] = {}
    app[_PER_ADDRESS] = Counter()
    app[_REFUSED] = set()
    app[_DOWNLOADS] = DownloadManager()
    app.router.add_get(INDEX_PATH, _index)
    app.router.add_get(WS_PATH, _websocket)
    app.router.add_get(WS_PATH + "/{mode}", _websocket)
    app.router.add_static(STATIC_PATH, _PACKAGE / "static")
    app.on_shutdown.append(_close_sessions)


# -- the page ----------------------------------------------------------------------------------


def websocket_url(request: web.Request, mode: str | None = None) -> str:
    """Where the page's terminal connects: the host the browser asked for, ``wss`` when the
    page came through TLS (here or at a proxy that says so)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    secure = forwarded == "https" if forwarded in ("http", "https") else request.secure
    host = request.host if _HOST.match(request.host) else _local_host(request)
    path = WS_PATH + (f"/{mode}" if mode else "")
    return f"{'wss' if secure else 'ws'}://{host}{path}"


def _local_host(request: web.Request) -> str:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        ip, port = str(sockname[0]), int(sockname[1])
        return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    return "127.0.0.1"


def _chosen_mode(value: str | None) -> str | None:
    return value if value in MODES else None


async def _index(request: web.Request) -> web.Response:
    settings = request.app[_SETTINGS]
    font_size = _clamped(request.query.get("fontsize"), 16, 6, 64)
    mode = _chosen_mode(request.query.get("mode"))
    html = _TEMPLATES.get_template("app_index.html").render(
        font_size=font_size,
        app_websocket_url=websocket_url(request, mode),
        config={"static": {"url": STATIC_PATH + "/"}},
        application={"name": settings.title},
        ping_url="",
    )
    return web.Response(
        text=_EXTERNAL_FONT.sub("", html),
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )


def _clamped(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(value))) if value is not None else default
    except ValueError:
        return default


# -- the sessions ------------------------------------------------------------------------------


def _local(request: web.Request) -> tuple[str, int] | None:
    """The address and port the request came in on (the server's side of the socket)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        return str(sockname[0]), int(sockname[1])
    return None


def _refuse_origin(request: web.Request) -> None:
    """403 for a page that is not this radiator's, logged once per origin."""
    origin = request.headers.get("Origin")
    refused = request.app[_REFUSED]
    shown = repr(origin[:200]) if origin is not None else "none"
    if shown not in refused and len(refused) < 100:
        refused.add(shown)
        log.warning(
            "browser view refused to a page from origin %s: not this radiator's address; "
            "if it is a proxy's or another name's, add it to [serve] allowed_origins",
            shown,
        )
    raise web.HTTPForbidden(
        text="this radiator opens its browser view only for its own pages: a page elsewhere "
        "needs its origin in [serve] allowed_origins\n"
    )


async def _websocket(request: web.Request) -> web.StreamResponse:
    settings = request.app[_SETTINGS]
    sessions = request.app[_SESSIONS]
    per_address = request.app[_PER_ADDRESS]
    # Before anything else: a page elsewhere gets nothing, not even a look at the limits.
    if not settings.origins.allows(request.headers.get("Origin"), _local(request)):
        _refuse_origin(request)
    mode = request.match_info.get("mode")
    if mode is not None and _chosen_mode(mode) is None:
        raise web.HTTPNotFound(text="no such radiator mode\n")
    address = client_address((request.remote,))
    if per_address[address] >= settings.max_sessions_per_address:
        raise web.HTTPTooManyRequests(
            text=f"{settings.max_sessions_per_address} browser radiators from this address "
            "are running already; close one\n",
            headers={"Retry-After": "5"},
        )
    if len(sessions) >= settings.max_sessions:
        raise web.HTTPServiceUnavailable(
            text=f"{settings.max_sessions} browser radiators are running already; "
            "close one or raise the limit\n"
        )
    # A browser that stops answering (a TV switched off) is noticed by the heartbeat; closing
    # waits at most a few seconds for a browser's goodbye.
    socket = web.WebSocketResponse(heartbeat=15, timeout=3, max_msg_size=64 * 1024)
    width = _clamped(request.query.get("width"), 80, 10, 1000)
    height = _clamped(request.query.get("height"), 24, 5, 500)
    await socket.prepare(request)
    sessions[socket] = asyncio.Event()
    per_address[address] += 1
    session = ViewSession(
        view_command(settings.url, mode),
        token=settings.token,
        write_bytes=socket.send_bytes,
        write_str=socket.send_str,
        close=lambda: _close_quietly(socket),
        download_manager=request.app[_DOWNLOADS],
    )
    try:
        await session.start(width, height)
        await _relay(socket, session)
    except (ConnectionError, OSError) as exc:
        log.warning("browser radiator session ended: %s", exc)
    finally:
        try:
            await _stop_for_sure(session)
        finally:
            sessions.pop(socket).set()
            per_address[address] -= 1
            if per_address[address] <= 0:
                del per_address[address]
        await socket.close()
    return socket


async def _stop_for_sure(session: ViewSession) -> None:
    """Stop the session's process even when the handler is being cancelled (server shutdown):
    a radiator process must never outlive its browser."""
    closing = asyncio.ensure_future(session.close())
    try:
        await asyncio.shield(closing)
    except asyncio.CancelledError:
        await closing
        raise


async def _close_quietly(socket: web.WebSocketResponse) -> None:
    await socket.close()


async def _relay(socket: web.WebSocketResponse, session: ViewSession) -> None:
    """The browser's side of textual-serve's protocol: keys, size, focus, pings."""
    async for message in socket:
        if message.type != WSMsgType.TEXT:
            continue
        try:
            envelope: Any = json.loads(message.data)
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
        except (ValueError, TypeError, IndexError, KeyError, RecursionError):
            # A malformed message is ignored, never fatal to the session (nested too deep for
            # Python's JSON reader is a RecursionError, no ValueError).
            continue
        if kind == "stdin" and isinstance(data, str):
            await session.send_bytes(data.encode("utf-8"))
        elif kind == "resize" and isinstance(data, dict):
            await session.set_terminal_size(
                _clamped(str(data.get("width")), 80, 10, 1000),
                _clamped(str(data.get("height")), 24, 5, 500),
            )
        elif kind == "ping":
            await socket.send_json(["pong", data])
        elif kind == "blur":
            await session.blur()
        elif kind == "focus":
            await session.focus()


async def _close_sessions(app: web.Application) -> None:
    """Server shutdown: close every browser's socket so each session stops its process."""
    sessions = app[_SESSIONS]
    running = list(sessions.items())
    for socket, _ in running:
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
    # ...and wait for those processes to be gone before the server stops.
    waits = [asyncio.ensure_future(stopped.wait()) for _, stopped in running]
    if waits:
        _, late = await asyncio.wait(waits, timeout=3 * STOP_SECONDS)
        for wait in late:
            wait.cancel()
