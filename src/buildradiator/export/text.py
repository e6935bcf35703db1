"""``buildradiator status`` for a person: what is broken, one line each, then every source whose
data is not fresh, the notices, and the counts. Scripts read ``--json`` or ``--format line``.

    buildradiator demo: 2 broken, release HOLD
      x deploy suspect: payments (prod) 8e4abf2: HTTP 500 5s after 8e4abf2 went live
      x down: payments (prod) since 14:05 (3m): 0.034 (> 0.01) (+3 more down)
      x release HOLD: payments (prod) down: HTTP 500; deploy of payments (prod) suspect: ...
      ? jenkins: stale: the server closed the connection (last data 40s ago)
      pipelines: 14 green, 0 red, 3 running, 3 stale | services: 4 up, 0 warn, 1 down

Pure: everything comes from the snapshot and ``now``; text from CI is already plain (``model``
drops escape sequences on the way in), and ``ascii`` folds what is left to ASCII.
"""

from __future__ import annotations

from datetime import datetime

from buildradiator import fmt
from buildradiator.model import (
    BrokenWindow,
    Freshness,
    Health,
    Snapshot,
    SourceState,
    Status,
    first_line,
)
from buildradiator.rules.ordering import tally
from buildradiator.rules.production import counted_health, service_rows
from buildradiator.rules.verdict import all_green, answered, not_fresh
from buildradiator.text import to_ascii

INDENT = "  "
_KINDS = {"pipeline": "main red", "service": "down", "deploy": "deploy suspect"}


def status_text(snapshot: Snapshot, now: datetime, ascii: bool = False) -> str:
    """The whole summary, lines joined by newlines (no trailing newline)."""
    lines = [_headline(snapshot, now, ascii)]
    lines += [INDENT + _window(w, snapshot, now, ascii) for w in snapshot.broken]
    gate = snapshot.gate
    if gate is not None and not gate.go:
        reasons = "; ".join(r.text for r in gate.reasons) or "no reason given"
        lines.append(f"{INDENT}{fmt.status_glyph(Status.FAILED, ascii)} release HOLD: {reasons}")
    lines += [INDENT + _source(s, now) for s in snapshot.sources if not_fresh(s)]
    lines += [f"{INDENT}! {notice}" for notice in snapshot.notices]
    lines.append(INDENT + _counts(snapshot, ascii))
    text = "\n".join(lines)
    return to_ascii(text) if ascii else text


# -- the lines -----------------------------------------------------------------------------------


def _headline(snapshot: Snapshot, now: datetime, ascii: bool) -> str:
    gate = snapshot.gate
    release = f", release {gate.word}" if gate is not None else ""
    if snapshot.broken:
        return f"{snapshot.title}: {len(snapshot.broken)} broken{release}"
    if all_green(snapshot):
        since = f" since {_when(snapshot.green_since, now)}" if snapshot.green_since else ""
        return f"{snapshot.title}: all green{since}{release}"
    stale = sum(1 for s in snapshot.sources if not_fresh(s))
    if stale:
        return f"{snapshot.title}: nothing broken, {fmt.plural(stale, 'source')} not fresh{release}"
    warn = [r.service for r in service_rows(snapshot) if r.health is Health.WARN and not r.stale]
    if warn:
        names = ", ".join(warn[:3]) + (f" +{len(warn) - 3}" if len(warn) > 3 else "")
        return f"{snapshot.title}: nothing broken, {names} warn{release}"
    if answered(snapshot):
        return f"{snapshot.title}: nothing broken, not all known{release}"
    return f"{snapshot.title}: nothing known yet"


def _window(window: BrokenWindow, snapshot: Snapshot, now: datetime, ascii: bool) -> str:
    glyph = fmt.status_glyph(Status.FAILED, ascii)
    name = window.name
    if window.kind == "service":
        name = _service_name(window, snapshot)
    parts = [f"{glyph} {_KINDS.get(window.kind, window.kind)}: {name}"]
    if window.kind == "pipeline":
        parts.append(f" ({window.source})")
    if window.kind == "deploy" and window.commit:
        parts.append(f" {fmt.short_sha(window.commit)}")
    if window.since is not None:
        parts.append(f" since {_when(window.since, now)}")
    if window.kind == "pipeline":
        streak = fmt.streak_text(window.streak)
        if streak:
            parts.append(f", {streak}")
        broke = " ".join(
            p
            for p in (
                f"by {window.author}" if window.author else "",
                fmt.short_sha(window.commit),
                f'"{first_line(window.message)}"' if window.message else "",
            )
            if p
        )
        if broke:
            parts.append(f"; broken {broke}")
    elif window.message:
        parts.append(f": {window.message}")
    if window.stale:
        parts.append(" (stale)")
    return "".join(parts)


def _service_name(window: BrokenWindow, snapshot: Snapshot) -> str:
    """``payments (prod)``: the service with its environment, from the row it heads."""
    environments = sorted(
        {
            row.environment
            for row in service_rows(snapshot)
            if row.service == window.name and row.health is Health.DOWN and row.environment
        }
    )
    return f"{window.name} ({', '.join(environments)})" if environments else window.name


def _source(state: SourceState, now: datetime) -> str:
    word = state.freshness.value if state.freshness is not Freshness.FRESH else "stale"
    last = (
        f"last data {fmt.format_age(fmt.seconds_between(state.last_success, now))} ago"
        if state.last_success is not None
        else "no data yet"
    )
    if state.error:
        detail = f"{state.error} ({last})"
    elif state.freshness is Freshness.WAITING:
        detail = "no answer yet"
    elif state.freshness is Freshness.CACHED:
        detail = f"the last run's data, not confirmed yet ({last})"
    else:
        detail = last
    return f"{fmt.STALE_GLYPH} {state.name}: {word}: {detail}"


def _counts(snapshot: Snapshot, ascii: bool) -> str:
    count = tally(snapshot.pipelines, snapshot.stale_sources)
    pipelines = f"pipelines: {count.green} green, {count.red} red, {count.running} running"
    if count.other:
        pipelines += f", {count.other} other"
    if count.stale:
        pipelines += f", {count.stale} stale"
    parts = [pipelines]
    rows = [r for r in service_rows(snapshot) if r.checks]
    if rows:
        # Old data is unknown, whatever it said: never counted up (nor down).
        health = {h: sum(1 for r in rows if counted_health(r) is h) for h in Health}
        services = (
            f"services: {health[Health.UP]} up, {health[Health.WARN]} warn, "
            f"{health[Health.DOWN]} down"
        )
        if health[Health.UNKNOWN]:
            services += f", {health[Health.UNKNOWN]} unknown"
        parts.append(services)
    return fmt.SEPARATOR[ascii].join(parts)


def _when(moment: datetime, now: datetime) -> str:
    """``14:02 (12m ago)``."""
    return f"{fmt.clock_time(moment)} ({fmt.format_age(fmt.seconds_between(moment, now))} ago)"
