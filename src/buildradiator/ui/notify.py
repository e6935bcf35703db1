"""Bell and desktop notifications, sent through the terminal itself.

OSC 9 (iTerm2, WezTerm, Windows Terminal, kitty, ghostty...) and OSC 777 (VTE terminals, foot,
urxvt) travel in the terminal's own byte stream, so a notification reaches the user's desktop
even from a radiator running over ssh. Terminals that know neither ignore them.

The title and body come from CI (pipeline names, commit messages): every control character and
``;`` is stripped first, so no text can end the sequence early (BEL, ESC \\, C1 ST) or add a field
(``;``) or inject a sequence of its own.

Inside tmux the sequences are wrapped in tmux's DCS passthrough (tmux 3.3+ needs
``set -g allow-passthrough on``); a bare BEL is left to tmux, which has its own bell handling.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Protocol

from buildradiator.text import clean_text

__all__ = [
    "BEL",
    "TextSink",
    "Writable",
    "in_tmux",
    "notification_bytes",
    "osc9",
    "osc777",
    "sanitize",
    "send_bell",
    "send_notification",
    "tmux_wrap",
    "write_safely",
]

log = logging.getLogger(__name__)

BEL = b"\x07"
ESC = b"\x1b"
MAX_TITLE = 80
MAX_BODY = 240

# Belt and braces on top of clean_text: any C0/C1 control or DEL, and the field separator.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f;]")


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def sanitize(text: str, limit: int = MAX_BODY) -> str:
    """Untrusted text made inert inside an OSC string: no controls, no escapes, no ``;``."""
    return _FORBIDDEN.sub("", clean_text(text, limit)).strip()


def osc9(body: str) -> bytes:
    """``ESC ] 9 ; body BEL``."""
    return b"\x1b]9;" + sanitize(body).encode("utf-8") + BEL


def osc777(title: str, body: str) -> bytes:
    """``ESC ] 777 ; notify ; title ; body BEL``."""
    return (
        b"\x1b]777;notify;"
        + sanitize(title, MAX_TITLE).encode("utf-8")
        + b";"
        + sanitize(body).encode("utf-8")
        + BEL
    )


def tmux_wrap(sequence: bytes) -> bytes:
    """tmux's passthrough: ``ESC P tmux; <sequence with every ESC doubled> ESC \\``."""
    return b"\x1bPtmux;" + sequence.replace(ESC, ESC + ESC) + b"\x1b\\"


def in_tmux(environ: Mapping[str, str] | None = None) -> bool:
    return bool((os.environ if environ is None else environ).get("TMUX"))


def notification_bytes(title: str, body: str, *, tmux: bool = False) -> bytes:
    """Both notification flavours, for whichever the terminal speaks.

    OSC 9 carries one string only, so it gets ``title: body``.
    """
    title_clean, body_clean = sanitize(title, MAX_TITLE), sanitize(body)
    joined = f"{title_clean}: {body_clean}" if title_clean and body_clean else title_clean
    sequences = [osc9(joined or body_clean), osc777(title_clean, body_clean)]
    if tmux:
        sequences = [tmux_wrap(s) for s in sequences]
    return b"".join(sequences)


def write_safely(stream: Writable, data: bytes) -> bool:
    """Write and flush; a closed or broken terminal is logged, never raised (an alert must not
    take the radiator down). Returns whether the bytes were handed over."""
    try:
        stream.write(data)
        flush = getattr(stream, "flush", None)
        if callable(flush):
            flush()
    except Exception as exc:  # any failure of someone else's stream
        log.debug("could not write a notification to the terminal: %s", exc)
        return False
    return True


def send_bell(stream: Writable) -> bool:
    return write_safely(stream, BEL)


def send_notification(stream: Writable, title: str, body: str, *, tmux: bool | None = None) -> bool:
    """Send a desktop notification; ``tmux`` defaults to whether ``$TMUX`` is set."""
    wrap = in_tmux() if tmux is None else tmux
    return write_safely(stream, notification_bytes(title, body, tmux=wrap))


class TextSink:
    """Adapts a ``write(str)`` function (a Textual driver's) to the binary ``Writable``.

    The bytes built here are always valid UTF-8, so decoding cannot fail.
    """

    def __init__(self, write: Callable[[str], object]) -> None:
        self._write = write

    def write(self, data: bytes, /) -> object:
        return self._write(data.decode("utf-8"))
