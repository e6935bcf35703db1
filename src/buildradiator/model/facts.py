"""What history knows that no CI API says: per pipeline (streaks, durations, retries, daily
trends), the flaky-test ranking, and the retry painkiller per pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import AwareDatetime

from buildradiator.model.builds import Status
from buildradiator.model.values import Frozen, Key, Link, Moment, Seconds, Untrusted
from buildradiator.text import clean_key, clean_text


class FlakySummary(Frozen):
    """Per pipeline: recent green builds that needed a retry (GitHub ``run_attempt > 1``)."""

    source: str
    pipeline: Key
    name: Untrusted
    retried_to_green: int
    green: int


class PipelineFacts(Frozen):
    """What history knows of one pipeline that no CI API says (see ``facts.py``)."""

    source: str
    key: Key
    strip: tuple[Status, ...] = ()
    """Statuses of the recent recorded builds, newest first."""
    p50_seconds: Seconds = None
    p90_seconds: Seconds = None
    retried_7d: int = 0
    green_7d: int = 0
    retry_share_7d: float | None = None
    """Share of the green builds of the last 7 days that needed a retry."""
    retry_minutes_7d: float = 0.0
    """Build minutes spent on retries in the last 7 days."""
    retried_30d: int = 0
    green_30d: int = 0
    retry_share_30d: float | None = None
    retry_minutes_30d: float = 0.0
    green_share: tuple[float | None, ...] = ()
    """Daily, oldest first (30 days): share of the time main was green."""
    mttr_seconds: tuple[float | None, ...] = ()
    p50_trend: tuple[float | None, ...] = ()
    p90_trend: tuple[float | None, ...] = ()
    flakes: tuple[int, ...] = ()
    red_since: Moment = None
    red_streak: int = 0
    broke_commit: Untrusted | None = None
    broke_author: Untrusted | None = None
    broke_message: Untrusted | None = None
    broke_url: Link = None
    last_green_commit: Untrusted | None = None
    newest_red_commit: Untrusted | None = None


class FlakyTestInfo(Frozen):
    """One flaky test (failed and passed on the same commit), ranked by impact."""

    classname: Untrusted
    name: Untrusted
    times_flaked: int
    retried_builds: int
    """Builds that failed because of it and had to be re-run."""
    lost_seconds: float
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    pipelines: tuple[str, ...] = ()
    """``source:pipeline`` where it flaked."""


@dataclass(frozen=True)
class Facts:
    """What history knows at one moment: per pipeline (keyed ``(source, key)``) and the flaky
    ranking. The engine hands it from its recorder to the rules; empty without a history."""

    per_pipeline: dict[tuple[str, str], PipelineFacts] = field(default_factory=dict)
    flaky_tests: tuple[FlakyTestInfo, ...] = ()
    delivery: tuple[DeliveryFact, ...] = ()
    delivery_at: datetime | None = None
    """When ``delivery`` was computed (``None``: not yet)."""


UNIT_OF = {
    "deploy_frequency": "per_day",
    "lead_time": "seconds",
    "change_failure_rate": "share",
    "time_to_restore": "seconds",
    "restore_main": "seconds",
    "restore_service": "seconds",
    "queue_wait": "seconds",
    "builds_queued": "builds",
    "busiest_hours": "builds_per_hour",
    "commits_per_build": "commits",
    "oldest_undeployed": "seconds",
    "gate_hold": "seconds_per_week",
    "retry_time": "seconds",
    "stage_time": "seconds",
}
"""Each delivery fact's key and its unit: the keys there are, and how ``delivery_words.show``
spells each value."""
BAND_RANK = {"elite": 0, "high": 1, "medium": 2, "low": 3}
"""The DORA bands, best first."""
TRENDS = ("better", "worse", "same")


@dataclass(frozen=True, slots=True)
class DeliveryFact:
    """One delivery or congestion measure over one window for one scope: what the rules compute
    (``rules.dora``, as ``Fact``), ``buildradiator report`` prints, and the snapshot carries to
    the Delivery screen, ``/metrics`` and ``[[targets]]``. Computed from history in a worker
    thread, never while a screen waits. ``scope`` and ``note`` hold names from CI: scrubbed
    when it is made."""

    key: str
    """``deploy_frequency``, ``lead_time``, ``change_failure_rate``, ``time_to_restore``,
    ``queue_wait``... (``rules.delivery_words.ORDER``)."""
    scope: str
    """``estate``, ``service/environment`` or a pipeline."""
    window_days: int
    """7 or 30; 0 for what is measured now (the oldest commit not live)."""
    value: float | None
    unit: str
    """``per_day``, ``seconds``, ``share``, ``commits``, ``builds``, ``seconds_per_week``..."""
    p90: float | None = None
    previous: float | None = None
    """The same over the window before."""
    trend: str | None = None
    """``better``, ``worse`` or ``same`` against the window before; ``None`` when unknown."""
    band: str | None = None
    """``elite``, ``high``, ``medium``, ``low`` (DORA) for the four keys in production."""
    samples: int = 0
    note: str = ""
    """What the value means or, when unknown, what to add to know it."""

    def __post_init__(self) -> None:
        # Names from CI, scrubbed on the way in like every ``Untrusted`` field.
        object.__setattr__(self, "scope", clean_key(self.scope))
        object.__setattr__(self, "note", clean_text(self.note))


class TargetStatus(Frozen):
    """One ``[[targets]]`` goal now: its value, whether it is met, and how it moved."""

    name: str
    """From the config (trusted): ``main green >= 95% (7 d)``."""
    measure: str
    scope: str
    """What it covers: a pipeline, a group, a service, or ``all``."""
    goal: str
    """As the config wrote it: ``>= 95%``."""
    window_days: int
    value: float | None = None
    """In the measure's unit: a share 0..1, seconds, or a count; ``None`` while unknown."""
    previous: float | None = None
    """The same measure over the window before, for the trend."""
    met: bool | None = None
    """``None`` while the value is unknown."""
    trend: tuple[float | None, ...] = ()
    """Daily values, oldest first, where the measure has them (sparkline)."""
