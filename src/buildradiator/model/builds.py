"""Continuous integration as every provider's data becomes it: builds, pipelines (a watched
branch), test results and the tests a provider calls flaky itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field

from buildradiator.model.values import MAX_SECONDS, Frozen, Key, Link, Moment, Seconds, Untrusted


class Status(StrEnum):
    """The one vocabulary for pipelines and builds, whatever the provider."""

    PASSED = "passed"
    FAILED = "failed"
    RUNNING = "running"
    QUEUED = "queued"
    CANCELED = "canceled"
    UNKNOWN = "unknown"

    @property
    def in_flight(self) -> bool:
        return self in (Status.RUNNING, Status.QUEUED)


class TestStatus(StrEnum):
    """What became of one test in one run."""

    __test__ = False  # not a pytest test class, despite the name

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    FLAKY = "flaky"
    """Passed, but only after failing within the same build (Surefire ``flakyFailure``)."""


@dataclass(frozen=True, slots=True)
class TestResult:
    """One test in one run, from JUnit XML or a provider's test API."""

    __test__ = False

    name: str
    classname: str
    status: TestStatus
    duration: float | None = None
    """Seconds, when reported."""
    attempt: int = 1
    """1, or 2, 3... when the same test appears again in the same run (a rerun)."""


class StageTime(Frozen):
    """One stage of a finished build and how long it took: the provider's stage (a GitLab stage,
    an Azure Stage record, a Buildkite group or step), else a job. Built by
    ``sources.stages.stage_times``, which leaves out stages without a time."""

    name: Untrusted
    seconds: float = Field(ge=0.0, le=MAX_SECONDS)
    """From its first job's start to its last job's end (jobs of a stage may run in parallel)."""


class Build(Frozen):
    """One build (a workflow run, a pipeline, a Jenkins build...), finished or in flight."""

    source: str
    """The config name of the source that reported it."""
    pipeline: Key
    """The key of the pipeline it belongs to (``Pipeline.key``)."""
    id: Key
    """The provider's id for it, unique within the pipeline."""
    number: int | None = None
    attempt: int = 1
    """1 for the first attempt; GitHub's ``run_attempt``, a Jenkins rebuild, a GitLab retry."""
    branch: Untrusted | None = None
    status: Status
    provider_status: Untrusted | None = None
    """The provider's own finer word, e.g. ``timed_out`` or Jenkins ``UNSTABLE``."""
    created_at: Moment = None
    started_at: Moment = None
    finished_at: Moment = None
    commit: Untrusted | None = None
    author: Untrusted | None = None
    message: Untrusted | None = None
    """The first line of the commit message."""
    url: Link = None
    stage: Untrusted | None = None
    """For builds in flight: the job or stage running now (or waited for)."""
    estimated_seconds: Seconds = None
    """The provider's own estimate of the duration, where it gives one (Jenkins)."""
    stages: tuple[StageTime, ...] = ()
    """A finished build's stages in the order they started; empty when the provider names
    none or gives no times."""

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return max(0.0, (self.finished_at - self.started_at).total_seconds())
        return None


class Pipeline(Frozen):
    """One watched branch of one pipeline: the thing a row of "Main branches" shows."""

    source: str
    key: Key
    """Unique within the source, stable across polls, e.g. ``acme/monolith`` or ``acme/x:ci.yml``."""
    name: Untrusted
    """What the screen calls it."""
    branch: Untrusted | None = None
    url: Link = None
    group: str | None = None
    """The ``[[groups]]`` entry it belongs to, if any (from the config, so trusted)."""
    recent: tuple[Build, ...] = ()
    """Completed builds, newest first (as many as the source fetched)."""
    in_flight: tuple[Build, ...] = ()
    """Running and queued builds, newest first."""

    @property
    def last(self) -> Build | None:
        return self.recent[0] if self.recent else None

    @property
    def status(self) -> Status:
        """The status of the last completed build; ``unknown`` when there is none."""
        return self.recent[0].status if self.recent else Status.UNKNOWN


class TestRun(Frozen):
    """The test results of one finished build (a provider's test API, or JUnit XML)."""

    __test__ = False

    source: str
    pipeline: Key
    build_id: Key
    attempt: int = 1
    commit: Untrusted | None = None
    finished_at: Moment = None
    results: tuple[TestResult, ...] = ()


class ReportedFlake(Frozen):
    """A test a provider itself calls flaky (CircleCI insights, Buildkite Test Engine)."""

    source: str
    pipeline: Key
    """The key of the pipeline it belongs to."""
    classname: Untrusted = ""
    name: Untrusted
    times_flaked: int = 1
    first_seen: Moment = None
    last_seen: Moment = None
    job: Untrusted | None = None
    url: Link = None
