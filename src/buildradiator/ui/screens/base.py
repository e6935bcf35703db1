"""What every mode's screen shares: the state the app hands down at each redraw (``View``),
what a screen may ask of its app (``Host``), and the calls the app makes on it (``ModeScreen``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol

from textual.app import ComposeResult, SystemCommand
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget

from buildradiator.model import Snapshot
from buildradiator.ui.options import RadiatorOptions
from buildradiator.ui.widgets.banner import ClaimNotes
from buildradiator.ui.widgets.verdict import EngineStopped


@dataclass(frozen=True)
class View:
    """One redraw's worth of the app's state: what every widget of a mode draws from."""

    snapshot: Snapshot | None
    """What to show: the snapshot, or once the engine has stopped, the same with everything
    unknown (``App.shown_snapshot``)."""
    now: datetime
    ascii: bool
    tz: tzinfo | None
    """Zone of the clock times shown; ``None`` is the local zone."""
    notes: ClaimNotes
    """(who, note) of each active claim, by (source, key)."""
    engine: EngineStopped | None
    """Set once the engine has stopped: the screen says so until quit."""


class Host(Protocol):
    """What a screen may ask of the app that shows it (the app itself)."""

    snapshot: Snapshot | None
    display_tz: tzinfo | None

    def redraw(self) -> None:
        """Draw every view from the app's state now."""

    def open_link(self, url: str) -> None:
        """Open ``url`` in a browser, or show it to be copied."""

    def toast_claim_warning(self) -> None:
        """Say once what went wrong with the claims file, if anything did."""


class ModeScreen(Screen[None]):
    """A mode of the radiator (the main screen, the wall): it composes its widgets and draws
    what the app hands it; the app keeps the feed, the timers, the alarms and the messages.
    It is the app's default screen, so ``app.query`` finds its widgets."""

    def __init__(self, options: RadiatorOptions, host: Host) -> None:
        super().__init__()
        self.options = options
        self.host = host

    def widgets(self) -> ComposeResult:
        """What the mode shows. The app composes them (``App.compose`` fills its default
        screen before ``on_mount``; a screen's own ``compose`` would run after it)."""
        raise NotImplementedError

    def pick_layout(self, size: Size) -> str:
        """The layout for a terminal of ``size`` (a CSS class the app sets on itself)."""
        raise NotImplementedError

    def layout_changed(self, layout: str) -> bool:
        """Adapt to a new layout; whether everything must be redrawn for it."""
        return False

    def show(self, view: View) -> None:
        """Draw ``view``."""
        raise NotImplementedError

    def tick(self, now: datetime, monotonic: float, redrawn: bool) -> None:
        """The 1 Hz tick: move what ticks (``redrawn``: everything was just drawn)."""
        raise NotImplementedError

    def commands(self) -> Iterable[SystemCommand]:
        """The mode's own entries in the command palette."""
        return ()

    def alarm_widgets(self) -> list[Widget]:
        """What flashes and grows while something stays broken."""
        raise NotImplementedError
