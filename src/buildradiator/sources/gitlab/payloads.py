"""GitLab's payload shapes (api-facts §2): only the fields the source reads, everything a
server may null optional, unknown fields ignored."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, RootModel

from buildradiator.model import TestStatus
from buildradiator.sources import testreports
from buildradiator.sources.payload import Payload, Stamp, Text
from buildradiator.sources.testreports import Case


def _number_or_none(value: Any) -> Any:
    # Stricter than ``payload.Number``: GitLab sends numbers; a numeric string is not one.
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


Number = Annotated[float | None, BeforeValidator(_number_or_none)]


class PipelineItem(Payload):
    """One entry of ``GET /projects/:id/pipelines``."""

    id: int
    iid: int | None = None
    status: str | None = None
    ref: str | None = None
    sha: str | None = None
    web_url: str | None = None
    created_at: Stamp = None
    updated_at: Stamp = None


class PipelineList(RootModel[list[PipelineItem]]):
    pass


class User(Payload):
    username: str | None = None
    name: str | None = None


class DetailedStatus(Payload):
    group: str | None = None


class PipelineDetail(Payload):
    """``GET /projects/:id/pipelines/:pid``: the list entry plus who and when."""

    user: User | None = None
    started_at: Stamp = None
    finished_at: Stamp = None
    detailed_status: DetailedStatus | None = None


class JobCommit(Payload):
    author_name: str | None = None
    message: str | None = None
    title: str | None = None


class Job(Payload):
    id: int | None = None
    name: str | None = None
    stage: str | None = None
    status: str | None = None
    allow_failure: bool | None = None
    started_at: Stamp = None
    finished_at: Stamp = None
    commit: JobCommit | None = None


class JobList(RootModel[list[Job]]):
    pass


class TestCase(Payload):
    """One entry of a suite's ``test_cases`` (``system_output``/``stack_trace`` are not read)."""

    __test__ = False

    status: Text = None
    name: Text = None
    classname: Text = None
    seconds: Number = Field(default=None, alias="execution_time")


class TestSuite(Payload):
    __test__ = False

    name: Text = None
    cases: list[TestCase | None] | None = Field(default=None, alias="test_cases")


class TestReport(Payload):
    """``GET /projects/:id/pipelines/:pid/test_report``: one suite per job name."""

    __test__ = False

    test_suites: list[TestSuite | None] | None = None


# --- test results -------------------------------------------------------------------------------

CASE_STATUS = {
    "success": TestStatus.PASSED,
    "failed": TestStatus.FAILED,
    "error": TestStatus.FAILED,
    "skipped": TestStatus.SKIPPED,
}
"""GitLab's case words (api-facts §2). An unknown word says neither pass nor fail: left out."""


def report_cases(report: TestReport) -> list[Case]:
    """The cases of a GitLab test report; nameless cases and unknown words are left out."""
    return testreports.report_cases(report.test_suites, CASE_STATUS)


# --- what the jobs say ----------------------------------------------------------------------------
