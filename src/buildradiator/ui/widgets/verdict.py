"""The top line's verdict: what the whole screen says, in one line, never greener than the truth.

Red broken windows have the banner to themselves (``banner.py``). Without any, the line sums up
what else the screen shows: whether any data has arrived at all, whether it is current (sources
waiting, failing, stale, or cached from the last run), the release gate, and services that warn.
"All green" is said only when every source is fresh, the export's overall verdict is "passed",
the gate does not hold and no service warns.

The decisions are the rules' (``rules.verdict``: ``calm``, ``headline_word``, ``gate_word``, and
``stopped`` for a snapshot once the engine has stopped); this module only words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from buildradiator import fmt
from buildradiator.model import Freshness, Health, Snapshot, SourceState, Status
from buildradiator.rules.gate import gate_summary
from buildradiator.rules.verdict import (
    Calm,
    answered,
    cached_sources,
    calm,
    failing_sources,
    not_current,
    warning_services,
)

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


def _state_word(state: SourceState) -> str:
    if state.freshness is Freshness.CACHED:
        return "cached"
    if state.last_success is None:
        return "waiting"
    return "failing" if state.error else "stale"


def cached_age(snapshot: Snapshot, now: datetime) -> str | None:
    """How old the oldest data cached from the last run is (``2h 5m``); ``None`` when none is."""
    cached = [s.last_success for s in cached_sources(snapshot) if s.last_success is not None]
    if not cached:
        return None
    return fmt.format_age(fmt.seconds_between(min(cached), now))


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
        failing = len(failing_sources(snapshot))
        if failing:
            line.append((f"{sep}{failing} failing", "status-failed"))
        return line
    gate = snapshot.gate
    warn = warning_services(snapshot)
    behind = not_current(snapshot)
    cached = cached_age(snapshot, now)
    state = calm(snapshot)
    if state is Calm.GREEN:
        line = [(f"{fmt.status_glyph(Status.PASSED, ascii)} all green", "banner-green-fg")]
        if snapshot.green_since is not None:
            age = fmt.format_age(fmt.seconds_between(snapshot.green_since, now))
            line.append((f" since {fmt.clock_time(snapshot.green_since, tz)} ({age})", ""))
    elif state is Calm.HOLD and gate is not None:
        glyph = fmt.health_glyph(Health.DOWN, ascii)
        line = [(f"{glyph} release HOLD: ", "health-down"), (gate_summary(gate, sep), "bold")]
    elif state is Calm.CACHED:
        line = [(f"{fmt.STALE_GLYPH} cached from the last run, {cached} old", "stale")]
    elif state is Calm.UNKNOWN:
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
