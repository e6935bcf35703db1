"""Theme variables as Rich styles, for the coloured spans inside rendered text.

Widgets build ``rich.text.Text`` with ``Text.append`` (untrusted text is never parsed as markup),
so they need plain Rich styles; these come from the running theme's variables. A widget caches
nothing here: on a theme switch the app asks every widget to restyle, and the next render reads
the new palette.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.content import Content

from buildradiator import fmt
from buildradiator.model import Health, Status
from buildradiator.ui.themes import VARIABLES, rich_colour

STATUS_STYLE: dict[Status, str] = {s: f"status-{s.value}" for s in Status}
HEALTH_STYLE: dict[Health, str] = {h: f"health-{h.value}" for h in Health}

Segment = tuple[str, str]
"""A run of text and the name of its style (a theme variable, ``bold``, ``dim`` or ``""``)."""


def palette(app: App[object]) -> dict[str, Style]:
    """Style name -> Rich style, from the app's current theme variables."""
    variables = app.theme_variables or VARIABLES
    styles = {name: Style(color=rich_colour(variables, name)) for name in VARIABLES}
    styles["bold"] = Style(bold=True)
    styles["dim"] = Style(dim=True)
    styles[""] = Style()
    return styles


def fit_line(line: Text, width: int, ascii: bool) -> Text:
    """Cut one line to ``width`` cells with the ellipsis of the mode: Rich's own overflow would
    put "…" on an ASCII-only screen."""
    if width <= 0 or line.cell_len <= width:
        return line
    mark = fmt.ELLIPSIS[ascii]
    line.truncate(max(0, width - len(mark)), overflow="crop")
    line.append(mark)
    return line


def lines_text(
    lines: Sequence[Sequence[Segment]], styles: dict[str, Style], width: int, ascii: bool
) -> Text:
    """Lines of (text, style) runs as one Text, each line cut to ``width``. ``Text.append``
    never parses markup: CI text stays literal."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for index, line in enumerate(lines):
        if index:
            text.append("\n")
        row = Text(no_wrap=True, end="")
        for chunk, style in line:
            row.append(chunk, styles.get(style, styles[""]))
        text.append_text(fit_line(row, width, ascii))
    return text


def plain_title(text: str) -> Content:
    """``text`` for a ``border_title`` or ``border_subtitle``, as it is: Textual parses a
    ``str`` given there as markup, so a pipeline name from CI (``CI [linux]``) lost its brackets
    and a stray ``[/]`` (CI's, or typed into the filter) raised and took the radiator down."""
    return Content(text)


CLAIM_GLYPH = {False: "⚑", True: "@"}
CLAIM_WHO_WIDTH = 12


def claim_marker(who: str, ascii: bool) -> str:
    """The short "someone is on it" mark of a claimed row: ``⚑ dana`` (``@dana`` in ASCII)."""
    name = fmt.truncate(who, CLAIM_WHO_WIDTH, ascii)
    return f"@{name}" if ascii else f"{CLAIM_GLYPH[False]} {name}"
