"""GitLab's words for pipelines and jobs (api-facts §2), what a pipeline's jobs tell (attempts,
allowed failures, the running stage), what a lookup adds, and reading the list of pipelines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit

from buildradiator.model import Build, StageTime, Status
from buildradiator.sources.base import parse_iso, safe_url
from buildradiator.sources.gitlab.payloads import Job, PipelineItem
from buildradiator.sources.reading import Vocabulary
from buildradiator.sources.stages import stage_times

ACTIVE = {
    "created": Status.QUEUED,
    "waiting_for_resource": Status.QUEUED,
    "preparing": Status.QUEUED,
    "pending": Status.QUEUED,
    "scheduled": Status.QUEUED,
    # Blocked until someone plays a manual job: it waits, it has not failed.
    "manual": Status.QUEUED,
    "running": Status.RUNNING,
    "canceling": Status.RUNNING,
    "waiting_for_callback": Status.RUNNING,
}
PIPELINE_WORDS = Vocabulary(
    finished={"success": Status.PASSED, "failed": Status.FAILED, "canceled": Status.CANCELED},
    active=ACTIVE,
    # A skipped pipeline (every job ruled out) says nothing about the health of the ref.
    no_signal=frozenset({"skipped"}),
)
_JOB_RUNNING = {"running", "canceling", "waiting_for_callback"}
_JOB_WAITING = ("pending", "preparing", "waiting_for_resource", "created", "scheduled", "manual")


def pipeline_status(status: str | None, finished: bool = False) -> tuple[Status, str] | None:
    """Our status and GitLab's word; ``None`` for a pipeline to leave out.

    An unknown word is taken as in flight (api-facts: newer servers add waiting states), unless
    the pipeline's detail says it has finished, then it is ``unknown``.
    """
    return PIPELINE_WORDS.read(status, ended=finished)


def latest_jobs(jobs: list[Job]) -> list[Job]:
    """The newest job of each name, in creation order. With ``include_retried=true`` the older
    jobs of a name are the ones that were retried (there is no ``retried`` flag)."""
    ordered = sorted(
        enumerate(jobs), key=lambda ij: (ij[1].id if ij[1].id is not None else -1, ij[0])
    )
    newest: dict[str, Job] = {}
    for _, job in ordered:
        newest[job.name or f"job {job.id}"] = job
    return sorted(newest.values(), key=lambda j: j.id if j.id is not None else -1)


def attempts_of(jobs: list[Job]) -> int:
    """1 + the most times any one job was retried."""
    counts: dict[str, int] = {}
    for job in jobs:
        name = job.name or f"job {job.id}"
        counts[name] = counts.get(name, 0) + 1
    return max(counts.values(), default=1)


def allowed_failures(jobs: list[Job]) -> list[str]:
    """Names of the jobs that failed but were allowed to (their latest attempt)."""
    return [
        job.name or f"job {job.id}"
        for job in latest_jobs(jobs)
        if job.allow_failure and (job.status or "").lower() == "failed"
    ]


def stages_of(jobs: list[Job]) -> tuple[StageTime, ...]:
    """The stages of a finished pipeline from its latest jobs (a retried job's earlier run
    is retry time, counted apart); a job without a stage is its own."""
    return stage_times((j.stage or j.name, j.started_at, j.finished_at) for j in latest_jobs(jobs))


def stage_of(jobs: list[Job]) -> str | None:
    """``test › rspec`` for the running job (``+2`` more in the stage), else what waits next."""
    latest = latest_jobs(jobs)
    running = [j for j in latest if (j.status or "").lower() in _JOB_RUNNING]
    if running:
        stage = running[0].stage
        same = [j for j in running if j.stage == stage]
        text = same[0].name or "job"
        if len(same) > 1:
            text += f" +{len(same) - 1}"
        return f"{stage} › {text}" if stage else text
    for job in latest:
        word = (job.status or "").lower()
        if word in _JOB_WAITING:
            text = job.name or "job"
            if word in ("manual", "scheduled"):
                text += f" ({word})"
            return f"{job.stage} › {text}" if job.stage else text
    return None


@dataclass(frozen=True)
class Extra:
    """What a lookup added to one pipeline of the list."""

    started_at: datetime | None = None
    finished_at: datetime | None = None
    finished: bool = False
    user: str | None = None
    author: str | None = None
    message: str | None = None
    attempt: int = 1
    allowed: tuple[str, ...] = ()
    warnings: bool = False
    stage: str | None = None
    stages: tuple[StageTime, ...] = ()
    """A finished pipeline's stages (GitLab's ``stage`` of its latest jobs) and their times."""
    complete: bool = True
    """Both the detail and the jobs were read (only a complete lookup is remembered)."""


def in_flight(item: PipelineItem) -> bool:
    verdict = pipeline_status(item.status)
    return verdict is not None and verdict[0].in_flight


def first_red(shown: list[tuple[PipelineItem, tuple[Status, str]]]) -> list[PipelineItem]:
    """The oldest failed pipeline of the current red streak: who turned the ref red."""
    first: PipelineItem | None = None
    for item, (status, _) in shown:
        if status.in_flight or status is Status.CANCELED:
            continue
        if status is not Status.FAILED:
            break
        first = item
    return [first] if first else []


def project_page(web_url: str | None) -> str | None:
    """``https://gitlab.com/g/p/-/pipelines/7`` -> ``https://gitlab.com/g/p/-/pipelines``."""
    url = safe_url(web_url)
    if url and "/-/pipelines/" in url:
        return url.split("/-/pipelines/", 1)[0] + "/-/pipelines"
    return None


def with_ref(page: str | None, ref: str) -> str | None:
    return f"{page}?ref={quote(ref, safe='')}" if page else None


def project_name(project: str, items: list[PipelineItem], api_url: str) -> str:
    """The configured path; for a numeric id, the path its pipelines' links show (without the
    prefix of a server installed under a sub-path, ``https://host/gitlab/api/v4``)."""
    if not project.isdigit():
        return project
    api = urlsplit(api_url)
    root = api.path.rstrip("/").removesuffix("/api/v4")
    for item in items:
        page = project_page(item.web_url)
        if page:
            parts = urlsplit(page)
            path = parts.path.removesuffix("/-/pipelines")
            if root and parts.netloc == api.netloc and path.startswith(root + "/"):
                path = path[len(root) :]
            if path.strip("/"):
                return path.strip("/")
    return f"project {project}"


def build_of(
    source: str,
    project: str,
    item: PipelineItem,
    status: Status,
    word: str,
    extra: Extra | None,
) -> Build:
    """One pipeline of the list as a build, with what its lookup added (if any)."""
    extra = extra or Extra(complete=False)
    created = parse_iso(item.created_at)
    if status is Status.PASSED and extra.allowed:
        word = "passed with allowed failures: " + ", ".join(extra.allowed)
    elif status is Status.PASSED and extra.warnings:
        word = "passed with warnings"
    finished = None
    if not status.in_flight:
        # The list has no finish time; updated_at stops moving once the pipeline ended.
        finished = extra.finished_at or parse_iso(item.updated_at)
    return Build(
        source=source,
        pipeline=project,
        id=str(item.id),
        number=item.iid if item.iid is not None else item.id,
        attempt=extra.attempt,
        branch=item.ref,
        status=status,
        provider_status=word,
        created_at=created,
        started_at=extra.started_at or created,
        finished_at=finished,
        commit=item.sha,
        author=extra.author or extra.user,
        message=extra.message,
        url=safe_url(item.web_url),
        stage=extra.stage if status.in_flight else None,
        stages=() if status.in_flight else extra.stages,
    )
