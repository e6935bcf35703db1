"""CircleCI's words for workflows and jobs (api-facts §5), and what a workflow's jobs tell."""

from __future__ import annotations

from buildradiator.model import StageTime, Status
from buildradiator.sources.base import parse_iso
from buildradiator.sources.circleci.payloads import Job, Workflow
from buildradiator.sources.payload import EPOCH
from buildradiator.sources.reading import Vocabulary
from buildradiator.sources.stages import stage_times

WORKFLOW_WORDS = Vocabulary(
    finished={
        "success": Status.PASSED,
        "failed": Status.FAILED,
        # The config or the infrastructure broke: nothing was verified, the branch is not green.
        "error": Status.FAILED,
        # A restricted context the triggering user may not use: like GitHub's action_required,
        # main is not verified until someone acts.
        "unauthorized": Status.FAILED,
        "canceled": Status.CANCELED,
    },
    active={
        "running": Status.RUNNING,
        # Still running, but a job has already failed: shown as running, with the word "failing".
        "failing": Status.RUNNING,
        # Waiting for someone to approve a hold job.
        "on_hold": Status.QUEUED,
    },
    # A workflow that never ran (filtered out, superseded) says nothing about the branch.
    no_signal=frozenset({"not_run"}),
    shown={"on_hold": "on hold (approval)"},
)
_JOB_FAILED = {"failed", "infrastructure_fail", "timedout", "terminated-unknown", "unauthorized"}
_JOB_WAITING = {"queued", "not_running", "blocked"}


def workflow_status(status: str | None, stopped: bool) -> tuple[Status, str] | None:
    """Our status and CircleCI's word; ``None`` for a workflow to leave out.

    An unknown word is ``unknown`` once the workflow has stopped, in flight (queued) before.
    """
    return WORKFLOW_WORDS.read(status, ended=stopped)


def stage_of(jobs: list[Job]) -> str | None:
    """The running job (``unit-tests +2``), else the hold waiting for approval, else what waits."""
    running = [j.name or "job" for j in jobs if (j.status or "").lower() == "running"]
    if running:
        return running[0] + (f" +{len(running) - 1}" if len(running) > 1 else "")
    for job in jobs:
        if (job.status or "").lower() == "on_hold":
            return f"{job.name or 'hold'} (approval)"
    for job in jobs:
        if (job.status or "").lower() in _JOB_WAITING:
            return job.name
    return None


def stages_of(jobs: list[Job]) -> tuple[StageTime, ...]:
    """A finished workflow's jobs as its stages (CircleCI names no stages; an approval job has
    no start and is left out)."""
    return stage_times((j.name, j.started_at, j.stopped_at) for j in jobs)


def failed_jobs(jobs: list[Job]) -> list[str]:
    return [j.name or "job" for j in jobs if (j.status or "").lower() in _JOB_FAILED]


def ended(status: str | None) -> bool:
    verdict = workflow_status(status, stopped=True)
    return verdict is None or not verdict[0].in_flight


def by_name(workflows: list[Workflow]) -> dict[str, list[Workflow]]:
    """Workflows per name, oldest first: the later ones of a name are its re-runs."""
    named: dict[str, list[Workflow]] = {}
    ordered = sorted(
        enumerate(workflows), key=lambda iw: (parse_iso(iw[1].created_at) or EPOCH, iw[0])
    )
    for _, workflow in ordered:
        named.setdefault(workflow.name or "workflow", []).append(workflow)
    return named


def project_label(slug: str) -> str:
    """``gh/acme/api`` -> ``acme/api``; a ``circleci/<uuid>/<uuid>`` slug stays whole."""
    vcs, _, rest = slug.partition("/")
    return rest if vcs.lower() in ("gh", "github", "bb", "bitbucket") else slug
