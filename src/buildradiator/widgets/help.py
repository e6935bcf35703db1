"""The help screen: every key, in words."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_HELP = (
    ("q", "quit"),
    ("r", "refresh now: poll every source"),
    ("o", "open the selected pipeline, build or check in the browser"),
    ("enter", "open or close the selected group; on a pipeline: its history and trends"),
    ("/", "filter pipelines by name, group, author or status (e.g. failed, mallory)"),
    ("esc", "clear the filter (in the filter: clear it and go back)"),
    ("h", "hide or show passing pipelines"),
    ("a", "claim the selected red pipeline (or the banner's): your name and a note"),
    ("A", "release that claim"),
    ("?", "this help"),
    ("^P", "command palette: refresh now, switch theme"),
    ("tab", "move between panels; arrows move the selection"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss_help", "Close"),
        Binding("q", "dismiss_help", "Close", show=False),
        Binding("question_mark", "dismiss_help", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        text = Text()
        for key, what in KEY_HELP:
            text.append(f"{key:>5}  ", "bold")
            text.append(f"{what}\n")
        text.append("\nany of q, ? or escape closes this", "dim")
        with Vertical(id="help-box"):
            yield Static(text, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
