"""Buildkite's answers (REST v2, api-facts §4): only the fields we read; everything a server may
null is optional, and a value of the wrong type is ``None``."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, RootModel

from buildradiator.sources.payload import Count, Flag, Payload, Stamp, Text


class Person(Payload):
    name: Text = None


class Rebuilt(Payload):
    """``rebuilt_from``: only whether a build has one is read."""


class JobPayload(Payload):
    id: Text = None
    type: Text = None
    name: Text = None
    label: Text = None
    step_key: Text = None
    group_key: Text = None
    state: Text = None
    started_at: Stamp = None
    finished_at: Stamp = None
    soft_failed: Flag = None
    retried: Flag = None
    retries_count: Count = None

    @property
    def title(self) -> str:
        return self.name or self.label or self.step_key or "job"


class PipelineRef(Payload):
    slug: Text = None
    name: Text = None
    web_url: Text = None


class BuildPayload(Payload):
    id: str
    number: Count = None
    state: Text = None
    blocked: Flag = None
    blocked_state: Text = None
    web_url: Text = None
    message: Text = None
    commit: Text = None
    branch: Text = None
    creator: Person | None = None
    author: Person | None = None
    created_at: Stamp = None
    scheduled_at: Stamp = None
    started_at: Stamp = None
    finished_at: Stamp = None
    rebuilt_from: Rebuilt | None = None
    pipeline: PipelineRef | None = None
    jobs: list[JobPayload] | None = None


class BuildList(RootModel[list[BuildPayload]]):
    pass


class PipelineList(RootModel[list[PipelineRef]]):
    pass


class Page(RootModel[list[Any]]):
    """One page of a list, before its items are read (each on its own, or all at once)."""


class TooMany(Payload):
    reset: Annotated[float | None, BeforeValidator(lambda v: v if _is_number(v) else None)] = None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
