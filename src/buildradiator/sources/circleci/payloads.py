"""CircleCI's answers (API v2, api-facts §5): only the fields we read; everything a server may
null is optional."""

from __future__ import annotations

from typing import Generic, TypeVar

from buildradiator.sources.payload import Payload, Stamp

T = TypeVar("T")


class Actor(Payload):
    login: str | None = None


class Trigger(Payload):
    actor: Actor | None = None


class VcsCommit(Payload):
    subject: str | None = None


class Vcs(Payload):
    revision: str | None = None
    branch: str | None = None
    commit: VcsCommit | None = None


class PipelineError(Payload):
    type: str | None = None
    message: str | None = None


class PipelineItem(Payload):
    id: str
    number: int | None = None
    state: str | None = None
    created_at: Stamp = None
    updated_at: Stamp = None
    trigger: Trigger | None = None
    vcs: Vcs | None = None
    errors: list[PipelineError] | None = None


class Workflow(Payload):
    id: str
    name: str | None = None
    status: str | None = None
    created_at: Stamp = None
    stopped_at: Stamp = None
    pipeline_number: int | None = None


class Job(Payload):
    name: str | None = None
    status: str | None = None
    started_at: Stamp = None
    stopped_at: Stamp = None


class Page(Payload, Generic[T]):
    """The paging every v2 list shares: ``items``, and ``next_page_token`` while more follow."""

    items: list[T]
    next_page_token: str | None = None


PipelinePage = Page[PipelineItem]
WorkflowPage = Page[Workflow]
JobPage = Page[Job]
