"""The wall's screen: a TV across the room that nobody touches.

It composes only what it shows: no table to focus, no cursor, no key hints, and no key to
select, filter, open or claim (the app's keys, quit, refresh and help, still work).
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.geometry import Size
from textual.widget import Widget

from buildradiator.ui.screens.base import ModeScreen, View
from buildradiator.ui.widgets import StatusBar
from buildradiator.ui.widgets.wall import WallHead, WallView


class WallScreen(ModeScreen):
    def widgets(self) -> ComposeResult:
        options = self.options
        yield WallView(ascii=options.ascii, page_seconds=options.page_seconds, id="wall")
        bar = StatusBar(id="status-bar")
        bar.keys = ""
        yield bar

    def pick_layout(self, size: Size) -> str:
        return "-wall"

    def show(self, view: View) -> None:
        self.query_one(StatusBar).show(view.snapshot, view.now, view.ascii)
        self.query_one(WallView).show(view.snapshot, view.now, view.tz, view.notes, view.engine)

    def tick(self, now: datetime, monotonic: float, redrawn: bool) -> None:
        self.query_one(WallView).tick(now, monotonic)
        self.query_one(StatusBar).tick(now)

    def alarm_widgets(self) -> list[Widget]:
        return list(self.query(WallHead))
