"""The optional tables of a config file besides ``[[sources]]``: ``[radiator]``, ``[alerts]``,
``[[hooks]]``, ``[claims]``, ``[[groups]]``, ``[release]``; every one forbids unknown keys."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from buildradiator.config.base import Strict


class RadiatorConfig(Strict):
    """The optional ``[radiator]`` table."""

    title: str = "buildradiator"
    """Shown in the header and on the wall."""
    theme: str = "default"
    """A theme from ``themes/`` or the user themes dir."""
    mode: Literal["auto", "default", "wall", "pane"] = "auto"
    """``auto`` picks the pane layout for small terminals and the default one otherwise."""
    interval: float = Field(default=30.0, ge=1.0, le=86400.0)
    """Default seconds between polls of a source."""
    ascii: bool = False
    """Use ASCII glyphs only (also chosen automatically on a non-UTF-8 locale)."""
    privacy: bool = False
    """Hide author names everywhere (screen, exports), for teams that prefer it."""
    history_days: int = Field(default=90, ge=1, le=3650)
    """How long finished builds are kept in the history store."""
    page_seconds: float = Field(default=15.0, ge=3.0, le=600.0)
    """Wall mode: seconds per page when even collapsed tiles do not fit."""


CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class AlertsConfig(Strict):
    """The optional ``[alerts]`` table: how loud a broken window gets, and when it keeps quiet."""

    bell: bool = True
    """Ring the terminal bell when something breaks (and when it recovers)."""
    desktop: bool = True
    """Send a desktop notification through the terminal (OSC 9 and OSC 777; works over ssh)."""
    flash_seconds: float = Field(default=5.0, ge=0.0, le=60.0)
    """How long the banner flashes when something breaks."""
    escalate_after: float = Field(default=900.0, ge=0.0)
    """Seconds still broken before the banner grows and the bell repeats."""
    repeat_every: float = Field(default=600.0, ge=10.0)
    """Seconds between repeated bells once escalated."""
    quiet_hours: str | None = None
    """``"19:00-08:00"``: no bell or notification then (the screen still shows everything)."""
    quiet_weekends: bool = False
    """Keep quiet all Saturday and Sunday too."""

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = [p.strip() for p in value.split("-")]
        if len(parts) != 2 or not all(CLOCK.match(p) for p in parts):
            raise ValueError('must look like "19:00-08:00" (24-hour clock, start-end)')
        return f"{parts[0]}-{parts[1]}"


HookEvent = Literal["red", "green", "down", "up", "stale", "fresh"]


DEFAULT_HOOK_EVENTS: tuple[HookEvent, ...] = ("red", "green", "down", "up")


class HookConfig(Strict):
    """A ``[[hooks]]`` table: a command run on each change of state (never through a shell)."""

    command: list[str] = Field(min_length=1)
    """The argument list, e.g. ``["notify-send", "buildradiator"]``; facts arrive in
    ``BUILDRADIATOR_*`` environment variables."""
    on: list[HookEvent] = Field(default_factory=lambda: list(DEFAULT_HOOK_EVENTS))
    """Which changes run it: a pipeline turning red/green, a service down/up, a source
    stale/fresh."""
    timeout: float = Field(default=10.0, gt=0.0, le=300.0)
    """Seconds before a hanging hook is killed (and reported)."""


class ClaimsConfig(Strict):
    """The optional ``[claims]`` table."""

    expire_hours: float = Field(default=24.0, gt=0.0, le=24.0 * 30)
    """A claim ("looking into it") expires after this long, or when the pipeline turns green."""


class GroupConfig(Strict):
    """A ``[[groups]]`` table: pipelines shown together as one row that opens into its members."""

    name: str = Field(min_length=1, max_length=80)
    """What the group row says, e.g. a team or a product."""
    pipelines: list[str] = Field(min_length=1)
    """Glob patterns over pipeline names (``acme/billing*``), optionally prefixed by a source
    name and a colon (``jenkins:*payments*``). A pipeline joins the first group it matches."""


class ReleaseConfig(Strict):
    """The optional ``[release]`` table: what holds a release, and the post-deploy watch."""

    gate: bool = True
    """Show the release gate (GO / HOLD) at all."""
    pipelines: list[str] = Field(default_factory=list)
    """Pipelines whose red main holds the release (keys, names or glob patterns); default all."""
    verify_minutes: float = Field(default=15.0, gt=0.0, le=1440.0)
    """After a deploy, watch its service this long: going down, or a new critical alert,
    marks the deploy suspect."""
    hold_on_stale: bool = True
    """Hold while a source the gate relies on has no fresh data (it cannot vouch for GO)."""
