"""What history knows, on screen: the Flaky panel's ranking and footer, the commit range on the
banner, and the detail of one pipeline (Enter); without history, everything as before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from app_helpers import make_app, radiator, rows
from buildradiator import fmt
from buildradiator.model import PipelineFacts, Status
from buildradiator.ui.feed import SnapshotUpdated
from buildradiator.ui.widgets import Banner, Flaky, MainBranches
from buildradiator.ui.widgets.detail import PipelineDetail, detail_lines
from buildradiator.ui.widgets.summary import (
    compact_lines,
    flaky_lines,
    flaky_test_lines,
    pane_line,
)
from snapshot_fixtures import (
    MARKUP_MESSAGE,
    NOW,
    big_estate,
    red_estate,
    red_estate_with_history,
)


def plain(lines: list[tuple[tuple[str, str], ...]]) -> list[str]:
    return ["".join(chunk for chunk, _ in line) for line in lines]


# --- the Flaky panel -------------------------------------------------------------------------


def test_flaky_panel_ranks_tests_and_sums_retries_over_pipelines() -> None:
    text = plain(flaky_lines(red_estate_with_history(), now=NOW))
    # Ranked as the engine ranked them; the class's package is dropped, not the test's name.
    assert text[0].split()[:5] == ["12", "LoginTest.testRedirect", "2h", "5m", "lost"]
    assert "billing +1" in text[0] and text[0].endswith("2h ago")
    assert text[1].split()[0] == "7" and "40m lost" in text[1] and "monolith" in text[1]
    # A long test name is cut with an ellipsis; a pipeline gone from the config keeps its key.
    assert text[2].split()[0] == "2" and "…" in text[2] and "renamed" in text[2]
    assert "lost" not in text[2]  # nothing lost: no "0s lost"
    # (2 + 3 + 0) of (11 + 14 + 9) green builds, 38 + 142 minutes.
    assert text[3] == "retried-to-green: 15% of green builds (7 d), 3h lost"


def test_flaky_rows_fit_a_narrow_panel_keeping_counts_and_time_lost() -> None:
    snap = red_estate_with_history()
    for width in (56, 40):
        text = plain(flaky_test_lines(snap, NOW, width=width))
        assert all(len(line) <= width for line in text), (width, text)
        assert "2h 5m lost" in text[0] and text[0].startswith("12  ")
        # The name keeps 24 characters: the last-seen age goes first, then where it flaked.
        assert "LoginTest.testRedirect" in text[0] and "ago" not in text[0], text[0]
        assert ("billing" in text[0]) is (width == 56), text[0]
    assert plain(flaky_test_lines(snap, NOW, width=30))[0] == "12  testRedirect    2h 5m lost"
    wide = plain(flaky_test_lines(snap, NOW, width=100))
    assert wide[0].endswith("2h ago") and "LoginTest.testRedirect" in wide[0]


def test_flaky_panel_without_test_results_shows_each_pipelines_retry_share() -> None:
    snap = red_estate_with_history().model_copy(update={"flaky_tests": ()})
    text = plain(flaky_lines(snap, now=NOW))
    assert text[0].startswith("billing ") and "21% of green retried (3 of 14), 2h 22m" in text[0]
    assert text[1].startswith("monolith") and "18% of green retried (2 of 11)" in text[1]
    assert len(text) == 3 and text[2].startswith("retried-to-green: 15%")
    calm = snap.model_copy(
        update={"facts": (PipelineFacts(source="gh", key="acme/billing", green_7d=5),)}
    )
    assert plain(flaky_lines(calm, now=NOW)) == [
        "no flaky tests, no retried builds",
        "retried-to-green: 0% of green builds (7 d)",
    ]


def test_without_history_the_flaky_panel_and_summaries_are_as_before() -> None:
    snap = red_estate()
    assert plain(flaky_lines(snap, now=NOW)) == [
        "acme/billing  2 of 14 green builds needed a retry",
        "acme/ledger   1 of 9 green builds needed a retry",
    ]
    assert plain(compact_lines(snap, NOW))[1] == (
        "Flaky: 3 of 43 green builds needed a retry (2 pipelines)"
    )
    assert "flaky 3" in "".join(c for c, _ in pane_line(snap))


def test_compact_and_pane_lines_count_flaky_tests() -> None:
    snap = red_estate_with_history()
    assert plain(compact_lines(snap, NOW))[1] == "Flaky: 3 tests, 15% retried"
    assert "flaky 3 tests" in "".join(c for c, _ in pane_line(snap))


async def test_flaky_panel_on_screen_shows_markup_literally_and_the_window() -> None:
    app = make_app(red_estate_with_history())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        panel = app.query_one(Flaky)
        assert panel.border_subtitle == "7 days"
        assert "LoginTest.testRedirect" in panel.plain
        rendered = str(panel.render())
        assert "[bold red]boom[/]"[:12] in rendered  # literal brackets, not markup
        assert "retried-to-green: 15% of green builds (7 d), 3h lost" in rendered


# --- the banner ------------------------------------------------------------------------------


async def test_banner_shows_the_commit_range_where_it_fits() -> None:
    app = make_app(red_estate_with_history())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        detail = app.query_one(Banner).plain.splitlines()[1]
        assert detail.endswith("since 9e8d7c6..c0ffee0")
        assert "+1 more: payments (down)" in detail  # what else is broken comes first
    app = make_app(red_estate())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert "since" not in app.query_one(Banner).plain.splitlines()[1]


# --- the detail view -------------------------------------------------------------------------


async def test_enter_on_a_pipeline_opens_its_detail_and_escape_closes_it() -> None:
    app = make_app(red_estate_with_history())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        table = app.query_one(MainBranches)
        table.focus()
        assert "acme/monol" in rows(table)[0]
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PipelineDetail)
        text = screen.plain
        # The strip, oldest left, newest right: a long green run, one failure, then red.
        assert "✔✔✔✔✔✔✔✔✖✔✔✔✔✖✖✖  16 builds recorded, newest right" in text
        assert "Red since" in text and "11:45 (14m)" in text and "3 builds in a row" in text
        assert 'a1b2c3d "Bump deps" by Frank' in text
        assert "9e8d7c6..c0ffee0" in text
        assert "p50 6m12s · p90 9m41s" in text
        assert "92% of the time" in text  # mean of the known days, gaps left out
        assert "median 40m, worst 50m" in text
        assert "7 d: 18% (2 of 11), 38m of builds" in text
        assert "30 d: 10% (5 of 48), 1h 35m of builds" in text
        # Its flaky tests only: billing's LoginTest also flaked here; the renamed one did not.
        assert "Flaky tests (2, 7 d)" in text and "LoginTest.testRedirect" in text
        assert "under_a_very_long" not in text
        shown = str(screen.query_one("#detail-text").render())
        assert MARKUP_MESSAGE[:10] in shown  # CI text is never markup
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PipelineDetail)
        assert app.is_running


async def test_detail_follows_new_snapshots_and_o_opens_the_last_build() -> None:
    opened: list[str] = []
    app = make_app(red_estate_with_history())
    async with app.run_test(size=(120, 35)) as pilot:
        app.open_url = opened.append  # type: ignore[method-assign,assignment]
        await pilot.pause()
        app.query_one(MainBranches).focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PipelineDetail)
        await pilot.press("o")
        assert opened == ["https://ci.example/acme/monolith/9103"]
        # Recovered: the next snapshot drops the red lines.
        snap = red_estate_with_history()
        green = snap.facts[0].model_copy(update={"red_since": None, "red_streak": 0})
        app.post_message(
            SnapshotUpdated(snap.model_copy(update={"facts": (green, *snap.facts[1:])}))
        )
        await pilot.pause()
        assert "Red since" not in screen.plain and "Duration" in screen.plain
        await pilot.press("q")  # q closes the detail, it does not quit
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, PipelineDetail)


async def test_detail_without_history_shows_the_recent_builds_and_says_so() -> None:
    app = make_app(red_estate(), ascii=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.query_one(MainBranches).focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PipelineDetail)
        assert "xxx  3 builds as reported by the CI, newest right" in screen.plain
        assert "none recorded for this pipeline yet" in screen.plain
        assert screen.plain.isascii()
        await pilot.press("escape")


async def test_enter_on_a_group_row_still_opens_the_group() -> None:
    app = make_app(big_estate(12))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        table = app.query_one(MainBranches)
        table.focus()
        index = next(i for i, r in enumerate(rows(table)) if "Core team" in r)
        table.move_cursor(row=index)
        before = len(rows(table))
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, PipelineDetail)
        assert len(rows(table)) == before + 3
        await pilot.press("down", "enter")  # a member: its detail
        await pilot.pause()
        assert isinstance(app.screen, PipelineDetail)


def test_detail_lines_in_ascii_have_ascii_strips_and_sparklines() -> None:
    snap = red_estate_with_history()
    text = "\n".join(plain(detail_lines(snap, snap.pipelines[0], NOW, ascii=True, tz=UTC)))
    assert text.isascii()
    assert "++++++++x++++xxx" in text
    assert "9e8d7c6..c0ffee0" in text


# --- fmt -------------------------------------------------------------------------------------


def test_sparkline_scales_gaps_and_flat_series() -> None:
    assert fmt.sparkline([0.0, 0.5, 1.0], low=0.0, high=1.0) == "▁▅█"
    assert fmt.sparkline([None, 2.0, 2.0]) == "·▄▄"  # a flat series is not a zero
    assert fmt.sparkline([None, None]) == "··"
    assert fmt.sparkline([0.0, 1.0], ascii=True, low=0.0, high=1.0) == "_@"
    assert fmt.sparkline([5.0], low=0.0, high=1.0) == "█"  # clamped


def test_status_strip_share_range_and_test_labels() -> None:
    assert fmt.status_strip([Status.PASSED, Status.FAILED], ascii=True) == "+x"
    assert fmt.share(2 / 11) == "18%" and fmt.share(None) == "-" and fmt.share(1.7) == "100%"
    assert fmt.commit_range("a1b2c3d4e5f6", "c0ffee0123") == "a1b2c3d..c0ffee0"
    assert fmt.commit_range(None, "c0ffee0") == ""
    assert fmt.flaky_test_label("com.acme.LoginTest", "testRedirect", 40) == (
        "LoginTest.testRedirect"
    )
    assert fmt.flaky_test_label("com.acme.VeryLongLoginTest", "testRedirect", 20) == (
        "…inTest.testRedirect"
    )
    assert fmt.flaky_test_label("X", "a" * 30, 10, ascii=True) == "aaaaaaa..."


# --- snapshots -------------------------------------------------------------------------------


def test_detail_snapshot(snap_compare: Callable[..., bool]) -> None:
    """120x35: the detail of the red monolith, over the radiator."""

    async def open_detail(pilot: object) -> None:
        await pilot.pause()  # type: ignore[attr-defined]
        app.query_one(MainBranches).focus()
        await pilot.press("enter")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]

    app = radiator(red_estate_with_history())
    assert snap_compare(app, terminal_size=(120, 35), run_before=open_detail)


def test_history_radiator_snapshot(snap_compare: Callable[..., bool]) -> None:
    """200x60: the default screen with history: ranked flaky tests and the commit range."""
    assert snap_compare(radiator(red_estate_with_history()), terminal_size=(200, 60))
