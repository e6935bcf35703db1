"""Workflow runs: the plan of what will happen to a run, and what the API shows of it at a moment.

A ``RunPlan`` fixes every attempt, job and step in advance; ``run_state`` reads it at a point in
time, which is how the simulator can answer any moment (and any earlier attempt) consistently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Person:
    name: str
    login: str

    @property
    def email(self) -> str:
        return f"{self.login}@acme.example"


@dataclass(frozen=True)
class Repo:
    full_name: str
    index: int
    workflow_id: int
    workflow_name: str
    workflow_file: str
    jobs: tuple[str, ...]
    history_seconds: tuple[float, float]
    """Duration range of the past runs (the radiator's ETA comes from these)."""
    number_base: int

    @property
    def workflow_path(self) -> str:
        return f".github/workflows/{self.workflow_file}"


_MAIN_STEP = {
    "build": "Run make build",
    "integration": "Run ./gradlew integrationTest",
    "lint": "Run ruff check .",
    "test": "Run make test",
    "package": "Run docker build .",
    "deploy": "Run ./deploy.sh production",
}


# -- plans: what will happen ------------------------------------------------------------------


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    author: Person
    timestamp: datetime


@dataclass(frozen=True)
class JobPlan:
    name: str
    start: datetime
    end: datetime
    conclusion: str
    """``success``, ``failure``, or ``skipped`` (a job after a failed one never runs)."""

    @property
    def steps(self) -> tuple[str, ...]:
        if self.conclusion == "skipped":
            return ()
        main = _MAIN_STEP.get(self.name, f"Run {self.name}")
        return (
            "Set up job",
            "Run actions/checkout@v4",
            main,
            "Post Run actions/checkout@v4",
            "Complete job",
        )


@dataclass(frozen=True)
class AttemptPlan:
    number: int
    queued_at: datetime
    jobs: tuple[JobPlan, ...]
    triggered_by: Person

    @property
    def started_at(self) -> datetime:
        return self.jobs[0].start

    @property
    def ended_at(self) -> datetime:
        return self.jobs[-1].end


@dataclass(frozen=True)
class RunPlan:
    id: int
    repo: Repo
    number: int
    branch: str
    event: str
    commit: Commit
    actor: Person
    attempts: tuple[AttemptPlan, ...]

    @property
    def created_at(self) -> datetime:
        return self.attempts[0].queued_at


def attempt_plan(
    number: int,
    queued_at: datetime,
    queue_seconds: float,
    jobs: list[tuple[str, float, bool]],
    triggered_by: Person,
) -> AttemptPlan:
    """Jobs run one after the other; after a failed job the rest are skipped at once."""
    planned: list[JobPlan] = []
    at = queued_at + timedelta(seconds=queue_seconds)
    failed = False
    for name, seconds, ok in jobs:
        if failed:
            planned.append(JobPlan(name, at, at, "skipped"))
            continue
        end = at + timedelta(seconds=seconds)
        planned.append(JobPlan(name, at, end, "success" if ok else "failure"))
        failed = not ok
        at = end
    return AttemptPlan(number, queued_at, tuple(planned), triggered_by)


# -- states: what the API shows at one moment --------------------------------------------------


@dataclass(frozen=True)
class StepState:
    name: str
    number: int
    status: str
    conclusion: str | None
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class JobState:
    id: int
    name: str
    attempt: int
    status: str
    conclusion: str | None
    created_at: datetime
    started_at: datetime
    completed_at: datetime | None
    steps: tuple[StepState, ...]


@dataclass(frozen=True)
class RunState:
    plan: RunPlan
    attempt: int
    status: str
    conclusion: str | None
    created_at: datetime
    updated_at: datetime
    run_started_at: datetime
    triggered_by: Person
    jobs: tuple[JobState, ...]
    """The jobs of every attempt so far (``filter=all``); ``latest_jobs`` has the current ones."""

    @property
    def latest_jobs(self) -> tuple[JobState, ...]:
        return tuple(job for job in self.jobs if job.attempt == self.attempt)


def _step_states(job: JobPlan, now: datetime) -> tuple[StepState, ...]:
    names = job.steps
    if not names or now < job.start:
        return ()
    span = (job.end - job.start) / len(names)
    states = []
    for i, name in enumerate(names):
        start, end = job.start + span * i, job.start + span * (i + 1)
        if now >= end or now >= job.end:
            # Only the job's own command fails; cleanup steps still run and pass.
            conclusion = job.conclusion if i == 2 else "success"
            states.append(StepState(name, i + 1, "completed", conclusion, start, end))
        elif now >= start:
            states.append(StepState(name, i + 1, "in_progress", None, start, None))
        else:
            states.append(StepState(name, i + 1, "queued", None, None, None))
    return tuple(states)


def _job_state(run_id: int, attempt: AttemptPlan, index: int, now: datetime) -> JobState:
    job = attempt.jobs[index]
    job_id = run_id * 100 + attempt.number * 10 + index
    if now >= job.end:
        status, conclusion, started, completed = "completed", job.conclusion, job.start, job.end
    elif now >= job.start:
        status, conclusion, started, completed = "in_progress", None, job.start, None
    else:
        # GitHub already fills started_at for a queued job (with the time it was queued).
        status, conclusion, started, completed = "queued", None, attempt.queued_at, None
    return JobState(
        job_id,
        job.name,
        attempt.number,
        status,
        conclusion,
        attempt.queued_at,
        started,
        completed,
        _step_states(job, now),
    )


def run_state(plan: RunPlan, now: datetime, attempt: int | None = None) -> RunState | None:
    """The run as the API shows it at ``now`` (or as it ended ``attempt``); None before it exists."""
    attempts = [a for a in plan.attempts if a.queued_at <= now]
    if attempt is not None:
        if not 1 <= attempt <= len(attempts):
            return None
        if attempt < len(attempts):
            # An earlier attempt is over for good once a later one was queued.
            now = attempts[attempt - 1].ended_at
        attempts = attempts[:attempt]
    if not attempts:
        return None
    current = attempts[-1]
    if now < current.started_at:
        status: str = "queued"
    elif now < current.ended_at:
        status = "in_progress"
    else:
        status = "completed"
    conclusion = None
    if status == "completed":
        failed = any(job.conclusion == "failure" for job in current.jobs)
        conclusion = "failure" if failed else "success"
    events = [current.queued_at] + [
        t for job in current.jobs for t in (job.start, job.end) if t <= now
    ]
    jobs = tuple(
        _job_state(plan.id, a, i, now if a is current else a.ended_at)
        for a in attempts
        for i in range(len(a.jobs))
    )
    return RunState(
        plan,
        current.number,
        status,
        conclusion,
        plan.created_at,
        max(events),
        current.queued_at,
        current.triggered_by,
        jobs,
    )
