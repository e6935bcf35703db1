"""A token as editors and tools write it: a file saved with a UTF-8 byte-order mark (Notepad's
"UTF-8"), a command or a variable holding one, and a token with a character no HTTP header
can carry. Real requests to a server on 127.0.0.1 show what is sent.

A BOM stayed at the head of the token: no request went out, and the source said "unexpected
payload (UnicodeEncodeError)", blaming the server for what was the token file's first bytes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from buildradiator.model import SourceState
from engine_helpers import poll_once
from hostile_server import HostileServer, answer

TOKEN = "glpat-S3cr3tT0ken"


async def poll_gitlab(secret: str) -> tuple[SourceState, list[str | None]]:
    """One poll of a GitLab source whose token comes from ``secret`` (a ``token_*`` line);
    the source's state and the ``PRIVATE-TOKEN`` each request carried."""
    async with HostileServer() as server:
        server.route("/api/v4/projects/acme%2Fshop/pipelines", answer(200, b"[]"))
        server.route("/api/v4/projects/acme%2Fshop", answer(200, b'{"id": 1}'))
        snapshot = await poll_once(
            f'[[sources]]\nname = "gl"\ntype = "gitlab"\napi_url = "{server.url}/api/v4"\n'
            f'project = "acme/shop"\ntimeout = 5\n{secret}\n'
        )
    [state] = snapshot.sources
    return state, [seen.headers.get("private-token") for seen in server.seen]


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
async def test_a_token_file_saved_with_a_byte_order_mark_sends_the_token(
    tmp_path: Path, ending: str
) -> None:
    path = tmp_path / "token"
    path.write_bytes(("\ufeff" + TOKEN + ending).encode("utf-8"))
    state, sent = await poll_gitlab(f'token_file = "{path}"')
    assert sent and set(sent) == {TOKEN}, state.error
    assert state.error is None


async def test_a_token_command_printing_a_byte_order_mark_sends_the_token(tmp_path: Path) -> None:
    script = tmp_path / "print_token.py"
    script.write_text(f"import sys\nsys.stdout.buffer.write('\\ufeff{TOKEN}\\n'.encode())\n")
    state, sent = await poll_gitlab(f'token_command = ["{sys.executable}", "{script}"]')
    assert sent and set(sent) == {TOKEN}, state.error


async def test_a_token_variable_holding_a_byte_order_mark_sends_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BR_BOM_TOKEN", "\ufeff" + TOKEN)
    state, sent = await poll_gitlab('token_env = "BR_BOM_TOKEN"')
    assert sent and set(sent) == {TOKEN}, state.error


async def test_a_token_no_header_can_carry_is_named_as_the_tokens_fault(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BR_ODD_TOKEN", TOKEN + "é")
    state, sent = await poll_gitlab('token_env = "BR_ODD_TOKEN"')
    assert sent == []  # nothing could be sent
    error = str(state.error)
    assert "token" in error and "payload" not in error, error
    assert TOKEN not in error


async def test_a_token_variable_of_two_lines_is_named_as_the_tokens_fault(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``export TOKEN="$(cat file)"`` of a file with two lines: the newline went into the header,
    and the source said "cannot reach 127.0.0.1: LocalProtocolError" of a server that was up."""
    monkeypatch.setenv("BR_TWO_LINES", TOKEN + "\nsecond line")
    state, sent = await poll_gitlab('token_env = "BR_TWO_LINES"')
    assert sent == []
    error = str(state.error)
    assert "PRIVATE-TOKEN header" in error and "cannot reach" not in error, error
    assert TOKEN not in error
