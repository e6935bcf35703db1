"""Panel titles and subtitles are plain text: Textual parses a ``str`` given to ``border_title``
or ``border_subtitle`` as markup, and what goes there may be a pipeline name from CI (the detail
overlay's title) or what someone typed into the filter (the Main branches subtitle).

A name such as ``CI [linux]`` lost its ``[linux]`` (a style tag to the markup parser), and a
bracket the parser cannot close (``[/]``) raised ``MarkupError`` and took the radiator down."""

from __future__ import annotations

from app_helpers import make_app
from buildradiator.model import Snapshot
from buildradiator.ui.widgets import MainBranches
from buildradiator.ui.widgets.detail import PipelineDetail
from screen import screen_text
from snapshot_fixtures import red_estate

KEYS = {"[": "left_square_bracket", "]": "right_square_bracket", "/": "slash", " ": "space"}


def renamed(name: str) -> Snapshot:
    """The red estate with acme/monolith (the red pipeline, first row) named ``name`` by CI."""
    snap = red_estate()
    pipelines = tuple(
        p.model_copy(update={"name": name}) if p.name == "acme/monolith" else p
        for p in snap.pipelines
    )
    return snap.model_copy(update={"pipelines": pipelines})


async def detail_screen(name: str) -> str:
    """The whole screen at 120x35 once Enter opened the first pipeline's detail, that
    pipeline named ``name``."""
    app = make_app(renamed(name))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.query_one(MainBranches).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, PipelineDetail)
        return screen_text(app)


async def test_the_detail_title_shows_a_pipeline_name_from_ci_as_it_is() -> None:
    name = "CI [linux] [b]x[/b]"
    title = [line for line in (await detail_screen(name)).splitlines() if "╭─ CI" in line]
    assert title and f"╭─ {name} ─" in title[0], title


async def test_a_pipeline_name_with_a_stray_closing_tag_opens_its_detail() -> None:
    name = "release[/] [/x]"
    assert f"╭─ {name} ─" in await detail_screen(name)


async def test_a_filter_with_brackets_is_shown_as_typed() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *(KEYS.get(c, c) for c in "[/] [b]"))
        await pilot.pause()
        assert app.is_running
        assert "filter: [/] [b] · nothing matches" in screen_text(app)
