"""Untrusted text, cleaned once where it enters.

Everything a server sends (JSON strings, XML text, header values) may carry what no screen,
file or feed can hold: a lone surrogate (``"\\ud83d"`` in JSON) that no encoder writes, a
noncharacter (U+FFFE) that makes XML invalid, terminal escape sequences, C0/C1 controls, and
invisible characters that change what a reader sees (zero-width and bidi controls, U+2028/9).

``scrub`` removes them and keeps the text otherwise as it was (newlines and tabs stay: a commit
message's first line is still found). The HTTP layer scrubs every JSON answer before a parser
sees it (``scrub_json``); the model's ``Untrusted`` fields scrub again and fold to one line
(``clean_text``), which also covers text from XML and headers.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

# Whole terminal escape sequences first: dropping only their ESC byte would leave the visible
# rest of a sequence (``[31m``, ``]8;;http://...``) in the text.
_ESCAPES = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC: titles, links, clipboard
    r"|(?:\x1b[P^_X]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b[ -/]*[0-~]"  # any other escape
)
_INVISIBLE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (but tab and LF) and C1 controls, DEL
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"  # zero-width and bidi controls
    "\ufdd0-\ufdef\ufffe\uffff"  # noncharacters of the BMP
)
_UNSAFE = re.compile(f"[{_INVISIBLE}]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")
_SUSPECT = re.compile(f"[{_INVISIBLE}\u2028\u2029\ud800-\udfff]|\x1b")
_NEWLINES = re.compile(r"[\t\n]+")
# A JSON escape that decodes to something ``scrub`` removes: only then is a document walked.
_ESCAPED = re.compile(
    r"\\u(?:[dD][89a-fA-F]|00[01]|007[fF]|00[89]|200[b-fB-F]|202[89a-eA-E]|206|"
    r"[fF][eE][fF][fF]|061[cC]|[fF][dD][d-eD-E]|[fF]{3}[eEfF])",
)

MAX_TEXT = 500


def scrub(value: str) -> str:
    """``value`` without escape sequences, controls (but tab and newlines), zero-width and bidi
    controls and noncharacters (CR goes too: CRLF ends a line as LF does); a lone surrogate becomes U+FFFD; U+2028/9 become newlines."""
    if not _SUSPECT.search(value):
        return value
    value = _SURROGATES.sub("\ufffd", value)
    value = _LINE_SEPARATORS.sub("\n", value)
    return _UNSAFE.sub("", _ESCAPES.sub("", value))


def clean_text(value: str, limit: int = MAX_TEXT) -> str:
    """Untrusted text for one line of a screen: scrubbed, newlines and tabs folded, overlong
    text cut."""
    value = _NEWLINES.sub(" ", scrub(value)).strip()
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def clean_key(value: str) -> str:
    """An identifier from a server (a pipeline key, a build id): scrubbed, whole otherwise."""
    return _NEWLINES.sub(" ", scrub(value))


def scrub_json(raw: str, data: Any) -> Any:
    """``data`` (decoded from ``raw``) with every string scrubbed. Walks the document only when
    ``raw`` holds something to scrub: most answers are returned as they are, at no cost."""
    if not (_SUSPECT.search(raw) or _ESCAPED.search(raw)):
        return data
    return _walk(data)


def _walk(data: Any) -> Any:
    if isinstance(data, str):
        clean = scrub(data)
        # A link with an escape sequence in it is not repaired into another link: dropped.
        if clean != data and data.startswith(("http://", "https://")):
            return ""
        return clean
    if isinstance(data, list):
        return [_walk(item) for item in data]
    if isinstance(data, dict):
        return {scrub(key): _walk(value) for key, value in data.items()}
    return data


# -- ASCII for terminals without UTF-8 ------------------------------------------------------------

_ASCII_WORDS = str.maketrans(
    {
        "·": ".",
        "•": "*",
        "…": "...",
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "›": ">",
        "‹": "<",
        "→": "->",
        "×": "x",
    }
)
# One cell each, for the screen: the layout was measured in cells and must not move.
_ASCII_CELLS = {
    "·": ".", "•": "*", "…": ".", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
    "›": ">", "‹": "<", "→": ">", "←": "<", "↑": "^", "↓": "v", "×": "x", "✔": "+", "✓": "+",
    "✖": "x", "✗": "x", "▲": "^", "▼": "v", "●": "*", "○": "o", "◆": "*", "★": "*",
    "─": "-", "━": "-", "═": "=", "│": "|", "┃": "|", "║": "|", "▌": "|", "▐": "|",
    "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+", "┤": "+", "┬": "+", "┴": "+", "┼": "+",
    "╭": "+", "╮": "+", "╰": "+", "╯": "+", "▔": "-", "▁": "_", "▂": "_", "▃": "=",
    "▄": "=", "▅": "#", "▆": "#", "▇": "#", "█": "#", "░": ":", "▒": ":", "▓": "#",
    "\u00a0": " ",
}  # fmt: skip


def to_ascii(text: str) -> str:
    """Plain ASCII for output without UTF-8: accents dropped (``Tomás`` -> ``Tomas``), common
    punctuation spelled out, anything else ``?``. Lengths may change: for lines of text."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_WORDS))
    kept = "".join(c for c in folded if not unicodedata.combining(c))
    return kept.encode("ascii", "replace").decode("ascii")


@lru_cache(maxsize=4096)
def ascii_cell(char: str) -> str:
    """One character as ASCII taking the same cells on screen: ``á`` -> ``a``, ``✔`` -> ``+``,
    a wide character -> ``??``, a zero-width one -> nothing, anything else ``?``."""
    if char.isascii():
        return char
    width = _cells(char)
    if width == 0:
        return ""
    if char in _ASCII_CELLS:
        folded = _ASCII_CELLS[char]
    else:
        base = unicodedata.normalize("NFKD", char)[:1]
        folded = base if base.isascii() and base.isprintable() and base else "?"
    return (folded * width)[:width] if len(folded) == 1 else folded[:width].ljust(width, "?")


def _cells(char: str) -> int:
    """How many cells a terminal gives one character (as Rich measures it, closely enough)."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def ascii_cells(text: str) -> str:
    """``text`` in ASCII, cell for cell (see ``ascii_cell``): what a screen without UTF-8 draws."""
    if text.isascii():
        return text
    return "".join(ascii_cell(c) for c in text)
