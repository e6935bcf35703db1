"""Buildkite's words for builds and jobs (api-facts §4), and what a build's jobs tell: the attempt
and the running stage."""

from __future__ import annotations

from buildradiator.model import StageTime, Status
from buildradiator.sources.buildkite.payloads import BuildPayload, JobPayload
from buildradiator.sources.reading import some_names
from buildradiator.sources.stages import stage_times

BLOCKED = "blocked (waiting for unblock)"


# --- status vocabulary (api-facts §4) ---------------------------------------------------------

_FINISHED = {
    "passed": Status.PASSED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELED,
    # A build that waited on another one which failed: it ends there, red.
    "waiting_failed": Status.FAILED,
}
# Skipped (superseded by a newer build, "skip intermediate builds") and not_run (never started)
# say nothing about the health of the branch: left out, as GitHub's skipped runs are.
_NO_SIGNAL = {"skipped", "not_run"}
_ACTIVE = {
    "creating": Status.QUEUED,
    "scheduled": Status.QUEUED,
    "waiting": Status.QUEUED,
    "running": Status.RUNNING,
    # Running but already red: a job failed while others still run.
    "failing": Status.RUNNING,
    # Still winding down; it ends as canceled.
    "canceling": Status.RUNNING,
}
_JOB_RUNNING = {"running", "canceling", "timing_out"}
_JOB_WAITING = {"scheduled", "assigned", "accepted", "pending", "waiting", "limited", "limiting"}


def build_status(
    state: str | None,
    blocked: bool | None,
    blocked_state: str | None,
    finished: bool,
) -> tuple[Status, str | None] | None:
    """Our status and the provider's word for a build; ``None`` for builds to leave out.

    ``finished`` (a ``finished_at`` is present) decides what an unknown state means: a finished
    build we cannot read is unknown, an unfinished one is in flight.
    """
    word = (state or "").lower()
    if blocked or word == "blocked":
        # The build keeps its state; where it says only "blocked", the block step's
        # blocked_state (default "passed") says what the build shows meanwhile.
        verdict = word if word not in ("", "blocked") else (blocked_state or "passed").lower()
        if verdict in _FINISHED:
            status = _FINISHED[verdict]
        elif verdict in _ACTIVE:
            status = _ACTIVE[verdict]
        else:
            status = Status.UNKNOWN if finished else Status.QUEUED
        return status, BLOCKED if verdict == "passed" else f"{verdict}, {BLOCKED}"
    if word in _NO_SIGNAL:
        return None
    if word in _FINISHED:
        return _FINISHED[word], state
    if word in _ACTIVE:
        return _ACTIVE[word], state
    # A state Buildkite adds later: shown as unknown when over, else as waiting.
    return (Status.UNKNOWN if finished else Status.QUEUED), state or None


def attempt_of(jobs: list[JobPayload], rebuilt: bool) -> int:
    """1 + the most retries any step needed; a rebuild of an earlier build is at least 2."""
    retries = max((j.retries_count or 0 for j in jobs), default=0)
    # Some answers carry the retried jobs but no counts: count them per step instead.
    per_step: dict[str, int] = {}
    for job in jobs:
        if job.retried:
            step = job.step_key or job.name or job.label or job.id or "?"
            per_step[step] = per_step.get(step, 0) + 1
    retries = max(retries, *per_step.values()) if per_step else retries
    attempt = 1 + retries
    return max(attempt, 2) if rebuilt else attempt


def stages_of(jobs: list[JobPayload]) -> tuple[StageTime, ...]:
    """A finished build's stages from its jobs (not retried ones): the group a job's step is in
    (``group_key``), else the step (its jobs, parallel ones too, share the label)."""
    return stage_times(
        (j.group_key or j.title, j.started_at, j.finished_at)
        for j in jobs
        if not j.retried and (j.type or "script") not in ("waiter", "manual")
    )


def stage_of(jobs: list[JobPayload], build: BuildPayload) -> str | None:
    """The running script jobs (``unit, lint +2 more``), else the block or the first waiting job."""
    running = [
        j.title
        for j in jobs
        if (j.type or "script") == "script" and (j.state or "").lower() in _JOB_RUNNING
    ]
    if running:
        return some_names(running)
    if build.blocked or (build.state or "").lower() == "blocked":
        block = next(
            (j for j in jobs if (j.type or "") == "manual" and (j.state or "") == "blocked"), None
        )
        return f"waiting for unblock: {block.title}" if block else "waiting for unblock"
    for job in jobs:
        if (job.type or "script") == "script" and (job.state or "").lower() in _JOB_WAITING:
            return job.title
    return None
