"""Terminal bell and desktop notifications: exact bytes, hostile text, tmux passthrough."""

from __future__ import annotations

import io
import re

import pytest

from buildradiator.ui.notify import (
    BEL,
    TextSink,
    in_tmux,
    notification_bytes,
    osc9,
    osc777,
    sanitize,
    send_bell,
    send_notification,
    tmux_wrap,
    write_safely,
)


def test_exact_sequences() -> None:
    assert BEL == b"\x07"
    assert osc9("acme/monolith turned red") == b"\x1b]9;acme/monolith turned red\x07"
    assert osc777("acme/monolith turned red", "c0ffee0 by Mallory") == (
        b"\x1b]777;notify;acme/monolith turned red;c0ffee0 by Mallory\x07"
    )
    assert notification_bytes("T", "B") == b"\x1b]9;T: B\x07\x1b]777;notify;T;B\x07"
    assert notification_bytes("T", "") == b"\x1b]9;T\x07\x1b]777;notify;T;\x07"


def test_utf8_text_survives() -> None:
    assert osc9("Zoë’s build ✗") == "\x1b]9;Zoë’s build ✗\x07".encode()


HOSTILE = [
    "evil\x07\x1b]777;notify;pwned;x\x07",  # BEL ends OSC, then a new one
    "evil\x1b\\\x1b]52;c;aGVsbG8=\x07",  # ST (ESC \) then a clipboard write
    "evil\x9c\x9d0;title\x9c",  # C1 ST and C1 OSC
    "evil;injected;field",  # an extra OSC 777 field
    "evil\x1b[31mred\x1b[0m\r\nline",  # colours, CR, LF
    "evil\x00nul\x7fdel",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_cannot_escape_the_sequence(text: str) -> None:
    clean = sanitize(text)
    assert not re.search("[\x00-\x1f\x7f-\x9f;]", clean)
    assert clean.startswith("evil")
    data = notification_bytes(text, text)
    # Exactly two sequences, each with exactly its own terminator and separators.
    assert data.count(b"\x1b") == 2
    assert data.count(b"\x07") == 2
    assert b"\x9c" not in data and b"\xc2\x9c" not in data
    osc9_part, osc777_part = data.split(b"\x07")[:2]
    assert osc9_part.count(b";") == 1
    assert osc777_part.count(b";") == 3


def test_hostile_text_keeps_its_visible_words() -> None:
    assert sanitize("fix\x1b[31m red \x1b[0mthings; now") == "fix red things now"


def test_long_text_is_cut() -> None:
    data = osc777("t" * 1000, "b" * 5000)
    assert len(data) < 400


def test_tmux_passthrough_doubles_every_escape() -> None:
    assert tmux_wrap(b"\x1b]9;hi\x07") == b"\x1bPtmux;\x1b\x1b]9;hi\x07\x1b\\"
    data = notification_bytes("T", "B", tmux=True)
    assert data == (
        b"\x1bPtmux;\x1b\x1b]9;T: B\x07\x1b\\\x1bPtmux;\x1b\x1b]777;notify;T;B\x07\x1b\\"
    )
    # Hostile text cannot close the DCS either: the only lone ESC \ are the two terminators.
    hostile = notification_bytes(HOSTILE[1], HOSTILE[1], tmux=True)
    assert hostile.count(b"\x1bPtmux;") == 2
    assert re.sub(rb"\x1b\x1b", b"", hostile).count(b"\x1b\\") == 2


def test_in_tmux() -> None:
    assert in_tmux({"TMUX": "/tmp/tmux-1000/default,123,0"})
    assert not in_tmux({"TMUX": ""})
    assert not in_tmux({})


def test_send_writes_to_a_binary_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.BytesIO()
    assert send_bell(out)
    monkeypatch.setenv("TMUX", "/tmp/tmux,1,0")
    assert send_notification(out, "T", "B")
    monkeypatch.delenv("TMUX")
    assert send_notification(out, "T", "B")
    assert out.getvalue() == (
        b"\x07" + notification_bytes("T", "B", tmux=True) + notification_bytes("T", "B")
    )


def test_text_sink_adapts_a_str_writer() -> None:
    written: list[str] = []
    assert send_notification(TextSink(written.append), "Zoë", "B", tmux=False)
    assert written == ["\x1b]9;Zoë: B\x07\x1b]777;notify;Zoë;B\x07"]


class Broken:
    def __init__(self, fail_on: str) -> None:
        self.fail_on = fail_on

    def write(self, data: bytes) -> int:
        if self.fail_on == "write":
            raise BrokenPipeError(32, "Broken pipe")
        return len(data)

    def flush(self) -> None:
        if self.fail_on == "flush":
            raise OSError(5, "Input/output error")


@pytest.mark.parametrize("fail_on", ["write", "flush"])
def test_a_broken_terminal_never_raises(fail_on: str) -> None:
    assert send_bell(Broken(fail_on)) is False
    assert send_notification(Broken(fail_on), "T", "B") is False


def test_a_closed_stream_never_raises() -> None:
    out = io.BytesIO()
    out.close()
    assert write_safely(out, b"x") is False
    assert send_bell(Broken("none"))
