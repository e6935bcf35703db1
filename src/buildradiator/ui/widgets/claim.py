"""The claim dialog: who is looking into a red pipeline, and an optional note.

Dismisses with ``(name, note)`` on Enter (from either field) or ``None`` on Escape. The name falls
back to the default when left empty; both are cleaned (``model.clean_text``) before they leave.
The pipeline name is CI text, so it is shown as ``rich.text.Text``, never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from buildradiator.text import clean_text
from buildradiator.ui.claims import MAX_NAME, MAX_NOTE, default_name
from buildradiator.ui.widgets.overlay import OverlayScreen

__all__ = ["ClaimScreen"]


class ClaimScreen(OverlayScreen[tuple[str, str] | None]):
    BOX = "claim-box"

    """``push_screen(ClaimScreen(pipeline.name), callback)``; callback gets ``(who, note)``."""

    DEFAULT_CSS = """
    ClaimScreen {
        align: center middle;
    }
    #claim-box {
        width: 60;
        max-width: 100%;
        height: auto;
        padding: 1 2;
        border: round $error;
        border-title-style: bold;
        background: $surface;
    }
    #claim-box Input {
        margin-bottom: 1;
    }
    .claim-label {
        color: $text-muted;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        pipeline_name: str,
        default: str | None = None,
        note: str = "",
        *,
        ascii: bool = False,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.ascii = ascii
        self.pipeline_name = clean_text(pipeline_name)
        self.default = clean_text(default or "", MAX_NAME) or default_name()
        self.initial_note = clean_text(note, MAX_NOTE)

    def compose(self) -> ComposeResult:
        heading = Text("Claim ")
        heading.append(self.pipeline_name, "bold")
        heading.append(": looking into it")
        with Vertical(id="claim-box"):
            yield Static(heading, id="claim-heading")
            yield Static(Text("Your name"), classes="claim-label")
            yield Input(value=self.default, max_length=MAX_NAME, id="claim-who")
            yield Static(Text("Note (optional)"), classes="claim-label")
            yield Input(
                value=self.initial_note,
                placeholder="what you are trying",
                max_length=MAX_NOTE,
                id="claim-note",
            )
            sep = " | " if self.ascii else " · "
            yield Static(Text(f"enter claims{sep}escape cancels", "dim"), id="claim-hint")

    def on_mount(self) -> None:
        self.query_one("#claim-box").border_title = "Claim"
        # Most people keep their name and type a note: start there.
        self.query_one("#claim-note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        who = clean_text(self.query_one("#claim-who", Input).value, MAX_NAME) or self.default
        note = clean_text(self.query_one("#claim-note", Input).value, MAX_NOTE)
        self.dismiss((who, note))

    def action_cancel(self) -> None:
        self.dismiss(None)
