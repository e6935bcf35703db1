"""Snapshots as documents for scripts: the JSON of ``status --json`` and its exit code, the
one-line summaries for shell prompts and tmux, and the snapshot cache they read.

The JSON is a contract (documented in the README): keys are only ever added. It never carries a
token: nothing in a ``Snapshot`` holds one, and URLs pass through ``redact``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from buildradiator import instance
from buildradiator.errors import EXIT_GREEN, EXIT_RED, EXIT_UNKNOWN
from buildradiator.model import (
    Build,
    Deployment,
    Freshness,
    Health,
    Pipeline,
    PipelineFacts,
    ServiceCheck,
    Snapshot,
    SourceState,
    Status,
)
from buildradiator.paths import write_private
from buildradiator.rules.production import service_rows
from buildradiator.sources.http import redact

log = logging.getLogger("buildradiator.export.document")

SCHEMA_VERSION = 1
RECENT_SHOWN = 10
"""Finished builds per pipeline in the document (newest first)."""


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _url(value: str | None) -> str | None:
    return redact(value) if value else None


def build_doc(build: Build) -> dict[str, Any]:
    return {
        "source": build.source,
        "pipeline": build.pipeline,
        "id": build.id,
        "number": build.number,
        "attempt": build.attempt,
        "branch": build.branch,
        "status": build.status.value,
        "provider_status": build.provider_status,
        "stage": build.stage,
        "created_at": _time(build.created_at),
        "started_at": _time(build.started_at),
        "finished_at": _time(build.finished_at),
        "estimated_seconds": build.estimated_seconds,
        "commit": build.commit,
        "author": build.author,
        "message": build.message,
        "url": _url(build.url),
    }


def pipeline_doc(pipeline: Pipeline, stale: bool) -> dict[str, Any]:
    last = pipeline.last
    return {
        "source": pipeline.source,
        "key": pipeline.key,
        "name": pipeline.name,
        "branch": pipeline.branch,
        "group": pipeline.group,
        "status": pipeline.status.value,
        "provider_status": last.provider_status if last else None,
        "stale": stale,
        "running": bool(pipeline.in_flight),
        "started_at": _time(last.started_at) if last else None,
        "finished_at": _time(last.finished_at) if last else None,
        "commit": last.commit if last else None,
        "author": last.author if last else None,
        "message": last.message if last else None,
        "url": _url(last.url if last and last.url else pipeline.url),
        # The builds themselves, so another radiator reading this document (a ``radiator``
        # source) sees the streak, the stages and the ETA inputs, not only the last result.
        "recent": [build_doc(b) for b in pipeline.recent[:RECENT_SHOWN]],
        "in_flight": [build_doc(b) for b in pipeline.in_flight],
    }


def service_doc(check: ServiceCheck, stale: bool) -> dict[str, Any]:
    return {
        "source": check.source,
        "name": check.name,
        "environment": check.environment,
        "health": check.health.value,
        "stale": stale,
        "http_status": check.http_status,
        "latency_ms": check.latency_ms,
        "version": check.version,
        "detail": check.detail,
        "checked_at": _time(check.checked_at),
        "url": _url(check.url),
        "service": check.service_name,
        "kind": check.kind,
        "since": _time(check.since),
        "severity": check.severity,
        "muted": check.muted,
        "value": check.value,
        "unit": check.unit,
    }


def deployment_doc(deployment: Deployment, stale: bool) -> dict[str, Any]:
    return {
        **deployment.model_dump(mode="json"),
        "url": _url(deployment.url),
        "stale": stale,
    }


def _facts_doc(facts: PipelineFacts) -> dict[str, Any]:
    """What history knows per pipeline; the daily series stay out (they are for the screen)."""
    return {
        "source": facts.source,
        "key": facts.key,
        "red_since": _time(facts.red_since),
        "red_streak": facts.red_streak,
        "duration_p50_seconds": facts.p50_seconds,
        "duration_p90_seconds": facts.p90_seconds,
        "retry_share_7d": facts.retry_share_7d,
        "retry_minutes_7d": round(facts.retry_minutes_7d, 1),
        "retry_share_30d": facts.retry_share_30d,
        "retry_minutes_30d": round(facts.retry_minutes_30d, 1),
        "recent": [s.value for s in facts.strip],
    }


def snapshot_doc(snapshot: Snapshot) -> dict[str, Any]:
    stale = snapshot.stale_sources
    return {
        "schema": SCHEMA_VERSION,
        "instance": instance.ID,
        "via": instance.via(),
        "taken_at": _time(snapshot.taken_at),
        "title": snapshot.title,
        "overall": overall(snapshot),
        "green_since": _time(snapshot.green_since),
        "pipelines": [pipeline_doc(p, p.source in stale) for p in snapshot.pipelines],
        "in_flight": [build_doc(b) for b in snapshot.in_flight],
        "flaky": [f.model_dump(mode="json") for f in snapshot.flaky],
        "flaky_tests": [t.model_dump(mode="json") for t in snapshot.flaky_tests],
        "history": [_facts_doc(f) for f in snapshot.facts],
        "services": [service_doc(s, s.source in stale) for s in snapshot.services],
        "deployments": [deployment_doc(d, d.source in stale) for d in snapshot.deployments],
        "blockers": [{**b.model_dump(mode="json"), "url": _url(b.url)} for b in snapshot.blockers],
        "release": (
            {
                "word": snapshot.gate.word,
                "go": snapshot.gate.go,
                "reasons": [r.model_dump(mode="json") for r in snapshot.gate.reasons],
            }
            if snapshot.gate is not None
            else None
        ),
        "broken": [{**w.model_dump(mode="json"), "url": _url(w.url)} for w in snapshot.broken],
        "sources": [
            {
                "name": s.name,
                "type": s.type,
                "ok": s.error is None,
                "stale": s.stale,
                "freshness": s.freshness.value,
                "last_success": _time(s.last_success),
                "error": s.error,
                "error_kind": s.error_kind,
                "rate": s.rate.model_dump(mode="json") if s.rate else None,
            }
            for s in snapshot.sources
        ],
    }


def to_json(snapshot: Snapshot) -> str:
    return json.dumps(snapshot_doc(snapshot), indent=2, ensure_ascii=False)


def overall(snapshot: Snapshot) -> str:
    """``failed`` when anything is broken; ``unknown`` when any source is not fresh (waiting for
    its first answer, showing the last run's cache, failing or too old), when a check's health
    is unknown, or when nothing is known at all; else ``passed``. Stale is never green."""
    if snapshot.broken:
        return "failed"
    if any(s.stale or s.error for s in snapshot.sources):
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


def not_current(snapshot: Snapshot) -> list[SourceState]:
    """Sources whose data is not current, for any reason (see ``model.Freshness``)."""
    return [s for s in snapshot.sources if s.stale or s.error or s.freshness is not Freshness.FRESH]


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


# -- one-line summaries: shell prompts and tmux's status bar --------------------------------

_TMUX_STYLE = {
    "red": "#[fg=white,bg=red,bold]",
    "green": "#[fg=green]",
    "running": "#[fg=yellow]",
    "stale": "#[fg=colour244]",
    "reset": "#[default]",
}


def _tmux_safe(text: str) -> str:
    """tmux expands ``#[...]`` styles and ``#(...)`` commands in what it shows: a ``#`` from CI
    text is doubled so that it is only ever a literal ``#``."""
    return text.replace("#", "##")


def summary_segments(snapshot: Snapshot, now: datetime, ascii: bool) -> list[tuple[str, str]]:
    """The facts of a one-line summary as (text, kind) pairs, most urgent first."""
    from buildradiator import fmt

    segments: list[tuple[str, str]] = []
    if snapshot.broken:
        first = snapshot.broken[0]
        word = {"pipeline": "RED", "deploy": "SUSPECT"}.get(first.kind, "DOWN")
        age = fmt.format_age(fmt.seconds_between(first.since, now)) if first.since else "?"
        who = f" ({first.author})" if first.author else ""
        more = f" +{len(snapshot.broken) - 1}" if len(snapshot.broken) > 1 else ""
        glyph = fmt.status_glyph(Status.FAILED, ascii)
        segments.append((f"{glyph} {word} {first.name} {age}{who}{more}", "red"))
    elif all_green(snapshot):
        since = snapshot.green_since
        age = f" {fmt.format_age(fmt.seconds_between(since, now))}" if since else ""
        segments.append((f"{fmt.status_glyph(Status.PASSED, ascii)} all green{age}", "green"))
    running = sum(1 for b in snapshot.in_flight if b.status is Status.RUNNING)
    if running:
        segments.append((f"{fmt.status_glyph(Status.RUNNING, ascii)} {running}", "running"))
    green = sum(1 for p in snapshot.pipelines if p.status is Status.PASSED)
    if snapshot.broken and green:
        segments.append((f"{fmt.status_glyph(Status.PASSED, ascii)} {green}", "green"))
    if snapshot.gate is not None and not snapshot.gate.go:
        segments.append((f"HOLD {len(snapshot.gate.reasons)}", "running"))
    not_fresh = [s for s in snapshot.sources if s.stale or s.error]
    if not_fresh:
        segments.append((_not_fresh_words(not_fresh), "stale"))
    if not segments:
        segments.append((f"{fmt.status_glyph(Status.UNKNOWN, ascii)} no data", "stale"))
    return segments


def _not_fresh_words(states: list[SourceState]) -> str:
    """``? waiting for first data``, ``? github, jenkins stale``, ``? github, gitlab +1458
    stale`` (a line for a prompt, however many sources)."""
    from buildradiator import fmt

    if all(s.freshness is Freshness.WAITING and not s.error for s in states):
        return f"{fmt.STALE_GLYPH} waiting for first data"
    names = [s.name for s in states]
    shown = ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:2])} +{len(names) - 2}"
    return f"{fmt.STALE_GLYPH} {shown} stale"


def status_line(snapshot: Snapshot, now: datetime, ascii: bool = False) -> str:
    """``✖ RED acme/monolith 14m (Mallory) +1 · ▶ 2 · ✔ 10``: for shell prompts."""
    from buildradiator.fmt import SEPARATOR

    return SEPARATOR[ascii].join(text for text, _ in summary_segments(snapshot, now, ascii))


def tmux_line(snapshot: Snapshot, now: datetime, ascii: bool = False) -> str:
    """The same line with tmux colour codes, for ``status-right``."""
    from buildradiator.fmt import SEPARATOR

    parts = [
        f"{_TMUX_STYLE[kind]}{_tmux_safe(text)}{_TMUX_STYLE['reset']}"
        for text, kind in summary_segments(snapshot, now, ascii)
    ]
    return SEPARATOR[ascii].join(parts)


# -- the last snapshot, cached for fast one-shot readers and a quick start --------------------


def cache_file(cache_dir: Path, config_path: str | None) -> Path:
    """One cache per config file, so two radiators with different configs never mix."""
    digest = hashlib.sha256((config_path or "<none>").encode()).hexdigest()[:12]
    return cache_dir / f"snapshot-{digest}.json"


def write_cache(path: Path, snapshot: Snapshot) -> None:
    """Atomically (temp file + rename), private to its owner; a failure to write is logged,
    never raised."""
    try:
        write_private(path, snapshot.model_dump_json().encode("utf-8", "replace"))
    except OSError as exc:
        log.warning("cannot write the snapshot cache %s: %s", path, exc.strerror)


def read_cache(path: Path) -> Snapshot | None:
    """The cached snapshot, or None when there is none or it cannot be read (never raises)."""
    try:
        return Snapshot.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None
