"""The app wired for alerts, shared by the alert tests: a ``make_app`` that records bells,
toasts and what is written to the terminal (``Recorder``), and an estate that is ``green`` or has
just turned ``red``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from app_helpers import FakeFeed
from buildradiator.clock import FakeClock
from buildradiator.config.loading import AlertsConfig
from buildradiator.model import BrokenWindow, Snapshot, SourceState, Status
from buildradiator.ui.alerts import Escalation
from buildradiator.ui.app import BuildRadiatorApp
from buildradiator.ui.options import Mode, RadiatorOptions
from snapshot_fixtures import NOW, ago, build, pipeline

ESCALATE = 60.0
FLASH = 5.0
SOURCES = (SourceState(name="gh", type="github", last_success=ago(4), last_attempt=ago(4)),)


def green(number: int = 9100) -> Snapshot:
    """All green (9100: before the breakage; a later number: fixed)."""
    monolith = pipeline(
        "acme/monolith",
        (build("acme/monolith", number, Status.PASSED, finished=600, author="Dana"),),
    )
    billing = pipeline("acme/billing", (build("acme/billing", 311, Status.PASSED, finished=180),))
    return Snapshot(taken_at=NOW, pipelines=(monolith, billing), sources=SOURCES)


def red() -> Snapshot:
    """acme/monolith has just turned red, broken by Mallory."""
    failed = build(
        "acme/monolith",
        9101,
        Status.FAILED,
        finished=0,
        author="Mallory",
        message="Drop the cache",
        commit="c0ffee0123456789",
    )
    monolith = pipeline("acme/monolith", (failed,))
    billing = pipeline("acme/billing", (build("acme/billing", 311, Status.PASSED, finished=180),))
    window = BrokenWindow(
        kind="pipeline",
        source="gh",
        key="acme/monolith",
        name="acme/monolith",
        since=NOW,
        commit="c0ffee0123456789",
        author="Mallory",
        message="Drop the cache",
        url="https://ci.example/acme/monolith/9101",
    )
    return Snapshot(taken_at=NOW, pipelines=(monolith, billing), sources=SOURCES, broken=(window,))


@dataclass
class Recorder:
    """What the app did: bells rung, toasts shown, bytes written to the terminal."""

    bells: int = 0
    toasts: list[tuple[str, str]] = field(default_factory=list)
    written: bytearray = field(default_factory=bytearray)

    def write(self, data: bytes, /) -> int:
        self.written += data
        return len(data)

    def toasted(self, *words: str) -> list[str]:
        return [text for text, _ in self.toasts if all(w in text for w in words)]


def make_app(
    *snapshots: Snapshot,
    clock: FakeClock,
    alerts: AlertsConfig | None = None,
    mode: Mode = "auto",
    ascii: bool = False,
    **kwargs: Any,
) -> tuple[BuildRadiatorApp, FakeFeed, Recorder]:
    feed = FakeFeed(*snapshots)
    rec = Recorder()
    config = alerts or AlertsConfig(escalate_after=ESCALATE, flash_seconds=FLASH)
    app = BuildRadiatorApp(
        feed,
        clock=clock,
        escalation=Escalation(config, tz=UTC),
        notify_writer=rec,
        options=RadiatorOptions(mode=mode, ascii=ascii),
        **kwargs,
    )
    app.display_tz = UTC
    original_say = app._say

    def bell() -> None:
        rec.bells += 1

    def say(text: str, severity: str, *args: Any, **kw: Any) -> None:
        rec.toasts.append((text, severity))
        original_say(text, severity, *args, **kw)

    app.bell = bell  # type: ignore[method-assign]
    app._say = say  # type: ignore[method-assign]
    return app, feed, rec
