"""SVG snapshots: the radiator at 80x24 and 200x60, the wall (200x60, 120x35; 3, 40 and 200
pipelines; red and all green), the pane (60x15, 40x10) and ssh (80x24: NO_COLOR, --ascii).

The clock is frozen and clock times are shown in UTC, so the SVGs are byte-stable.
Update with ``pytest tests/test_app_snapshots.py --snapshot-update`` and look at the result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import pytest

from app_helpers import FakeFeed, IdleFeed, radiator
from buildradiator.clock import FakeClock
from buildradiator.model import Snapshot
from buildradiator.ui.app import BuildRadiatorApp
from buildradiator.ui.options import RadiatorOptions
from snapshot_fixtures import big_estate, big_green_estate, green_estate, red_estate


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
@pytest.mark.parametrize("estate", [red_estate, green_estate], ids=["red", "green"])
def test_radiator_snapshot(
    snap_compare: Callable[..., bool], estate: Callable[[], Snapshot], size: tuple[int, int]
) -> None:
    assert snap_compare(radiator(estate()), terminal_size=size)


def wall(snapshot: Snapshot) -> BuildRadiatorApp:
    options = RadiatorOptions(mode="wall")
    app = BuildRadiatorApp(IdleFeed(), clock=FakeClock(), initial=snapshot, options=options)
    app.display_tz = UTC
    return app


@pytest.mark.parametrize("count", [3, 40, 200])
@pytest.mark.parametrize("size", [(200, 60), (120, 35)], ids=["200x60", "120x35"])
def test_wall_red_snapshot(
    snap_compare: Callable[..., bool], size: tuple[int, int], count: int
) -> None:
    assert snap_compare(wall(big_estate(count)), terminal_size=size)


@pytest.mark.parametrize(
    ("size", "count"),
    [((200, 60), 3), ((200, 60), 200), ((120, 35), 40)],
    ids=["200x60-3", "200x60-200", "120x35-40"],
)
def test_wall_green_snapshot(
    snap_compare: Callable[..., bool], size: tuple[int, int], count: int
) -> None:
    assert snap_compare(wall(big_green_estate(count)), terminal_size=size)


@pytest.mark.parametrize("size", [(60, 15), (40, 10)], ids=["60x15", "40x10"])
def test_pane_snapshot(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    assert snap_compare(radiator(red_estate()), terminal_size=size)


def test_ssh_no_color_snapshot(
    snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(radiator(red_estate()), terminal_size=(80, 24))


def test_ssh_ascii_snapshot(snap_compare: Callable[..., bool]) -> None:
    options = RadiatorOptions(ascii=True)
    app = BuildRadiatorApp(IdleFeed(), clock=FakeClock(), initial=red_estate(), options=options)
    app.display_tz = UTC
    assert snap_compare(app, terminal_size=(80, 24))


def test_escalated_and_claimed_snapshot(snap_compare: Callable[..., bool]) -> None:
    """80x24: main red for 20 minutes (level 1 of 3: a taller banner), claimed by dana."""
    from alert_helpers import green, red
    from buildradiator.ui.claims import ClaimStore
    from buildradiator.ui.widgets import MainBranches

    clock = FakeClock()
    app = BuildRadiatorApp(FakeFeed(green(), red()), clock=clock, claims=ClaimStore(None, clock))
    app.display_tz = UTC

    async def escalate(pilot: object) -> None:
        await pilot.pause()  # type: ignore[attr-defined]
        app._claims.claim("gh", "acme/monolith", "dana", "reverting")
        clock.advance(20 * 60)
        app._tick()  # the escalation: level 1
        app._show_all()  # the claim and the ages, as the 5-second redraw would
        app.query_one(MainBranches).move_cursor(row=0)
        await pilot.pause()  # type: ignore[attr-defined]

    assert snap_compare(app, terminal_size=(80, 24), run_before=escalate)
