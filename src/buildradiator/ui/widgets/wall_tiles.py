"""The wall's tiles: one per pipeline (a group as one), service and release gate, most urgent
first (``wall_tiles``), and how they fit a screen (``plan_tiles``): all of them, else the
passing ones folded into one tile, else pages. Pure functions, tested without a screen.

Every tile carries a glyph and a word: colour is never the only signal (NO_COLOR, 16 colours,
colour-blind viewers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, tzinfo

from buildradiator import fmt
from buildradiator.model import Build, Pipeline, Snapshot, Status
from buildradiator.rules.production import service_rows
from buildradiator.ui.widgets.inflight import progress
from buildradiator.ui.widgets.palette import STATUS_STYLE
from buildradiator.ui.widgets.stale import stale_words
from buildradiator.ui.widgets.tile import GREEN, OTHER, RED, RUNNING, Tile
from buildradiator.ui.widgets.wall_production import gate_tile, service_tile

__all__ = [
    "GREEN",
    "MIN_TILE_HEIGHT",
    "MIN_TILE_WIDTH",
    "OTHER",
    "RED",
    "RUNNING",
    "TilePlan",
    "best_grid",
    "collapsed_tile",
    "group_tile",
    "pipeline_tile",
    "plan_tiles",
    "wall_tiles",
]

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
