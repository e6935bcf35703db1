"""The wall: a TV across the room that nobody touches.

A headline (loud while something is broken: what, for how long in big ticking figures, how many
windows are broken; calm otherwise: a big ALL GREEN and since when) above a grid of tiles
(``wall_tiles``: which tiles, in which order, how they fit; ``wall_grid``: drawing them). Tiles
are sized from their count and the screen: red first, then running, then the rest; when they do
not fit, passing ones fold into one "all green" tile, and when even that does not fit the tiles
are split into pages that rotate every ``page_seconds``.

Nothing here is focusable and no key is advertised.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Digits, Static

from buildradiator import fmt
from buildradiator.model import Snapshot, Status
from buildradiator.rules import targets
from buildradiator.rules.ordering import running_now
from buildradiator.rules.production import service_rows
from buildradiator.rules.verdict import all_green, gate_word, headline_word, not_current
from buildradiator.ui.widgets.banner import HEADLINE, ClaimNotes, claim_runs
from buildradiator.ui.widgets.bigtext import big_lines, big_width
from buildradiator.ui.widgets.verdict import EngineStopped, calm_line, sources_line
from buildradiator.ui.widgets.wall_delivery import DeliveryBoard, Rotation, board_facts
from buildradiator.ui.widgets.wall_grid import TileGrid
from buildradiator.ui.widgets.wall_tiles import wall_tiles

# --- the headline --------------------------------------------------------------------------


def _big(text: str, ascii: bool) -> str:
    return "\n".join(big_lines(text, ascii=ascii, double=False))


class Figure(Static):
    """The ASCII stand-in for ``Digits`` (whose glyphs are box-drawing characters): a ``#`` font."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.value = ""

    def set_value(self, value: str) -> None:
        if value != self.value:
            self.value = value
            self.update(_big(value, True))


class WallHead(Vertical):
    """Red: what broke, ticking big figures for how long and how many. Green: calm.

    Like the banner, the app adds ``flash``/``-blink`` and ``level-1`` to ``level-3`` to it."""

    def __init__(self, ascii: bool, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._ascii = ascii
        self._snapshot: Snapshot | None = None
        self._tz: tzinfo | None = None
        self._claims: ClaimNotes = {}
        self._engine: EngineStopped | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="wall-red"):
            yield Static(id="wall-alarm")
            yield self._figure("wall-timer")
            yield Static(id="wall-detail")
            yield self._figure("wall-count")
            yield Static(id="wall-count-label")
        with Vertical(id="wall-calm"):
            yield Static(id="wall-big")
            yield Static(id="wall-since")
            yield Static(id="wall-counts")

    def _figure(self, id: str) -> Widget:
        if self._ascii:
            return Figure(id=id)
        return Digits(id=id)

    def _set_figure(self, id: str, value: str) -> None:
        widget = self.query_one(f"#{id}")
        if isinstance(widget, Digits):
            if widget.value != value:
                widget.update(value)
        elif isinstance(widget, Figure):
            widget.set_value(value)

    def show(
        self,
        snapshot: Snapshot | None,
        now: datetime,
        tz: tzinfo | None,
        claims: ClaimNotes | None = None,
        engine: EngineStopped | None = None,
    ) -> None:
        self._snapshot, self._tz, self._claims = snapshot, tz, dict(claims or {})
        self._engine = engine
        red = bool(snapshot and snapshot.broken) or engine is not None
        self.set_class(red, "-red")
        self.set_class(not red, "-calm")
        self.set_class(not red and not all_green(snapshot), "-unsure")
        if engine is not None:
            self._show_stopped(engine, snapshot)
        elif snapshot is not None and snapshot.broken:
            self._show_red(snapshot)
        else:
            self._show_calm(snapshot, now)
        self.tick(now)

    def tick(self, now: datetime) -> None:
        """The 1 Hz part: how long the first broken window has been broken (or the engine
        stopped)."""
        snapshot = self._snapshot
        if self._engine is not None:
            since: datetime | None = self._engine.at
        elif snapshot is None or not snapshot.broken:
            return
        else:
            since = snapshot.broken[0].since
        age = fmt.format_clock_age(fmt.seconds_between(since, now)) if since else "?"
        self._set_figure("wall-timer", age if since else "0:00:00")

    def _show_stopped(self, engine: EngineStopped, snapshot: Snapshot | None) -> None:
        """Nothing here is current any more: the loudest thing on the wall says so, and why."""
        glyph = fmt.status_glyph(Status.FAILED, self._ascii)
        alarm = Text(no_wrap=True, overflow="ellipsis", end="")
        alarm.append(f"{glyph} ENGINE STOPPED {glyph}\n", "bold reverse")
        alarm.append(engine.error, "bold")
        alarm.append("\nstopped for")
        self.query_one("#wall-alarm", Static).update(alarm)
        detail = Text(no_wrap=True, overflow="ellipsis", end="")
        detail.append("nothing on this screen is current", "bold")
        if engine.log is not None:
            detail.append(f"\nsee the log {engine.log}")
        detail.append("\nrestart the radiator")
        self.query_one("#wall-detail", Static).update(detail)
        broken = len(snapshot.broken) if snapshot else 0
        self._set_figure("wall-count", str(broken))
        label = "LAST SEEN\nBROKEN" if broken else "NOTHING\nKNOWN"
        self.query_one("#wall-count-label", Static).update(Text(label, "bold"))

    def _show_red(self, snapshot: Snapshot) -> None:
        ascii, sep = self._ascii, fmt.SEPARATOR[self._ascii]
        first, others = snapshot.broken[0], snapshot.broken[1:]
        glyph = fmt.status_glyph(Status.FAILED, ascii)
        alarm = Text(no_wrap=True, overflow="ellipsis", end="")
        alarm.append(f"{glyph} {HEADLINE.get(first.kind, 'BROKEN')} {glyph}\n", "bold reverse")
        alarm.append(first.name, "bold")
        if first.stale:
            alarm.append(" (stale)")
        alarm.append("\n" + (fmt.streak_text(first.streak) or "red for"))
        self.query_one("#wall-alarm", Static).update(alarm)
        detail = Text(no_wrap=True, overflow="ellipsis", end="")
        if first.commit:
            detail.append(fmt.short_sha(first.commit) + " ", "bold")
        if first.author:
            detail.append(first.author, "bold")
        if first.message:
            detail.append(f' "{first.message}"')
        claim = self._claims.get((first.source, first.key))
        if claim is not None:
            detail.append("\n")
            for chunk, style in claim_runs(*claim, ascii):
                detail.append(chunk, style)
        if others:
            detail.append(f"\n+{len(others)} more: ", "bold")
            detail.append(", ".join(w.name for w in others))
        # Like the banner: the release gate, and whether all the data is current.
        if snapshot.gate is not None and not snapshot.gate.go:
            detail.append("\nrelease HOLD", "bold")
        if not_current(snapshot):
            detail.append("\n" if snapshot.gate is None or snapshot.gate.go else sep)
            detail.append(sources_line(snapshot, ascii))
        self.query_one("#wall-detail", Static).update(detail)
        self._set_figure("wall-count", str(len(snapshot.broken)))
        label = "BROKEN\nWINDOW" if len(snapshot.broken) == 1 else "BROKEN\nWINDOWS"
        self.query_one("#wall-count-label", Static).update(Text(label, "bold"))

    def _show_calm(self, snapshot: Snapshot | None, now: datetime) -> None:
        ascii = self._ascii
        double = self.size.width == 0 or self.size.width >= big_width("ALL GREEN") + 4
        big = self.query_one("#wall-big", Static)
        since = self.query_one("#wall-since", Static)
        counts = self.query_one("#wall-counts", Static)
        if snapshot is None:
            big.update(Text(f"waiting for first data{fmt.ELLIPSIS[ascii]}", "bold"))
            since.update("")
            counts.update("")
            return
        # Big and calm only when it is true: else the one word of what is not known or holds.
        word = headline_word(snapshot)
        big.update(Text("\n".join(big_lines(word, ascii, double)), "bold"))
        line = Text(justify="center")
        if word == "ALL GREEN":
            line.append(f"{fmt.status_glyph(Status.PASSED, ascii)} ALL GREEN", "bold")
            if snapshot.green_since is not None:
                age = fmt.format_age(fmt.seconds_between(snapshot.green_since, now))
                line.append(f" for {age}", "bold")
                line.append(f" (since {fmt.clock_time(snapshot.green_since, self._tz)})")
        else:
            for chunk, style in calm_line(snapshot, now, ascii, self._tz):
                line.append(chunk, "bold" if style == "bold" else "")
        since.update(line)
        counts.update(calm_counts(snapshot, ascii))


def calm_counts(snapshot: Snapshot, ascii: bool) -> Text:
    sep = fmt.SEPARATOR[ascii]
    text = Text(justify="center")
    text.append(fmt.plural(len(snapshot.pipelines), "pipeline"))
    text.append(sep + fmt.plural(len(service_rows(snapshot)), "service"))
    word = gate_word(snapshot)
    if word is not None:
        text.append(f"{sep}release {word}", "bold")
    running, _queued = running_now(snapshot)
    if running:
        text.append(f"{sep}{fmt.status_glyph(Status.RUNNING, ascii)} {running} running")
    if snapshot.stale_sources:
        stale = fmt.plural(len(snapshot.stale_sources), "source")
        text.append(f"{sep}{fmt.STALE_GLYPH} {stale} stale, not counted")
    if snapshot.targets:
        text.append("\n")
        text.append_text(calm_targets(snapshot, ascii))
    return text


def calm_targets(snapshot: Snapshot, ascii: bool) -> Text:
    """``targets 3 of 4 met · ✖ main green >= 95% for acme/monolith over 7 d``: the goals on
    the calm screen, the ones missed by name (they are what the team can still move)."""
    sep = fmt.SEPARATOR[ascii]
    text = Text(justify="center")
    text.append(f"targets {targets.summary(snapshot.targets)}", "bold")
    missed = targets.unmet(snapshot.targets)
    if missed:
        glyph = fmt.status_glyph(Status.FAILED, ascii)
        text.append(f"{sep}{glyph} ")
        # Names may hold pipeline names from CI: appended as text, never parsed as markup.
        text.append(", ".join(t.name for t in missed))
    return text


class WallView(Vertical):
    """The whole wall: the headline over the tiles (or, calm, in turn the delivery keys). Only
    renders what the app hands it."""

    def __init__(self, *, ascii: bool, page_seconds: float, id: str | None = None) -> None:
        super().__init__(id=id)
        self._ascii = ascii
        self._page_seconds = page_seconds
        self._rotation = Rotation(page_seconds)
        self._calm = False

    def compose(self) -> ComposeResult:
        yield WallHead(self._ascii, id="wall-head")
        yield TileGrid(self._page_seconds, id="wall-tiles")
        yield DeliveryBoard(ascii=self._ascii, id="wall-delivery")

    def show(
        self,
        snapshot: Snapshot | None,
        now: datetime,
        tz: tzinfo | None,
        claims: ClaimNotes | None = None,
        engine: EngineStopped | None = None,
    ) -> None:
        self.query_one(WallHead).show(snapshot, now, tz, claims, engine)
        tiles = wall_tiles(snapshot, now, self._ascii, tz) if snapshot else []
        self.query_one(TileGrid).show(tiles, self._ascii)
        facts = board_facts(snapshot)
        # Only when ALL GREEN is true: never while anything is broken, stale or unknown.
        self._calm = engine is None and bool(facts) and headline_word(snapshot) == "ALL GREEN"
        self.query_one(DeliveryBoard).show(facts)
        if not self._calm:
            self._rotation.stop()
            self._turn(False)

    def tick(self, now: datetime, monotonic: float) -> None:
        self.query_one(WallHead).tick(now)
        self.query_one(TileGrid).tick(monotonic)
        self._turn(self._calm and self._rotation.delivery_now(monotonic))

    def _turn(self, delivery: bool) -> None:
        self.query_one(TileGrid).display = not delivery
        self.query_one(DeliveryBoard).display = delivery

    @property
    def showing_delivery(self) -> bool:
        return bool(self.query_one(DeliveryBoard).display)
