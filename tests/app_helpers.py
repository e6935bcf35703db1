"""The app under test, shared by the app's test files: a feed publishing prepared snapshots, the
app built on it (``make_app``, or ``radiator`` starting from an initial snapshot), what a table
shows (``rows``), and Targets rows for a snapshot (``with_targets``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC

from buildradiator.clock import FakeClock
from buildradiator.model import Snapshot, TargetStatus
from buildradiator.ui.app import BuildRadiatorApp
from buildradiator.ui.options import Mode, RadiatorOptions
from buildradiator.ui.widgets import RowsTable


class FakeFeed:
    """Publishes prepared snapshots, then more on demand; waits to be cancelled, like the
    engine. Counts the polls asked for."""

    def __init__(self, *snapshots: Snapshot) -> None:
        self.snapshots = snapshots
        self.polls = 0
        self._publish: Callable[[Snapshot], None] | None = None

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        self._publish = publish
        for snapshot in self.snapshots:
            publish(snapshot)
        await asyncio.Event().wait()

    def publish(self, snapshot: Snapshot) -> None:
        assert self._publish is not None, "feed not started"
        self._publish(snapshot)

    def poll_now(self) -> None:
        self.polls += 1


def make_app(
    *snapshots: Snapshot,
    clock: FakeClock | None = None,
    mode: Mode = "auto",
    ascii: bool = False,
    theme: str = "default",
    page_seconds: float = 15.0,
    **kwargs: object,
) -> BuildRadiatorApp:
    """The app on a fake feed; the display keywords make its ``RadiatorOptions``."""
    options = RadiatorOptions(mode=mode, ascii=ascii, theme=theme, page_seconds=page_seconds)
    app = BuildRadiatorApp(
        FakeFeed(*snapshots),  # type: ignore[arg-type]
        clock=clock or FakeClock(),
        options=options,
        **kwargs,  # type: ignore[arg-type]
    )
    app.display_tz = UTC
    return app


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


def rows(table: RowsTable) -> list[str]:
    """What the table shows, one string per row (cells joined by two spaces)."""
    return ["  ".join(c.plain for c in table.get_row_at(i)) for i in range(table.row_count)]


# -- targets -----------------------------------------------------------------------------------


def status(
    name: str,
    measure: str,
    goal: str,
    value: float | None,
    previous: float | None = None,
    met: bool | None = None,
    trend: tuple[float | None, ...] = (),
) -> TargetStatus:
    return TargetStatus(
        name=name,
        measure=measure,
        scope="all pipelines",
        goal=goal,
        window_days=7,
        value=value,
        previous=previous,
        met=met,
        trend=trend,
    )


GREEN = status(
    "main green >= 95% for acme/monolith over 7 d",
    "main_green_share",
    ">= 95%",
    0.972,
    0.95,
    True,
    (0.9, None, 1.0),
)
P90 = status("build p90 <= 10m for all pipelines over 7 d", "duration_p90", "<= 10m", 750.0, 700.0)
P90 = P90.model_copy(update={"met": False})
DRIFT = status("deploy drift <= 5 commits for all services", "deploy_drift", "<= 5", None)
TARGETS = (GREEN, P90, DRIFT)


def with_targets(snapshot: Snapshot, targets: tuple[TargetStatus, ...] = TARGETS) -> Snapshot:
    return snapshot.model_copy(update={"targets": targets})
