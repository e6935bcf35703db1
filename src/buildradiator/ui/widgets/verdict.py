"""The top line's verdict: what the whole screen says, in one line, never greener than the truth.

Red broken windows have the banner to themselves (``banner.py``). Without any, the line sums up
what else the screen shows: whether any data has arrived at all, whether it is current (sources
waiting, failing, stale, or cached from the last run), the release gate, and services that warn.
"All green" is said only when every source is fresh, the export's overall verdict is "passed",
the gate does not hold and no service warns.

And when the engine itself has stopped, nothing on screen is current any more: ``stopped``
turns a snapshot into one where every source failed and every pipeline and service is unknown,
so that every view shows it as such (no green anywhere), without a special case in each view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from buildradiator import fmt
from buildradiator.export.document import all_green, answered, not_current, overall
from buildradiator.model import (
    Freshness,
    GateReason,
    Health,
    ReleaseGate,
    Snapshot,
    SourceState,
    Status,
)
from buildradiator.rules.gate import gate_summary
from buildradiator.rules.production import service_rows

Segment = tuple[str, str]


@dataclass(frozen=True)
class EngineStopped:
    """The engine's worker raised (or returned): the screen says so until the app is quit."""

    error: str
    """The error's type, e.g. ``OverflowError`` (its message and traceback are in the log)."""
    log: Path | None
    at: datetime

    def headline(self) -> str:
        where = f"; see the log {self.log}" if self.log else ""
        return f"ENGINE STOPPED: {self.error}{where}"


STOPPED_ERROR = "engine stopped"


def stopped(snapshot: Snapshot | None, engine: EngineStopped) -> Snapshot:
    """``snapshot`` as it stands once the engine has stopped: every source failed and stale,
    every broken window stale, no release GO, no target met, no green since: nothing current."""
    base = snapshot or Snapshot(taken_at=engine.at)
    sources = tuple(
        s.model_copy(
            update={
                "error": STOPPED_ERROR,
                "error_kind": "stopped",
                "stale": True,
                "freshness": Freshness.STALE if s.last_success else Freshness.WAITING,
                "last_attempt": engine.at,
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


def gate_word(snapshot: Snapshot) -> str | None:
    """``GO``, ``HOLD``, or ``waiting`` before any data (a gate that judged nothing is no GO);
    ``None`` without a gate."""
    if snapshot.gate is None:
        return None
    if not answered(snapshot):
        return "waiting"
    return snapshot.gate.word


def _state_word(state: SourceState) -> str:
    if state.freshness is Freshness.CACHED:
        return "cached"
    if state.last_success is None:
        return "waiting"
    return "failing" if state.error else "stale"


def cached_age(snapshot: Snapshot, now: datetime) -> str | None:
    """How old the oldest data cached from the last run is (``2h 5m``); ``None`` when none is."""
    cached = [
        s.last_success
        for s in snapshot.sources
        if s.freshness is Freshness.CACHED and s.last_success is not None
    ]
    if not cached:
        return None
    return fmt.format_age(fmt.seconds_between(min(cached), now))


is_green = all_green
"""The one condition for "all green" anywhere on screen (``export.all_green``)."""


def headline_word(snapshot: Snapshot | None) -> str:
    """One word for a big screen: ``ALL GREEN``, ``WAITING``, ``HOLD``, ``UNKNOWN`` or ``WARN``
    (red broken windows have their own headline)."""
    if is_green(snapshot):
        return "ALL GREEN"
    if snapshot is None or not answered(snapshot):
        return "WAITING"
    if snapshot.gate is not None and not snapshot.gate.go:
        return "HOLD"
    if not_current(snapshot) or overall(snapshot) != "passed":
        return "UNKNOWN"
    return "WARN"


def sources_line(snapshot: Snapshot, ascii: bool) -> str:
    """``2 of 16 sources not current: jenkins (failing), cctray (stale)``."""
    behind = not_current(snapshot)
    names = ", ".join(f"{s.name} ({_state_word(s)})" for s in behind[:3])
    more = f" +{len(behind) - 3} more" if len(behind) > 3 else ""
    total = fmt.plural(len(snapshot.sources), "source")
    return f"{fmt.STALE_GLYPH} {len(behind)} of {total} not current: {names}{more}"


def calm_line(
    snapshot: Snapshot | None, now: datetime, ascii: bool = False, tz: tzinfo | None = None
) -> list[Segment]:
    """The top line when nothing is broken: the verdict first, then what qualifies it."""
    sep = fmt.SEPARATOR[ascii]
    waiting = (
        f"{fmt.status_glyph(Status.QUEUED, ascii)} waiting for first data{fmt.ELLIPSIS[ascii]}"
    )
    if snapshot is None:
        return [(waiting, "bold")]
    if not answered(snapshot):
        total = fmt.plural(len(snapshot.sources), "source")
        line: list[Segment] = [(waiting, "bold"), (f"{sep}0 of {total} answered", "dim")]
        failing = sum(1 for s in snapshot.sources if s.error)
        if failing:
            line.append((f"{sep}{failing} failing", "status-failed"))
        return line
    gate = snapshot.gate
    rows = service_rows(snapshot)
    warn = [r for r in rows if r.health is Health.WARN and not r.stale]
    behind = not_current(snapshot)
    cached = cached_age(snapshot, now)
    if is_green(snapshot):
        line = [(f"{fmt.status_glyph(Status.PASSED, ascii)} all green", "banner-green-fg")]
        if snapshot.green_since is not None:
            age = fmt.format_age(fmt.seconds_between(snapshot.green_since, now))
            line.append((f" since {fmt.clock_time(snapshot.green_since, tz)} ({age})", ""))
    elif gate is not None and not gate.go:
        glyph = fmt.health_glyph(Health.DOWN, ascii)
        line = [(f"{glyph} release HOLD: ", "health-down"), (gate_summary(gate, sep), "bold")]
    elif cached is not None:
        line = [(f"{fmt.STALE_GLYPH} cached from the last run, {cached} old", "stale")]
    elif behind or overall(snapshot) != "passed":
        line = [(f"{fmt.STALE_GLYPH} not all known", "stale")]
    else:
        glyph = fmt.health_glyph(Health.WARN, ascii)
        line = [(f"{glyph} nothing broken", "health-warn")]
    headline = line[0][0]
    if cached is not None and "cached" not in headline:
        line.append((f"{sep}{fmt.STALE_GLYPH} cached from the last run, {cached} old", "stale"))
    if behind:
        line.append((sep + sources_line(snapshot, ascii), "stale"))
    if warn:
        names = ", ".join(r.service for r in warn)
        line.append((f"{sep}{fmt.health_glyph(Health.WARN, ascii)} {names} warn", "health-warn"))
    if gate is not None and gate.go:
        line.append((f"{sep}release GO", ""))
    return line
