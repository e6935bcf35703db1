"""The ``[serve]`` table and ``[[targets]]``: one radiator for many screens, and the goals it
keeps in front of the team."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from buildradiator.config.base import Strict, check_shape
from buildradiator.urls import NotAnOrigin, canonical_origin

Measure = Literal[
    "main_green_share",
    "flaky_tests",
    "retry_share",
    "duration_p50",
    "duration_p90",
    "mttr",
    "deploy_drift",
    # The delivery measures (history's, ``buildradiator report``): estate-wide, or for one
    # ``service`` (``shop`` or ``shop/staging``) or, for commits per build, one ``pipeline``.
    "deploy_frequency",
    "lead_time",
    "lead_time_p90",
    "change_failure_rate",
    "time_to_restore",
    "restore_main",
    "restore_service",
    "queue_wait",
    "queue_wait_p90",
    "builds_queued",
    "commits_per_build",
    "oldest_undeployed",
    "gate_hold",
    "retry_time",
]
MEASURES: tuple[str, ...] = Measure.__args__  # type: ignore[attr-defined]

# ">= 95%", "<= 10m", "< 5", "<=1.5h", ">= 1/day": an operator, a number, an optional unit.
_GOAL = re.compile(
    r"^\s*(>=|<=|>|<)\s*(\d+(?:\.\d+)?)\s*(%|s|m|h|d|commits?|builds?|/day|/week)?\s*$"
)
_SHARES = ("main_green_share", "retry_share", "change_failure_rate")
_DURATIONS = (
    "duration_p50",
    "duration_p90",
    "mttr",
    "lead_time",
    "lead_time_p90",
    "time_to_restore",
    "restore_main",
    "restore_service",
    "queue_wait",
    "queue_wait_p90",
    "oldest_undeployed",
    "gate_hold",
    "retry_time",
)
_COUNTS = ("flaky_tests", "deploy_drift", "builds_queued", "commits_per_build")
_RATES = ("deploy_frequency",)
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PER_DAY = {"": 1.0, "/day": 1.0, "/week": 1 / 7}


class ServeConfig(Strict):
    """The optional ``[serve]`` table of ``buildradiator serve``."""

    host: str = "127.0.0.1"
    """Where to listen. Anything but loopback is an explicit choice: the radiator then shows
    build and deploy data to the whole network (give it a token)."""
    port: int = Field(default=8686, ge=1, le=65535)
    token_env: str | None = None
    """An environment variable holding a bearer token every client must send."""
    browser: bool = True
    """Serve the radiator to browsers at ``/`` (textual-serve)."""
    max_clients: int = Field(default=200, ge=1, le=10_000)
    """Connections served at once; more wait or are refused, never slowing the engine."""
    max_clients_per_address: int = Field(default=32, ge=1, le=10_000)
    """Connections one client address may hold at once, counted before ``max_clients``: a flood
    from one address (slowloris) cannot take the slots of the others. Behind a reverse proxy
    every client has the proxy's address: raise it, and limit per client at the proxy."""
    max_sessions_per_address: int = Field(default=4, ge=1, le=1_000)
    """Browser radiators (``/`` in a browser: a process each) one client address may run at
    once; 32 run at most in all. Behind a reverse proxy, raise it as ``max_clients_per_address``."""
    allowed_origins: list[str] = Field(default_factory=list, max_length=100)
    """Web pages, besides the server's own address, allowed to open the browser view, as
    ``scheme://host[:port]``: the address a reverse proxy serves it at, e.g.
    ``["https://radiator.example.com"]``. The view's WebSocket is refused (403) to any other
    page, so a page the user happens to visit cannot read the radiator or type into it. On a
    loopback address, their hosts are also the only names besides loopback ones that requests
    may be addressed to (``Host``; others get 421), which keeps DNS rebinding out."""

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        canonical = []
        for origin in value:
            if origin.strip() == "*":
                raise ValueError(
                    '"*" would let every web page drive the radiator: name each origin, '
                    'e.g. "https://radiator.example.com"'
                )
            try:
                canonical.append(canonical_origin(origin))
            except NotAnOrigin as exc:
                raise ValueError(f"{origin!r}: {exc}") from None
        return canonical

    @property
    def loopback(self) -> bool:
        if self.host in ("localhost",):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class TargetConfig(Strict):
    """A ``[[targets]]`` table: a measure, a scope, a goal and a window."""

    measure: Measure
    name: str | None = Field(default=None, max_length=80)
    """What the screen calls it; default: the measure and the scope in words."""
    pipeline: str | None = None
    """A pipeline key or name (glob patterns allowed); default: every pipeline."""
    group: str | None = None
    """A ``[[groups]]`` name instead of a pipeline."""
    service: str | None = None
    """For ``deploy_drift``: the service (default: every deployment); for a delivery measure:
    ``shop`` (its production) or ``shop/staging`` (default: the estate)."""
    goal: str
    """``">= 95%"``, ``"<= 10m"``, ``"<= 5"``: an operator, a number and an optional unit
    (``%``, ``s``/``m``/``h``/``d``, ``commits``, ``/day`` or ``/week`` for deploys)."""
    window_days: int = Field(default=7, ge=1, le=30)

    @field_validator("goal")
    @classmethod
    def _goal_shape(cls, value: str) -> str:
        return check_shape(value, _GOAL, 'must look like ">= 95%", "<= 10m" or "< 5"')

    @model_validator(mode="after")
    def _unit_fits_the_measure(self) -> TargetConfig:
        match = _GOAL.match(self.goal)
        unit = (match.group(3) or "") if match else ""
        if self.measure in _SHARES and unit != "%":
            raise ValueError(f'{self.measure} is a share: give a percentage, e.g. ">= 95%"')
        if self.measure in _DURATIONS and unit not in ("", "s", "m", "h", "d"):
            raise ValueError(f'{self.measure} is a duration: give s, m, h or d, e.g. "<= 10m"')
        if self.measure in _COUNTS and unit not in ("", "commit", "commits", "build", "builds"):
            raise ValueError(f'{self.measure} is a count: give a number, e.g. "<= 5"')
        if self.measure in _RATES and unit not in _PER_DAY:
            raise ValueError(f'{self.measure} is a rate: give /day or /week, e.g. ">= 1/day"')
        if self.measure not in _RATES and unit.startswith("/"):
            raise ValueError(f"{self.measure} is not a rate: /day and /week are for deploys")
        return self

    @property
    def op(self) -> str:
        match = _GOAL.match(self.goal)
        assert match is not None
        return match.group(1)

    @property
    def threshold(self) -> float:
        """The goal in the measure's own unit: a share 0..1, seconds, or a count."""
        match = _GOAL.match(self.goal)
        assert match is not None
        number, unit = float(match.group(2)), match.group(3) or ""
        if unit == "%":
            return number / 100.0
        if self.measure in _RATES:
            return number * _PER_DAY[unit]
        return number * _UNIT_SECONDS.get(unit, 1.0)

    def met_by(self, value: float) -> bool:
        t = self.threshold
        return {">=": value >= t, "<=": value <= t, ">": value > t, "<": value < t}[self.op]
