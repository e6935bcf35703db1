"""A wall tile: what one pipeline, group or service says from across the room."""

from __future__ import annotations

from dataclasses import dataclass

RED, RUNNING, OTHER, GREEN = 0, 1, 2, 3
"""Tile ranks, most urgent first: the order tiles are laid out in."""


@dataclass(frozen=True)
class Tile:
    key: str
    rank: int
    style: str
    """The theme variable that colours it (``status-failed``, ``stale``...)."""
    title: str
    """Glyph and name: ``✖ acme/monolith``."""
    word: str
    """The status in capitals and a short fact: ``FAILED 14m``."""
    detail: str = ""
    filled: bool = False
    """Drawn as a solid block of its colour (red tiles): the loudest thing on the wall."""
