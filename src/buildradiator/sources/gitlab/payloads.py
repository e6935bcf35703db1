"""GitLab's payload shapes (api-facts §2): only the fields the source reads, everything a
server may null optional, unknown fields ignored."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, RootModel

from buildradiator.errors import BadPayload
from buildradiator.model import TestStatus
from buildradiator.sources.payload import Payload, Stamp, Text
from buildradiator.sources.testreports import MAX_CASES, TEST_NAME_LIMIT, Case, seconds
from buildradiator.text import clean_text


def _number_or_none(value: Any) -> Any:
    # Stricter than ``payload.Number``: GitLab sends numbers; a numeric string is not one.
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


Number = Annotated[float | None, BeforeValidator(_number_or_none)]


class PipelineItem(Payload):
    """One entry of ``GET /projects/:id/pipelines``."""

    id: int
    iid: int | None = None
    project_id: int | None = None
    status: str | None = None
    source: str | None = None
    ref: str | None = None
    sha: str | None = None
    name: str | None = None
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
    text: str | None = None


class PipelineDetail(Payload):
    """``GET /projects/:id/pipelines/:pid``: the list entry plus who and when."""

    id: int | None = None
    status: str | None = None
    user: User | None = None
    started_at: Stamp = None
    finished_at: Stamp = None
    duration: Number = None
    detailed_status: DetailedStatus | None = None


class JobCommit(Payload):
    author_name: str | None = None
    message: str | None = None
    title: str | None = None
    short_id: str | None = None


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
    execution_time: Number = None


class TestSuite(Payload):
    __test__ = False

    name: Text = None
    test_cases: list[TestCase | None] | None = None


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
    cases: list[Case] = []
    for suite in report.test_suites or ():
        if suite is None:
            continue
        suite_name = clean_text(suite.name or "", TEST_NAME_LIMIT)
        for case in suite.test_cases or ():
            if case is None:
                continue
            status = CASE_STATUS.get((case.status or "").strip().lower())
            name = clean_text(case.name or "", TEST_NAME_LIMIT)
            if status is None or not name:
                continue
            classname = clean_text(case.classname or "", TEST_NAME_LIMIT) or suite_name
            cases.append(Case(suite_name, classname, name, status, seconds(case.execution_time)))
            if len(cases) > MAX_CASES:
                raise BadPayload(f"test report has more than {MAX_CASES} cases")
    return cases


# --- what the jobs say ----------------------------------------------------------------------------
