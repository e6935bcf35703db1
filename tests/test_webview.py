"""The browser radiator's plumbing (webview.py): the page, its websocket address behind our
server, the process each session runs, the cap on sessions and their clean stop. The session's
process is a stand-in speaking textual-serve's wire protocol (a few lines of Python), so these
tests check our half of it in well under a second each; tests/test_browser.py runs the real thing
in Chromium."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from buildradiator import webview
from buildradiator.config import Config
from buildradiator.errors import ConfigError
from buildradiator.sourceconfig import RadiatorFeedSource

CENTRAL = "http://127.0.0.1:8686"
TOKEN_ENV = "BR_SERVE_TOKEN_FOR_TEST"
TOKEN = "s3cr3t-token-value-9f8e7d"

# textual-serve's protocol, app side: "__GANGLION__" then packets (1 type byte, 4 length bytes,
# payload) both ways. This stand-in reports how it was started, echoes what the server sends,
# and on the "quit" meta packet notes that it was asked to stop (a file) and exits.
FAKE_APP = """\
#!{python}
import json, os, sys
out, inp = sys.stdout.buffer, sys.stdin.buffer
def send(obj):
    payload = json.dumps(obj).encode()
    out.write(b"D" + len(payload).to_bytes(4, "big") + payload)
    out.flush()
out.write(b"__GANGLION__\\n")
env_name = sys.argv[sys.argv.index("--token-env") + 1] if "--token-env" in sys.argv else None
send({{
    "argv": sys.argv[1:],
    "token_in_env": bool(env_name and os.environ.get(env_name)),
    "columns": os.environ.get("COLUMNS"),
    "rows": os.environ.get("ROWS"),
}})
if os.environ.get("FAKE_APP_CRASH"):
    sys.exit(3)
while True:
    head = inp.read(5)
    if len(head) < 5:
        break
    body = inp.read(int.from_bytes(head[1:], "big"))
    if head[:1] == b"M":
        meta = json.loads(body)
        if meta["type"] == "quit":
            open(os.environ["FAKE_APP_MARK"], "a").write("quit\\n")
            break
        send({{"meta": meta}})
    else:
        send({{"stdin": body.decode()}})
"""


@pytest.fixture
def fake_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ``sys.executable`` (as webview sees it) the stand-in; returns its 'asked to quit'
    mark file."""
    script = tmp_path / "fake-python"
    script.write_text(FAKE_APP.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    mark = tmp_path / "quit-mark"
    monkeypatch.setattr(webview.sys, "executable", str(script))
    monkeypatch.setenv("FAKE_APP_MARK", str(mark))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return mark


def browser_app(**kwargs: Any) -> web.Application:
    app = web.Application()
    webview.add_browser(
        app, url=kwargs.pop("url", CENTRAL), token_env=kwargs.pop("token_env", TOKEN_ENV), **kwargs
    )
    return app


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(browser_app(title="Acme radiator"))) as c:
        yield c


async def hello(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 10)
    assert message.type == aiohttp.WSMsgType.BINARY, message
    return json.loads(message.data)  # type: ignore[no-any-return]


async def wait_for_file(path: Path) -> str:
    for _ in range(200):
        if path.exists() and (text := path.read_text()):
            return text
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path.name} never written")


# -- routes and page ---------------------------------------------------------------------------


def test_routes_are_mounted_on_our_app_next_to_its_own() -> None:
    app = browser_app(title="t")

    async def snapshot(request: web.Request) -> web.Response:
        return web.json_response({})

    app.router.add_get("/snapshot.json", snapshot)
    paths = {
        r.get_info().get("path") or r.get_info().get("formatter") for r in app.router.resources()
    }
    assert {"/", "/ws", "/ws/{mode}", "/snapshot.json"} <= paths
    assert any(r.canonical == "/static" for r in app.router.resources())


async def test_page_points_its_terminal_at_the_host_the_browser_used(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/", headers={"Host": "radiator.office:8686"})
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert 'data-session-websocket-url="ws://radiator.office:8686/ws"' in html
    assert "Acme radiator" in html
    assert '<script src="/static/js/textual.js">' in html
    # Nothing from the internet: a wall TV on an office network loads the page all the same.
    assert "googleapis" not in html
    assert "localhost:8000" not in html


async def test_page_behind_a_tls_proxy_uses_wss(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get(
        "/", headers={"Host": "radiator.example.com", "X-Forwarded-Proto": "https"}
    )
    assert 'data-session-websocket-url="wss://radiator.example.com/ws"' in await response.text()


async def test_wall_mode_is_chosen_by_query_and_unknown_modes_are_ignored(
    client: TestClient,
) -> None:  # type: ignore[type-arg]
    wall = await (await client.get("/?mode=wall", headers={"Host": "tv:1"})).text()
    assert 'data-session-websocket-url="ws://tv:1/ws/wall"' in wall
    odd = await (await client.get("/?mode=%22%3E", headers={"Host": "tv:1"})).text()
    assert 'data-session-websocket-url="ws://tv:1/ws"' in odd


async def test_a_hostile_host_header_or_title_cannot_inject_markup() -> None:
    async with TestClient(TestServer(browser_app(title="<script>alert(1)</script>"))) as c:
        html = await (await c.get("/", headers={"Host": 'x"><script>evil()</script>'})).text()
        port = c.port
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "evil()" not in html
    # The page falls back to the address the connection came in on.
    assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in html


async def test_textual_serve_statics_are_served(client: TestClient) -> None:  # type: ignore[type-arg]
    js = await client.get("/static/js/textual.js")
    assert js.status == 200
    assert b"sessionWebsocketUrl" in await js.read()
    assert (await client.get("/static/css/xterm.css")).status == 200
    assert (await client.get("/static/../server.py")).status in (403, 404)


# -- the session's command ---------------------------------------------------------------------


def test_view_command_reads_the_central_snapshot_and_names_the_token_only() -> None:
    assert webview.view_command(CENTRAL, None) == [
        sys.executable, "-m", "buildradiator", "view", "--url", CENTRAL,
    ]  # fmt: skip
    argv = webview.view_command(CENTRAL, TOKEN_ENV, "wall")
    assert argv[3:] == ["view", "--url", CENTRAL, "--token-env", TOKEN_ENV, "--mode", "wall"]
    assert not any(a in ("--config", "-c", "run", "demo") for a in argv)


async def test_a_session_runs_the_view_command_with_the_token_in_its_environment_only(
    client: TestClient,  # type: ignore[type-arg]
    fake_app: Path,
) -> None:
    async with client.ws_connect("/ws?width=120&height=40") as ws:
        started = await hello(ws)
        assert started["argv"] == [
            "-m", "buildradiator", "view", "--url", CENTRAL, "--token-env", TOKEN_ENV,
        ]  # fmt: skip
        assert all(TOKEN not in arg for arg in started["argv"])
        assert started["token_in_env"] is True
        assert (started["columns"], started["rows"]) == ("120", "40")

        # Keys and sizes reach the radiator; malformed messages are ignored, not fatal.
        await ws.send_str("not json")
        await ws.send_str(json.dumps(["resize"]))
        await ws.send_str(json.dumps(["resize", {"width": 10**9, "height": "x"}]))
        assert await hello(ws) == {"meta": {"type": "resize", "width": 1000, "height": 24}}
        await ws.send_str(json.dumps(["stdin", "w"]))
        assert await hello(ws) == {"stdin": "w"}
        await ws.send_str(json.dumps(["ping", "42"]))
        pong = await asyncio.wait_for(ws.receive(), 10)
        assert json.loads(pong.data) == ["pong", "42"]
    # The browser went away: the radiator was asked to quit.
    assert await wait_for_file(fake_app) == "quit\n"


async def test_the_wall_socket_starts_the_radiator_in_wall_mode(
    client: TestClient,  # type: ignore[type-arg]
    fake_app: Path,
) -> None:
    async with client.ws_connect("/ws/wall") as ws:
        assert (await hello(ws))["argv"][-2:] == ["--mode", "wall"]
    assert (await client.get("/ws/bogus")).status == 404


async def test_sessions_are_capped_so_a_flood_cannot_fork_the_host_to_death(
    fake_app: Path,
) -> None:
    async with TestClient(TestServer(browser_app(title="t", max_sessions=1))) as c:
        async with c.ws_connect("/ws") as first:
            await hello(first)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await c.ws_connect("/ws")
            assert refused.value.status == 503
        await wait_for_file(fake_app)
        # The slot is free again once the first browser left.
        for _ in range(100):
            try:
                async with c.ws_connect("/ws") as again:
                    assert "argv" in await hello(again)
                break
            except aiohttp.WSServerHandshakeError:
                await asyncio.sleep(0.02)
        else:
            raise AssertionError("the session slot was never freed")


async def test_server_shutdown_stops_every_session(fake_app: Path) -> None:
    server = TestServer(browser_app(title="t"))
    client = TestClient(server)
    await client.start_server()
    try:
        ws = await client.ws_connect("/ws")
        await hello(ws)
        await server.close()  # runs the app's on_shutdown
        closing = await asyncio.wait_for(ws.receive(), 10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert await wait_for_file(fake_app) == "quit\n"
        await ws.close()
    finally:
        await client.close()


async def test_a_crashed_radiator_closes_the_browser_socket(
    client: TestClient,  # type: ignore[type-arg]
    fake_app: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_APP_CRASH", "1")
    async with client.ws_connect("/ws") as ws:
        await hello(ws)
        closing = await asyncio.wait_for(ws.receive(), 10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_a_radiator_that_ignores_quit_is_killed(
    client: TestClient,  # type: ignore[type-arg]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = tmp_path / "stubborn"
    pidfile = tmp_path / "pid"
    script.write_text(
        f"#!{sys.executable}\nimport os, sys, time, signal\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "sys.stdout.write('__GANGLION__\\n'); sys.stdout.flush()\n"
        "sys.stdout.close()\n"  # even with its output closed, it lingers
        "time.sleep(60)\n"
    )
    script.chmod(0o755)
    monkeypatch.setattr(webview.sys, "executable", str(script))
    monkeypatch.setattr(webview, "STOP_SECONDS", 0.3)
    async with client.ws_connect("/ws") as ws:
        pid = int(await wait_for_file(pidfile))
        await ws.close()
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        await asyncio.sleep(0.02)
    os.kill(pid, 9)
    raise AssertionError("the stubborn radiator is still running")


# -- buildradiator view ------------------------------------------------------------------------


def test_run_view_runs_the_radiator_on_one_radiator_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def fake_run_radiator(config: Config, args: Any, **kwargs: Any) -> int:
        seen.update(config=config, args=args, **kwargs)
        return 7

    monkeypatch.setattr("buildradiator.cli.run_radiator", fake_run_radiator)
    monkeypatch.setenv(TOKEN_ENV, f"  {TOKEN}\n")
    code = webview.run_view(CENTRAL, TOKEN_ENV, mode="wall", ascii=True, theme="mono")
    assert code == 7
    config: Config = seen["config"]
    (source,) = config.sources
    assert isinstance(source, RadiatorFeedSource)
    assert (source.type, source.name, source.url) == ("radiator", "radiator", CENTRAL)
    assert source.token is not None and source.token.get_secret_value() == TOKEN
    assert source.interval is not None and source.interval <= 10
    assert TOKEN not in repr(config)
    assert (seen["args"].mode, seen["args"].ascii, seen["args"].theme) == ("wall", True, "mono")
    # Its own throwaway state: no cache, no history file shared by thirty sessions.
    assert seen["use_cache"] is False
    assert seen["history"] is not None and seen["history"].path is None


def test_run_view_without_its_token_says_which_variable_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("buildradiator.cli.run_radiator", lambda *a, **k: 0)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ConfigError) as missing:
        webview.run_view(CENTRAL, TOKEN_ENV, mode=None, ascii=False, theme=None)
    assert TOKEN_ENV in missing.value.problems[0].render()
    assert webview.run_view(CENTRAL, None, mode=None, ascii=False, theme=None) == 0


def test_sessions_get_no_ci_secrets_only_the_serve_token() -> None:
    from buildradiator.webview import session_environment

    env = {
        "PATH": "/usr/bin",
        "GITHUB_TOKEN": "ghp_x",
        "JENKINS_API_KEY": "k",
        "RADIATOR_TOKEN": "serve-secret",
        "GH": "plain-name-secret",
        "TEXTUAL_DRIVER": "web",
    }
    out = session_environment(env, "RADIATOR_TOKEN", frozenset({"GH"}))
    assert out == {"PATH": "/usr/bin", "RADIATOR_TOKEN": "serve-secret", "TEXTUAL_DRIVER": "web"}
