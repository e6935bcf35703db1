"""Argo CD's applications (``/api/v1/applications``, api-facts §8): only the fields read, all
optional (a just-created app has no status)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from buildradiator.sources.base import Stamp
from buildradiator.sources.payload import Payload


def _word(value: Any) -> Any:
    # An enum that arrives as a number or a bool is shown as the word it is, not a failed poll.
    if isinstance(value, bool) or value is None:
        return None if value is None else str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) else None


Word = Annotated[str | None, BeforeValidator(_word)]


class Metadata(Payload):
    name: Word = None
    namespace: Word = None


class AppSource(Payload):
    repoURL: Word = None
    targetRevision: Word = None


class Spec(Payload):
    source: AppSource | None = None
    sources: list[AppSource] | None = None
    """Multi-source applications (Argo CD 2.6+) have these instead of ``source``."""


class HealthPayload(Payload):
    status: Word = None
    message: Word = None
    lastTransitionTime: Stamp = None


class SyncPayload(Payload):
    status: Word = None
    revision: Word = None
    revisions: list[Word] | None = None


class HistoryEntry(Payload):
    id: int | None = None
    revision: Word = None
    revisions: list[Word] | None = None
    deployedAt: Stamp = None
    source: AppSource | None = None
    sources: list[AppSource] | None = None


class SyncRequest(Payload):
    revision: Word = None
    revisions: list[Word] | None = None


class Initiator(Payload):
    username: Word = None
    automated: bool | None = None


class Operation(Payload):
    sync: SyncRequest | None = None
    initiatedBy: Initiator | None = None


class SyncResult(Payload):
    revision: Word = None
    revisions: list[Word] | None = None


class OperationState(Payload):
    phase: Word = None
    message: Word = None
    startedAt: Stamp = None
    finishedAt: Stamp = None
    syncResult: SyncResult | None = None
    operation: Operation | None = None


class Status(Payload):
    health: HealthPayload | None = None
    sync: SyncPayload | None = None
    history: list[HistoryEntry] | None = None
    operationState: OperationState | None = None
    controllerNamespace: Word = None


class Application(Payload):
    metadata: Metadata | None = None
    spec: Spec | None = None
    status: Status | None = None
    operation: Operation | None = None
    """A sync asked for (by a user or auto-sync) that the controller has not started yet; it
    stays set while the sync runs and is cleared when it ends."""


class ApplicationList(Payload):
    # ``null`` when there are no applications (grpc-gateway drops empty lists to null).
    items: list[Any] | None = None
