"""A real browser session (``buildradiator view`` started by ``serve`` for a WebSocket) and the
server's environment: secrets the server happens to hold (a database URL with its password, cloud
keys, the serve token itself) must not be in the session's environment, where any process it
starts would inherit them. The session still reads the central snapshot with the token: its
screen shows the radiator's pipelines."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import aiohttp
import pytest

from buildradiator.clock import Clock
from buildradiator.serve.server import Board, RadiatorServer, browser_mount
from snapshot_fixtures import green_estate

TOKEN_ENV = "BR_SESSION_ENV_TEST_TOKEN"
TOKEN = "serve-t0ken-for-session-env"
SECRETS = {
    "DATABASE_URL": "postgres://radiator:hunter2@db.internal/builds",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "SENTRY_DSN": "https://0123abcd@o1.ingest.sentry.io/42",
    "ACME_DEPLOY_CREDENTIALS": "deployer:s3cret",
}


def children_running(argv_part: str) -> list[int]:
    """Our child processes whose command line contains ``argv_part``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and argv_part in cmdline:
            found.append(int(entry.name))
    return found


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = [item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item]
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


async def test_a_real_session_gets_an_allow_listed_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("INNOCENT_LOOKING_SETTING", "not on the list")
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("LC_TIME", "C")
    board = Board(Clock())
    board.publish(green_estate())
    server = RadiatorServer(board, port=0, token=TOKEN, browser=browser_mount("Acme radiator"))
    async with server, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            server.url.replace("http:", "ws:") + "/ws?width=120&height=40",
            origin=server.url,
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        try:
            # The session reads the central snapshot (with the token) and draws it.
            seen = b""
            deadline = time.monotonic() + 30
            while b"acme/monolith" not in seen:
                assert time.monotonic() < deadline, seen[-2000:]
                message = await asyncio.wait_for(ws.receive(), 30)
                assert message.type == aiohttp.WSMsgType.BINARY, message
                seen += message.data
            [pid] = children_running(" view --url ")
            env = environ_of(pid)
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        finally:
            await ws.close()
    for name in [*SECRETS, "INNOCENT_LOOKING_SETTING", TOKEN_ENV]:
        assert name not in env, name
    assert not [k for k, v in env.items() if TOKEN in v or "hunter2" in v]
    assert TOKEN not in cmdline
    # What it needs is there.
    assert env["PATH"] == os.environ["PATH"]
    assert env["HOME"] == os.environ["HOME"]
    assert env["BUILDRADIATOR_HOME"] == os.environ["BUILDRADIATOR_HOME"]
    assert env["LC_TIME"] == "C"
    assert env["TEXTUAL_DRIVER"].endswith("WebDriver")
