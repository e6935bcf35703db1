"""The wall: a TV across the room that nobody touches.

A headline (loud while something is broken: what, for how long in big ticking figures, how many
windows are broken; calm otherwise: a big ALL GREEN and since when) above a grid of tiles. Tiles
are sized from their count and the screen: red first, then running, then the rest; when they do
not fit, passing ones fold into one "all green" tile, and when even that does not fit the tiles
are split into pages that rotate every ``page_seconds``.

Nothing here is focusable and no key is advertised. Tiles are built by pure functions
(``wall_tiles``, ``plan_tiles``, ``tile_lines``) so the thresholds are tested without a screen.
Every tile carries a glyph and a word: colour is never the only signal (NO_COLOR, 16 colours,
colour-blind viewers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Digits, Static

from buildradiator import fmt
from buildradiator.export.document import not_current
from buildradiator.model import Build, Pipeline, Snapshot, Status
from buildradiator.rules import targets
from buildradiator.rules.production import service_rows
from buildradiator.ui.widgets.banner import HEADLINE, ClaimNotes, claim_runs
from buildradiator.ui.widgets.bigtext import big_lines, big_width
from buildradiator.ui.widgets.inflight import progress
from buildradiator.ui.widgets.palette import STATUS_STYLE, palette
from buildradiator.ui.widgets.pipelines import stale_words
from buildradiator.ui.widgets.tile import GREEN, OTHER, RED, RUNNING, Tile
from buildradiator.ui.widgets.verdict import (
    EngineStopped,
    calm_line,
    gate_word,
    headline_word,
    is_green,
    sources_line,
)
from buildradiator.ui.widgets.wall_production import gate_tile, service_tile

MIN_TILE_WIDTH = 22
MIN_TILE_HEIGHT = 4
"""The smallest bordered tile: two lines inside, the name and the status word. Smaller would not
read from across a room."""
WIDE_RATIO = 3
"""Tiles stay at least 3 times wider than tall: a 66x48 tile for 3 pipelines would be a wall of
colour with a line of text lost in it."""


# --- tiles from a snapshot -----------------------------------------------------------------


def _running_word(build: Build, now: datetime, ascii: bool, tz: tzinfo | None) -> tuple[str, str]:
    glyph = fmt.status_glyph(build.status, ascii)
    if build.status is Status.QUEUED:
        return f"{glyph} QUEUED", build.stage or ""
    gauge, eta = progress(build, now, ascii, tz)
    text = gauge[0][0]
    # After the bar: "62%", or "+12m over" past the estimate.
    how_far = text.split(" ", 1)[1] if eta[0][0] and " " in text else ""
    word = f"{glyph} RUNNING {how_far}".rstrip()
    return word, eta[0][0] or (build.stage or "")


def _who(build: Build | None, ascii: bool) -> str:
    if build is None:
        return ""
    parts = [p for p in (build.author, fmt.short_sha(build.commit)) if p]
    return fmt.SEPARATOR[ascii].join(parts)


def _finished(build: Build | None) -> datetime | None:
    return (build.finished_at or build.started_at or build.created_at) if build else None


def pipeline_tile(
    p: Pipeline, snapshot: Snapshot, now: datetime, ascii: bool, tz: tzinfo | None
) -> Tile:
    key = f"{p.source}\x1f{p.key}"
    last = p.last
    age = fmt.format_age(fmt.seconds_between(_finished(last), now)) if last else ""
    if p.source in snapshot.stale_sources:
        # Old data: greyed with its age, never green; a red result stays worth knowing.
        was = f"last: {fmt.status_label(p.status, ascii)}" if p.status is Status.FAILED else ""
        word, age = stale_words(snapshot, p.source, now).split(" ", 1)
        rank = RED if p.status is Status.FAILED else OTHER
        title = f"{fmt.STALE_GLYPH} {p.name}"
        return Tile(key, rank, "stale", title, f"{word.upper()} {age}", was)
    glyph = fmt.status_glyph(p.status, ascii)
    if p.status is Status.FAILED:
        detail = _who(last, ascii)
        if p.in_flight:
            detail = _running_word(p.in_flight[0], now, ascii, tz)[0].lower() + " now"
        style = STATUS_STYLE[Status.FAILED]
        return Tile(key, RED, style, f"{glyph} {p.name}", f"FAILED {age}", detail, filled=True)
    if p.in_flight:
        build = p.in_flight[0]
        word, detail = _running_word(build, now, ascii, tz)
        title = f"{fmt.status_glyph(build.status, ascii)} {p.name}"
        return Tile(key, RUNNING, STATUS_STYLE[build.status], title, word, detail)
    rank = GREEN if p.status is Status.PASSED else OTHER
    word = f"{p.status.value.upper()} {age}".rstrip()
    return Tile(key, rank, STATUS_STYLE[p.status], f"{glyph} {p.name}", word, _who(last, ascii))


def group_tile(
    name: str, members: list[Pipeline], snapshot: Snapshot, now: datetime, ascii: bool
) -> Tile:
    """A whole group as one tile: red when any member is."""
    key = f"group\x1f{name}"
    count = len(members)
    red = [m for m in members if m.status is Status.FAILED]
    fresh_red = [m for m in red if m.source not in snapshot.stale_sources]
    stale = [m for m in members if m.source in snapshot.stale_sources]
    running = [m for m in members if m.in_flight]
    names = ", ".join(m.name for m in red)
    if fresh_red:
        glyph = fmt.status_glyph(Status.FAILED, ascii)
        word = f"FAILED {len(red)} of {count}"
        return Tile(key, RED, STATUS_STYLE[Status.FAILED], f"{glyph} {name}", word, names, True)
    if stale:
        rank = RED if red else OTHER
        word = f"STALE {len(stale)} of {count}"
        return Tile(key, rank, "stale", f"{fmt.STALE_GLYPH} {name}", word, names)
    if running:
        glyph = fmt.status_glyph(Status.RUNNING, ascii)
        word = f"RUNNING {len(running)} of {count}"
        return Tile(key, RUNNING, STATUS_STYLE[Status.RUNNING], f"{glyph} {name}", word)
    if all(m.status is Status.PASSED for m in members):
        glyph = fmt.status_glyph(Status.PASSED, ascii)
        word = f"PASSED all {count}"
        return Tile(key, GREEN, STATUS_STYLE[Status.PASSED], f"{glyph} {name}", word)
    glyph = fmt.status_glyph(Status.UNKNOWN, ascii)
    return Tile(key, OTHER, STATUS_STYLE[Status.UNKNOWN], f"{glyph} {name}", f"MIXED {count}")


def wall_tiles(
    snapshot: Snapshot, now: datetime, ascii: bool = False, tz: tzinfo | None = None
) -> list[Tile]:
    """Every pipeline (a group as one), then every service, most urgent first."""
    tiles: list[Tile] = []
    groups: dict[str, list[Pipeline]] = {}
    for p in snapshot.pipelines:
        if p.group is None:
            tiles.append(pipeline_tile(p, snapshot, now, ascii, tz))
        else:
            groups.setdefault(p.group, []).append(p)
    tiles += [group_tile(n, m, snapshot, now, ascii) for n, m in groups.items()]
    tiles += [service_tile(r, snapshot, now, ascii) for r in service_rows(snapshot)]
    tiles += [t for t in (gate_tile(snapshot, ascii),) if t is not None]
    return sorted(tiles, key=lambda t: (t.rank, not t.filled, t.title[2:].lower(), t.key))


def collapsed_tile(count: int, ascii: bool) -> Tile:
    glyph = fmt.status_glyph(Status.PASSED, ascii)
    return Tile(
        "collapsed", GREEN, STATUS_STYLE[Status.PASSED], f"{glyph} {count} more", "all green"
    )


# --- laying tiles out ----------------------------------------------------------------------


@dataclass(frozen=True)
class TilePlan:
    cols: int
    width: int
    height: int
    pages: tuple[tuple[Tile, ...], ...]
    collapsed: int = 0
    """How many passing tiles were folded into the "all green" tile."""

    @property
    def per_page(self) -> int:
        return max((len(p) for p in self.pages), default=0)


def best_grid(count: int, width: int, height: int) -> tuple[int, int, int] | None:
    """(columns, tile width, tile height) showing ``count`` tiles at once, biggest first; None
    when they cannot all be shown at the smallest readable size."""
    min_w, min_h = min(MIN_TILE_WIDTH, width), min(MIN_TILE_HEIGHT, height)
    best: tuple[tuple[int, int], tuple[int, int, int]] | None = None
    for cols in range(1, count + 1):
        tile_w = width // cols
        if tile_w < min_w:
            break
        tile_h = height // math.ceil(count / cols)
        if tile_h < min_h:
            continue
        tile_h = min(tile_h, max(min_h, tile_w // WIDE_RATIO))
        # Readability is the smaller side (in "square" units), then the area.
        score = (min(tile_w // WIDE_RATIO, tile_h), tile_w * tile_h)
        if best is None or score > best[0]:
            best = (score, (cols, tile_w, tile_h))
    return best[1] if best else None


def plan_tiles(tiles: list[Tile], width: int, height: int, ascii: bool = False) -> TilePlan:
    """Fit ``tiles`` into ``width`` x ``height``: all of them if they fit, else the passing ones
    folded into one tile, else pages of the rest (the folded tile closes the last page)."""
    if width <= 0 or height <= 0 or not tiles:
        return TilePlan(1, max(width, 0), max(height, 0), ((),) if not tiles else ())
    grid = best_grid(len(tiles), width, height)
    if grid:
        return TilePlan(*grid, pages=(tuple(tiles),))
    green = [t for t in tiles if t.rank == GREEN]
    urgent = [t for t in tiles if t.rank != GREEN]
    shown = urgent + ([collapsed_tile(len(green), ascii)] if green else [])
    grid = best_grid(len(shown), width, height)
    if grid:
        return TilePlan(*grid, pages=(tuple(shown),), collapsed=len(green))
    # Pages: the smallest readable tiles, one line kept free for the page indicator.
    usable = max(1, height - 1)
    min_w, min_h = min(MIN_TILE_WIDTH, width), min(MIN_TILE_HEIGHT, usable)
    cols = max(1, width // min_w)
    per_page = cols * max(1, usable // min_h)
    pages = tuple(tuple(shown[i : i + per_page]) for i in range(0, len(shown), per_page))
    return TilePlan(cols, width // cols, min_h, pages, collapsed=len(green) if green else 0)


# --- drawing tiles -------------------------------------------------------------------------

BORDERS = {
    # (top-left, horizontal, top-right, vertical, bottom-left, bottom-right)
    (False, False): "┌─┐│└┘",
    (False, True): "┏━┓┃┗┛",
    (True, False): "+-+|++",
    (True, True): "#=#H##",
}


def tile_content(tile: Tile, lines: int) -> list[tuple[str, str]]:
    """The (text, role) lines a tile has room for: the title always, then the word, then more.
    Roles: ``title`` (glyph and name), ``word`` (status word), ``detail``."""
    if lines <= 1:
        return [(f"{tile.title}\t{tile.word}", "title")]
    body = [(tile.title, "title"), (tile.word, "word")]
    if tile.detail and lines >= 3:
        body.append((tile.detail, "detail"))
    return body


def _one_line(text: str, room: int, ascii: bool) -> str:
    """``title\tword`` in ``room`` cells: the name is cut before the status word ever is."""
    title, _, word = text.partition("\t")
    if not word:
        return fmt.truncate(title, room, ascii)
    return fmt.truncate(title, max(1, room - len(word) - 1), ascii) + " " + word


def tile_lines(tile: Tile, width: int, height: int, ascii: bool) -> list[tuple[str, str]]:
    """The tile as ``height`` strings of exactly ``width`` cells, each with its role (the
    border rows are ``frame``; a text row keeps its border cells first and last).

    Bordered when there is room (3 rows or more); one line of text otherwise.
    """
    if height < 3 or width < 6:
        text, _ = tile_content(tile, 1)[0]
        body = " " + _one_line(text, max(0, width - 2), ascii)
        return [(body.ljust(width)[:width], "title")] + [(" " * width, "blank")] * (height - 1)
    tl, hz, tr, vt, bl, br = tuple(BORDERS[(ascii, tile.filled)])
    inner_w, inner_h = width - 2, height - 2
    content = tile_content(tile, inner_h)
    # Centred as if every tile had its detail line: a tile without one keeps its title on the
    # same row as its neighbours' titles.
    top_pad = (inner_h - min(inner_h, 3)) // 2
    out = [(tl + hz * inner_w + tr, "frame")]
    for row in range(inner_h):
        index = row - top_pad
        if 0 <= index < len(content):
            text, role = content[index]
            body = " " + _one_line(text, inner_w - 2, ascii)
            out.append((vt + body.ljust(inner_w) + vt, role))
        else:
            out.append((vt + " " * inner_w + vt, "blank"))
    out.append((bl + hz * inner_w + br, "frame"))
    return out


def tile_styles(tile: Tile, styles: dict[str, Style]) -> dict[str, Style]:
    """Role -> style. Filled tiles are a block of colour with contrasting text; the others are
    framed in their colour with the title in it; stale tiles are grey throughout."""
    colour = styles.get(tile.style, styles[""])
    bold = Style(bold=True)
    if tile.filled and colour.color is not None and colour.color.triplet is not None:
        bg = colour.color.triplet.hex
        block = Style(color=Color.parse(bg).get_contrast_text(1.0).hex6, bgcolor=bg)
        return {
            "frame": block,
            "blank": block,
            "title": block + bold,
            "word": block + bold,
            "detail": block,
        }
    if tile.style == "stale":
        return {
            "frame": colour,
            "blank": colour,
            "title": colour + bold,
            "word": colour,
            "detail": colour,
        }
    return {
        "frame": colour,
        "blank": Style(),
        "title": colour + bold,
        "word": bold,
        "detail": Style(),
    }


def render_page(
    plan: TilePlan, page: int, width: int, height: int, styles: dict[str, Style], ascii: bool
) -> Text:
    tiles = plan.pages[page] if plan.pages else ()
    out = Text(no_wrap=True, overflow="crop", end="")
    lines: list[Text] = []
    bordered = plan.height >= 3 and plan.width >= 6
    for start in range(0, len(tiles), plan.cols):
        row = tiles[start : start + plan.cols]
        drawn = [tile_lines(t, plan.width, plan.height, ascii) for t in row]
        looks = [tile_styles(t, styles) for t in row]
        for line_no in range(plan.height):
            line = Text(no_wrap=True, overflow="crop", end="")
            for tile_rows, look in zip(drawn, looks, strict=True):
                chunk, role = tile_rows[line_no]
                if bordered and role != "frame":
                    line.append(chunk[0], look["frame"])
                    line.append(chunk[1:-1], look[role])
                    line.append(chunk[-1], look["frame"])
                else:
                    line.append(chunk, look[role])
            lines.append(line)
    if len(plan.pages) > 1:
        while len(lines) < height - 1:
            lines.append(Text(""))
        indicator = f"page {page + 1}/{len(plan.pages)}"
        if plan.collapsed:
            indicator = f"{plan.collapsed} passing folded{fmt.SEPARATOR[ascii]}{indicator}"
        lines.append(Text(indicator.rjust(width), styles["bold"]))
    for index, line in enumerate(lines):
        if index:
            out.append("\n")
        out.append_text(line)
    return out


class TileGrid(Widget):
    """The tiles, drawn as one renderable (200 widgets would be slow to lay out, for nothing)."""

    def __init__(self, page_seconds: float, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.page_seconds = page_seconds
        self.tiles: list[Tile] = []
        self.ascii = False
        self.page = 0
        self._page_epoch: float | None = None

    def show(self, tiles: list[Tile], ascii: bool) -> bool:
        if tiles == self.tiles and ascii == self.ascii:
            return False
        self.tiles, self.ascii = tiles, ascii
        self.page = min(self.page, max(0, len(self.plan().pages) - 1))
        self.refresh()
        return True

    def plan(self) -> TilePlan:
        return plan_tiles(self.tiles, self.size.width, self.size.height, self.ascii)

    def tick(self, monotonic: float) -> bool:
        """Turn the page when its time is up; the page follows the clock, not a counter."""
        if self._page_epoch is None:
            self._page_epoch = monotonic
        pages = len(self.plan().pages)
        page = int((monotonic - self._page_epoch) // self.page_seconds) % pages if pages else 0
        if page == self.page:
            return False
        self.page = page
        self.refresh()
        return True

    def restyle(self) -> None:
        self.refresh()

    def render(self) -> Text:
        plan = self.plan()
        page = min(self.page, max(0, len(plan.pages) - 1))
        styles = palette(self.app)
        return render_page(plan, page, self.size.width, self.size.height, styles, self.ascii)


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
        self.set_class(not red and not is_green(snapshot), "-unsure")
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
    running = sum(1 for b in snapshot.in_flight if b.status is Status.RUNNING)
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
    """The whole wall: the headline over the tiles. Only renders what the app hands it."""

    def __init__(self, *, ascii: bool, page_seconds: float, id: str | None = None) -> None:
        super().__init__(id=id)
        self._ascii = ascii
        self._page_seconds = page_seconds

    def compose(self) -> ComposeResult:
        yield WallHead(self._ascii, id="wall-head")
        yield TileGrid(self._page_seconds, id="wall-tiles")

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

    def tick(self, now: datetime, monotonic: float) -> None:
        self.query_one(WallHead).tick(now)
        self.query_one(TileGrid).tick(monotonic)
