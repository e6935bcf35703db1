"""``--ascii``: every cell the screen draws is ASCII, CI text included.

The widgets already pick ASCII glyphs, borders and bars; names from CI (``Tomás``), the joiners
sources put in names (``·``) and Textual's own scrollbars and toast edges are not theirs to pick.
A line filter folds whatever is left, one cell for one cell, so the layout does not move.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from buildradiator.text import ascii_cells


class AsciiCells(LineFilter):
    """Folds each drawn segment to ASCII of the same width."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            segment
            if segment.text.isascii()
            else Segment(ascii_cells(segment.text), segment.style, segment.control)
            for segment in segments
        ]
