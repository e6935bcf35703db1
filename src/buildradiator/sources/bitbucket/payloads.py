"""Bitbucket Cloud's pipelines API (REST 2.0) as it answers: only the fields the source reads.

Shapes from the published OpenAPI description of ``https://api.bitbucket.org/2.0`` (schemas
``paginated_pipelines``, ``pipeline``, ``pipeline_state_*``, ``pipeline_step``,
``pipeline_step_state_*``) and from what api.bitbucket.org sends beyond it: ``run_number`` (1,
then 2, 3... for each re-run of the same ``build_number``), ``duration_in_seconds``, a ``name``
on ``trigger`` and on every step, and ``commit.message`` when the commit is expanded.

Everything is lenient, because a radiator that dies on an odd answer is worse than one that
shows "unknown": every field may be missing or null, a value of the wrong type becomes ``None``,
an object that is not an object becomes ``None``, and list items that are not objects are
dropped. States are read by ``name`` and, where the name is missing, by ``type``
(``pipeline_state_completed`` / ``pipeline_state_completed_successful``): ``parse.state_words``
turns both into one vocabulary.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from buildradiator.sources.payload import Count, Listed, Nested, Number, Payload, Stamp, Text

T = TypeVar("T")

# --- lenient field types beyond the shared ones (``sources.payload``) --------------------------

Seconds = Number
"""A number of seconds (finite; a numeric string counts)."""

# --- nested objects ---------------------------------------------------------------------------


class Href(Payload):
    href: Text = None


class Links(Payload):
    html: Nested[Href] = None


class Account(Payload):
    """``creator``: a user, or an app or a team for pipelines started by an integration."""

    display_name: Text = None
    nickname: Text = None
    username: Text = None

    @property
    def shown(self) -> str | None:
        return self.display_name or self.nickname or self.username


class Commit(Payload):
    hash: Text = None
    message: Text = None
    """Only when the commit is expanded (``fields=+values.target.commit.message``)."""
    summary: Nested[dict[str, Any]] = None

    @property
    def text(self) -> str | None:
        if self.message:
            return self.message
        raw = (self.summary or {}).get("raw")
        return raw if isinstance(raw, str) else None


class Target(Payload):
    type: Text = None
    """``pipeline_ref_target``, ``pipeline_commit_target`` or ``pipeline_pullrequest_target``."""
    ref_type: Text = None
    """``branch``, ``tag``, ``named_branch`` or ``bookmark``."""
    ref_name: Text = None
    commit: Nested[Commit] = None


class Trigger(Payload):
    type: Text = None
    """``pipeline_trigger_push``, ``pipeline_trigger_manual``, ``pipeline_trigger_schedule``..."""
    name: Text = None
    """``PUSH``, ``MANUAL``, ``SCHEDULE``... (not in the OpenAPI description; sent anyway)."""


class ErrorInfo(Payload):
    message: Text = None


class Outcome(Payload):
    """``state.result`` of a completed pipeline or step, or ``state.stage`` of one in progress."""

    type: Text = None
    name: Text = None
    error: Nested[ErrorInfo] = None


class State(Payload):
    type: Text = None
    name: Text = None
    result: Nested[Outcome] = None
    stage: Nested[Outcome] = None


# --- the answers ------------------------------------------------------------------------------


class PipelinePayload(Payload):
    """One item of ``GET /repositories/{workspace}/{repo_slug}/pipelines/``."""

    uuid: Text = None
    """``{8-4-4-4-12}``, braces included."""
    build_number: Count = None
    run_number: Count = None
    """1 for the first run; each re-run of the pipeline adds one (same ``uuid`` and number)."""
    creator: Nested[Account] = None
    target: Nested[Target] = None
    trigger: Nested[Trigger] = None
    state: Nested[State] = None
    created_on: Stamp = None
    completed_on: Stamp = None
    duration_in_seconds: Seconds = None
    links: Nested[Links] = None


class StepPayload(Payload):
    """One item of ``GET .../pipelines/{pipeline_uuid}/steps/``."""

    name: Text = None
    """The step's ``name`` from bitbucket-pipelines.yml (absent for unnamed steps)."""
    state: Nested[State] = None
    trigger: Nested[Trigger] = None
    """``pipeline_step_trigger_manual`` for a step that waits for a person [UNCONFIRMED: not in
    the OpenAPI description; read only as a hint]."""
    started_on: Stamp = None


class Page(Payload, Generic[T]):
    """The paging every 2.0 list shares: ``values``, ``page``, ``pagelen``, ``size``, ``next``."""

    values: Listed[T]
    size: Count = None


PipelinePage = Page[PipelinePayload]
StepPage = Page[StepPayload]


class ApiError(Payload):
    """The body of an error answer: ``{"type": "error", "error": {"message", "detail"}}``."""

    error: Nested[dict[str, Any]] = None

    @property
    def message(self) -> str | None:
        found = (self.error or {}).get("message")
        return found if isinstance(found, str) else None
