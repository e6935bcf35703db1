"""The whole state at one moment (``Snapshot``) and its parts that are no source's data: what one
poll produced, each source's freshness and quota, the broken windows, the release gate."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime

from buildradiator.model.builds import Build, Pipeline, ReportedFlake, TestRun
from buildradiator.model.facts import (
    DeliveryFact,
    FlakySummary,
    FlakyTestInfo,
    PipelineFacts,
    TargetStatus,
)
from buildradiator.model.production import Blocker, Deployment, ServiceCheck
from buildradiator.model.values import Frozen, Key, Link, Moment, Untrusted


class RateInfo(Frozen):
    """What the API said about our quota on its last answer."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: AwareDatetime | None = None


class Freshness(StrEnum):
    """Whether a source's data on screen is current: one definition for every view and export.

    Anything but ``fresh`` is *stale* (``SourceState.stale``): it is shown with its age and it
    never counts as green."""

    FRESH = "fresh"
    """The last poll succeeded within the source's limit."""
    WAITING = "waiting"
    """No data yet: the first poll has not answered (or never succeeded)."""
    CACHED = "cached"
    """The last run's data, read from the cache at start-up; no poll of this run confirmed it."""
    STALE = "stale"
    """The last poll failed, or the last good data is older than the source's limit."""


class SourceState(Frozen):
    """How one source is doing, as the status bar shows it."""

    name: str
    type: str
    last_success: AwareDatetime | None = None
    last_attempt: AwareDatetime | None = None
    error: str | None = None
    error_kind: str | None = None
    stale: bool = False
    """Not fresh (``freshness`` says why): shown greyed with its age, never counts green."""
    freshness: Freshness = Freshness.FRESH
    next_poll: AwareDatetime | None = None
    rate: RateInfo | None = None
    webhook_at: AwareDatetime | None = None
    """When ``serve`` last took a webhook event for this source (it then polls it at once);
    ``None``: no event yet, or no webhook."""
    webhook: bool = False
    """The source's config has a webhook (``serve`` takes its CI's events)."""
    webhook_refused: int = 0
    """Deliveries ``serve`` refused for this source since it started (a bad or missing
    signature, a replay, too large, too many): counted, never silent."""


class SourceResult(Frozen):
    """What one poll of one source produced."""

    pipelines: tuple[Pipeline, ...] = ()
    services: tuple[ServiceCheck, ...] = ()
    test_runs: tuple[TestRun, ...] = ()
    """Test results of finished builds; a source sends each run once (or again: it is
    recorded once)."""
    deployments: tuple[Deployment, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    flaky_reports: tuple[ReportedFlake, ...] = ()
    """Tests the provider itself ranks as flaky (its whole current list, each poll)."""
    parts: tuple[SourceState, ...] = ()
    """The sources another radiator reads (a ``radiator`` source's): each is a source here
    too, named ``<this source>/<that one>``, its items carry that name, and it is as fresh as
    that radiator says (and never fresher than this source)."""
    delivery: tuple[DeliveryFact, ...] = ()
    """Delivery measures another radiator computed over its history (the ``radiator``
    source): the snapshot shows them rather than this radiator's own, which has watched
    nothing but what that one sends."""
    delivery_at: Moment = None
    """When the other radiator computed ``delivery``."""
    summary: str = ""
    """One line for ``check``: what was found, e.g. ``3 pipelines, 1 running``."""

    def item_sources(self) -> set[str]:
        """The ``source`` every item names: the polled source's own name, or its parts'."""
        return (
            {p.source for p in self.pipelines}
            | {s.source for s in self.services}
            | {d.source for d in self.deployments}
            | {b.source for b in self.blockers}
            | {f.source for f in self.flaky_reports}
        )


def part_name(source: str, theirs: str) -> str:
    """The name one of another radiator's sources has here: ``central/gh``
    (``SourceResult.parts``)."""
    return f"{source}/{theirs}"


def is_part_of(name: str, source: str) -> bool:
    """``name`` is one of ``source``'s parts (``part_name``)."""
    return name.startswith(f"{source}/")


class GateReason(Frozen):
    """One reason the release is on hold."""

    kind: str
    """``main_red``, ``service_down``, ``critical_alert``, ``deploy_failed``, ``deploy_suspect``,
    ``blockers``, ``stale``."""
    text: Untrusted
    """The reason in words, e.g. ``main red: Monolith (since 14:02)``."""


class ReleaseGate(Frozen):
    """One word, GO or HOLD, and why."""

    go: bool
    reasons: tuple[GateReason, ...] = ()

    @property
    def word(self) -> str:
        return "GO" if self.go else "HOLD"


class BrokenWindow(Frozen):
    """Something that must be impossible to miss: a red main or a production check down."""

    kind: str
    """``pipeline``, ``service`` or ``deploy`` (a failed or suspect deploy)."""
    source: str
    key: Key
    name: Untrusted
    since: Moment = None
    """When it broke: the finish of the first failing build of the streak, or the first failed check."""
    commit: Untrusted | None = None
    author: Untrusted | None = None
    message: Untrusted | None = None
    """The first line of the commit message (a red main); for a service or a deploy, the same
    words as ``reason`` (kept for readers of the JSON from before ``reason``)."""
    reason: Untrusted | None = None
    """Why a service is down or a deploy suspect, with its label: ``5xx share 0.034 > 0.01 2m
    after abc1234 went live``, ``alert PaymentsHighErrorRate: ...``, ``HTTP 500``."""
    streak: int = 1
    """How many builds in a row have failed."""
    url: Link = None
    stale: bool = False
    last_green_commit: Untrusted | None = None
    """With ``newest_commit``: the commit range where the culprit is (from history)."""
    newest_commit: Untrusted | None = None


class Snapshot(Frozen):
    """The whole state at one moment. Immutable; the engine publishes a new one on every change."""

    taken_at: AwareDatetime
    title: str = "buildradiator"
    pipelines: tuple[Pipeline, ...] = ()
    services: tuple[ServiceCheck, ...] = ()
    sources: tuple[SourceState, ...] = ()
    broken: tuple[BrokenWindow, ...] = ()
    flaky: tuple[FlakySummary, ...] = ()
    green_since: Moment = None
    """When nothing is broken and every source is fresh: since when (best known)."""
    stale_sources: frozenset[str] = frozenset()
    facts: tuple[PipelineFacts, ...] = ()
    """History's facts per pipeline (empty without a history store)."""
    flaky_tests: tuple[FlakyTestInfo, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    gate: ReleaseGate | None = None
    """``None`` when the config watches nothing the gate could judge."""
    targets: tuple[TargetStatus, ...] = ()
    delivery: tuple[DeliveryFact, ...] = ()
    """History's delivery measures and congestion at main, 7 and 30 days (empty without a
    history store, or until first computed); another radiator's when a ``radiator`` source
    brings them (``SourceResult.delivery``)."""
    delivery_at: Moment = None
    """When ``delivery`` was computed: it is recomputed when history changes, at most every
    ``history.facts.DELIVERY_GAP`` seconds."""
    notices: tuple[str, ...] = ()
    """What the user must know that is no source's state, in plain words (the history file was
    damaged and moved aside...). Shown on screen and by ``check``."""

    def facts_of(self, source: str, key: str) -> PipelineFacts | None:
        for facts in self.facts:
            if facts.source == source and facts.key == key:
                return facts
        return None

    def source_state(self, name: str) -> SourceState | None:
        for state in self.sources:
            if state.name == name:
                return state
        return None

    @property
    def in_flight(self) -> tuple[Build, ...]:
        return tuple(b for p in self.pipelines for b in p.in_flight)
