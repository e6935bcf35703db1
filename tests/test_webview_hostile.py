"""The browser radiator's socket under messages a page (or anything that can open the socket)
should never send: each is ignored, and the session goes on taking keys. The session's process is
the stand-in of tests/fake_session.py, as in test_webview.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from buildradiator.serve import browser as webview
from fake_session import Marks, hello, install


@pytest.fixture
def fake_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Marks:
    return install(tmp_path, monkeypatch)


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    webview.add_browser(app, url="http://127.0.0.1:8686", token="t0ken", title="t")
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.mark.parametrize(
    "message",
    ["[" * 20_000, '{"a":' * 10_000 + "1" + "}" * 10_000, "[" * 5000 + "]" * 5000],
    ids=["open-brackets", "deep-object", "deep-array"],
)
async def test_a_message_nested_too_deep_is_ignored_and_the_session_goes_on(
    client: TestClient,  # type: ignore[type-arg]
    fake_app: Marks,
    message: str,
) -> None:
    """A few KiB of nested brackets made Python's JSON reader raise ``RecursionError`` (no
    ``ValueError``): it ended the relay with a traceback, and the browser's radiator with it."""
    async with client.ws_connect("/ws", origin=f"http://127.0.0.1:{client.port}") as ws:
        await hello(ws)
        await ws.send_str(message)
        await ws.send_str(json.dumps(["stdin", "w"]))
        assert await hello(ws) == {"stdin": "w"}
