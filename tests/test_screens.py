"""The whole screen at every size, at fixed moments of the demo's script (issue 13).

One app run per size replays the demo's snapshots (taken once, from the real engine polling the
simulator over loopback) on a fake clock and reads the whole rendered screen after each: every
box closed, names and authors whole where there is room, Production's reasons readable, a top
line that never says more than the screen knows, messages that cover nothing, help that lists
every key. Assertions read the screen's text only, never a widget's rows.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from buildradiator.clock import FakeClock
from buildradiator.model import Snapshot
from buildradiator.rules.gate import gate_summary
from buildradiator.rules.production import service_rows
from buildradiator.ui.app import BuildRadiatorApp
from buildradiator.ui.options import RadiatorOptions
from buildradiator.ui.screens.main import MainScreen
from demo_moments import Demo, play_demo
from screen import box_titled, find_boxes, screen_lines, show

SIZES = [(40, 10), (80, 24), (100, 30), (120, 35), (160, 45), (200, 60)]
NAME_WHOLE, AUTHOR_WHOLE, REASON_SHOWN = 24, 16, 30
HEADLINES = {"pipeline": "MAIN RED", "service": "PROD DOWN", "deploy": "DEPLOY SUSPECT"}
GREEN_WORDS = ("all green", "ALL GREEN")


@pytest.fixture(scope="module")
def demo() -> Demo:
    return play_demo()


class Feed:
    """Publishes what the test hands it, when it says."""

    def __init__(self) -> None:
        self.publish: Callable[[Snapshot], None] | None = None

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        self.publish = publish
        await asyncio.Event().wait()

    def poll_now(self) -> None:
        pass


def move_to(clock: FakeClock, snapshot: Snapshot) -> None:
    clock.advance((snapshot.taken_at - clock.now()).total_seconds())


def content_rows(lines: list[str], title: str) -> list[str]:
    box = box_titled(lines, title)
    assert box is not None, f"no {title!r} box" + show(lines)
    return [row for row in box.inside(lines) if row.strip()]


def names_and_authors_whole(lines: list[str], snapshot: Snapshot) -> None:
    """Every row of Main branches names its pipeline whole (up to 24 characters) and, when the
    last build has an author of up to 16 characters, the author whole."""
    by_length = sorted(snapshot.pipelines, key=lambda p: -len(p.name))
    rows = [r for r in content_rows(lines, "Main branches") if "more" not in r]
    assert rows
    for row in rows:
        found = next((p for p in by_length if p.name[: NAME_WHOLE - 1] in row), None)
        assert found is not None, f"no whole pipeline name in {row!r}" + show(lines)
        if len(found.name) <= NAME_WHOLE:
            assert found.name in row, row
        author = found.last.author if found.last else None
        if author and len(author) <= AUTHOR_WHOLE:
            assert author in row, f"{author!r} cut in {row!r}" + show(lines)


def reasons_readable(lines: list[str], snapshot: Snapshot) -> None:
    """The release gate's reasons and each service's reason show at least 30 characters."""
    rows = content_rows(lines, "Production")
    if snapshot.gate is not None and not snapshot.gate.go:
        summary = gate_summary(snapshot.gate, " · ")
        gate_row = next(r for r in rows if "release" in r)
        assert summary[:REASON_SHOWN] in gate_row, gate_row + show(lines)
    for service in service_rows(snapshot):
        if not service.reasons:
            continue
        shown = [r for r in rows if f" {service.service} " in r]
        for row in shown:
            if any(reason[:REASON_SHOWN] in row for reason in service.reasons):
                break
        else:
            if shown:
                pytest.fail(f"{service.service}: {service.reasons[0]!r} cut" + show(lines))


def top_line_tells_the_truth(lines: list[str], snapshot: Snapshot, width: int) -> None:
    top = "\n".join(lines[:2])
    text = "\n".join(lines)
    if snapshot.broken:
        assert HEADLINES[snapshot.broken[0].kind] in lines[0], show(lines)
    if any(word in text for word in GREEN_WORDS):
        assert not snapshot.broken and not snapshot.stale_sources, show(lines)
        assert snapshot.gate is None or snapshot.gate.go, show(lines)
        assert not any(s.stale for s in snapshot.sources), show(lines)
    if width >= 80 and snapshot.gate is not None and not snapshot.gate.go:
        assert "HOLD" in top, show(lines)


def hidden_rows_are_counted(lines: list[str], snapshot: Snapshot) -> None:
    """A panel that cannot show all its rows says how many are out of sight, under it."""
    assert not any(p.group for p in snapshot.pipelines)  # one row per pipeline below
    expected = {
        "Main branches": (len(snapshot.pipelines), 1),
        "Production": (
            (snapshot.gate is not None) + len(snapshot.blockers) + len(service_rows(snapshot)),
            1,
        ),
        "In flight": (len(snapshot.in_flight), 2),
    }
    for title, (total, height) in expected.items():
        box = box_titled(lines, title)
        if box is None:
            continue
        shown = len([r for r in box.inside(lines) if r.strip()]) // height
        bottom = lines[box.bottom][box.left : box.right + 1]
        if shown < total:
            assert f"+{total - shown} more" in bottom, title + show(lines)
        else:
            assert "more" not in bottom, title + show(lines)


def boxes_closed(lines: list[str]) -> None:
    _, broken = find_boxes(lines)
    assert not broken, f"{broken}" + show(lines)


async def messages_cover_nothing(app: BuildRadiatorApp, pilot: object) -> None:
    """Whatever was announced (a main turning red, a recovery) covers no panel and no banner:
    the screen above the status bar reads the same with every message gone."""
    with_messages = screen_lines(app)
    app.clear_notifications()
    await pilot.pause()  # type: ignore[attr-defined]
    without = screen_lines(app)
    assert with_messages[:-1] == without[:-1], show(with_messages) + show(without)


def help_lists_every_key(app: BuildRadiatorApp, lines: list[str]) -> None:
    box = box_titled(lines, "Keys")
    assert box is not None, show(lines)
    inside = "\n".join(box.inside(lines))
    keys = {"question_mark": "?", "slash": "/", "escape": "esc"}
    for binding in [*app.BINDINGS, *MainScreen.BINDINGS]:
        key = keys.get(binding.key, binding.key)  # type: ignore[union-attr]
        assert re.search(rf"(^|\s){re.escape(key)}  \S", inside, re.M), key + show(lines)
    for key in ("enter", "tab", "^P"):
        assert re.search(rf"(^|\s){re.escape(key)}  \S", inside, re.M), key + show(lines)


async def settled(app: BuildRadiatorApp, pilot: Pilot[None]) -> list[str]:
    """The screen once it has stopped changing: a new snapshot can move panels, and a panel
    that moved recounts its hidden rows on the resize that follows, a frame later (under load,
    after a single pause)."""
    await pilot.pause()
    lines = screen_lines(app)
    for _ in range(20):
        await pilot.pause(0.02)
        again = screen_lines(app)
        if again == lines:
            break
        lines = again
    return lines


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_the_demo_reads_at_a_glance(demo: Demo, size: tuple[int, int]) -> None:
    width, _height = size
    feed = Feed()
    clock = FakeClock(demo.before.taken_at)
    app = BuildRadiatorApp(feed, clock=clock)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        # Before any data: never green, never GO.
        lines = screen_lines(app)
        assert not any(w in "\n".join(lines) for w in GREEN_WORDS), show(lines)
        assert "waiting" in lines[0], show(lines)
        assert feed.publish is not None
        feed.publish(demo.before)
        await pilot.pause()
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert not any(w in text for w in GREEN_WORDS) and " GO" not in text, show(lines)
        assert "waiting" in lines[0], show(lines)
        boxes_closed(lines)

        for _moment, snapshot in demo.moments:
            move_to(clock, snapshot)
            feed.publish(snapshot)
            lines = await settled(app, pilot)
            boxes_closed(lines)
            hidden_rows_are_counted(lines, snapshot)
            top_line_tells_the_truth(lines, snapshot, width)
            if width >= 100:
                names_and_authors_whole(lines, snapshot)
            if width >= 120:
                reasons_readable(lines, snapshot)
            await messages_cover_nothing(app, pilot)

        banner = screen_lines(app)[0]
        await pilot.press("question_mark")
        await pilot.pause()
        lines = screen_lines(app)
        help_lists_every_key(app, lines)
        assert lines[0] == banner, "help covers the banner" + show(lines)


@pytest.mark.parametrize("size", [(120, 35), (200, 60)], ids=["120x35", "200x60"])
async def test_the_wall_tells_the_same_story(demo: Demo, size: tuple[int, int]) -> None:
    """The wall, through the same moments: never ALL GREEN before data or while anything is
    not, the release gate in its headline when it holds, every tile closed."""
    feed = Feed()
    clock = FakeClock(demo.before.taken_at)
    app = BuildRadiatorApp(feed, clock=clock, options=RadiatorOptions(mode="wall"))  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert feed.publish is not None
        feed.publish(demo.before)
        await pilot.pause()
        lines = screen_lines(app)
        assert "ALL GREEN" not in "\n".join(lines) and "WAITING" not in lines[0], show(lines)
        assert "waiting for first data" in "\n".join(lines), show(lines)
        for _moment, snapshot in demo.moments:
            move_to(clock, snapshot)
            feed.publish(snapshot)
            await pilot.pause()
            lines = screen_lines(app)
            text = "\n".join(lines)
            if "ALL GREEN" in text:
                assert not snapshot.broken and (snapshot.gate is None or snapshot.gate.go)
                assert not any(s.stale for s in snapshot.sources), show(lines)
            if snapshot.broken and snapshot.gate is not None and not snapshot.gate.go:
                head = "\n".join(lines[:8])
                assert "release HOLD" in head, show(lines)
            # The headline's big figures use box corners too: only the tiles are checked.
            first = next(i for i, line in enumerate(lines) if line[1:2] in ("┌", "┏"))
            boxes_closed([" " * len(line) if i < first else line for i, line in enumerate(lines)])
