"""Buildbot's answers (REST API v2, api-facts §7): only the fields we read; anything may be null,
missing, or of another type (then it is unknown, not a failed poll)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from buildradiator.sources.payload import Number, Payload, Text


def _properties(value: Any) -> Any:
    # {name: [value, source]}; anything else (a bare value, a null) is dropped, not a failed poll.
    if not isinstance(value, dict):
        return {}
    return {k: v[0] for k, v in value.items() if isinstance(k, str) and isinstance(v, list) and v}


def _tags(value: Any) -> Any:
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


Properties = Annotated[dict[str, Any], BeforeValidator(_properties)]
Tags = Annotated[list[str], BeforeValidator(_tags)]


class Meta(Payload):
    total: Number = None


class BuilderPayload(Payload):
    builderid: int
    name: Text = None
    tags: Tags = []


class BuildersPage(Payload):
    builders: list[BuilderPayload]
    meta: Meta | None = None


class BuildPayload(Payload):
    buildid: int
    number: Number = None
    builderid: Number = None
    buildrequestid: Number = None
    started_at: Number = None
    complete_at: Number = None
    complete: bool | None = None
    results: Number = None
    state_string: Text = None
    properties: Properties = {}


class BuildsPage(Payload):
    builds: list[BuildPayload]


class RequestPayload(Payload):
    buildrequestid: int
    builderid: Number = None
    submitted_at: Number = None


class RequestsPage(Payload):
    buildrequests: list[RequestPayload]


class ChangePayload(Payload):
    author: Text = None
    comments: Text = None
    revision: Text = None
    branch: Text = None


class ChangesPage(Payload):
    changes: list[ChangePayload]
