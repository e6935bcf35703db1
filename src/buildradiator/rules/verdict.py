"""The verdict on a snapshot, decided once for every screen, export and exit code: ``overall``
(passed, failed, unknown), whether anything answered, which sources are not current, the one
condition for "all green", and the exit code of the one-shot commands. Stale is never green.
"""

from __future__ import annotations

from buildradiator.errors import EXIT_GREEN, EXIT_RED, EXIT_UNKNOWN
from buildradiator.model import Freshness, Health, Snapshot, SourceState
from buildradiator.rules.production import service_rows


def overall(snapshot: Snapshot) -> str:
    """``failed`` when anything is broken; ``unknown`` when any source is not fresh (waiting for
    its first answer, showing the last run's cache, failing or too old), when a check's health
    is unknown, or when nothing is known at all; else ``passed``. Stale is never green."""
    if snapshot.broken:
        return "failed"
    if any(not_fresh(s) for s in snapshot.sources):
        return "unknown"
    if not (snapshot.pipelines or snapshot.services):
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
    return not any(r.health is Health.WARN and not r.stale for r in service_rows(snapshot))


def exit_code(snapshot: Snapshot) -> int:
    """0 all green, 1 anything red (a known red outranks an unknown), 3 anything unknown."""
    return {"failed": EXIT_RED, "unknown": EXIT_UNKNOWN}.get(overall(snapshot), EXIT_GREEN)
