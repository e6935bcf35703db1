"""Jenkins: jobs by name, jobs in folders, and the branches of multibranch jobs.

One request per job per poll: ``/job/a/job/b/api/json?tree=...`` asks for the newest
``builds`` with everything the radiator shows (result, times, estimate, culprits, change sets,
causes, the built revision) plus the job's queue item. Jenkins has no stage in that answer (a
Pipeline's stages need ``wfapi``, one more request per running build), so a running build shows
its progress from ``estimatedDuration`` instead, and a queued one shows the queue's reason.

Statuses (api-facts §3). Jenkins keeps five results distinct and so do we, via
``provider_status`` (Jenkins' own upper-case word):

- ``SUCCESS`` -> passed.
- ``UNSTABLE`` -> **failed**. Jenkins paints it yellow, but it means tests failed on a build that
  compiled; for a main branch that is broken for nearly every team, and a radiator that showed it
  green would hide exactly what it exists to show. The word ``UNSTABLE`` stays on screen.
- ``FAILURE`` -> failed. ``ABORTED`` -> canceled (neither starts nor ends a red streak).
- ``NOT_BUILT`` -> unknown: the build never ran its steps, so it says nothing about health.
- Anything else -> unknown, with the word kept. ``result: null`` or ``building: true`` -> running
  (a Pipeline may set its result while still building: ``building, UNSTABLE so far``).

Rebuilds: a build whose cause is the Rebuild plugin's (``Rebuilds build #N``), a Pipeline replay
(``Replayed #N``), a declarative restart (``Restarted from build #N``) or Naginator's retry is
attempt 2 (or one more than the build it repeats, when that one is among the fetched builds), and
inherits the commit, author and message it lacks from that build.

Test results: ``/job/.../{n}/testReport/api/json?tree=suites[name,cases[...]]`` for finished
builds (not ``NOT_BUILT``: it never ran), newest finished first over all jobs, at most
``MAX_REPORTS`` per poll, each build once per process. 404 is the normal answer of a build without
a JUnit report: no run, not an error. ``FIXED`` is a pass and ``REGRESSION`` a failure (Jenkins'
words for a change since the build before). A rebuild of the same commit (attempt 2) whose report
passes a test that failed in attempt 1 is how a flake shows up; the history store makes that
call. A failing report request never fails the poll: the run is just missing.

Who broke it: the author of the change-set item that was built (else the first item), else the
first culprit, else the user of the build's cause.

Errors: 401, 403 and 404 are reworded to name the job and the user tried (never the token). Jenkins
answers a missing or refused login in several ways -- 401, 403 with an HTML page, or a redirect to
its login page answered with 200 HTML -- each becomes ``AuthFailed`` with words; any other HTML
where JSON belongs is ``BadPayload`` naming the URL. Jenkins sends no rate-limit headers (a proxy's
429 is still handled by the HTTP layer). One failing job fails the poll: a partial result would make
a missing job look like a job with nothing to report.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from buildradiator.config.loading import JenkinsSource
from buildradiator.errors import AuthFailed, BadPayload, NotFound
from buildradiator.model import (
    Build,
    Pipeline,
    SourceResult,
    Status,
    TestResult,
    TestRun,
    TestStatus,
    first_line,
)
from buildradiator.sources.base import Source, parse_model, safe_url
from buildradiator.sources.http import HttpClient, Response, looks_like_html

# One rule for a test seen twice in one report, shared with GitLab's test_report.
from buildradiator.sources.testreports import (
    MAX_CASES,
    TEST_NAME_LIMIT,
    Case,
    ReportReader,
    fold_results,
    seconds,
)
from buildradiator.text import clean_text

log = logging.getLogger(__name__)

REPORT_TREE = "suites[name,cases[className,name,status,duration]]"

# --- status vocabulary (api-facts §3) ---------------------------------------------------------

RESULTS = {
    "SUCCESS": Status.PASSED,
    "UNSTABLE": Status.FAILED,
    "FAILURE": Status.FAILED,
    "ABORTED": Status.CANCELED,
    "NOT_BUILT": Status.UNKNOWN,
}


def build_status(result: str | None, building: bool | None) -> tuple[Status, str]:
    """Our status and the word shown for one Jenkins build."""
    word = (result or "").strip()
    if building or not word:
        return Status.RUNNING, f"building, {word} so far" if word else "building"
    return RESULTS.get(word.upper(), Status.UNKNOWN), word


# --- payload shapes: only the fields we read; anything may be null or missing ------------------


def _number(value: Any) -> Any:
    # Jenkins sends numbers; a proxy or plugin may send strings or garbage. Garbage is "unknown".
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _text(value: Any) -> Any:
    return value if isinstance(value, str) else None


Number = Annotated[float | None, BeforeValidator(_number)]
Text = Annotated[str | None, BeforeValidator(_text)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Person(_Payload):
    fullName: Text = None


class ChangeItem(_Payload):
    commitId: Text = None
    msg: Text = None
    comment: Text = None
    author: Person | None = None


class ChangeSet(_Payload):
    items: list[ChangeItem] | None = None


class Cause(_Payload):
    cls: Text = Field(default=None, alias="_class")
    shortDescription: Text = None
    userId: Text = None
    userName: Text = None
    upstreamBuild: Number = None


class BranchRef(_Payload):
    name: Text = None


class Revision(_Payload):
    SHA1: Text = None
    branch: list[BranchRef] | None = None


class Action(_Payload):
    causes: list[Cause] | None = None
    lastBuiltRevision: Revision | None = None


class BuildPayload(_Payload):
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


class QueueItem(_Payload):
    id: Number = None
    why: Text = None
    blocked: bool | None = None
    stuck: bool | None = None
    inQueueSince: Number = None


class ChildJob(_Payload):
    name: Text = None


class CasePayload(_Payload):
    className: Text = None
    name: Text = None
    status: Text = None
    duration: Number = None
    """Seconds (a float), unlike the build's milliseconds."""


class SuitePayload(_Payload):
    name: Text = None
    cases: list[CasePayload | None] | None = None


class ReportPayload(_Payload):
    """``/job/.../{n}/testReport/api/json``: a ``hudson.tasks.junit.TestResult``."""

    suites: list[SuitePayload | None] | None = None


CASE_STATUS = {
    "PASSED": TestStatus.PASSED,
    "FIXED": TestStatus.PASSED,  # passed; failed in the build before
    "FAILED": TestStatus.FAILED,
    "REGRESSION": TestStatus.FAILED,  # failed; passed in the build before
    "SKIPPED": TestStatus.SKIPPED,
}
"""Jenkins' case words (api-facts §3). An unknown word says neither pass nor fail: left out."""


def report_results(report: ReportPayload) -> tuple[TestResult, ...]:
    """The results of one Jenkins test report; nameless cases and unknown words are left out."""
    cases: list[Case] = []
    for suite in report.suites or ():
        if suite is None:
            continue
        suite_name = clean_text(suite.name or "", TEST_NAME_LIMIT)
        for case in suite.cases or ():
            if case is None:
                continue
            status = CASE_STATUS.get((case.status or "").strip().upper())
            name = clean_text(case.name or "", TEST_NAME_LIMIT)
            if status is None or not name:
                continue
            classname = clean_text(case.className or "", TEST_NAME_LIMIT) or suite_name
            cases.append(Case(suite_name, classname, name, status, seconds(case.duration)))
            if len(cases) > MAX_CASES:
                raise BadPayload(f"test report has more than {MAX_CASES} cases")
    return fold_results(cases)


class JobPayload(_Payload):
    cls: Text = Field(default=None, alias="_class")
    name: Text = None
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


# --- small readers ----------------------------------------------------------------------------


def from_epoch_ms(value: float | None) -> datetime | None:
    """Jenkins' epoch milliseconds; a value that can only be seconds (before 1973 as ms) is read
    as seconds; zero, negative and out-of-range values are unknown."""
    if value is None or value <= 0:
        return None
    seconds = value / 1000 if value >= 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


_REPEATS = re.compile(
    r"(?:rebuilds build|rebuilt|replayed|restarted from build|naginator after build)\s*#(\d+)",
    re.IGNORECASE,
)
_STARTED_BY_USER = re.compile(r"^started by user (.+)$", re.IGNORECASE)


def repeated_build(causes: list[Cause]) -> int | None:
    """The number of the build this one repeats (rebuild, replay, restart, retry), if it says."""
    for cause in causes:
        match = _REPEATS.search(cause.shortDescription or "")
        if match:
            return int(match.group(1))
        kind = (cause.cls or "").lower()
        if cause.upstreamBuild and ("rebuild" in kind or "naginator" in kind or "replay" in kind):
            return int(cause.upstreamBuild)
    return None


def cause_user(causes: list[Cause]) -> str | None:
    for cause in causes:
        if cause.userName:
            return cause.userName
        match = _STARTED_BY_USER.match((cause.shortDescription or "").strip())
        if match:
            return match.group(1)
    return None


def short_branch(name: str | None) -> str | None:
    """``refs/remotes/origin/main`` or ``origin/main`` -> ``main``."""
    if not name:
        return None
    for prefix in ("refs/remotes/origin/", "refs/heads/", "origin/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def job_url(root: str, path: str) -> str:
    """``a/b/c`` -> ``{root}/job/a/job/b/job/c``; each part is one item name, sent encoded (so a
    multibranch branch named ``feature%2Fx`` travels as ``feature%252Fx``, as Jenkins links it)."""
    parts = [p for p in path.strip("/").split("/") if p]
    return root.rstrip("/") + "".join(f"/job/{quote(p, safe='')}" for p in parts)


def pretty_path(path: str) -> str:
    """What the screen calls a job path: the branch's own slashes shown again."""
    return "/".join(unquote(p) for p in path.strip("/").split("/") if p)


# --- turning a job into a pipeline ------------------------------------------------------------


@dataclass
class _Facts:
    """What one build says about its source code, before rebuilds inherit from their origin."""

    payload: BuildPayload
    number: int
    causes: list[Cause] = field(default_factory=list)
    commit: str | None = None
    author: str | None = None
    message: str | None = None
    branch: str | None = None
    repeats: int | None = None
    attempt: int = 1
    revisions: list[str] = field(default_factory=list)


def _facts(build: BuildPayload, number: int) -> _Facts:
    causes: list[Cause] = []
    revisions: list[Revision] = []
    for action in build.actions or ():
        if action is None:
            continue
        causes.extend(action.causes or ())
        if action.lastBuiltRevision is not None:
            revisions.append(action.lastBuiltRevision)
    items = [
        item
        for change_set in [*(build.changeSets or ()), build.changeSet]
        if change_set is not None
        for item in change_set.items or ()
    ]
    shas = [r.SHA1 for r in revisions if r.SHA1]
    # A Pipeline with a shared library has one revision per checkout; the change-set item that
    # matches one of them is the project's own commit.
    head = next((i for i in items if i.commitId and i.commitId in shas), None)
    head = head or (items[0] if items else None)
    # Without a change set, the last revision: libraries load before a Pipeline's own checkout.
    commit = (head.commitId if head else None) or (shas[-1] if shas else None)
    author = head.author.fullName if head and head.author else None
    culprits = [c.fullName for c in build.culprits or () if c and c.fullName]
    author = author or (culprits[0] if culprits else None) or cause_user(causes)
    # The branch of the revision that was built, not of a library checked out beside it.
    built = [r for r in revisions if r.SHA1 and r.SHA1 == commit] or revisions
    branch = next((short_branch(b.name) for r in built for b in r.branch or () if b.name), None)
    return _Facts(
        payload=build,
        number=number,
        causes=causes,
        commit=commit,
        author=author,
        message=first_line(head.msg or head.comment) if head else None,
        branch=branch,
        repeats=repeated_build(causes),
        revisions=shas,
    )


def _with_attempts(facts: list[_Facts]) -> None:
    """Attempt numbers and inherited fields for rebuilds, oldest first so that chains add up."""
    by_number = {f.number: f for f in facts}
    for fact in sorted(facts, key=lambda f: f.number):
        if fact.repeats is None or fact.repeats == fact.number:
            continue
        origin = by_number.get(fact.repeats)
        fact.attempt = origin.attempt + 1 if origin and origin.number < fact.number else 2
        if origin is not None:
            if origin.commit and origin.commit in fact.revisions:
                fact.commit, fact.branch = origin.commit, origin.branch or fact.branch
            fact.commit = fact.commit or origin.commit
            fact.message = fact.message or origin.message
            fact.branch = fact.branch or origin.branch
            # A rebuild's own author is whoever clicked; the commit's author is who we name.
            fact.author = origin.author or fact.author


class Jenkins(Source[JenkinsSource]):
    """The newest builds of each configured job (one request per job)."""

    type: ClassVar[str] = "jenkins"

    def __init__(self, config: JenkinsSource, http: HttpClient) -> None:
        super().__init__(config, http)
        self._reports = ReportReader(_report_key)
        """(job path, build number) whose test report was read (or never will be)."""
        self._finished: list[Build] = []
        self.report_requests = 0
        """Test report requests of the last poll (for tests and ``check``)."""

    async def poll(self) -> SourceResult:
        self._check_credentials()
        self._finished = []
        pipelines = [await self._poll_job(path) for path in self.config.jobs]
        runs = await self._test_runs()
        return SourceResult(
            pipelines=tuple(pipelines), test_runs=tuple(runs), summary=self._summary(pipelines)
        )

    # -- one job -------------------------------------------------------------------------------

    async def _poll_job(self, path: str) -> Pipeline:
        response = await self._get_job(path)
        job = parse_model(JobPayload, response.json())
        if job.builds is None:
            raise NotFound(self._not_a_job(path, job))
        facts = []
        seen: set[int] = set()
        for build in job.builds:
            # A build without a number cannot be told apart from the others: leave it out.
            if build is None or build.number is None or int(build.number) in seen:
                continue
            seen.add(int(build.number))
            facts.append(_facts(build, int(build.number)))
        _with_attempts(facts)
        facts.sort(key=lambda f: f.number, reverse=True)

        recent: list[Build] = []
        in_flight: list[Build] = []
        for fact in facts:
            made = self._build(path, fact)
            (in_flight if made.status.in_flight else recent).append(made)
            # NOT_BUILT never ran its steps: it has no tests to ask for.
            if not made.status.in_flight and (made.provider_status or "").upper() != "NOT_BUILT":
                self._finished.append(made)
        self._forget_reports(path, {f.number for f in facts})
        queued = self._queued(path, job)
        if queued is not None:
            in_flight.insert(0, queued)
        branches = [b.branch for b in [*recent, *in_flight] if b.branch]
        return Pipeline(
            source=self.name,
            key=path,
            name=pretty_path(path),
            branch=branches[0] if branches else None,
            url=safe_url(job.url) or job_url(self.config.url, path),
            recent=tuple(recent),
            in_flight=tuple(in_flight),
        )

    def _build(self, path: str, fact: _Facts) -> Build:
        payload = fact.payload
        status, word = build_status(payload.result, payload.building)
        started = from_epoch_ms(payload.timestamp)
        finished = None
        if not status.in_flight and started is not None and payload.duration is not None:
            finished = from_epoch_ms((payload.timestamp or 0) + max(0.0, payload.duration))
        estimate = payload.estimatedDuration
        return Build(
            source=self.name,
            pipeline=path,
            id=str(fact.number),
            number=fact.number,
            attempt=fact.attempt,
            branch=fact.branch,
            status=status,
            provider_status=word,
            created_at=started,
            started_at=started,
            finished_at=finished,
            commit=fact.commit,
            author=fact.author,
            message=fact.message,
            url=safe_url(payload.url),
            # Jenkins says -1 when it has no estimate yet (a job's first builds).
            estimated_seconds=estimate / 1000 if estimate and estimate > 0 else None,
        )

    def _queued(self, path: str, job: JobPayload) -> Build | None:
        item = job.queueItem
        if not job.inQueue and item is None:
            return None
        word = "queued"
        if item is not None and item.stuck:
            word = "queued, stuck"
        elif item is not None and item.blocked:
            word = "queued, blocked"
        number = int(job.nextBuildNumber) if job.nextBuildNumber else None
        ident = int(item.id) if item is not None and item.id is not None else number
        queued_at = from_epoch_ms(item.inQueueSince) if item is not None else None
        return Build(
            source=self.name,
            pipeline=path,
            id=f"queue-{ident}",
            number=number,
            status=Status.QUEUED,
            provider_status=word,
            created_at=queued_at,
            stage=item.why if item is not None else None,
        )

    # -- test reports ----------------------------------------------------------------------------

    async def _test_runs(self) -> list[TestRun]:
        """The test reports of up to ``MAX_REPORTS`` finished builds not read before."""
        self.report_requests = 0
        return await self._reports.read(
            self.name,
            self._finished,
            self._report,
            newest=lambda b: (b.finished_at or _EPOCH, b.number or 0),
            describe=lambda b: f"{b.pipeline} #{b.number}",
        )

    async def _report(self, build: Build) -> tuple[TestResult, ...]:
        url = f"{job_url(self.config.url, build.pipeline)}/{build.number}/testReport/api/json"
        auth = (self.config.username, self.token) if self.config.username and self.token else None
        self.report_requests += 1
        response = await self.http.get(
            url,
            params={"tree": REPORT_TREE},
            headers={"Accept": "application/json"},
            auth=auth,
            timeout=self.config.timeout,
            # Read once; a copy of a big report is not worth keeping for a 304.
            conditional=False,
            verify_ok=(200, 404),
        )
        if response.status_code == 404:
            return ()  # the build published no JUnit results: normal, not an error
        # HTML where JSON belongs (a login page, a proxy's page) is BadPayload from .json().
        return report_results(parse_model(ReportPayload, response.json()))

    def _forget_reports(self, path: str, listed: set[int]) -> None:
        """Builds that fell out of the job's newest ``builds`` are not polled again."""
        self._reports.forget(lambda k: k[0] == path and k[1] not in listed)

    # -- HTTP and its errors, in words naming the job ------------------------------------------

    def _check_credentials(self) -> None:
        if self.token and not self.config.username:
            # Jenkins API tokens are Basic-auth passwords: without the user they prove nothing.
            raise AuthFailed(
                f"an API token is set for Jenkins at {self._host} but no username: "
                "set username to the token's user"
            )

    async def _get_job(self, path: str) -> Response:
        url = job_url(self.config.url, path) + "/api/json"
        auth = (self.config.username, self.token) if self.config.username and self.token else None
        try:
            response = await self.http.get(
                url,
                params={"tree": tree_for(self.config.builds)},
                headers={"Accept": "application/json"},
                auth=auth,
                timeout=self.config.timeout,
                conditional=True,
                verify_ok=(200, 401, 404),
            )
        except AuthFailed:
            # The HTTP layer has already told a rate-limit 403 (a proxy's) from this one.
            raise AuthFailed(self._denied(path)) from None
        if response.status_code == 404:
            raise NotFound(
                f"job {pretty_path(path)} not found on Jenkins at {self._host} "
                f"(tried {_path_of(url)}; or {self._who} cannot see it)"
            )
        if response.status_code == 401:
            if auth is None:
                raise AuthFailed(
                    f"Jenkins at {self._host} asked for a login (HTTP 401): "
                    "set username and token_env (an API token from the user's Security page)"
                )
            raise AuthFailed(
                f"Jenkins at {self._host} refused user {self.config.username} with the API "
                f"token from {self._token_origin} (HTTP 401): wrong or revoked token"
            )
        if looks_like_html(response.content):
            raise self._html_instead_of_json(path, response)
        return response

    def _denied(self, path: str) -> str:
        if self.config.username and self.token:
            return (
                f"Jenkins at {self._host} denied user {self.config.username} access to job "
                f"{pretty_path(path)} (HTTP 403): the token from {self._token_origin} is wrong, "
                "or the user lacks Overall/Read and Job/Read"
            )
        return (
            f"Jenkins at {self._host} denied anonymous access to job {pretty_path(path)} "
            "(HTTP 403): set username and token_env"
        )

    def _html_instead_of_json(self, path: str, response: Response) -> Exception:
        head = response.content[:8000].decode("utf-8", errors="replace").lower()
        if "j_username" in head or "/login" in head or "sign in" in head or "log in" in head:
            # A redirect to the login page, followed: Jenkins wants a login it did not get.
            who = f"user {self.config.username}" if self.token else "an anonymous request"
            return AuthFailed(
                f"Jenkins at {self._host} answered job {pretty_path(path)} with its login page: "
                f"{who} was not let in (set username and token_env, or check the token)"
            )
        return BadPayload(
            f"Jenkins at {self._host} answered job {pretty_path(path)} with an HTML page where "
            f"JSON was expected ({_path_of(response.url)}): is url the Jenkins root?"
        )

    def _not_a_job(self, path: str, job: JobPayload) -> str:
        children = [c.name for c in job.jobs or () if c and c.name][:5]
        kind = "a folder or multibranch project"
        if children:
            examples = ", ".join(f"{pretty_path(path)}/{c}" for c in children)
            return f"{pretty_path(path)} on Jenkins at {self._host} is {kind}: name one of its jobs ({examples})"
        return f"{pretty_path(path)} on Jenkins at {self._host} is {kind} or has no builds list"

    # -- words ---------------------------------------------------------------------------------

    @property
    def _who(self) -> str:
        return f"user {self.config.username}" if self.config.username else "an anonymous user"

    def _summary(self, pipelines: list[Pipeline]) -> str:
        running = sum(1 for p in pipelines for b in p.in_flight if b.status is Status.RUNNING)
        queued = sum(1 for p in pipelines for b in p.in_flight if b.status is Status.QUEUED)
        red = sum(1 for p in pipelines if p.status is Status.FAILED)
        jobs = len(pipelines)
        text = f"{jobs} job{'s' if jobs != 1 else ''}, {running} running, {queued} queued"
        return text + (f", {red} red" if red else "")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _report_key(build: Build) -> tuple[str, int]:
    return (build.pipeline, build.number or 0)


def _path_of(url: str) -> str:
    """A URL without its query (the ``tree=`` is long and says nothing to a reader)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"
