"""The snapshot as a document, defined once: the JSON of ``status --json`` and ``serve``'s
``/snapshot.json`` (written here, read back here by a ``radiator`` source), and the snapshot
cache's bytes.

The document is a contract (documented in the README): keys are only ever added, and
``SCHEMA_VERSION`` is raised only when a key changes meaning. It never carries a token: nothing
in a ``Snapshot`` holds one, and URLs pass through ``urls.redact``. Privacy (``privacy = true``)
is applied once, by the rules, before a snapshot is published: the document writes what it is
given. The verdict (``overall``) is the rules' too: the writer is handed it.

Reading (``BuildDoc``...) names only what a reader needs and lets everything be null: a document
from a newer radiator or a hand-made one may differ. Services, deployments and blockers are
written from their models and read back into them (``sources.radiator.fields.read_as``): no
second definition of their shape. A foundation module: it imports only the
model and the other foundation modules.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from buildradiator import instance
from buildradiator.model import (
    Build,
    Deployment,
    Pipeline,
    PipelineFacts,
    ServiceCheck,
    Snapshot,
)
from buildradiator.urls import redact

SCHEMA_VERSION = 1
RECENT_SHOWN = 10
"""Finished builds per pipeline in the document (newest first)."""


# -- writing ---------------------------------------------------------------------------------


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
        "stages": [{"name": st.name, "seconds": st.seconds} for st in build.stages],
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


def facts_doc(facts: PipelineFacts) -> dict[str, Any]:
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


def snapshot_doc(snapshot: Snapshot, *, overall: str) -> dict[str, Any]:
    """The document of ``snapshot``; ``overall`` is the verdict (``rules.verdict.overall``),
    decided by the rules, not here."""
    stale = snapshot.stale_sources
    return {
        "schema": SCHEMA_VERSION,
        "instance": instance.ID,
        "via": instance.via(),
        "taken_at": _time(snapshot.taken_at),
        "title": snapshot.title,
        "overall": overall,
        "green_since": _time(snapshot.green_since),
        "pipelines": [pipeline_doc(p, p.source in stale) for p in snapshot.pipelines],
        "in_flight": [build_doc(b) for b in snapshot.in_flight],
        "flaky": [f.model_dump(mode="json") for f in snapshot.flaky],
        "flaky_tests": [t.model_dump(mode="json") for t in snapshot.flaky_tests],
        "history": [facts_doc(f) for f in snapshot.facts],
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
        "delivery": {
            "computed_at": _time(snapshot.delivery_at),
            "facts": [dataclasses.asdict(f) for f in snapshot.delivery],
        },
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
                "webhook": s.webhook,
                "webhook_at": _time(s.webhook_at),
                "webhook_refused": s.webhook_refused,
            }
            for s in snapshot.sources
        ],
    }


def to_json(snapshot: Snapshot, *, overall: str) -> str:
    return json.dumps(snapshot_doc(snapshot, overall=overall), indent=2, ensure_ascii=False)


# -- the snapshot cache: the whole snapshot, every field, for this radiator's own next start ---


def cache_bytes(snapshot: Snapshot) -> bytes:
    return snapshot.model_dump_json().encode("utf-8", "replace")


def from_cache_bytes(data: bytes) -> Snapshot:
    """Raises ``ValueError`` when the bytes are no cached snapshot."""
    return Snapshot.model_validate_json(data)


# -- reading another radiator's document: only what we read; everything may be null -----------


def _str_or_none(value: Any) -> Any:
    # A time of the wrong type is as useless as a garbage one: None, not a failed entry.
    return value if isinstance(value, str) else None


Stamp = Annotated[str | None, BeforeValidator(_str_or_none)]
"""A time in a document: a string (parsed by the reader), or None for anything else."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RunDoc(_Payload):
    """What a document says of one run: its status, its times, the change it built and its
    link. A build's entry, and a pipeline's own in an older document (its last build)."""

    status: str | None = None
    provider_status: str | None = None
    started_at: Stamp = None
    finished_at: Stamp = None
    commit: str | None = None
    author: str | None = None
    message: str | None = None
    url: str | None = None


class BuildDoc(RunDoc):
    id: str | int
    number: int | None = None
    attempt: int | None = None
    branch: str | None = None
    stage: str | None = None
    created_at: Stamp = None
    estimated_seconds: float | None = None
    stages: Any = None
    """``[{"name", "seconds"}]``, read entry by entry (``fields.stages_of``)."""


class PipelineDoc(RunDoc):
    source: str
    key: str
    name: str | None = None
    branch: str | None = None
    group: str | None = None
    recent: list[Any] | None = None
    """Absent in documents from radiators before the builds were exported: then the run fields
    (``RunDoc``) describe the last build, and ``running`` says whether one is in flight."""
    in_flight: list[Any] | None = None
    running: bool = False


class FlakyTestDoc(_Payload):
    classname: str | None = None
    name: str
    times_flaked: int = 1
    first_seen: Stamp = None
    last_seen: Stamp = None
    pipelines: list[str] | None = None


class SourceDoc(_Payload):
    name: str
    type: str | None = None
    ok: bool = True
    stale: bool = False
    freshness: str | None = None
    last_success: Stamp = None
    error: str | None = None
    error_kind: str | None = None


SECTIONS = ("pipelines", "services", "deployments", "blockers", "flaky_tests", "sources")
