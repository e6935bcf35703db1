"""Boxes over the radiator (help, the detail of a pipeline, the claim dialog).

They are placed between the banner and the status bar: nothing covers what is broken (or the
engine stopping), and the radiator stays readable around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Static

from buildradiator.ui.widgets.palette import Segment, lines_text, palette, plain_title

Result = TypeVar("Result")


class OverlayScreen(ModalScreen[Result]):
    """A modal whose one box (``BOX``, an id) keeps off the banner's rows and the status bar."""

    BOX: ClassVar[str] = ""

    def on_mount(self) -> None:
        self.place_box()

    def on_resize(self, _event: events.Resize) -> None:
        self.place_box()

    def free_rows(self) -> tuple[int, int]:
        """The rows the box may use: from below the banner to above the status bar."""
        try:
            top = self.app.query_one("#banner").outer_size.height
        except NoMatches:
            top = 0  # the wall: no banner
        return top, max(3, self.app.size.height - top - 1)

    def restyle(self) -> None:
        """Draw again in the current theme (the app calls it on a theme switch)."""

    def place_box(self) -> None:
        try:
            box = self.query_one(f"#{self.BOX}")
        except NoMatches:
            return
        top, rows = self.free_rows()
        if box.styles.max_height is None or box.styles.max_height.cells != rows:
            box.styles.margin = (top, 0, 1, 0)
            box.styles.max_height = rows


Lines = Sequence[Sequence[Segment]]


class LinesScreen(OverlayScreen[None]):
    """A scrolling box of (text, style) lines over the radiator (the detail of a pipeline, the
    Delivery screen): its subclass makes the lines from a snapshot (``set_lines``) and names the
    box (``titles``); this draws them in the theme's colours, each line cut to the box."""

    TEXT: ClassVar[str] = ""
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._lines: Lines = []
        self._ascii = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id=self.BOX):
            yield Static(id=self.TEXT)

    def on_mount(self) -> None:
        self.restyle()

    def titles(self) -> tuple[str, str]:
        """The box's title and subtitle."""
        raise NotImplementedError

    def set_lines(self, lines: Lines, ascii: bool) -> bool:
        """Show ``lines``; False when they are what is shown already."""
        self._ascii = ascii
        if lines == self._lines:
            return False
        self._lines = lines
        if self.is_mounted:
            self.restyle()
        return True

    def restyle(self) -> None:
        box = self.query_one(f"#{self.BOX}")
        title, subtitle = self.titles()  # the detail's title is a pipeline name from CI
        box.border_title, box.border_subtitle = plain_title(title), plain_title(subtitle)
        width = max(0, box.content_region.width)
        text = lines_text(self._lines, palette(self.app), width, self._ascii)
        self.query_one(f"#{self.TEXT}", Static).update(text)

    def on_resize(self, _event: events.Resize) -> None:
        self.restyle()

    @property
    def plain(self) -> str:
        return "\n".join("".join(chunk for chunk, _ in line) for line in self._lines)

    def action_close(self) -> None:
        self.dismiss(None)
