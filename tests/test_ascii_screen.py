"""``--ascii``: every cell on screen is ASCII, whatever CI sends (names with accents, joiners,
emoji, wide characters), folded one cell for one cell so the layout does not move."""

from __future__ import annotations

from datetime import UTC

import pytest

from app_helpers import FakeFeed
from buildradiator.clock import FakeClock
from buildradiator.model import Snapshot
from buildradiator.text import ascii_cells
from buildradiator.ui.app import BuildRadiatorApp
from buildradiator.ui.options import RadiatorOptions
from screen import screen_text
from snapshot_fixtures import build, pipeline, red_estate

NAMES = ("Tomás Ortega", "acme/mobile-api · build-test", "日本語テスト", "deploy 🎉 ✔")


def _estate() -> Snapshot:
    base = red_estate(message="Fix the naïve café — “quoted” …")
    extra = tuple(
        pipeline(name, (build(name, 1, _status, finished=60, author=NAMES[0]),))
        for name, _status in zip(
            NAMES[1:], (s.status for s in base.pipelines[0].recent), strict=False
        )
    )
    return base.model_copy(update={"pipelines": (*base.pipelines, *extra)})


def _app(ascii: bool) -> BuildRadiatorApp:
    options = RadiatorOptions(ascii=ascii)
    app = BuildRadiatorApp(FakeFeed(_estate()), clock=FakeClock(), options=options)  # type: ignore[arg-type]
    app.display_tz = UTC
    return app


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
async def test_every_cell_is_ascii_with_ascii(size: tuple[int, int]) -> None:
    app = _app(ascii=True)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Toma" in text  # the author, folded, not dropped
        assert text.isascii(), [line for line in text.splitlines() if not line.isascii()]
        await pilot.press("question_mark")  # the help over the screen, and its scrollbar
        await pilot.pause()
        text = screen_text(app)
        assert text.isascii(), [line for line in text.splitlines() if not line.isascii()]


def test_a_cell_for_a_cell() -> None:
    assert ascii_cells("Tomás · ✔ 日本 e\u0301") == "Tomas . + ???? e"
