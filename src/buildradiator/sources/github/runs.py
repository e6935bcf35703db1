"""What a GitHub Actions run's fields mean: its status and conclusion in our words, the job and
step running now, the web pages an API root belongs to (api-facts section 1)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from buildradiator.model import StageTime, Status
from buildradiator.sources.github.payloads import JobPayload
from buildradiator.sources.stages import stage_times

_MATRIX = re.compile(r"\s*\([^()]*\)$")
"""``test (ubuntu, 3.12)``: the jobs of a matrix run side by side, one stage."""

# --- status vocabulary (api-facts §1) ---------------------------------------------------------

_CONCLUSIONS = {
    "success": Status.PASSED,
    "neutral": Status.PASSED,
    "failure": Status.FAILED,
    "timed_out": Status.FAILED,
    "startup_failure": Status.FAILED,
    "action_required": Status.FAILED,
    "cancelled": Status.CANCELED,
}
# A skipped run (an ``if:`` that did not hold) or a stale one (superseded, never ran) says
# nothing about the health of the branch, so it is left out rather than shown as unknown.
_NO_SIGNAL = {"skipped", "stale"}
_ACTIVE = {
    "in_progress": Status.RUNNING,
    "queued": Status.QUEUED,
    "waiting": Status.QUEUED,
    "requested": Status.QUEUED,
    "pending": Status.QUEUED,
}


def run_status(status: str | None, conclusion: str | None) -> tuple[Status, str | None] | None:
    """Our status and the provider's word for a run (or job); ``None`` for runs to leave out."""
    state = (status or "").lower()
    verdict = (conclusion or "").lower()
    # A conclusion without a status is taken as finished: the conclusion is the stronger fact.
    if state == "completed" or (not state and verdict):
        if verdict in _NO_SIGNAL:
            return None
        if not verdict:
            return Status.UNKNOWN, status
        return _CONCLUSIONS.get(verdict, Status.UNKNOWN), conclusion
    # Statuses GitHub adds later are still "not finished": waiting is the safe reading.
    return _ACTIVE.get(state, Status.QUEUED), status


# --- untrusted text and URLs ------------------------------------------------------------------


def web_base(api_url: str) -> str | None:
    """The web UI's root for an API root: github.com, or a GHES host without ``/api/v3``."""
    parts = urlsplit(api_url)
    if parts.netloc.lower() == "api.github.com":
        return "https://github.com"
    path = parts.path.rstrip("/")
    if path.endswith("/api/v3"):
        return urlunsplit((parts.scheme, parts.netloc, path[: -len("/api/v3")], "", ""))
    return None


def stage_of(jobs: list[JobPayload]) -> str | None:
    """The running job and its current step (``test › Run pytest``), else the first queued job."""
    for job in jobs:
        if (job.status or "").lower() == "in_progress":
            name = job.name or "job"
            step = next(
                (s for s in job.steps or () if (s.status or "").lower() == "in_progress"), None
            )
            return f"{name} › {step.name}" if step and step.name else name
    for job in jobs:
        if _ACTIVE.get((job.status or "").lower()) is Status.QUEUED:
            return job.name
    return None


def stages_of(jobs: list[JobPayload]) -> tuple[StageTime, ...]:
    """A finished run's jobs as its stages (a matrix's jobs as one: ``test``); skipped jobs,
    which have no time, are left out."""
    return stage_times(
        (_MATRIX.sub("", job.name) or job.name if job.name else None, job.started_at,
         job.completed_at)
        for job in jobs
        if (job.conclusion or "").lower() != "skipped"  # it "ran" for no time at all
    )  # fmt: skip
