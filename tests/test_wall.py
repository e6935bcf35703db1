"""The wall: tile building, sizing, collapse thresholds, pages that rotate with the clock."""

from __future__ import annotations

import pytest

from app_helpers import make_app
from buildradiator.clock import FakeClock
from buildradiator.ui.widgets import StatusBar
from buildradiator.ui.widgets.wall import WallHead
from buildradiator.ui.widgets.wall_grid import TileGrid, tile_lines
from buildradiator.ui.widgets.wall_tiles import (
    GREEN,
    RED,
    RUNNING,
    best_grid,
    plan_tiles,
    wall_tiles,
)
from snapshot_fixtures import NOW, big_estate, big_green_estate, red_estate


def test_tiles_put_red_first_then_running_and_carry_glyph_and_word() -> None:
    tiles = wall_tiles(red_estate(), NOW)
    ranks = [t.rank for t in tiles]
    assert ranks == sorted(ranks)
    assert [t.title for t in tiles[:2]] == ["✖ acme/monolith", "✖ payments (prod)"]
    assert tiles[0].word == "FAILED 14m" and tiles[0].filled
    assert tiles[1].word == "DOWN 503" and tiles[1].filled
    running = [t for t in tiles if t.rank == RUNNING]
    assert {t.title for t in running} == {"◌ acme/ledger", "▶ platform/core"}
    # Stale data is greyed with its age and never green, even though its last build passed.
    stale = next(t for t in tiles if "acme/reports" in t.title)
    assert stale.style == "stale" and stale.word == "STALE 5m" and stale.rank != GREEN
    assert "✔" not in stale.title + stale.word + stale.detail


def test_a_group_is_one_tile_red_when_any_member_is() -> None:
    snapshot = big_estate(40)
    tiles = wall_tiles(snapshot, NOW)
    group = [t for t in tiles if "Core team" in t.title]
    assert len(group) == 1
    assert group[0].rank == RED and group[0].word == "FAILED 1 of 3"
    assert not any("svc-001" in t.title for t in tiles)  # the member is inside the group


def test_ascii_tiles_have_only_ascii() -> None:
    tiles = wall_tiles(red_estate(), NOW, ascii=True)
    for tile in tiles:
        for text, _role in tile_lines(tile, 24, 5, ascii=True):
            assert text.isascii(), text


def test_few_tiles_are_big_and_many_are_small() -> None:
    three = best_grid(3, 198, 50)
    forty = best_grid(40, 198, 50)
    assert three is not None and forty is not None
    assert three[1] * three[2] > 4 * forty[1] * forty[2]
    # Tiles stay wider than tall, and fill the width.
    assert three[1] >= 3 * three[2] - 3 and three[0] * three[1] > 190


def test_collapse_thresholds() -> None:
    # 200 pipelines on a 200x60 wall: not all fit, the passing ones fold into one tile.
    tiles = wall_tiles(big_estate(200), NOW)
    plan = plan_tiles(tiles, 198, 50)
    green = sum(1 for t in tiles if t.rank == GREEN)
    assert len(plan.pages) == 1 and plan.collapsed == green > 100
    last = plan.pages[0][-1]
    assert last.title == f"✔ {green} more" and last.word == "all green"
    # 40 fit whole: nothing folded.
    forty = plan_tiles(wall_tiles(big_estate(40), NOW), 198, 50)
    assert forty.collapsed == 0 and len(forty.pages[0]) == len(wall_tiles(big_estate(40), NOW))
    # A smaller screen with the same 200: even the folded set needs pages; red stays first.
    small = plan_tiles(tiles, 118, 28)
    assert len(small.pages) > 1
    assert all(t.rank == RED for t in small.pages[0])
    assert small.pages[-1][-1].title == f"✔ {green} more"
    shown = [t for page in small.pages for t in page]
    assert len(shown) == len(tiles) - green + 1


async def test_wall_has_no_focus_no_keys_and_big_figures() -> None:
    app = make_app(red_estate(), mode="wall")
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert app.focused is None
        assert not app.query("DataTable, Input")
        assert "q r o" not in app.query_one(StatusBar).plain
        assert app.query_one("#wall-timer").value == "0:14:32"  # type: ignore[attr-defined]
        assert app.query_one("#wall-count").value == "2"  # type: ignore[attr-defined]
        await pilot.press("slash", "h", "o")  # nothing to filter, hide or open
        assert app.focused is None


async def test_wall_timer_ticks_and_pages_rotate_with_the_clock() -> None:
    clock = FakeClock()
    app = make_app(big_estate(200), clock=clock, mode="wall", page_seconds=10)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        grid = app.query_one(TileGrid)
        pages = len(grid.plan().pages)
        assert pages >= 2
        app._tick()
        first = grid.render().plain
        assert f"page 1/{pages}" in first
        clock.advance(9)
        app._tick()
        assert grid.page == 0
        clock.advance(1)
        app._tick()
        assert grid.page == 1
        assert f"page 2/{pages}" in grid.render().plain and grid.render().plain != first
        assert app.query_one("#wall-timer").value == "2:05:19"  # type: ignore[attr-defined]
        clock.advance(10 * (pages - 1))
        app._tick()
        assert grid.page == 0  # back to the first page


async def test_all_green_wall_is_calm_with_since_and_counts() -> None:
    app = make_app(big_green_estate(40), mode="wall")
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        head = app.query_one(WallHead)
        assert head.has_class("-calm") and not head.has_class("-red")
        assert not app.query_one("#wall-red").display
        since = str(app.query_one("#wall-since").render())
        assert "ALL GREEN for 3d 4h" in since and "since 07:40" in since
        counts = str(app.query_one("#wall-counts").render())
        assert "40 pipelines" in counts and "2 services" in counts
        assert "█" in str(app.query_one("#wall-big").render())


async def test_wall_ascii_has_no_digits_widget_and_no_unicode() -> None:
    app = make_app(red_estate(), mode="wall", ascii=True)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert not app.query("Digits")
        screen = "\n".join(
            "".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()
        )
        assert screen.isascii()
        assert "FAILED" in screen and "DOWN 503" in screen and "MAIN RED" in screen


def test_every_tile_has_a_status_word() -> None:
    for tile in wall_tiles(big_estate(40), NOW):
        words = ("FAILED", "PASSED", "RUNNING", "QUEUED", "DOWN", "UP", "STALE", "WARN")
        assert any(w in tile.word for w in words), tile
        if tile.rank == RED:
            assert tile.title.startswith(("✖", "?"))


@pytest.mark.parametrize("size", [(200, 60), (160, 45), (120, 35)], ids=str)
async def test_tiles_in_a_row_have_their_titles_on_one_line(size: tuple[int, int]) -> None:
    """A tile with a detail line (who broke it) and one without (stale data, no detail) sit
    side by side: their titles and words line up, read across the room as one row."""
    from screen import find_boxes, screen_lines, show

    app = make_app(red_estate(), mode="wall")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        # The headline's big figures are drawn with box corners too: only the tiles count.
        below = [line if row > 5 else " " * len(line) for row, line in enumerate(lines)]
        tiles, broken = find_boxes(below)
        assert not broken, show(lines)
        rows: dict[int, list[int]] = {}
        for tile in tiles:
            inside = tile.inside(lines)
            first = next(i for i, text in enumerate(inside) if text.strip())
            rows.setdefault(tile.top, []).append(first)
        assert any(len(firsts) > 1 for firsts in rows.values()), show(lines)
        for top, firsts in rows.items():
            assert len(set(firsts)) == 1, (top, firsts, show(lines))
