"""The browser radiator's plumbing (webview.py): the page, its websocket address behind our
server, the process each session runs, the cap on sessions and their clean stop. The session's
process is a stand-in speaking textual-serve's wire protocol (tests/fake_session.py), so these
tests check our half of it in well under a second each; tests/test_browser.py runs the real thing
in Chromium, tests/test_serve_origin.py and test_serve_session_env.py the hostile cases."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from buildradiator.config.loading import Config
from buildradiator.errors import ConfigError
from buildradiator.serve import browser as webview
from buildradiator.serve import browser_session as webview_session
from buildradiator.sources.radiator.config import RadiatorFeedSource
from buildradiator.ui import view
from buildradiator.ui.options import RadiatorOptions
from fake_session import Marks, hello, install, wait_for_file

CENTRAL = "http://127.0.0.1:8686"
TOKEN_ENV = "BR_SERVE_TOKEN_FOR_TEST"
TOKEN = "s3cr3t-token-value-9f8e7d"


@pytest.fixture
def fake_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Marks:
    """Make the sessions' process the stand-in of ``fake_session``; returns its marks."""
    return install(tmp_path, monkeypatch)


def browser_app(**kwargs: Any) -> web.Application:
    app = web.Application()
    webview.add_browser(
        app, url=kwargs.pop("url", CENTRAL), token=kwargs.pop("token", TOKEN), **kwargs
    )
    return app


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(browser_app(title="Acme radiator"))) as c:
        yield c


def ws_connect(c: TestClient, path: str) -> Any:  # type: ignore[type-arg]
    """The browser view's socket as our own page opens it: with the page's ``Origin``."""
    return c.ws_connect(path, origin=f"http://127.0.0.1:{c.port}")


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


def test_view_command_reads_the_central_snapshot_and_never_carries_the_token() -> None:
    assert webview.view_command(CENTRAL) == [
        sys.executable, "-m", "buildradiator", "view", "--url", CENTRAL,
    ]  # fmt: skip
    argv = webview.view_command(CENTRAL, "wall")
    assert argv[3:] == ["view", "--url", CENTRAL, "--mode", "wall"]
    assert not any(a in ("--config", "-c", "run", "demo") for a in argv)


async def test_a_session_runs_the_view_command_with_the_token_on_a_pipe_only(
    client: TestClient,  # type: ignore[type-arg]
    fake_app: Marks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)  # the server's environment holds it...
    async with ws_connect(client, "/ws?width=120&height=40") as ws:
        started = await hello(ws)
        argv = started["argv"]
        assert argv[:-1] == [
            "-m", "buildradiator", "view", "--url", CENTRAL, "--token-fd",
        ]  # fmt: skip
        assert argv[-1].isdigit()
        assert started["token"] == TOKEN  # ...the session reads it from the pipe...
        assert all(TOKEN not in arg for arg in argv)
        env = started["env"]
        assert TOKEN_ENV not in env  # ...and has it in no variable a child would inherit.
        assert not [k for k, v in env.items() if TOKEN in v]
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
    assert await wait_for_file(fake_app.quit) == "quit\n"


async def test_the_wall_socket_starts_the_radiator_in_wall_mode(
    client: TestClient,  # type: ignore[type-arg]
    fake_app: Marks,
) -> None:
    async with ws_connect(client, "/ws/wall") as ws:
        assert (await hello(ws))["argv"][-4:-2] == ["--mode", "wall"]  # then --token-fd N
    bogus = await client.get("/ws/bogus", headers={"Origin": f"http://127.0.0.1:{client.port}"})
    assert bogus.status == 404


async def test_sessions_are_capped_so_a_flood_cannot_fork_the_host_to_death(
    fake_app: Marks,
) -> None:
    async with TestClient(TestServer(browser_app(title="t", max_sessions=1))) as c:
        async with ws_connect(c, "/ws") as first:
            await hello(first)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await ws_connect(c, "/ws")
            assert refused.value.status == 503
        await wait_for_file(fake_app.quit)
        # The slot is free again once the first browser left.
        for _ in range(100):
            try:
                async with ws_connect(c, "/ws") as again:
                    assert "argv" in await hello(again)
                break
            except aiohttp.WSServerHandshakeError:
                await asyncio.sleep(0.02)
        else:
            raise AssertionError("the session slot was never freed")


async def test_server_shutdown_stops_every_session(fake_app: Marks) -> None:
    server = TestServer(browser_app(title="t"))
    client = TestClient(server)
    await client.start_server()
    try:
        ws = await ws_connect(client, "/ws")
        await hello(ws)
        await server.close()  # runs the app's on_shutdown
        closing = await asyncio.wait_for(ws.receive(), 10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert await wait_for_file(fake_app.quit) == "quit\n"
        await ws.close()
    finally:
        await client.close()


async def test_a_crashed_radiator_closes_the_browser_socket(
    client: TestClient,  # type: ignore[type-arg]
    fake_app: Marks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_app.crash.touch()
    async with ws_connect(client, "/ws") as ws:
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
    monkeypatch.setattr(webview_session, "STOP_SECONDS", 0.3)
    async with ws_connect(client, "/ws") as ws:
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

    def fake_run_radiator(config: Config, options: RadiatorOptions, **kwargs: Any) -> int:
        seen.update(config=config, options=options, **kwargs)
        return 7

    monkeypatch.setattr("buildradiator.ui.launch.run_radiator", fake_run_radiator)
    monkeypatch.setenv(TOKEN_ENV, f"  {TOKEN}\n")
    code = view.run_view(CENTRAL, TOKEN_ENV, mode="wall", ascii=True, theme="mono")
    assert code == 7
    config: Config = seen["config"]
    (source,) = config.sources
    assert isinstance(source, RadiatorFeedSource)
    assert (source.type, source.name, source.url) == ("radiator", "radiator", CENTRAL)
    assert source.token is not None and source.token.get_secret_value() == TOKEN
    assert source.interval is not None and source.interval <= 10
    assert TOKEN not in repr(config)
    options: RadiatorOptions = seen["options"]
    assert (options.mode, options.ascii, options.theme) == ("wall", True, "mono")
    # Its own throwaway state: no cache, no history file shared by thirty sessions.
    assert seen["use_cache"] is False
    assert seen["history"] is not None and seen["history"].path is None


def test_run_view_without_its_token_says_which_variable_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("buildradiator.ui.launch.run_radiator", lambda *a, **k: 0)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ConfigError) as missing:
        view.run_view(CENTRAL, TOKEN_ENV, mode=None, ascii=False, theme=None)
    assert TOKEN_ENV in missing.value.problems[0].render()
    assert view.run_view(CENTRAL, None, mode=None, ascii=False, theme=None) == 0


def test_sessions_get_an_allow_listed_environment() -> None:
    from buildradiator.serve.browser import session_environment

    env = {
        "PATH": "/usr/bin",
        "HOME": "/home/radiator",
        "LANG": "de_DE.UTF-8",
        "LC_TIME": "C",
        "TZ": "Europe/Berlin",
        "BUILDRADIATOR_HOME": "/srv/radiator",
        "TEXTUAL_DRIVER": "web",
        "COLUMNS": "120",
        # Secrets, whatever their names look like: none of them is on the list.
        "GITHUB_TOKEN": "ghp_x",
        "RADIATOR_TOKEN": "serve-secret",
        "GH": "plain-name-secret",
        "DATABASE_URL": "postgres://u:pw@db/x",
        "AWS_SECRET_ACCESS_KEY": "k",
        "LD_PRELOAD": "/tmp/evil.so",
        "BUILDRADIATOR_CONFIG": "/etc/radiator.toml",
    }
    out = session_environment(env)
    assert out == {
        "PATH": "/usr/bin",
        "HOME": "/home/radiator",
        "LANG": "de_DE.UTF-8",
        "LC_TIME": "C",
        "TZ": "Europe/Berlin",
        "BUILDRADIATOR_HOME": "/srv/radiator",
        "TEXTUAL_DRIVER": "web",
        "COLUMNS": "120",
    }


def test_a_token_pipe_is_read_once_and_closed(tmp_path: Path) -> None:
    fd = webview_session.token_pipe(TOKEN)
    assert view.read_token_fd(fd) == TOKEN
    with pytest.raises(OSError):
        os.fstat(fd)  # closed: nothing else in the process can read it again
    not_a_pipe = os.open(tmp_path / "file", os.O_CREAT | os.O_RDONLY)
    with pytest.raises(view.ViewTokenError, match="not a pipe"):
        view.read_token_fd(not_a_pipe)
    empty = webview_session.token_pipe(" ")
    with pytest.raises(view.ViewTokenError, match="no usable token"):
        view.read_token_fd(empty)
    with pytest.raises(view.ViewTokenError, match="cannot read"):
        view.read_token_fd(empty)  # closed already


def test_run_view_takes_its_token_from_the_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        "buildradiator.ui.launch.run_radiator",
        lambda config, *a, **k: seen.update(config=config) or 0,
    )
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    fd = webview_session.token_pipe(TOKEN)
    assert view.run_view(CENTRAL, None, mode=None, ascii=False, theme=None, token_fd=fd) == 0
    (source,) = seen["config"].sources
    assert source.token is not None and source.token.get_secret_value() == TOKEN
    assert source.token_env is None


def test_the_browser_view_imports_no_command_line_and_no_private_config() -> None:
    """serve sits below cli: the browser view builds its own options and config (the package's
    one import cycle was ``serve.browser`` importing ``cli`` back)."""
    import ast
    import inspect

    for module in (webview, webview_session):
        tree = ast.parse(inspect.getsource(module))
        imported = {
            (node.module or "", alias.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert not [m for m, _ in imported if m == "buildradiator.cli"], module.__name__
        assert not [
            name for m, name in imported if m.startswith("buildradiator") and name.startswith("_")
        ], module.__name__
