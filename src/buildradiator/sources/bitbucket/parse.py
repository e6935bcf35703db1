"""Pure functions from Bitbucket's pipelines and steps to the radiator's builds and pipelines.

No I/O: the source fetches, these decide. The vocabulary (checked against the OpenAPI
description of api.bitbucket.org 2.0 and Atlassian's "Differences between Bitbucket pipelines
status from UI and API results"):

- ``state.name``: ``PENDING``, ``IN_PROGRESS`` (``stage.name`` ``RUNNING``, ``PAUSED``; servers
  also send ``HALTED`` and ``BUILDING``), ``COMPLETED`` (``result.name`` ``SUCCESSFUL``,
  ``FAILED``, ``ERROR``, ``STOPPED``, ``EXPIRED``). ``PARSING`` is seen before ``PENDING``.
- Steps: ``PENDING``, ``READY``, ``IN_PROGRESS``, ``COMPLETED`` (results as above plus
  ``NOT_RUN``).

Where ``name`` is missing the ``type`` says the same (``pipeline_state_completed`` with a result
of type ``pipeline_state_completed_failed``); names arrive in any case; a result or stage word
where the state should be (``"state": {"name": "FAILED"}``) is read as what it means.

Verdicts: ``SUCCESSFUL`` green; ``FAILED`` and ``ERROR`` (a broken bitbucket-pipelines.yml, a
system error) red; ``STOPPED`` and ``EXPIRED`` canceled (they say nothing about the code). A
paused pipeline is green when every step that ran passed, none runs and the next one waits for a
person (Bitbucket's own UI calls that "Successful"); any other pause is a build still waiting.
A state nobody documented is in flight while ``completed_on`` is absent, unknown once it is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from buildradiator.model import Build, Pipeline, Status, first_line
from buildradiator.sources.base import parse_iso, parse_model, safe_url
from buildradiator.sources.bitbucket.payloads import (
    PipelinePage,
    PipelinePayload,
    State,
    StepPage,
    StepPayload,
)
from buildradiator.sources.payload import EPOCH
from buildradiator.sources.reading import first_of_each, some_names

RESULTS = frozenset({"SUCCESSFUL", "FAILED", "ERROR", "STOPPED", "EXPIRED", "NOT_RUN"})
STAGES = frozenset({"RUNNING", "BUILDING", "PAUSED", "HALTED"})
_PAUSES = frozenset({"PAUSED", "HALTED"})
_WAITING = frozenset({"PENDING", "READY", "PARSING"})

_FINISHED: Mapping[str, tuple[Status, str]] = {
    "SUCCESSFUL": (Status.PASSED, "successful"),
    "FAILED": (Status.FAILED, "failed"),
    "ERROR": (Status.FAILED, "error"),
    "STOPPED": (Status.CANCELED, "stopped"),
    "EXPIRED": (Status.CANCELED, "expired"),
}


# --- the state vocabulary ---------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """A state read into one vocabulary: upper-case words, ``""`` where nothing was said."""

    state: str = ""
    stage: str = ""
    result: str = ""

    @property
    def paused(self) -> bool:
        return self.state in _PAUSES or self.stage in _PAUSES


def _word(name: str | None, type_: str | None, parents: tuple[str, ...]) -> str:
    """``name`` in upper case, else what ``type`` ends with after one of ``parents``."""
    if name and name.strip():
        return re.sub(r"[^A-Z0-9]+", "_", name.strip().upper()).strip("_")
    text = (type_ or "").strip().lower()
    for parent in parents:
        _, sep, tail = text.partition(parent)
        if sep and tail.strip("_"):
            return re.sub(r"[^a-z0-9]+", "_", tail).strip("_").upper()
    return ""


def state_words(state: State | None) -> Words:
    """The words of a pipeline's or a step's ``state``, whichever way the server put them."""
    if state is None:
        return Words()
    main = _word(state.name, state.type, ("pipeline_step_state_", "pipeline_state_"))
    result = stage = ""
    if state.result is not None:
        result = _word(state.result.name, state.result.type, ("completed_",))
    if state.stage is not None:
        stage = _word(state.stage.name, state.stage.type, ("in_progress_", "pending_", "parsing_"))
    if main in RESULTS and not result:
        main, result = "COMPLETED", main
    elif main in STAGES and not stage:
        main, stage = "IN_PROGRESS", main
    elif not main and result:
        main = "COMPLETED"
    return Words(main, stage, result)


# --- steps ------------------------------------------------------------------------------------


def step_title(step: StepPayload, index: int) -> str:
    return (step.name or "").strip() or f"step {index + 1}"


def _manual(step: StepPayload) -> bool:
    trigger = step.trigger
    if trigger is None:
        return False
    return "manual" in f"{trigger.type or ''} {trigger.name or ''}".lower()


def stage_of(steps: Sequence[StepPayload]) -> str | None:
    """The running steps (``Build, Test +1 more``), else the step waited for, else ``None``."""
    running: list[str] = []
    waiting: tuple[int, StepPayload] | None = None
    for index, step in enumerate(steps):
        words = state_words(step.state)
        if words.state == "IN_PROGRESS":
            running.append(step_title(step, index))
        elif words.state in _WAITING and waiting is None:
            waiting = (index, step)
    if running:
        return some_names(running)
    if waiting is not None:
        index, step = waiting
        title = step_title(step, index)
        return f"waiting for manual step {title}" if _manual(step) else title
    return None


def waits_for_a_person(steps: Sequence[StepPayload]) -> str | None:
    """The manual step a paused pipeline waits for, when every step before it passed and
    nothing runs; else ``None`` (then the pause is not known to be a green one)."""
    for index, step in enumerate(steps):
        words = state_words(step.state)
        if words.state == "COMPLETED":
            if words.result not in ("SUCCESSFUL", "NOT_RUN"):
                return None
            continue
        if words.state in _WAITING and _manual(step):
            return step_title(step, index)
        return None
    return None


# --- one pipeline -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    status: Status
    word: str
    stage: str | None = None


def verdict(words: Words, completed: bool, steps: Sequence[StepPayload] | None = None) -> Verdict:
    """Our status, the provider's word and (in flight) the stage, for one pipeline."""
    if words.state == "COMPLETED" or (words.result and not words.paused):
        if words.result in _FINISHED:
            status, word = _FINISHED[words.result]
            return Verdict(status, word)
        return Verdict(Status.UNKNOWN, (words.result or "completed").lower())
    if words.paused:
        how = "halted" if "HALTED" in (words.state, words.stage) else "paused"
        manual = waits_for_a_person(steps) if steps else None
        if manual is not None:
            return Verdict(Status.PASSED, f"{how} (waiting for manual step {manual})")
        return Verdict(Status.QUEUED, how, (stage_of(steps) if steps else None) or how)
    if words.state == "IN_PROGRESS":
        return Verdict(Status.RUNNING, "in progress", stage_of(steps) if steps else None)
    if words.state in _WAITING:
        return Verdict(Status.QUEUED, words.state.lower(), stage_of(steps) if steps else None)
    # A state Bitbucket adds later: waiting while not completed, unknown once it is.
    word = (words.state or "unknown").lower()
    if completed:
        return Verdict(Status.UNKNOWN, word)
    return Verdict(Status.QUEUED, word, stage_of(steps) if steps else None)


def needs_steps(payload: PipelinePayload) -> bool:
    """Whether the steps say more than the pipeline: it is in flight, or paused."""
    words = state_words(payload.state)
    if words.paused:
        return True
    if words.state == "COMPLETED" or words.result:
        return False
    return payload.completed_on is None


def on_branch(payload: PipelinePayload, branch: str) -> bool:
    """Built for ``branch`` itself: pull-request pipelines and commit targets are left out."""
    target = payload.target
    if target is None or "pullrequest" in (target.type or "").lower():
        return False
    if (target.ref_type or "branch").lower() not in ("branch", "named_branch"):
        return False
    return target.ref_name == branch


def _started(
    payload: PipelinePayload, steps: Sequence[StepPayload] | None, created: datetime | None
) -> datetime | None:
    found = [t for s in steps or () if (t := parse_iso(s.started_on)) is not None]
    if found:
        return min(found)
    completed = parse_iso(payload.completed_on)
    seconds = payload.duration_in_seconds
    if completed is not None and seconds is not None and 0 <= seconds <= 30 * 86400:
        began = completed - timedelta(seconds=seconds)
        return max(began, created) if created is not None else began
    return created


_TRIGGERS = {"manual": "started by hand", "schedule": "scheduled"}


def _trigger_note(payload: PipelinePayload) -> str:
    trigger = payload.trigger
    if trigger is None:
        return ""
    said = f"{trigger.name or ''} {trigger.type or ''}".lower()
    for word, note in _TRIGGERS.items():
        if word in said:
            return f", {note}"
    return ""


def commit_hash(payload: PipelinePayload) -> str | None:
    commit = payload.target.commit if payload.target else None
    return commit.hash if commit and commit.hash else None


def build_id(payload: PipelinePayload) -> str | None:
    if payload.uuid and payload.uuid.strip():
        return payload.uuid.strip()
    if payload.build_number is not None:
        return f"#{payload.build_number}"
    return None


def to_build(
    payload: PipelinePayload,
    *,
    source: str,
    key: str,
    steps: Sequence[StepPayload] | None = None,
    page_url: str | None = None,
    message: str | None = None,
) -> Build | None:
    """One pipeline run as a ``Build``; ``None`` for one without a uuid or a number.
    ``message`` is the commit's message when the answer does not carry it."""
    ident = build_id(payload)
    if ident is None:
        return None
    completed = payload.completed_on is not None
    found = verdict(state_words(payload.state), completed, steps)
    word = found.word
    state = payload.state
    error = state.result.error if state and state.result else None
    if error is not None and error.message:
        word = f"{word}: {first_line(error.message)}"
    word += _trigger_note(payload)
    target = payload.target
    commit = target.commit if target else None
    created = parse_iso(payload.created_on)
    in_flight = found.status.in_flight
    links = payload.links
    url = safe_url(links.html.href if links and links.html else None) or page_url
    return Build(
        source=source,
        pipeline=key,
        id=ident,
        number=payload.build_number,
        attempt=max(1, payload.run_number or 1),
        branch=target.ref_name if target else None,
        status=found.status,
        provider_status=word,
        created_at=created,
        started_at=_started(payload, steps, created),
        finished_at=None if in_flight else parse_iso(payload.completed_on),
        commit=commit.hash if commit else None,
        author=payload.creator.shown if payload.creator else None,
        message=first_line((commit.text if commit else None) or message) or None,
        url=url,
        stage=found.stage if in_flight else None,
    )


def newest_first(payloads: Sequence[PipelinePayload]) -> list[PipelinePayload]:
    """Unique by uuid (or number), newest first: a server that ignores ``sort`` changes nothing."""
    known = [p for p in payloads if build_id(p) is not None]
    unique = first_of_each(known, build_id)
    unique.sort(key=lambda p: (parse_iso(p.created_on) or EPOCH, p.build_number or 0), reverse=True)
    return unique


def to_pipeline(
    payloads: Sequence[PipelinePayload],
    *,
    source: str,
    key: str,
    name: str,
    branch: str,
    url: str | None = None,
    steps: Mapping[str, Sequence[StepPayload]] | None = None,
    page_url: Callable[[PipelinePayload], str | None] | None = None,
    earlier: Mapping[str, Build] | None = None,
    messages: Mapping[str, str] | None = None,
) -> Pipeline | None:
    """The builds on ``branch`` of one repository; ``None`` when there are none.

    ``steps`` maps a build id to its steps (read for the builds in flight or paused);
    ``page_url(payload)`` gives a build's page when the answer carries no link. ``earlier`` maps a
    build id to how that build last finished: a re-run replaces its pipeline's finished state in
    the API's answer, but until the re-run has finished, the run before it is still main's last
    word (a red main stays red while its re-run runs; never greener than the truth).
    ``messages`` maps a commit hash to its message, for answers that leave it out.
    """
    recent: list[Build] = []
    in_flight: list[Build] = []
    for payload in newest_first([p for p in payloads if on_branch(p, branch)]):
        ident = build_id(payload) or ""
        build = to_build(
            payload,
            source=source,
            key=key,
            steps=(steps or {}).get(ident),
            page_url=page_url(payload) if page_url else None,
            message=(messages or {}).get(commit_hash(payload) or ""),
        )
        if build is None:
            continue
        if not build.status.in_flight:
            recent.append(build)
            continue
        in_flight.append(build)
        before = (earlier or {}).get(ident)
        if before is not None and not before.status.in_flight and before.attempt < build.attempt:
            recent.append(before)
    if not recent and not in_flight:
        return None
    return Pipeline(
        source=source,
        key=key,
        name=name,
        branch=branch,
        url=url,
        recent=tuple(recent),
        in_flight=tuple(in_flight),
    )


# --- whole answers ----------------------------------------------------------------------------


def parse_pipelines(data: Any) -> PipelinePage:
    """A page of pipelines; ``BadPayload`` when the answer is not an object at all."""
    return parse_model(PipelinePage, data)


def parse_steps(data: Any) -> list[StepPayload]:
    return list(parse_model(StepPage, data).values)
