"""Azure Pipelines' payload shapes (Build REST API 7.1): only the fields the source reads.

Checked against the published spec (``MicrosoftDocs/vsts-rest-api-specs``,
``specification/build/7.1/build.json``: ``Build``, ``TimelineRecord``, ``TimelineAttempt``,
``Change``, ``IdentityRef``) and the reference pages "Builds - List", "Timeline - Get" and
"Builds - Get Build Changes" on learn.microsoft.com.

Lenient by design, since the docs leave out what servers send: every field may be missing,
``null`` or of another type (it then reads as ``None``), list items that are not objects are
skipped, unknown keys are ignored, and enum words stay plain strings so a value Microsoft adds
later is read as "unknown", never as a failed poll. Timestamps stay strings here (7 fractional
digits on Azure DevOps Services, ``0001-01-01T00:00:00`` for "never" in timelines); ``parse``
turns them into times.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from buildradiator.sources.payload import Count, Listed, Nested, Payload, Text


def _objects(value: Any) -> Any:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> Any:
    # triggerInfo is a free-form string map; anything else in it is dropped.
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


class Identity(Payload):
    """``IdentityRef`` (``displayName`` comes from its base, ``GraphSubjectBase``)."""

    displayName: Text = None
    uniqueName: Text = None


class Href(Payload):
    href: Text = None


class Links(Payload):
    """``_links``: ``web`` is the build's page in the browser."""

    web: Nested[Href] = None


class DefinitionRef(Payload):
    id: Count = None
    name: Text = None


class BuildPayload(Payload):
    """One ``Build`` of ``GET {org}/{project}/_apis/build/builds``."""

    id: Count = None
    status: Text = None
    """``none, inProgress, completed, cancelling, postponed, notStarted, all``."""
    result: Text = None
    """``none, succeeded, partiallySucceeded, failed, canceled`` (absent until completed)."""
    definition: Nested[DefinitionRef] = None
    sourceBranch: Text = None
    sourceVersion: Text = None
    requestedFor: Nested[Identity] = None
    requestedBy: Nested[Identity] = None
    queueTime: Text = None
    startTime: Text = None
    finishTime: Text = None
    triggerInfo: Annotated[dict[str, str], BeforeValidator(_strings)] = Field(default_factory=dict)
    """For CI builds: ``ci.message``, ``ci.sourceSha``, ``ci.sourceBranch``..."""
    links: Nested[Links] = Field(default=None, alias="_links")


class BuildList(Payload):
    """The list's envelope: ``{"count": N, "value": [...]}``; the next page's token comes in the
    ``x-ms-continuationtoken`` header."""

    value: Listed[BuildPayload]


class AttemptRef(Payload):
    """``TimelineAttempt``: where an earlier attempt of a record lives."""

    attempt: Count = None


class RecordPayload(Payload):
    """``TimelineRecord``: a Stage, Phase, Job, Task, Checkpoint... of the build's timeline."""

    id: Text = None
    parentId: Text = None
    type: Text = None
    name: Text = None
    identifier: Text = None
    state: Text = None
    """``pending, inProgress, completed``."""
    result: Text = None
    """``succeeded, succeededWithIssues, failed, canceled, skipped, abandoned``."""
    attempt: Count = None
    previousAttempts: Annotated[list[AttemptRef], BeforeValidator(_objects)] = Field(
        default_factory=list
    )
    order: Count = None
    startTime: Text = None
    finishTime: Text = None


class TimelinePayload(Payload):
    """``GET {org}/{project}/_apis/build/builds/{id}/timeline``."""

    records: Annotated[list[RecordPayload], BeforeValidator(_objects)] = Field(default_factory=list)


class ChangePayload(Payload):
    """``Change`` of ``GET .../builds/{id}/changes``: a commit, its message and author."""

    id: Text = None
    message: Text = None
    author: Nested[Identity] = None


class ChangeList(Payload):
    value: Annotated[list[ChangePayload], BeforeValidator(_objects)] = Field(default_factory=list)


class ErrorBody(Payload):
    """What Azure DevOps answers with a 4xx: ``{"message": "TF400813: ...", "typeKey": ...}``."""

    message: Text = None
