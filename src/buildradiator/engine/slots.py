"""What the engine knows about each source (``Slot``), the one definition of fresh, and which
changes of a snapshot are news worth publishing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from buildradiator.config.loading import SourceBase
from buildradiator.errors import SourceError
from buildradiator.model import Freshness, RateInfo, Snapshot, SourceResult, SourceState
from buildradiator.model.snapshot import is_part_of
from buildradiator.sources.base import Source


@dataclass
class Slot:
    """What the engine knows about one source."""

    config: SourceBase
    source: Source[SourceBase]
    interval: float
    stale_after: float
    result: SourceResult | None = None
    last_success: datetime | None = None
    success_mono: float | None = None
    """The monotonic clock at ``last_success`` when this run polled it (None for cached data):
    the wall clock may be stepped back, and data must still age."""
    last_attempt: datetime | None = None
    error: SourceError | None = None
    failures: int = 0
    next_due: float = 0.0
    next_poll: datetime | None = None
    host: str = ""
    rate: RateInfo | None = field(default=None)
    quota_cost: float = 1.0
    """Quota-counted requests per poll (moving average): a source may watch many repos."""
    cached: bool = False
    """``result`` is the last run's, from the snapshot cache: no poll of this run confirmed it."""
    webhook_at: datetime | None = None
    """When a webhook last said this source changed (``Engine.poll_soon``)."""
    webhook_refused: int = 0
    """Deliveries for this source ``serve`` refused (``Engine.webhook_refused``)."""
    webhook: bool = False
    """Events arrive by webhook (``serve`` takes them: ``Engine.reconcile_every``): polling only
    repairs missed deliveries."""

    @property
    def in_flight(self) -> bool:
        return bool(self.result and any(p.in_flight for p in self.result.pipelines))

    def freshness(self, now: datetime, mono: float | None = None) -> Freshness:
        """The one definition of fresh: this run has data, its last poll succeeded, and that
        was within the source's limit. Everything else is stale, for a reason. The age is the
        larger of the wall clock's (it counts a laptop's sleep, which Linux's monotonic clock
        does not) and the monotonic clock's (``mono``: it counts through a wall clock stepped
        back, which would make the last poll lie in the future)."""
        if self.last_success is None:
            return Freshness.WAITING
        if self.cached:
            return Freshness.CACHED
        if self.error is not None:
            return Freshness.STALE
        age = (now - self.last_success).total_seconds()
        if mono is not None and self.success_mono is not None:
            age = max(age, mono - self.success_mono)
        return Freshness.STALE if age > self.stale_after else Freshness.FRESH

    def state(self, name: str, now: datetime, mono: float | None = None) -> SourceState:
        """How the source is doing now, as the snapshot carries it."""
        freshness = self.freshness(now, mono)
        return SourceState(
            name=name,
            type=self.config.type,  # type: ignore[attr-defined]
            last_success=self.last_success,
            last_attempt=self.last_attempt,
            error=str(self.error) if self.error else None,
            error_kind=self.error.kind if self.error else None,
            stale=freshness is not Freshness.FRESH,
            freshness=freshness,
            next_poll=self.next_poll,
            rate=self.rate,
            webhook_at=self.webhook_at,
            webhook=self.webhook,
            webhook_refused=self.webhook_refused,
        )


UNVOUCHED = "the other radiator sent its data but not its state"


def part_states(own: SourceState, result: SourceResult | None) -> list[SourceState]:
    """The states of a source's parts (another radiator's sources, ``SourceResult.parts``),
    and of any other name its items carry: each as fresh as the other radiator says, never
    fresher than ``own``, through which its data came. When ``own`` is not fresh, neither is
    anything it brought."""
    if result is None:
        return []
    said = {p.name: p for p in result.parts}
    names = (result.item_sources() | set(said)) - {own.name}
    out: list[SourceState] = []
    for name in sorted(names):
        part = said.get(name) or SourceState(
            name=name, type=own.type, last_success=own.last_success
        )
        if name not in said and is_part_of(name, own.name):
            # One of the other radiator's sources whose items it sent but whose state it did
            # not give: nothing vouches for its data being current.
            part = part.model_copy(
                update={
                    "error": UNVOUCHED,
                    "error_kind": "unvouched",
                    "stale": True,
                    "freshness": Freshness.STALE,
                }
            )
        if own.freshness is not Freshness.FRESH:
            known = [t for t in (own.last_success, part.last_success) if t is not None]
            part = part.model_copy(
                update={
                    "stale": True,
                    "freshness": own.freshness,
                    "error": own.error or part.error,
                    "error_kind": own.error_kind or part.error_kind,
                    "last_success": min(known) if known else None,
                }
            )
        out.append(part.model_copy(update={"next_poll": own.next_poll}))
    return out


def cached_result(snapshot: Snapshot, name: str) -> SourceResult:
    """What a cached snapshot holds of source ``name``: its own items, its parts' (another
    radiator's sources, ``name/theirs``) and their states."""

    def ours(source: str) -> bool:
        return source == name or is_part_of(source, name)

    return SourceResult(
        pipelines=tuple(p for p in snapshot.pipelines if ours(p.source)),
        services=tuple(s for s in snapshot.services if ours(s.source)),
        deployments=tuple(d for d in snapshot.deployments if ours(d.source)),
        blockers=tuple(b for b in snapshot.blockers if ours(b.source)),
        parts=tuple(s for s in snapshot.sources if is_part_of(s.name, name)),
    )


def content(snapshot: Snapshot) -> Snapshot:
    """The snapshot without the fields that change on every poll even when nothing happened.

    A successful poll that found nothing new changes only ``last_success``: that is not worth a
    publish (and a redraw of every panel). Whether a source is fresh is still published: its
    ``stale`` flag and ``error`` are part of the content, and the views show a healthy source
    without an age.
    """
    return snapshot.model_copy(
        update={
            "taken_at": snapshot.taken_at.replace(year=2000),
            "sources": tuple(
                s.model_copy(
                    update={
                        "last_attempt": None,
                        "next_poll": None,
                        "rate": None,
                        "last_success": None if s.error is None and not s.stale else s.last_success,
                    }
                )
                for s in snapshot.sources
            ),
        }
    )
