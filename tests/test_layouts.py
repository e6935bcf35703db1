"""Pane and ssh layouts, re-picking on resize, finding things (/ and h), themes, NO_COLOR."""

from __future__ import annotations

import pytest
from rich.color import Color, ColorSystem

from app_helpers import make_app, rows
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.ui.feed import SnapshotUpdated
from buildradiator.ui.themes import load_themes
from buildradiator.ui.widgets import Banner, CompactSummary, HelpScreen, MainBranches, StatusBar
from buildradiator.ui.widgets.filterbar import FilterBar
from snapshot_fixtures import NOW, build, green_estate, pipeline, red_estate


def screen_text(app: object) -> str:
    strips = app.screen._compositor.render_strips()  # type: ignore[attr-defined]
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def test_pane_at_40x10_keeps_what_matters() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        assert app.layout_name == "-pane"
        banner = app.query_one(Banner)
        assert banner.region.height == 1
        assert banner.plain.startswith("✖ MAIN RED 0:14:32  acme/monolith +1 more")
        main = rows(app.query_one(MainBranches))
        assert main[0].split()[:5] == ["✖", "failed", "▶", "acme/monolith", "14m"]  # name whole
        line = app.query_one(CompactSummary).plain
        assert line.startswith("prod ✖ 1 down ⚠ 1 warn · ▶ 2 running")
        text = screen_text(app)
        assert "acme/monolith" in text and "prod ✖ 1 down" in text and "? ^P" in text
        assert not app.query_one("#production").display


async def test_layout_is_re_picked_on_resize() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert app.layout_name == "-tall"
        for size, layout in (
            ((160, 45), "-wide"),
            ((80, 24), "-narrow"),
            ((60, 15), "-pane"),
            ((150, 12), "-pane"),
        ):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert app.layout_name == layout and app.has_class(layout), size
        assert len(app.query_one(Banner).plain.splitlines()) == 1
        await pilot.resize_terminal(120, 35)
        await pilot.pause()
        assert app.layout_name == "-wide" and not app.has_class("-pane")
        assert len(app.query_one(Banner).plain.splitlines()) == 2  # the detail line is back


async def test_slash_filters_by_name_author_group_and_status_escape_clears() -> None:
    estate = red_estate()
    grouped = tuple(
        p.model_copy(update={"group": "Payments team"}) if p.name == "acme/billing" else p
        for p in estate.pipelines
    )
    app = make_app(estate.model_copy(update={"pipelines": grouped}))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        table = app.query_one(MainBranches)
        await pilot.press("slash")
        assert isinstance(app.focused, FilterBar)
        await pilot.press(*"mallory")
        await pilot.pause()
        assert [r.split("  ")[1] for r in rows(table)] == ["acme/monolith"]
        assert "filter: mallory" in str(table.border_subtitle)
        for query, names in (
            ("failed", ["acme/monolith"]),
            ("payments", ["▸ Payments team (1)"]),
            ("queued", ["acme/ledger"]),
            ("stale", ["acme/reports"]),
            ("core running", ["platform/core"]),
            ("zzz", []),
        ):
            app.query_one(FilterBar).value = query
            await pilot.pause()
            assert [r.split("  ")[1] for r in rows(table)] == names, query
        assert "nothing matches" in str(table.border_subtitle)
        await pilot.press("escape")
        await pilot.pause()
        assert len(rows(table)) == 6
        assert not app.query_one(FilterBar).display and app.focused is table


async def test_typing_q_in_the_filter_does_not_quit() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        await pilot.press("slash", "q", "h")
        assert app.query_one(FilterBar).value == "qh"
        assert app.is_running
        await pilot.press("enter")  # keeps the filter, back to the table
        assert app.focused is app.query_one(MainBranches)
        assert app.query_one(FilterBar).display


async def test_h_hides_passing_pipelines_and_says_so() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        table = app.query_one(MainBranches)
        await pilot.press("h")
        await pilot.pause()
        names = [r.split("  ")[1] for r in rows(table)]
        # Passing-and-idle ones go; red, running, queued and stale (not known green) stay.
        assert names == ["acme/monolith", "acme/ledger", "platform/core", "acme/reports"]
        assert "passing hidden" in str(table.border_subtitle)
        await pilot.press("h")
        await pilot.pause()
        assert len(rows(table)) == 6 and "hidden" not in str(table.border_subtitle)


async def test_help_lists_every_key() -> None:
    app = make_app(green_estate())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for binding in app.BINDINGS:
            key = {"question_mark": "?", "slash": "/", "escape": "esc"}.get(
                binding.key, binding.key
            )  # type: ignore[union-attr]
            assert f"{key}  " in text, key


async def test_palette_switches_between_every_shipped_theme() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for name in ("light", "colorblind", "mono", "wall", "default"):
            commands[f"Theme: {name}"].callback()
            await pilot.pause()
            assert app.theme == name
            failed = app.query_one(MainBranches).get_row_at(0)[0]
            colours = {s.style.color.triplet.hex.lower() for s in failed.spans if s.style.color}  # type: ignore[union-attr]
            assert app.theme_variables["status-failed"].lower() in colours, name


@pytest.mark.parametrize("name", ["default", "light", "colorblind", "wall"])
def test_status_colours_stay_apart_in_16_colours(name: str) -> None:
    variables = load_themes().themes[name].variables
    keys = ("status-passed", "status-failed", "status-running", "health-warn", "stale")
    standard = {k: Color.parse(variables[k]).downgrade(ColorSystem.STANDARD).number for k in keys}
    assert len(set(standard.values())) == len(keys), standard


def test_mono_has_no_hue() -> None:
    from textual.color import Color as TColor

    for key, value in load_themes().themes["mono"].variables.items():
        r, g, b = TColor.parse(value).rgb
        assert r == g == b, key


async def test_no_color_keeps_meaning_in_glyphs_and_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(red_estate())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.no_color
        text = screen_text(app)
        for words in ("✖ MAIN RED", "✖ failed", "✖ down", "⚠ warn", "? stale 5m", "✔ passed"):
            assert words in text, words


async def test_ascii_at_80x24_shows_no_unicode_anywhere() -> None:
    app = make_app(red_estate(), ascii=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bar = app.query_one(StatusBar).plain
        assert bar.isascii()
        body = screen_text(app).splitlines()
        # Panel borders are Textual's; every glyph inside them comes from us and must be ASCII.
        inner = [line.strip("╭╮╰╯─│ ") for line in body]
        assert all(line.isascii() for line in inner), [x for x in inner if not x.isascii()]


def _estate(*pipes: Pipeline) -> Snapshot:
    return Snapshot(taken_at=NOW, pipelines=pipes)


def _long_estate() -> Snapshot:
    """Wide rows: a red pipeline with a build running on top, long names, long authors."""
    red = pipeline(
        "acme/an-extremely-long-pipeline-name-for-payments",
        (build("x", 1, Status.FAILED, finished=60, author="Bartholomew Featherstonehaugh"),),
        (build("x", 2, Status.RUNNING, started=30),),
        branch="release/2026-11-very-long-branch",
    )
    others = tuple(
        pipeline(
            f"platform/another-rather-long-pipeline-name-{n}",
            (build("y", n, Status.PASSED, finished=120, author="Maximiliana Oyelaran-Smith"),),
        )
        for n in range(3)
    )
    return _estate(red, *others)


def _calm_estate() -> Snapshot:
    """Other pipelines (so the table rebuilds), all passed: a short status column, which leaves
    the names more room than the wide status column took before."""
    return _estate(
        *(
            pipeline(
                f"docs/the-documentation-site-and-its-many-pages-{n}",
                (build("d", n, Status.PASSED, finished=60, author="Ivan Ivanovich Petrov"),),
                branch="main-with-a-long-name",
            )
            for n in range(2)
        )
    )


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
async def test_tables_never_scroll_sideways_when_rows_get_narrower(
    size: tuple[int, int],
) -> None:
    """DataTable column widths only grow (``clear`` keeps them): a wide status column, then
    other rows (a rebuild) fitted for a narrow one, must leave no horizontal scrollbar."""
    app = make_app(_long_estate())
    feed = app._feed
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(MainBranches)
        assert table.virtual_size.width <= table.size.width
        assert "running" in rows(table)[0]
        feed.publish(_calm_estate())  # type: ignore[attr-defined]
        await pilot.pause()
        assert all(r.startswith("✔ passed  docs/the-") for r in rows(table)), rows(table)
        assert table.virtual_size.width <= table.size.width
        assert not table.show_horizontal_scrollbar
        # Back to wide rows: still cut to fit, never wider than the panel.
        feed.publish(_long_estate())  # type: ignore[attr-defined]
        await pilot.pause()
        assert table.virtual_size.width <= table.size.width
        assert not table.show_horizontal_scrollbar


async def test_ascii_cuts_names_with_three_dots() -> None:
    app = make_app(_long_estate(), ascii=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        main = rows(app.query_one(MainBranches))
        assert any("..." in r for r in main), main
        assert all(r.isascii() for r in main), main
        assert "…" not in screen_text(app)


async def test_red_rows_stay_in_view_when_nobody_uses_the_table() -> None:
    from buildradiator.model import Status
    from buildradiator.ui.widgets import MainBranches
    from snapshot_fixtures import big_estate

    estate = big_estate(60)
    green = estate.model_copy(
        update={
            "broken": (),
            "pipelines": tuple(
                p.model_copy(
                    update={
                        "recent": tuple(
                            b.model_copy(update={"status": Status.PASSED}) for b in p.recent
                        )
                    }
                )
                for p in estate.pipelines
            ),
        }
    )
    app = make_app(green)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(MainBranches)
        table.move_cursor(row=40, animate=False)  # where a previous rebuild left it
        app.query_one(MainBranches).blur()
        app.post_message(SnapshotUpdated(estate))
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_y == 0


async def test_a_huge_estate_shows_the_urgent_rows_and_a_count() -> None:
    from buildradiator.ui.widgets.pipeline_rows import MAX_ROWS
    from snapshot_fixtures import big_estate

    estate = big_estate(MAX_ROWS + 100)
    app = make_app(estate)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        shown = rows(app.query_one(MainBranches))
        assert len(shown) == MAX_ROWS + 1
        grouped = {p.group for p in estate.pipelines if p.group}
        members = sum(1 for p in estate.pipelines if p.group)
        units = len(estate.pipelines) - members + len(grouped)
        assert f"{units - MAX_ROWS} more" in shown[-1] and "/ to filter" in shown[-1]
        # Every red pipeline made it into the rows shown: the cut only ever drops the calm ones.
        text = "\n".join(shown)
        red = [p for p in estate.pipelines if p.status is Status.FAILED and not p.group]
        assert red and all(p.name in text for p in red)


async def test_a_focused_table_stays_at_the_top_until_someone_moves_the_cursor() -> None:
    from buildradiator.model import Status
    from buildradiator.ui.widgets import MainBranches
    from snapshot_fixtures import big_estate

    estate = big_estate(60)
    calm = estate.model_copy(
        update={
            "broken": (),
            "pipelines": tuple(
                p.model_copy(
                    update={
                        "recent": tuple(
                            b.model_copy(update={"status": Status.PASSED}) for b in p.recent
                        ),
                        "in_flight": (),
                    }
                )
                for p in estate.pipelines
            ),
        }
    )
    app = make_app(calm)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(MainBranches)
        table.focus()
        table.move_cursor(row=40, animate=False)  # programmatic: not a user's choice
        app.post_message(SnapshotUpdated(estate))
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_y == 0
        # Once someone moves the cursor, it follows their row across re-sorts.
        await pilot.press("down", "down")
        chosen = table.rows_shown[table.cursor_row].key
        app.post_message(SnapshotUpdated(calm))
        await pilot.pause()
        assert table.rows_shown[table.cursor_row].key == chosen
