"""SVG snapshots of the radiator at 80x24 (ssh) and 200x60 (wall size), red and all green.

The clock is frozen and clock times are shown in UTC, so the SVGs are byte-stable.
Update with ``pytest tests/test_app_snapshots.py --snapshot-update`` and look at the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC

import pytest

from buildradiator.app import BuildRadiatorApp
from buildradiator.clock import FakeClock
from buildradiator.model import Snapshot
from snapshot_fixtures import green_estate, red_estate


class IdleFeed:
    """The app starts from ``initial``; the feed publishes nothing more."""

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        await asyncio.Event().wait()

    def poll_now(self) -> None:
        pass


def radiator(snapshot: Snapshot) -> BuildRadiatorApp:
    app = BuildRadiatorApp(IdleFeed(), clock=FakeClock(), initial=snapshot)
    app.display_tz = UTC
    return app


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
@pytest.mark.parametrize("estate", [red_estate, green_estate], ids=["red", "green"])
def test_radiator_snapshot(
    snap_compare: Callable[..., bool], estate: Callable[[], Snapshot], size: tuple[int, int]
) -> None:
    assert snap_compare(radiator(estate()), terminal_size=size)
