"""The wall's calm rotation: while nothing is broken and everything is known, the tiles make way
for the four delivery keys every third page (``Rotation``), large and banded, so the room sees
how delivery goes when there is nothing to fix. The moment anything breaks, the tiles are back
(``WallView.show`` stops the rotation before drawing).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from buildradiator.model import DeliveryFact, Snapshot
from buildradiator.rules.delivery_words import FOUR_KEYS, KEY_LABELS, show
from buildradiator.rules.dora import ESTATE
from buildradiator.ui.widgets.delivery import BAND_STYLE
from buildradiator.ui.widgets.palette import palette

EVERY_PAGES = 3
"""Of every three pages' time, the tiles have two and the delivery keys one."""


@dataclass
class Rotation:
    """Which of tiles and delivery the calm wall shows, by the clock (like the tile pages)."""

    page_seconds: float
    epoch: float | None = None

    def delivery_now(self, monotonic: float) -> bool:
        if self.epoch is None:
            self.epoch = monotonic
        slot = int((monotonic - self.epoch) // self.page_seconds) % EVERY_PAGES
        return slot == EVERY_PAGES - 1

    def stop(self) -> None:
        """Something broke or is unknown: the next calm starts with the tiles."""
        self.epoch = None


def board_facts(snapshot: Snapshot | None) -> list[DeliveryFact]:
    """The estate's four keys over 7 days, where history knows at least one."""
    if snapshot is None:
        return []
    facts = [
        f
        for key in FOUR_KEYS
        for f in snapshot.delivery
        if f.key == key and f.scope == ESTATE and f.window_days == 7
    ]
    return facts if any(f.value is not None for f in facts) else []


class DeliveryBoard(Static):
    """The four keys, one to a line, centred: name, value, band."""

    def __init__(self, *, ascii: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self._ascii = ascii
        self._facts: list[DeliveryFact] = []

    def show(self, facts: list[DeliveryFact]) -> None:
        if facts != self._facts:
            self._facts = facts
            self.restyle()

    def restyle(self) -> None:
        """One line a key, in columns (name, value, band) so the eye runs down them; every line
        the same width, centred as a block."""
        styles = palette(self.app)
        label = max((len(KEY_LABELS[f.key]) for f in self._facts), default=0)
        value = max((len(show(f.value, f.unit)) for f in self._facts), default=0)
        width = label + 3 + value + 3 + len("MEDIUM")
        text = Text(justify="center", no_wrap=True, overflow="ellipsis")
        text.append("DELIVERY, LAST 7 DAYS".ljust(width) + "\n\n", styles["bold"])
        for f in self._facts:
            text.append(KEY_LABELS[f.key].rjust(label) + "   ", styles["dim"])
            text.append(show(f.value, f.unit).ljust(value) + "   ", styles["bold"])
            band = (f.band or "").upper().ljust(len("MEDIUM"))
            text.append(band, styles[BAND_STYLE.get(f.band or "", "")] + styles["bold"])
            text.append("\n\n")
        self.update(text)
