"""The verdict on a snapshot, decided once for every screen, export and exit code: ``overall``
(passed, failed, unknown), whether anything answered, which sources are not current, the one
condition for "all green", and the exit code of the one-shot commands; what a calm screen says
(``calm``, ``headline_word``, ``gate_word``) and a snapshot once the engine has stopped
(``stopped``). Stale is never green.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from buildradiator.errors import EXIT_GREEN, EXIT_RED, EXIT_UNKNOWN
from buildradiator.model import (
    Freshness,
    GateReason,
    Health,
    ReleaseGate,
    Snapshot,
    SourceState,
)
from buildradiator.rules.ordering import verdict_known
from buildradiator.rules.production import ServiceRow, service_rows


def overall(snapshot: Snapshot) -> str:
    """``failed`` when anything is broken; ``unknown`` when any source is not fresh (waiting for
    its first answer, showing the last run's cache, failing or too old), when a main's verdict
    or a check's health is unknown, or when nothing is known at all; else ``passed``. Stale is
    never green, nor is a main whose last build said nothing (``ordering.verdict_known``)."""
    if snapshot.broken:
        return "failed"
    if any(not_fresh(s) for s in snapshot.sources):
        return "unknown"
    if not (snapshot.pipelines or snapshot.services):
        return "unknown"
    if not all(verdict_known(p) for p in snapshot.pipelines):
        return "unknown"
    if any(s.health is Health.UNKNOWN and not s.muted for s in snapshot.services):
        return "unknown"
    return "passed"


def answered(snapshot: Snapshot | None) -> bool:
    """Whether any data has arrived: some source answered once (in this run or, cached, in the
    last one)."""
    if snapshot is None:
        return False
    if not snapshot.sources:
        return bool(snapshot.pipelines or snapshot.services)
    return any(s.last_success is not None for s in snapshot.sources)


def not_fresh(state: SourceState) -> bool:
    """The source's data is not current, for any reason (see ``model.Freshness``)."""
    return state.freshness is not Freshness.FRESH or state.stale or state.error is not None


def not_current(snapshot: Snapshot) -> list[SourceState]:
    """Sources whose data is not current, for any reason (``not_fresh``)."""
    return [s for s in snapshot.sources if not_fresh(s)]


def all_green(snapshot: Snapshot | None) -> bool:
    """The one condition for "all green", on every screen and in the one-line summaries:
    nothing broken, everything known and fresh, the release not on hold, no service warning."""
    if snapshot is None or snapshot.broken or not answered(snapshot):
        return False
    if not_current(snapshot) or overall(snapshot) != "passed":
        return False
    if snapshot.gate is not None and not snapshot.gate.go:
        return False
    return not warning_services(snapshot)


def exit_code(snapshot: Snapshot) -> int:
    """0 all green, 1 anything red (a known red outranks an unknown), 3 anything unknown."""
    return {"failed": EXIT_RED, "unknown": EXIT_UNKNOWN}.get(overall(snapshot), EXIT_GREEN)


def gate_word(snapshot: Snapshot) -> str | None:
    """``GO``, ``HOLD``, or ``waiting`` before any data (a gate that judged nothing is no GO);
    ``None`` without a gate."""
    if snapshot.gate is None:
        return None
    if not answered(snapshot):
        return "waiting"
    return snapshot.gate.word


def warning_services(snapshot: Snapshot) -> list[ServiceRow]:
    """Services that warn on current data (a warning keeps "all green" away)."""
    return [r for r in service_rows(snapshot) if r.health is Health.WARN and not r.stale]


def cached_sources(snapshot: Snapshot) -> list[SourceState]:
    """Sources showing data cached from the last run (with a time it was current)."""
    return [
        s
        for s in snapshot.sources
        if s.freshness is Freshness.CACHED and s.last_success is not None
    ]


def failing_sources(snapshot: Snapshot) -> list[SourceState]:
    """Sources whose last attempt failed."""
    return [s for s in snapshot.sources if s.error]


class Calm(StrEnum):
    """What a screen says when nothing is broken, most reassuring last to be earned."""

    WAITING = "waiting"
    """No data has arrived."""
    GREEN = "green"
    HOLD = "hold"
    """The release gate holds."""
    CACHED = "cached"
    """Data cached from the last run is on screen."""
    UNKNOWN = "unknown"
    """Some source is not current, or the verdict is not "passed"."""
    WARN = "warn"
    """Nothing broken, nothing unknown, yet not green (a service warns)."""


def calm(snapshot: Snapshot | None) -> Calm:
    """The verdict of a screen without red broken windows (``Calm``), in that order."""
    if all_green(snapshot):
        return Calm.GREEN
    if snapshot is None or not answered(snapshot):
        return Calm.WAITING
    if snapshot.gate is not None and not snapshot.gate.go:
        return Calm.HOLD
    if cached_sources(snapshot):
        return Calm.CACHED
    if not_current(snapshot) or overall(snapshot) != "passed":
        return Calm.UNKNOWN
    return Calm.WARN


_HEADLINE = {Calm.GREEN: "ALL GREEN", Calm.WAITING: "WAITING", Calm.HOLD: "HOLD"}


def headline_word(snapshot: Snapshot | None) -> str:
    """One word for a big screen: ``ALL GREEN``, ``WAITING``, ``HOLD``, ``UNKNOWN`` (cached data
    too) or ``WARN`` (red broken windows have their own headline)."""
    state = calm(snapshot)
    return _HEADLINE.get(state, "WARN" if state is Calm.WARN else "UNKNOWN")


STOPPED_ERROR = "engine stopped"


def stopped(snapshot: Snapshot | None, at: datetime) -> Snapshot:
    """``snapshot`` as it stands once the engine has stopped at ``at``: every source failed and
    stale, every broken window stale, no release GO, no target met, no green since: nothing
    current, so every view shows it as such without a special case."""
    base = snapshot or Snapshot(taken_at=at)
    sources = tuple(
        s.model_copy(
            update={
                "error": STOPPED_ERROR,
                "error_kind": "stopped",
                "stale": True,
                "freshness": Freshness.STALE if s.last_success else Freshness.WAITING,
                "last_attempt": at,
            }
        )
        for s in base.sources
    )
    names = {s.name for s in sources}
    names |= {p.source for p in base.pipelines} | {c.source for c in base.services}
    names |= {d.source for d in base.deployments} | {b.source for b in base.blockers}
    gate = None
    if base.gate is not None:
        reason = GateReason(kind="stale", text="engine stopped: nothing is known")
        gate = ReleaseGate(go=False, reasons=(reason,))
    return base.model_copy(
        update={
            "sources": sources,
            "stale_sources": frozenset(names),
            "broken": tuple(w.model_copy(update={"stale": True}) for w in base.broken),
            "green_since": None,
            "gate": gate,
            "targets": tuple(
                t.model_copy(update={"met": None, "value": None}) for t in base.targets
            ),
        }
    )
