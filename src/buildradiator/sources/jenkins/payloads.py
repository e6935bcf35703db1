"""Jenkins' answers (api-facts §3): only the fields we read; anything may be null or missing, and a
number may come as a string (a proxy, a plugin)."""

from __future__ import annotations

from pydantic import Field

from buildradiator.model import (
    TestResult,
    TestStatus,
)
from buildradiator.sources.payload import Number, Payload, Text
from buildradiator.sources.testreports import fold_results, report_cases


class Person(Payload):
    fullName: Text = None


class ChangeItem(Payload):
    commitId: Text = None
    msg: Text = None
    comment: Text = None
    author: Person | None = None


class ChangeSet(Payload):
    items: list[ChangeItem] | None = None


class Cause(Payload):
    cls: Text = Field(default=None, alias="_class")
    shortDescription: Text = None
    userName: Text = None
    upstreamBuild: Number = None


class BranchRef(Payload):
    name: Text = None


class Revision(Payload):
    SHA1: Text = None
    branch: list[BranchRef] | None = None


class Action(Payload):
    causes: list[Cause] | None = None
    lastBuiltRevision: Revision | None = None


class BuildPayload(Payload):
    number: Number = None
    url: Text = None
    result: Text = None
    building: bool | None = None
    timestamp: Number = None
    duration: Number = None
    estimatedDuration: Number = None
    culprits: list[Person | None] | None = None
    changeSets: list[ChangeSet | None] | None = None
    changeSet: ChangeSet | None = None
    actions: list[Action | None] | None = None


class QueueItem(Payload):
    id: Number = None
    why: Text = None
    blocked: bool | None = None
    stuck: bool | None = None
    inQueueSince: Number = None


class ChildJob(Payload):
    name: Text = None


class CasePayload(Payload):
    classname: Text = Field(default=None, alias="className")
    name: Text = None
    status: Text = None
    seconds: Number = Field(default=None, alias="duration")
    """Seconds (a float), unlike the build's milliseconds."""


class SuitePayload(Payload):
    name: Text = None
    cases: list[CasePayload | None] | None = None


class ReportPayload(Payload):
    """``/job/.../{n}/testReport/api/json``: a ``hudson.tasks.junit.TestResult``."""

    suites: list[SuitePayload | None] | None = None


CASE_STATUS = {
    "passed": TestStatus.PASSED,
    "fixed": TestStatus.PASSED,  # passed; failed in the build before
    "failed": TestStatus.FAILED,
    "regression": TestStatus.FAILED,  # failed; passed in the build before
    "skipped": TestStatus.SKIPPED,
}
"""Jenkins' case words (api-facts §3). An unknown word says neither pass nor fail: left out."""


def report_results(report: ReportPayload) -> tuple[TestResult, ...]:
    """The results of one Jenkins test report; nameless cases and unknown words are left out."""
    return fold_results(report_cases(report.suites, CASE_STATUS))


class JobPayload(Payload):
    url: Text = None
    inQueue: bool | None = None
    nextBuildNumber: Number = None
    queueItem: QueueItem | None = None
    builds: list[BuildPayload | None] | None = None
    jobs: list[ChildJob | None] | None = None


_ITEM = "items[commitId,msg,comment,author[fullName]]"


def tree_for(builds: int) -> str:
    """The ``tree=`` of the one request per job: every field the radiator reads, nothing else."""
    build = (
        "number,url,result,building,timestamp,duration,estimatedDuration,"
        f"culprits[fullName],changeSets[{_ITEM}],changeSet[{_ITEM}],"
        "actions[causes[shortDescription,userId,userName,upstreamBuild],"
        "lastBuiltRevision[SHA1,branch[name]]]"
    )
    return (
        "name,url,inQueue,nextBuildNumber,queueItem[id,why,blocked,stuck,inQueueSince],"
        f"jobs[name],builds[{build}]{{0,{builds}}}"
    )
