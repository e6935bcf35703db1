"""What the radiator is asked to show, and how: the typed options the app is built from.

The command line makes them from its arguments over the config's ``[radiator]`` table (``cli``),
a browser session from the same arguments handed to ``buildradiator view`` (``serve.browser``).
The app reads nothing else: no ``argparse.Namespace`` reaches it. Imports nothing but the config
models (no textual), so building options costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from buildradiator.config.loading import Config

Mode = Literal["auto", "default", "pane", "wall"]
MODES: tuple[Mode, ...] = get_args(Mode)
DEFAULT_THEME = "default"
"""The theme used when none is named (``ui.themes`` defines it as the fallback)."""


@dataclass(frozen=True)
class RadiatorOptions:
    """The radiator's display, decided before it starts (the defaults are the config's)."""

    title: str = "buildradiator"
    """In the header, on the wall and in the terminal's title."""
    theme: str = DEFAULT_THEME
    """A theme's name; an unknown or broken one falls back to the default, with a message.
    The wall takes its own theme when this is the default."""
    mode: Mode = "auto"
    """``wall``: the wall screen, for a TV across the room; ``pane``: the strip beside an
    editor at any size; ``default``: the panels side by side at any size; ``auto``: the layout
    picked by the terminal's size (and re-picked on every resize)."""
    ascii: bool = False
    """ASCII glyphs only (``--ascii``, ``[radiator] ascii`` or a non-UTF-8 locale)."""
    page_seconds: float = 15.0
    """Wall mode: seconds per page when even collapsed tiles do not fit."""

    @property
    def wall(self) -> bool:
        """Whether this is the wall: its own screen, with nothing to select, filter or open."""
        return self.mode == "wall"

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        theme: str | None = None,
        mode: Mode | None = None,
        ascii: bool | None = None,
    ) -> RadiatorOptions:
        """The config's ``[radiator]`` settings with what the command line gave over them
        (``None``: not given). ``ascii`` is the caller's whole decision (flag and locale, see
        ``cli.wants_ascii``); the config's ``ascii = true`` holds whatever it says."""
        radiator = config.radiator
        return cls(
            title=radiator.title,
            theme=theme or radiator.theme,
            mode=mode or radiator.mode,
            ascii=bool(ascii) or radiator.ascii,
            page_seconds=radiator.page_seconds,
        )
