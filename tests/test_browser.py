"""The browser radiator in a real browser: ``serve``'s HTTP side (with a token, as a wall TV on
an office network would use it) publishes the red estate, headless Chromium (Debian's
``chromium``) opens ``/?token=...`` like a TV would, textual-serve starts ``buildradiator view``
for it, and the radiator's text must appear in the page's terminal.

The terminal draws into a canvas (xterm.js), so the text is not in the DOM. We drive Chromium
over its DevTools protocol and read xterm.js's own screen buffer: before the page's scripts run,
a setter on ``Object.prototype`` catches the object textual-serve's bundle assigns to
``this.terminal`` (the xterm.js ``Terminal``), and ``buffer.active.getLine(i).translateToString``
gives the characters on screen, as drawn, whatever the renderer.

Marked ``browser``: out of the default run, run by ``.ci/run`` (``pytest -m browser``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from buildradiator.clock import Clock
from buildradiator.serve.server import Board, RadiatorServer, browser_mount
from snapshot_fixtures import red_estate

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN_ENV = "BR_BROWSER_TEST_TOKEN"
TOKEN = "tv-wall-token-4f1c9a"
DEADLINE = 45.0

# Runs in the page before any of its scripts (Page.addScriptToEvaluateOnNewDocument).
CATCH_TERMINAL = """
(() => {
  window.__terminals = [];
  Object.defineProperty(Object.prototype, "terminal", {
    configurable: true,
    set(value) {
      Object.defineProperty(this, "terminal", {
        value, writable: true, configurable: true, enumerable: true,
      });
      window.__terminals.push(value);
    },
  });
})();
"""
READ_SCREEN = """
(() => {
  const term = window.__terminals.find(t => t && t.buffer && t.buffer.active);
  if (!term) return {body: document.body ? document.body.className : "", screen: null};
  const buffer = term.buffer.active, lines = [];
  for (let y = 0; y < buffer.length; y++) {
    const line = buffer.getLine(y);
    if (line) lines.push(line.translateToString(true));
  }
  return {body: document.body.className, screen: lines.join("\\n"),
          size: [term.cols, term.rows]};
})()
"""


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands by id, over aiohttp's websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            future = self.waiting.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self.waiting.values():
            future.set_exception(ConnectionError("Chromium closed its DevTools socket"))

    async def call(self, method: str, session: str | None = None, **params: Any) -> Any:
        ident = next(self.ids)
        future = self.waiting[ident] = asyncio.get_running_loop().create_future()
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.socket.send_str(json.dumps(message))
        answer = await asyncio.wait_for(future, 15)
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer["result"]


@contextlib.asynccontextmanager
async def headless_chromium(profile: Path) -> AsyncIterator[DevTools]:
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # we run as root in CI containers
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--enable-unsafe-swiftshader",  # software WebGL for xterm.js's renderer
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-extensions",
        "--disable-sync",
        "--mute-audio",
        "--window-size=1400,900",
        "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1",
        f"--user-data-dir={profile}",
        "about:blank",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its zygote, GPU and renderer processes go with it
    )
    assert process.stderr is not None
    try:
        endpoint = None
        seen: list[str] = []
        async with asyncio.timeout(20):
            while endpoint is None:
                line = (await process.stderr.readline()).decode("utf-8", "replace")
                if not line:
                    raise AssertionError("Chromium exited early:\n" + "".join(seen[-20:]))
                seen.append(line)
                if found := re.search(r"DevTools listening on (ws://\S+)", line):
                    endpoint = found.group(1)
        # Keep draining its chatter so it never blocks on a full pipe.
        drain = asyncio.create_task(process.stderr.read())
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(endpoint, max_msg_size=0) as socket,
        ):
            tools = DevTools(socket)
            try:
                yield tools
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(tools.call("Browser.close"), 5)
            finally:
                tools.reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await tools.reader
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain
    finally:
        if process.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the group we started, should any linger
        await process.wait()


async def test_a_tv_browser_shows_the_central_radiator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert os.access(CHROMIUM, os.X_OK), "Debian's chromium is not installed (.ci/run does it)"
    started = time.monotonic()
    # The session's `buildradiator view` is handed the token on a pipe: no variable holds it.
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    board = Board(Clock())
    board.publish(red_estate())
    server = RadiatorServer(
        board, host="127.0.0.1", port=0, token=TOKEN,
        browser=browser_mount("Acme radiator"),
    )  # fmt: skip
    async with server, headless_chromium(tmp_path / "profile") as chromium:
        target = await chromium.call("Target.createTarget", url="about:blank")
        attached = await chromium.call(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        page = attached["sessionId"]
        await chromium.call("Page.enable", page)
        await chromium.call("Page.addScriptToEvaluateOnNewDocument", page, source=CATCH_TERMINAL)
        # A TV opens the address once with the token; serve swaps it for a cookie.
        await chromium.call("Page.navigate", page, url=f"{server.url}/?token={TOKEN}")

        seen: dict[str, Any] = {}
        wanted = ("acme/monolith", "MAIN RED")
        while time.monotonic() - started < DEADLINE:
            result = await chromium.call(
                "Runtime.evaluate", page, expression=READ_SCREEN, returnByValue=True
            )
            seen = result["result"].get("value") or {}
            screen = seen.get("screen") or ""
            if all(text in screen for text in wanted):
                break
            await asyncio.sleep(0.25)
        else:
            raise AssertionError(
                f"the radiator's text never appeared in the browser's terminal "
                f"(page classes {seen.get('body')!r}); last screen:\n{seen.get('screen')}"
            )
        url = await chromium.call(
            "Runtime.evaluate", page, expression="location.href", returnByValue=True
        )
        # The token left the address bar (it lives in an HttpOnly cookie now).
        assert TOKEN not in url["result"]["value"]
        # The page is textual-serve's terminal and it has the first bytes of a live session.
        assert "-first-byte" in seen["body"]
        cols, rows = seen["size"]
        assert cols >= 80 and rows >= 24, "the terminal should fill the TV's window"
        # Its session reads the central snapshot: other pipelines of the estate are there too.
        assert "acme/billing" in screen
    print(f"browser radiator shown in {time.monotonic() - started:.1f}s")


HOSTILE_PAGE = """<!doctype html><title>cute cats</title><script>
window.__result = "pending";
const socket = new WebSocket(%(target)s);
socket.onopen = () => { window.__result = "opened"; };
socket.onerror = () => { window.__result = "refused"; };
</script>"""


async def test_a_page_elsewhere_cannot_open_the_radiator_in_the_users_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack on the default set-up (loopback, no token): the user visits another site,
    whose script opens the radiator's WebSocket from their browser."""
    assert os.access(CHROMIUM, os.X_OK), "Debian's chromium is not installed (.ci/run does it)"
    from aiohttp import web

    started_sessions: list[list[str]] = []
    from buildradiator.serve import browser as webview

    real_view_command = webview.view_command

    def spy(*args: Any, **kwargs: Any) -> list[str]:
        argv = real_view_command(*args, **kwargs)
        started_sessions.append(argv)
        return argv

    monkeypatch.setattr(webview, "view_command", spy)
    board = Board(Clock())
    board.publish(red_estate())
    server = RadiatorServer(board, port=0, browser=browser_mount("Acme radiator"))
    async with server:
        target = json.dumps(f"ws://127.0.0.1:{server.port}/ws")

        async def hostile(request: web.Request) -> web.Response:
            return web.Response(text=HOSTILE_PAGE % {"target": target}, content_type="text/html")

        evil = web.Application()
        evil.router.add_get("/", hostile)
        runner = web.AppRunner(evil, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            evil_port = runner.addresses[0][1]
            async with headless_chromium(tmp_path / "profile") as chromium:
                created = await chromium.call("Target.createTarget", url="about:blank")
                attached = await chromium.call(
                    "Target.attachToTarget", targetId=created["targetId"], flatten=True
                )
                page = attached["sessionId"]
                await chromium.call("Page.enable", page)
                await chromium.call("Page.navigate", page, url=f"http://127.0.0.1:{evil_port}/")
                result = "pending"
                deadline = time.monotonic() + DEADLINE
                while result == "pending" and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                    answer = await chromium.call(
                        "Runtime.evaluate", page, expression="window.__result", returnByValue=True
                    )
                    result = answer["result"].get("value") or "pending"
        finally:
            await runner.cleanup()
    assert result == "refused"
    assert started_sessions == []  # no radiator process for the page elsewhere
