"""A stand-in for ``buildradiator view`` in browser sessions: a few lines of Python speaking
textual-serve's wire protocol ("__GANGLION__", then packets of 1 type byte, 4 length bytes and
a payload, both ways). It says how it was started (argv, environment, the token handed to it on
a pipe), echoes what the server sends, and on the "quit" meta packet notes that it was asked to
stop and exits. Its marks are files baked into the script, not environment variables: a session
runs with an allow-listed environment, so a variable of the test would never reach it.

``install(tmp_path, monkeypatch)`` makes it what webview starts (``sys.executable`` as webview
sees it) and returns its ``Marks``."""

from __future__ import annotations

import asyncio
import json
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from buildradiator.serve import browser as webview

SCRIPT = """\
#!{python}
import json, os, sys
out, inp = sys.stdout.buffer, sys.stdin.buffer
with open({started!r}, "a") as mark:
    mark.write(str(os.getpid()) + "\\n")
def send(obj):
    payload = json.dumps(obj).encode()
    out.write(b"D" + len(payload).to_bytes(4, "big") + payload)
    out.flush()
out.write(b"__GANGLION__\\n")
token = None
if "--token-fd" in sys.argv:
    with os.fdopen(int(sys.argv[sys.argv.index("--token-fd") + 1]), "rb") as pipe:
        token = pipe.read().decode()
send({{
    "argv": sys.argv[1:],
    "token": token,
    "env": dict(os.environ),
    "columns": os.environ.get("COLUMNS"),
    "rows": os.environ.get("ROWS"),
}})
if os.path.exists({crash!r}):
    sys.exit(3)
while True:
    head = inp.read(5)
    if len(head) < 5:
        break
    body = inp.read(int.from_bytes(head[1:], "big"))
    if head[:1] == b"M":
        meta = json.loads(body)
        if meta["type"] == "quit":
            open({quit!r}, "a").write("quit\\n")
            break
        send({{"meta": meta}})
    else:
        send({{"stdin": body.decode()}})
"""


@dataclass(frozen=True)
class Marks:
    started: Path
    """One line (the pid) per session process started."""
    quit: Path
    """Written when a session was asked to quit."""
    crash: Path
    """Create it to make the next sessions exit right after their hello."""

    def started_count(self) -> int:
        return len(self.started.read_text().splitlines()) if self.started.exists() else 0


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Marks:
    marks = Marks(tmp_path / "started", tmp_path / "quit-mark", tmp_path / "crash")
    script = tmp_path / "fake-python"
    script.write_text(
        SCRIPT.format(
            python=sys.executable,
            started=str(marks.started),
            quit=str(marks.quit),
            crash=str(marks.crash),
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(webview.sys, "executable", str(script))
    return marks


async def hello(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The stand-in's next packet, as JSON."""
    message = await asyncio.wait_for(ws.receive(), 10)
    assert message.type == aiohttp.WSMsgType.BINARY, message
    return json.loads(message.data)  # type: ignore[no-any-return]


async def wait_for_file(path: Path) -> str:
    for _ in range(200):
        if path.exists() and (text := path.read_text()):
            return text
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path.name} never written")
