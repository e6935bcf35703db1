"""The help screen: every key, in words; in two columns of short words where rows are few."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from buildradiator.ui.widgets.overlay import OverlayScreen

KEY_HELP = (
    ("q", "quit", "quit"),
    ("r", "refresh now: poll every source", "refresh"),
    ("o", "open the selected pipeline, build or check in the browser", "open"),
    ("enter", "open a group; on a pipeline: its history and trends", "detail"),
    ("/", "filter pipelines by name, group, author or status", "filter"),
    ("esc", "clear the filter (in the filter: clear it, go back)", "clear"),
    ("h", "hide or show passing pipelines", "hide green"),
    ("a", "claim the selected red pipeline: your name and a note", "claim"),
    ("A", "release that claim", "unclaim"),
    ("d", "delivery: the four keys, per service, congestion at main", "delivery"),
    ("?", "this help", "help"),
    ("^P", "command palette: refresh, delivery, switch theme", "commands"),
    ("tab", "move between panels; arrows move the selection", "next panel"),
)
"""(key, what it does, the same in a word or two for a small screen)."""
CLOSE = "q, ? or esc closes this"
FULL_EXTRA = 2 + 2 + 2
"""Rows the full box needs besides one per key: the blank line and hint, padding, border."""


def full_text() -> Text:
    text = Text(no_wrap=True, end="")
    for key, what, _short in KEY_HELP:
        text.append(f"{key:>5}  ", "bold")
        text.append(f"{what}\n")
    text.append(f"\n{CLOSE}", "dim")
    return text


def compact_text() -> Text:
    """Two columns of ``key  word``: 7 rows for 13 keys, 35 columns wide."""
    text = Text(no_wrap=True, end="")
    half = (len(KEY_HELP) + 1) // 2
    for row in range(half):
        for index in (row, row + half):
            if index >= len(KEY_HELP):
                continue
            key, _what, short = KEY_HELP[index]
            text.append(f"{key:>5}  ", "bold")
            text.append(short.ljust(11) if index == row else short)
        if row < half - 1:
            text.append("\n")
    return text


class HelpScreen(OverlayScreen[None]):
    BOX = "help-box"
    BINDINGS = [
        Binding("escape", "dismiss_help", "Close"),
        Binding("q", "dismiss_help", "Close", show=False),
        Binding("question_mark", "dismiss_help", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(full_text(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"
        self.place_box()

    def place_box(self) -> None:
        """The full list when it fits between the banner and the status bar, else the short
        one (a 40x10 pane has 8 rows for it)."""
        super().place_box()
        box = self.query_one("#help-box")
        top, rows = self.free_rows()
        columns = self.app.size.width
        wide = max(len(what) for _key, what, _short in KEY_HELP) + 7 + 6
        compact = rows < len(KEY_HELP) + FULL_EXTRA or columns < wide
        box.set_class(compact, "-compact")
        box.border_subtitle = CLOSE if compact else ""
        # A 40x10 pane has 8 rows between the banner and the status bar; the two columns of
        # keys and the border need 9: the box takes the status bar's row (the keys it hints
        # at are all in the box), never the banner's.
        half = (len(KEY_HELP) + 1) // 2
        if compact and rows < half + 2:
            box.styles.margin = (top, 0, 0, 0)
            box.styles.max_height = rows + 1
        text = compact_text() if compact else full_text()
        self.query_one("#help-text", Static).update(text)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
