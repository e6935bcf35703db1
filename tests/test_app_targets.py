"""The Targets panel and the wall's calm line, with Pilot: rows, glyphs, colours of the change,
ASCII mode, hostile names, and the panel staying away while no target is configured."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from app_helpers import DRIFT, GREEN, P90, make_app, rows, with_targets
from buildradiator.config.share import TargetConfig
from buildradiator.rules.targets import evaluate
from buildradiator.ui.widgets import Flaky, Targets
from buildradiator.ui.widgets.palette import palette
from buildradiator.ui.widgets.wall import calm_counts
from snapshot_fixtures import (
    MARKUP_MESSAGE,
    big_green_estate,
    green_estate,
    red_estate,
    red_estate_with_history,
)


def screen_text(app: object) -> str:
    strips = app.screen._compositor.render_strips()  # type: ignore[attr-defined]
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def test_targets_panel_shows_each_goal_under_flaky() -> None:
    app = make_app(with_targets(red_estate()))
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.pause()
        panel = app.query_one(Targets)
        # Three rows in a border, on the screen (not just in the table).
        assert panel.display and panel.region.height == 5
        # A narrow column: the trend and the change give way; the name keeps 30 characters.
        assert "build p90 <= 10m for all pipeli" in screen_text(app)
        assert rows(panel)[1].startswith("✖ unmet  build p90 <= 10m for all pipeli")
        assert panel.border_title == "Targets"
        assert panel.border_subtitle == "1 of 3 met, 1 no data yet"
        # In the right column, under Flaky.
        flaky = app.query_one(Flaky)
        assert panel.region.x == flaky.region.x
        assert panel.region.y >= flaky.region.bottom
        # A big screen: at the foot of the left column, under Production, above Flaky.
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        await pilot.pause()
        panel, flaky = app.query_one(Targets), app.query_one(Flaky)
        production = app.query_one("#production")
        assert panel.region.x == production.region.x == flaky.region.x == 0
        assert production.region.bottom <= panel.region.y < flaky.region.y
        assert "build p90 <= 10m for all pipelines" in screen_text(app)
        shown = rows(panel)
        assert shown[0] == (
            "✔ met  main green >= 95% for acme/monolith over 7 d  97.2%  ▁·█  ▲ 2.2%"
        )
        assert shown[1].startswith("✖ unmet  build p90 <= 10m for all pipelines over 7 d  12m30s")
        assert shown[1].endswith("▲ 50s")
        assert shown[2].startswith("? no data yet  deploy drift <= 5 commits for all services")


async def test_change_is_coloured_by_whether_it_moved_towards_the_goal() -> None:
    app = make_app(with_targets(red_estate()))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        panel = app.query_one(Targets)
        styles = palette(app)

        def colour(row: int, column: int) -> Style:
            text: Text = panel.get_row_at(row)[column]
            return text.spans[0].style  # type: ignore[return-value]

        # Green share up towards ">= 95%": better; p90 up away from "<= 10m": worse.
        assert colour(0, 4) == styles["health-up"]
        assert colour(1, 4) == styles["health-down"]
        assert colour(0, 0) == styles["status-passed"]
        assert colour(1, 0) == styles["status-failed"]


async def test_no_targets_no_panel_and_it_appears_with_the_first_target() -> None:
    plain = green_estate()
    app = make_app(plain)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        panel = app.query_one(Targets)
        assert not panel.display and panel.region.height == 0
        assert "Targets" not in screen_text(app)
        app._feed.publish(with_targets(plain))  # type: ignore[attr-defined]
        await pilot.pause()
        assert panel.display and len(rows(panel)) == 3
        assert panel.region.height == 5
        assert "Targets" in screen_text(app) and "12m30s" in screen_text(app)
        app._feed.publish(plain)  # type: ignore[attr-defined]
        await pilot.pause()
        assert not panel.display


async def test_ascii_mode_targets_are_ascii() -> None:
    app = make_app(with_targets(red_estate()), ascii=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        shown = rows(app.query_one(Targets))
        assert all(r.isascii() for r in shown), shown
        assert shown[0].startswith("+ met  main green")
        assert shown[0].endswith("_ @  ^ 2.2%")
        assert shown[1].startswith("x unmet") and shown[1].endswith("^ 50s")
        assert shown[2].startswith("? no data yet")


async def test_hostile_names_stay_literal() -> None:
    # A pipeline name from CI ends up in a default name: it is text, never markup.
    hostile = GREEN.model_copy(update={"name": f"green {MARKUP_MESSAGE}"})
    unmatched = DRIFT.model_copy(update={"name": "drift", "scope": "(no service matches '[b]x')"})
    app = make_app(with_targets(red_estate(), (hostile, unmatched)))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        shown = rows(app.query_one(Targets))
        assert MARKUP_MESSAGE in shown[0]
        assert shown[1].startswith("? no data yet  drift (no service matches '[b]x')")
        cells = app.query_one(Targets).get_row_at(0)
        assert not any("link" in str(span.style) for span in cells[1].spans)
        assert "[bold red]boom[/] [link=http://x]y[/link]" in screen_text(app)


async def test_targets_judged_from_history_reach_the_screen() -> None:
    snapshot = red_estate_with_history()
    configs = [
        TargetConfig(measure="retry_share", goal="<= 10%", pipeline="acme/billing"),
        TargetConfig(measure="flaky_tests", goal="<= 2", pipeline="acme/monolith"),
    ]
    app = make_app(with_targets(snapshot, evaluate(configs, snapshot)))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        shown = rows(app.query_one(Targets))
        # billing: 3 of 14 green builds retried in 7 days.
        assert shown[0].startswith("✖ unmet  retried builds <= 10% for acme/billing over 7 d")
        assert "21.4%" in shown[0]
        # monolith's flakes of the last 7 days: (i * 3) % 5 for i = 23..29.
        week = sum((i * 3) % 5 for i in range(23, 30))
        assert f"  {week} tests  " in shown[1] and shown[1].startswith("✖ unmet")


def test_calm_counts_name_the_targets_missed() -> None:
    text = calm_counts(with_targets(green_estate()), ascii=False).plain
    first, second = text.split("\n")
    assert "pipeline" in first
    assert second == "targets 1 of 3 met, 1 no data yet · ✖ " + P90.name
    ascii_text = calm_counts(with_targets(green_estate()), ascii=True).plain
    assert ascii_text.isascii() and "| x build p90" in ascii_text
    assert "\n" not in calm_counts(green_estate(), ascii=False).plain
    all_met = calm_counts(with_targets(green_estate(), (GREEN,)), ascii=False).plain
    assert all_met.endswith("targets 1 of 1 met")


async def test_wall_calm_screen_shows_the_targets_line() -> None:
    hostile = P90.model_copy(update={"name": f"p90 of {MARKUP_MESSAGE}"})
    app = make_app(with_targets(big_green_estate(12), (GREEN, hostile)), mode="wall")
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        counts = str(app.query_one("#wall-counts").render())
        assert "targets 1 of 2 met" in counts
        assert f"✖ p90 of {MARKUP_MESSAGE}" in counts
        assert "targets 1 of 2 met" in screen_text(app)


def test_pane_line_counts_targets_met() -> None:
    from buildradiator.model import TargetStatus
    from buildradiator.ui.widgets.summary import pane_line
    from snapshot_fixtures import green_estate

    targets = (
        TargetStatus(name="a", measure="mttr", scope="all", goal="<= 30m", window_days=7,
                     value=60.0, met=True),
        TargetStatus(name="b", measure="mttr", scope="all", goal="<= 1m", window_days=7,
                     value=600.0, met=False),
        TargetStatus(name="c", measure="mttr", scope="all", goal="<= 1m", window_days=7),
    )  # fmt: skip
    line = "".join(t for t, _ in pane_line(green_estate().model_copy(update={"targets": targets})))
    assert "targets 1/3" in line
    assert "targets" not in "".join(t for t, _ in pane_line(green_estate()))
