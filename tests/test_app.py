"""The Textual app with Pilot: panels, banner, ticking ages, keys, ascii, themes, layout."""

from __future__ import annotations

from datetime import UTC

import pytest
from rich.text import Text
from textual.theme import BUILTIN_THEMES

from app_helpers import make_app, rows
from buildradiator.clock import FakeClock
from buildradiator.model import Snapshot
from buildradiator.paths import get_paths
from buildradiator.ui.feed import SnapshotUpdated
from buildradiator.ui.widgets import (
    Banner,
    CompactSummary,
    Flaky,
    HelpScreen,
    InFlight,
    MainBranches,
    Production,
    RowsTable,
    StatusBar,
)
from screen import screen_text
from snapshot_fixtures import MARKUP_MESSAGE, green_estate, red_estate


def status_column(table: RowsTable) -> list[Text]:
    return [table.get_row_at(i)[0] for i in range(table.row_count)]


async def test_panels_show_the_right_rows() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        main = rows(app.query_one(MainBranches))
        assert len(main) == 6
        # Red first, then running/queued, then the rest.
        assert main[0].startswith("▶ running, last: ✖ failed  acme/monolith  main  14m  Mallory")
        assert [r.split("  ")[1] for r in main[1:3]] == ["acme/ledger", "platform/core"]
        assert main[3].startswith("✔ passed  acme/billing  main  3m  Frank")
        flight = rows(app.query_one(InFlight))
        assert flight[0].startswith("▶ running  acme/monolith #9104")
        assert "▇▇▇▇▇▇▁▁▁▁ 62%" in flight[0] and "6m12s, ETA 12:03" in flight[0]
        assert "no estimate" in flight[1]
        assert "◌ queued" in flight[2] and "waiting 2m" in flight[2]
        prod = rows(app.query_one(Production))
        # The environment beside the name; why first, then the code and latency.
        assert prod[0].startswith("✖ down  payments prod    body status DOWN  503  120ms")
        assert prod[1].startswith("⚠ warn  search prod")
        assert prod[2].startswith("✔ up  checkout prod    200  41ms  v2026.11.3")
        flaky = app.query_one(Flaky).plain
        assert "2 of 14 green builds needed a retry" in flaky
        assert "docs-site" not in flaky  # zeros hidden
        bar = app.query_one(StatusBar).plain
        assert "gh ✔ ·" in bar and "buildkite ✖ connection refused 31s ago (stale)" in bar
        assert "quota 4,812/5,000" in bar and bar.rstrip().endswith("q r o / h d ? ^P")


async def test_red_banner_names_commit_author_streak_and_more() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        banner = app.query_one(Banner)
        assert banner.has_class("-red")
        text = banner.plain
        assert "✖ MAIN RED 0:14:32" in text
        assert "acme/monolith" in text and "3 builds in a row" in text
        assert 'c0ffee0 "Fix login flow" by Mallory' in text
        assert "+1 more: payments (down)" in text


async def test_banner_age_ticks_with_the_clock() -> None:
    clock = FakeClock()
    app = make_app(red_estate(), clock=clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert "0:14:32" in app.query_one(Banner).plain
        clock.advance(5)
        await pilot.pause(1.2)  # the real 1 Hz timer reads the (fake) clock
        assert "0:14:37" in app.query_one(Banner).plain
        assert "connection refused 36s ago" in app.query_one(StatusBar).plain


async def test_markup_in_commit_message_is_shown_literally() -> None:
    app = make_app(red_estate(message=MARKUP_MESSAGE))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        rendered = app.query_one(Banner).render()
        assert MARKUP_MESSAGE in rendered.plain
        assert not any(span.style and "link" in str(span.style) for span in rendered.spans)
        # And what reaches the screen has the brackets.
        screen_text = "\n".join(
            "".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()
        )
        assert "[bold red]boom[/] [link=http://x]y[/link]" in screen_text


async def test_r_polls_now_question_mark_opens_help_q_exits() -> None:
    app = make_app(green_estate())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        assert app._feed.polls == 1  # type: ignore[attr-defined]
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text").render())
        assert "refresh now" in help_text and "quit" in help_text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_value == 0


async def test_o_opens_the_selected_rows_url() -> None:
    opened: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)
        return True

    app = make_app(red_estate(), browser=browser)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        assert opened == ["https://ci.example/acme/monolith"]
        assert "opened in the browser: https://ci.example/acme/monolith" in screen_text(app)
        app.query_one(InFlight).focus()
        await pilot.press("down", "o")
        assert opened[-1] == "https://ci.example/platform/core/213"


async def test_o_without_a_browser_says_so_with_the_link() -> None:
    """On a machine with no browser (ssh, a server) ``o`` must not do nothing: it says so and
    shows the link in plain text, on the screen, to copy."""
    app = make_app(red_estate(), browser=lambda _url: False)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        bottom = screen_text(app).splitlines()[-1]
        assert bottom.rstrip().endswith(
            "no browser here, the link: https://ci.example/acme/monolith"
        )
        # Nothing to open (an empty table): said too.
        app._feed.publish(Snapshot(taken_at=red_estate().taken_at))  # type: ignore[attr-defined]
        await pilot.pause()
        app.clear_notifications()
        await pilot.press("o")
        await pilot.pause()
        assert "nothing selected to open" in screen_text(app).splitlines()[-1]


def test_without_a_display_no_browser_is_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    """No graphical session on Linux: a text browser would take over the radiator's own
    terminal, so none is started at all."""
    import webbrowser

    from buildradiator.ui.links import open_in_browser

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(webbrowser, "get", lambda: pytest.fail("a browser was looked for"))
    assert open_in_browser("https://ci.example/x") is False


async def test_stale_rows_are_marked_and_never_green() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        table = app.query_one(MainBranches)
        row = next(r for r in rows(table) if "acme/reports" in r)
        assert row.startswith("? stale 5m")
        assert "✔" not in row and "passed" not in row
        stale_row = next(r for r in table.rows_shown if "acme/reports" in r.key)
        assert stale_row.stale
        # Greyed: every cell is drawn in the theme's stale colour.
        stale_colour = app.theme_variables["stale"].lower()
        index = table.rows_shown.index(stale_row)
        for cell in table.get_row_at(index):
            assert all(
                str(span.style.color.triplet.hex).lower() == stale_colour
                for span in cell.spans
                if span.style.color
            )  # type: ignore[union-attr]


async def test_new_snapshot_updates_the_screen() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert app.query_one(Banner).has_class("-red")
        app._feed.publish(green_estate())  # type: ignore[attr-defined]
        await pilot.pause()
        banner = app.query_one(Banner)
        assert not banner.has_class("-red")
        assert banner.plain == "✔ all green since 08:48 (3h 12m)"
        assert len(rows(app.query_one(MainBranches))) == 3
        assert app.query_one(Flaky).plain == "no retried builds"


async def test_waiting_line_before_any_snapshot() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.query_one(Banner).plain == "◌ waiting for first data…"


async def test_bursts_coalesce_and_unchanged_slices_are_skipped() -> None:
    a, b = red_estate(), green_estate()
    assert SnapshotUpdated(b).can_replace(SnapshotUpdated(a))
    app = make_app(a)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        now = app._clock.now()
        main, flight = app.query_one(MainBranches), app.query_one(InFlight)
        assert main.show(a, now, False) is False  # same slice: nothing redrawn
        assert flight.show(a, now, False, UTC) is False
        # 30 s later the minute-resolution ages are the same: still no redraw of main branches.
        app._clock.advance(30)  # type: ignore[attr-defined]
        assert main.show(a, app._clock.now(), False) is False
        assert main.show(b, now, False) is True


async def test_ascii_mode_has_no_non_ascii_glyphs_in_status_columns() -> None:
    app = make_app(red_estate(), ascii=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        for table in (
            app.query_one(MainBranches),
            app.query_one(InFlight),
            app.query_one(Production),
        ):
            statuses = [t.plain for t in status_column(table)]
            assert statuses and all(s.isascii() for s in statuses), statuses
        assert rows(app.query_one(MainBranches))[0].startswith("> running, last: x failed")
        assert "######----" in rows(app.query_one(InFlight))[0]
        assert app.query_one(Banner).plain.isascii()
        assert app.query_one(StatusBar).plain.isascii()
        assert app.query_one(CompactSummary).plain.isascii()


async def test_broken_theme_falls_back_to_default_with_a_toast() -> None:
    themes = get_paths().user_themes
    themes.mkdir(parents=True)
    (themes / "neon.toml").write_text('primary = "#ff00ff"\nbackground = "glow"\n')
    app = make_app(green_estate(), theme="neon")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert app.theme == "default"
        said = " ".join(app.messages)
        assert "neon.toml" in said and "background = 'glow' is not a colour" in said
        assert "using the default theme" in said


async def test_unknown_theme_name_falls_back_with_a_toast_and_wall_mode_uses_wall() -> None:
    app = make_app(green_estate(), theme="nope")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert app.theme == "default"
        assert "no theme named 'nope'" in screen_text(app).splitlines()[-1]
    wall = make_app(green_estate(), mode="wall")
    async with wall.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert wall.theme == "wall"
        assert "wall" not in BUILTIN_THEMES  # registered on the app, not globally


async def test_layout_stacks_when_narrow_and_splits_when_wide() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.has_class("-narrow")
        assert not app.query_one("#right").display
        compact = app.query_one(CompactSummary).plain.splitlines()
        assert compact[0].startswith("In flight: ▶ 2 running · ◌ 1 queued")
        assert compact[1] == "Flaky: 3 of 43 green builds needed a retry (2 pipelines)"
        bar = app.query_one(StatusBar).plain
        assert bar.startswith(" 4 sources: 3 ✔ 1 ✖ · buildkite ✖ connection refused")
        await pilot.resize_terminal(150, 60)
        await pilot.pause()
        assert app.has_class("-wide")
        assert app.query_one("#right").region.width > 0
        assert app.query_one(CompactSummary).region.height == 0
    pane = make_app(red_estate(), mode="pane")
    async with pane.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert pane.has_class("-pane")


async def test_palette_commands_refresh_and_switch_theme() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"Refresh now", "Theme: default", "Theme: wall"} <= set(commands)
        commands["Refresh now"].callback()
        assert app._feed.polls == 1  # type: ignore[attr-defined]
        commands["Theme: wall"].callback()
        await pilot.pause()
        assert app.theme == "wall"
        # Cells were redrawn in the wall colours.
        failed = app.query_one(MainBranches).get_row_at(0)[0]
        colours = {str(s.style.color.triplet.hex).lower() for s in failed.spans if s.style.color}  # type: ignore[union-attr]
        assert app.theme_variables["status-failed"].lower() in colours


async def test_groups_show_as_one_row_that_opens_into_members() -> None:
    estate = red_estate()
    grouped = tuple(
        p.model_copy(update={"group": "Core team"})
        if p.name in ("acme/monolith", "acme/billing")
        else p
        for p in estate.pipelines
    )
    app = make_app(estate.model_copy(update={"pipelines": grouped}))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        table = app.query_one(MainBranches)
        shown = rows(table)
        assert shown[0].startswith("✖ failed 1 of 2  ▸ Core team (2)")
        assert not any("acme/billing" in r for r in shown)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        shown = rows(table)
        assert shown[0].startswith("✖ failed 1 of 2  ▾ Core team (2)")
        assert "  acme/monolith" in shown[1] and "  acme/billing" in shown[2]
        await pilot.press("enter")
        await pilot.pause()
        assert len(rows(table)) == len(shown) - 2
