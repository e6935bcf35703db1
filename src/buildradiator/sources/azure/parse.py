"""Azure Pipelines answers into the radiator's model: pure functions, no I/O.

Statuses (``Build.status`` and ``Build.result`` of the Build REST API 7.1):

- ``completed`` + ``succeeded`` -> passed.
- ``completed`` + ``partiallySucceeded`` -> **passed**, with the word kept: Azure sets it only
  when a task that failed was marked ``continueOnError``, i.e. the pipeline's own author said that
  failure does not fail the build (like Buildkite's soft failures and GitLab's ``allow_failure``).
- ``completed`` + ``failed`` -> failed; ``canceled`` -> canceled (neither starts nor ends a red
  streak); ``none`` or a word Microsoft adds later -> unknown.
- ``inProgress`` -> running (``failing: unit`` once a job of the current attempt has failed);
  ``cancelling`` -> running until it ends as canceled; ``notStarted`` and ``postponed`` -> queued.
- ``none``, ``all`` (filter values that a server may echo) or an unknown word -> unknown when the
  build has a ``finishTime``, else queued.

The timeline (``_apis/build/builds/{id}/timeline``) gives what the build list does not: the stage
and job running now (``Test › unit +1``; a pending approval check reads ``Deploy › waiting for
approval``) and how many attempts the build took. "Rerun failed jobs" keeps the build id, raises
the ``attempt`` of the records it runs again and lists the earlier ones in ``previousAttempts``;
the build's attempt is the highest any record reached, so a build that went green that way counts
as green only after a retry. Records are a tree (Stage > Phase > Job > Task by ``parentId``);
single-stage YAML pipelines name their one stage ``__default``, which is never shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from buildradiator.model import Build, Pipeline, StageTime, Status, first_line
from buildradiator.sources.azure.payloads import (
    BuildPayload,
    ChangePayload,
    ErrorBody,
    RecordPayload,
    TimelinePayload,
)
from buildradiator.sources.base import parse_iso, safe_url
from buildradiator.sources.payload import EPOCH
from buildradiator.sources.reading import BuildLists, first_of_each, some_names
from buildradiator.sources.stages import stage_times

MAX_ATTEMPT = 50
"""Attempts believed: a record claiming more is a garbage value, not a build retried 10⁹ times."""
DEFAULT_STAGE = "__default"

_RESULTS = {
    "succeeded": Status.PASSED,
    "partiallysucceeded": Status.PASSED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELED,
    "cancelled": Status.CANCELED,
}
_ACTIVE = {
    "inprogress": Status.RUNNING,
    "cancelling": Status.RUNNING,
    "notstarted": Status.QUEUED,
    "postponed": Status.QUEUED,
}
_WORDS = {
    "partiallysucceeded": "partially succeeded",
    "notstarted": "not started",
    "inprogress": "in progress",
}


def branch_ref(branch: str) -> str:
    """The full ref the API filters on: ``main`` -> ``refs/heads/main``; a ref, or a TFVC path
    (``$/Project/Main``, Azure DevOps Server), stays as it is."""
    branch = branch.strip()
    return branch if branch.startswith(("refs/", "$/")) else f"refs/heads/{branch}"


def short_branch(ref: str | None) -> str | None:
    return ref.removeprefix("refs/heads/") if ref else ref


def build_status(
    status: str | None, result: str | None, finished: bool
) -> tuple[Status, str | None]:
    """Our status and the provider's word for a build (see the module's docstring)."""
    word = (status or "").strip().lower()
    outcome = (result or "").strip().lower()
    if word == "completed":
        if outcome in _RESULTS:
            return _RESULTS[outcome], _WORDS.get(outcome, result)
        return Status.UNKNOWN, result or "completed"
    if word in _ACTIVE:
        return _ACTIVE[word], _WORDS.get(word, status)
    if finished:
        # A status we do not know on a build that ended: its result may still say how.
        if outcome in _RESULTS:
            return _RESULTS[outcome], _WORDS.get(outcome, result)
        return Status.UNKNOWN, status or result or None
    return Status.QUEUED, status or None


# --- the timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineFacts:
    """What the radiator reads from one build's timeline."""

    stage: str | None = None
    """The stage and job(s) running now, else what waits next."""
    attempt: int = 1
    """1, or the highest attempt any record of the timeline reached."""
    failing: tuple[str, ...] = ()
    """Jobs of the current attempt that already failed (while the build still runs)."""
    stages: tuple[StageTime, ...] = ()
    """Each Stage's time (its jobs' first start to last end); a job outside one is its own."""


def attempt_of(records: Iterable[RecordPayload]) -> int:
    best = 1
    for record in records:
        tries = [record.attempt or 1, 1 + len(record.previousAttempts)]
        tries += [a.attempt + 1 for a in record.previousAttempts if a.attempt is not None]
        for value in tries:
            if 1 <= value <= MAX_ATTEMPT:
                best = max(best, value)
    return best


class _Tree:
    def __init__(self, records: list[RecordPayload]) -> None:
        self.by_id = {r.id: r for r in records if r.id}

    def chain(self, record: RecordPayload) -> list[RecordPayload]:
        """The record and its parents, nearest first (a cycle or a deep chain is cut short)."""
        found = [record]
        seen = {record.id} if record.id else set()
        while len(found) < 16:
            parent = self.by_id.get(found[-1].parentId or "")
            if parent is None or parent.id in seen:
                break
            seen.add(parent.id or "")
            found.append(parent)
        return found

    def stage_of(self, record: RecordPayload) -> RecordPayload | None:
        return next((r for r in self.chain(record) if _kind(r) == "stage"), None)

    def order(self, record: RecordPayload) -> tuple[list[int], str]:
        """Stage order, then phase order, then the job's own: the order Azure shows them in."""
        return [r.order or 0 for r in reversed(self.chain(record))], record.name or ""


def _kind(record: RecordPayload) -> str:
    return (record.type or "").strip().lower()


def _state(record: RecordPayload) -> str:
    return (record.state or "").strip().lower()


def _stage_name(stage: RecordPayload | None) -> str | None:
    if stage is None:
        return None
    name = stage.name or stage.identifier
    return None if not name or name == DEFAULT_STAGE else name


def _names(jobs: list[RecordPayload]) -> str:
    return some_names((j.name or j.identifier or "job" for j in jobs), more="")


def _within(stage: str | None, text: str) -> str:
    return f"{stage} › {text}" if stage else text


def timeline_facts(timeline: TimelinePayload | None) -> TimelineFacts:
    """Stage, attempt and failing jobs from a timeline (an empty one says nothing)."""
    if timeline is None or not timeline.records:
        return TimelineFacts()
    records = timeline.records
    tree = _Tree(records)
    attempt = attempt_of(records)
    jobs = sorted((r for r in records if _kind(r) == "job"), key=tree.order)
    failing = tuple(
        dict.fromkeys(
            j.name or "job"
            for j in jobs
            if (j.result or "").lower() == "failed" and _state(j) == "completed"
        )
    )
    stages = stage_times(
        (_stage_name(tree.stage_of(j)) or j.name, j.startTime, j.finishTime) for j in jobs
    )
    return TimelineFacts(
        stage=_stage_text(records, jobs, tree), attempt=attempt, failing=failing, stages=stages
    )


def _stage_text(records: list[RecordPayload], jobs: list[RecordPayload], tree: _Tree) -> str | None:
    running = [j for j in jobs if _state(j) == "inprogress"]
    if running:
        stage = tree.stage_of(running[0])
        same = [j for j in running if tree.stage_of(j) is stage]
        return _within(_stage_name(stage), _names(same))
    checks = [r for r in records if _kind(r).startswith("checkpoint") and _state(r) == "inprogress"]
    if checks:
        what = "approval" if any("approval" in _kind(c) for c in checks) else "checks"
        return _within(_stage_name(tree.stage_of(checks[0])), f"waiting for {what}")
    stages = sorted(
        (r for r in records if _kind(r) == "stage" and _state(r) == "inprogress"),
        key=lambda r: r.order or 0,
    )
    if stages and _stage_name(stages[0]):
        return _stage_name(stages[0])
    waiting = [j for j in jobs if _state(j) == "pending"]
    if waiting:
        return _within(
            _stage_name(tree.stage_of(waiting[0])), f"{waiting[0].name or 'job'} (waiting)"
        )
    return None


# --- builds and pipelines -------------------------------------------------------------------------


def web_url(base: str, project: str, build: BuildPayload) -> str | None:
    """The build's page: ``_links.web.href``, else the documented results page."""
    link = build.links.web.href if build.links and build.links.web else None
    found = safe_url(link)
    if found or build.id is None:
        return found
    return safe_url(
        f"{base.rstrip('/')}/{quote(project, safe='')}/_build/results?buildId={build.id}"
    )


def definition_url(base: str, project: str, definition: int) -> str | None:
    return safe_url(
        f"{base.rstrip('/')}/{quote(project, safe='')}/_build?definitionId={definition}"
    )


def message_of(build: BuildPayload, change: ChangePayload | None = None) -> str | None:
    """The commit's subject: ``triggerInfo["ci.message"]`` (CI builds), else the build's change."""
    message = build.triggerInfo.get("ci.message")
    if not message and change is not None and _same_commit(change.id, build.sourceVersion):
        message = change.message
    return first_line(message) if message else None


def _same_commit(change: str | None, built: str | None) -> bool:
    # A build's changes are every commit since the build before, newest first: only the one that
    # was built may lend its message.
    return not change or not built or change.lower() == built.lower()


def _service(name: str) -> bool:
    # Scheduled and triggered builds run on behalf of Azure's own identities
    # ("Microsoft.VisualStudio.Services.TFS", "Project Collection Build Service (acme)"): no one
    # to ask about a red build while a person's name is at hand.
    return name.startswith("Microsoft.VisualStudio.Services.") or "Build Service" in name


def author_of(build: BuildPayload, change: ChangePayload | None = None) -> str | None:
    """On whose behalf it ran (the pusher of a CI build), else the change's author, else who
    queued it; a person before one of Azure's service identities."""
    names = [
        person.displayName or person.uniqueName
        for person in (build.requestedFor, change.author if change else None, build.requestedBy)
        if person is not None and (person.displayName or person.uniqueName)
    ]
    people = [n for n in names if n and not _service(n)]
    return (people or names or [None])[0]


def to_build(
    source: str,
    key: str,
    base: str,
    project: str,
    payload: BuildPayload,
    facts: TimelineFacts | None = None,
    change: ChangePayload | None = None,
) -> Build | None:
    """One model ``Build``; ``None`` for an entry without an id."""
    if payload.id is None:
        return None
    finish = parse_iso(payload.finishTime)
    status, word = build_status(payload.status, payload.result, finish is not None)
    facts = facts or TimelineFacts()
    if (
        status is Status.RUNNING
        and facts.failing
        and (payload.status or "").lower() != "cancelling"
    ):
        word = f"failing: {_names([RecordPayload(name=n) for n in facts.failing])}"
    return Build(
        source=source,
        pipeline=key,
        id=str(payload.id),
        attempt=facts.attempt,
        branch=short_branch(payload.sourceBranch),
        status=status,
        provider_status=word,
        created_at=parse_iso(payload.queueTime),
        started_at=parse_iso(payload.startTime),
        finished_at=None if status.in_flight else finish,
        commit=payload.sourceVersion or payload.triggerInfo.get("ci.sourceSha"),
        author=author_of(payload, change),
        message=message_of(payload, change),
        url=web_url(base, project, payload),
        stage=facts.stage if status.in_flight else None,
        stages=() if status.in_flight else facts.stages,
    )


def newest_first(builds: Iterable[BuildPayload]) -> list[BuildPayload]:
    """Builds with an id, each once, newest queued first (ties: the higher id)."""
    kept = first_of_each((b for b in builds if b.id is not None), lambda b: b.id)
    kept.sort(key=lambda b: (parse_iso(b.queueTime) or EPOCH, b.id or 0), reverse=True)
    return kept


def on_branch(build: BuildPayload, ref: str) -> bool:
    """Whether a build ran on ``ref`` (a server that ignores ``branchName`` sends others too)."""
    return build.sourceBranch is None or build.sourceBranch.lower() == ref.lower()


def by_definition(
    payloads: Iterable[BuildPayload], definitions: Iterable[int]
) -> dict[int, list[BuildPayload]]:
    """The builds of each wanted definition (one list request answers for all of them). A build
    that names no definition can only be placed when one definition was asked for."""
    wanted = list(dict.fromkeys(definitions))
    grouped: dict[int, list[BuildPayload]] = {d: [] for d in wanted}
    for payload in payloads:
        found = payload.definition.id if payload.definition else None
        if found is None and len(wanted) == 1:
            found = wanted[0]
        if found in grouped:
            grouped[found].append(payload)
    return grouped


def pipeline_of(
    source: str,
    base: str,
    project: str,
    definition: int,
    ref: str,
    payloads: list[BuildPayload],
    facts: dict[int, TimelineFacts],
    changes: dict[int, ChangePayload],
) -> Pipeline | None:
    """The row of one definition, from its builds (``by_definition``) that ran on ``ref``;
    ``None`` when it has none."""
    key = f"{project}/{definition}"
    name: str | None = None
    row = BuildLists()
    for payload in newest_first(payloads):
        if not on_branch(payload, ref) or payload.id is None:
            continue
        name = name or (payload.definition.name if payload.definition else None)
        build = to_build(
            source, key, base, project, payload, facts.get(payload.id), changes.get(payload.id)
        )
        if build is not None:
            row.add(build)
    if not row.recent and not row.in_flight:
        return None
    return Pipeline(
        source=source,
        key=key,
        name=name or f"definition {definition}",
        branch=short_branch(ref),
        url=definition_url(base, project, definition),
        recent=tuple(row.recent),
        in_flight=tuple(row.in_flight),
    )


def error_text(body: ErrorBody | None) -> str | None:
    """The server's own words for a refusal (``TF400813: ...``), first line only."""
    if body is None or not body.message:
        return None
    return first_line(body.message) or None
