"""Boxes over the radiator (help, the detail of a pipeline, the claim dialog).

They are placed between the banner and the status bar: nothing covers what is broken (or the
engine stopping), and the radiator stays readable around them.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import events
from textual.css.query import NoMatches
from textual.screen import ModalScreen

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
