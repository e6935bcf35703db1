"""The engine stops (its ``run`` raises or returns): the screen says so at once and in full.

After a green snapshot, a feed that dies must leave nothing green anywhere (no word, no glyph,
no colour), every pipeline and service unknown, a banner naming the error and the log that
nothing hides, and an exit code of 4 when the radiator is quit; on the wall too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest

from buildradiator.clock import FakeClock
from buildradiator.model import Snapshot
from buildradiator.ui.app import BuildRadiatorApp
from buildradiator.ui.options import Mode, RadiatorOptions
from screen import find_boxes, green_colours, screen_lines, show
from snapshot_fixtures import green_estate

GREEN_WORDS = ("all green", "ALL GREEN", "passed", " up ", " GO", " met", "✔")
LOG = Path("/var/log/radiator/buildradiator.log")


class DyingFeed:
    """Publishes its snapshot, then, when told, raises (or returns)."""

    def __init__(self, snapshot: Snapshot, error: BaseException | None) -> None:
        self.snapshot, self.error = snapshot, error
        self.die = asyncio.Event()

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        publish(self.snapshot)
        await self.die.wait()
        if self.error is not None:
            raise self.error

    def poll_now(self) -> None:
        pass


def make(feed: DyingFeed, mode: Mode = "auto") -> BuildRadiatorApp:
    options = RadiatorOptions(mode=mode)
    app = BuildRadiatorApp(feed, clock=FakeClock(), log_path=LOG, options=options)  # type: ignore[arg-type]
    app.display_tz = UTC
    return app


@pytest.mark.parametrize("size", [(120, 35), (80, 24), (40, 10)], ids=["120x35", "80x24", "40x10"])
async def test_a_dead_engine_leaves_nothing_green(size: tuple[int, int]) -> None:
    feed = DyingFeed(green_estate(), OverflowError("date value out of range"))
    app = make(feed)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        before = "\n".join(screen_lines(app))
        assert "all green" in before and "✔" in before  # what it showed while alive
        feed.die.set()
        await pilot.pause()
        await pilot.pause()
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert lines[0].startswith(" ✖ ENGINE STOPPED: OverflowError"), show(lines)
        if size[0] >= 80:
            assert f"see the log {LOG}" in lines[1], show(lines)
        if size[0] >= 120:
            assert "every pipeline and service is unknown" in lines[1], show(lines)
        for word in GREEN_WORDS:
            assert word not in text, word + show(lines)
        assert not green_colours(app), green_colours(app)
        # Every pipeline reads as unknown (stale), none as passed.
        if size[0] >= 80:
            for name in ("acme/monolith", "acme/billing"):
                row = next(line for line in lines if name in line)
                assert "? stale" in row, row
        _, broken = find_boxes(lines)
        assert not broken, show(lines)
        # Nothing may cover it: help opens below it.
        await pilot.press("question_mark")
        await pilot.pause()
        assert screen_lines(app)[0] == lines[0]
        await pilot.press("escape", "q")
    assert app.return_value == 4


async def test_a_feed_that_returns_has_stopped_too() -> None:
    feed = DyingFeed(green_estate(), None)
    app = make(feed)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.die.set()
        await pilot.pause()
        await pilot.pause()
        lines = screen_lines(app)
        assert lines[0].startswith(" ✖ ENGINE STOPPED: it returned"), show(lines)
        await pilot.press("q")
    assert app.return_value == 4


async def test_the_wall_shows_the_engine_stopped_and_no_green() -> None:
    feed = DyingFeed(green_estate(), RuntimeError("boom"))
    app = make(feed, mode="wall")
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert "ALL GREEN" in "\n".join(screen_lines(app))
        feed.die.set()
        await pilot.pause()
        await pilot.pause()
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert "ENGINE STOPPED" in text and "RuntimeError" in text, show(lines)
        assert str(LOG) in text, show(lines)
        for word in GREEN_WORDS:
            assert word not in text, word + show(lines)
        assert not green_colours(app), green_colours(app)
        await pilot.press("q")
    assert app.return_value == 4
