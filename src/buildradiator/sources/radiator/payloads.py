"""The shapes of a radiator's snapshot document (``export.snapshot_doc``) as this source reads
them: only what it reads; everything may be null."""

from __future__ import annotations

from typing import Any

from buildradiator.sources.payload import Payload, Stamp


class BuildDoc(Payload):
    id: str | int
    number: int | None = None
    attempt: int | None = None
    branch: str | None = None
    status: str | None = None
    provider_status: str | None = None
    stage: str | None = None
    created_at: Stamp = None
    started_at: Stamp = None
    finished_at: Stamp = None
    estimated_seconds: float | None = None
    commit: str | None = None
    author: str | None = None
    message: str | None = None
    url: str | None = None


class PipelineDoc(Payload):
    source: str
    key: str
    name: str | None = None
    branch: str | None = None
    group: str | None = None
    url: str | None = None
    recent: list[Any] | None = None
    """Absent in documents from radiators before the builds were exported: then the
    pipeline-level fields below describe the last build."""
    in_flight: list[Any] | None = None
    status: str | None = None
    provider_status: str | None = None
    running: bool = False
    started_at: Stamp = None
    finished_at: Stamp = None
    commit: str | None = None
    author: str | None = None
    message: str | None = None


class ServiceDoc(Payload):
    source: str
    name: str
    environment: str | None = None
    health: str | None = None
    http_status: int | None = None
    latency_ms: float | None = None
    version: str | None = None
    detail: str | None = None
    checked_at: Stamp = None
    url: str | None = None
    service: str | None = None
    kind: str | None = None
    since: Stamp = None
    severity: str | None = None
    muted: str | None = None
    value: float | None = None
    unit: str | None = None


class DeploymentDoc(Payload):
    source: str
    service: str
    environment: str | None = None
    id: str | int | None = None
    state: str | None = None
    provider_state: str | None = None
    revision: str | None = None
    version: str | None = None
    deployed_at: Stamp = None
    target_revision: str | None = None
    started_at: Stamp = None
    finished_at: Stamp = None
    author: str | None = None
    detail: str | None = None
    url: str | None = None
    repo: str | None = None
    pipeline: str | None = None
    behind_by: int | None = None
    oldest_undeployed_at: Stamp = None
    suspect: str | None = None


class BlockerDoc(Payload):
    source: str
    id: str | int
    title: str
    url: str | None = None
    opened_at: Stamp = None
    author: str | None = None


class FlakyTestDoc(Payload):
    classname: str | None = None
    name: str
    times_flaked: int = 1
    first_seen: Stamp = None
    last_seen: Stamp = None
    pipelines: list[str] | None = None


class SourceDoc(Payload):
    name: str
    type: str | None = None
    ok: bool = True
    stale: bool = False


SECTIONS = ("pipelines", "services", "deployments", "blockers", "flaky_tests", "sources")
