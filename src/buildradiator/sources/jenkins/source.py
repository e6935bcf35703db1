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
from urllib.parse import urlsplit

from buildradiator.errors import AuthFailed, BadPayload, NotFound
from buildradiator.model import (
    Build,
    Pipeline,
    SourceResult,
    Status,
    TestResult,
    TestRun,
)
from buildradiator.sources.base import Source, Words, parse_model, safe_url
from buildradiator.sources.http import HttpClient, Response, looks_like_html
from buildradiator.sources.jenkins import PROVIDER
from buildradiator.sources.jenkins.builds import (
    Facts,
    build_status,
    facts_of,
    job_url,
    pretty_path,
    with_attempts,
)
from buildradiator.sources.jenkins.config import JenkinsSource
from buildradiator.sources.jenkins.payloads import (
    JobPayload,
    ReportPayload,
    report_results,
    tree_for,
)
from buildradiator.sources.payload import EPOCH
from buildradiator.sources.reading import BuildLists, activity, from_epoch

# One rule for a test seen twice in one report, shared with GitLab's test_report.
from buildradiator.sources.testreports import (
    ReportReader,
)

log = logging.getLogger(__name__)

REPORT_TREE = "suites[name,cases[className,name,status,duration]]"


class Jenkins(Source[JenkinsSource]):
    """The newest builds of each configured job (one request per job)."""

    provider = PROVIDER
    status_words = {
        401: Words(
            AuthFailed,
            "Jenkins at {host} asked for a login (HTTP 401): set username and token_env "
            "(an API token from the user's Security page)",
            "Jenkins at {host} refused user {username} with the API token from {origin} "
            "(HTTP 401): wrong or revoked token",
        ),
        403: Words(
            AuthFailed,
            "Jenkins at {host} denied anonymous access to {what} (HTTP 403): "
            "set username and token_env",
            "Jenkins at {host} denied user {username} access to {what} (HTTP 403): the token "
            "from {origin} is wrong, or the user lacks Overall/Read and Job/Read",
        ),
        404: Words(
            NotFound,
            "{what} not found on Jenkins at {host} (tried {path}; or {who} cannot see it)",
        ),
    }

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
            facts.append(facts_of(build, int(build.number)))
        with_attempts(facts)
        facts.sort(key=lambda f: f.number, reverse=True)

        row = BuildLists()
        for fact in facts:
            made = self._build(path, fact)
            row.add(made)
            # NOT_BUILT never ran its steps: it has no tests to ask for.
            if not made.status.in_flight and (made.provider_status or "").upper() != "NOT_BUILT":
                self._finished.append(made)
        self._forget_reports(path, {f.number for f in facts})
        queued = self._queued(path, job)
        if queued is not None:
            row.in_flight.insert(0, queued)
        branches = [b.branch for b in [*row.recent, *row.in_flight] if b.branch]
        return Pipeline(
            source=self.name,
            key=path,
            name=pretty_path(path),
            branch=branches[0] if branches else None,
            url=safe_url(job.url) or job_url(self.config.url, path),
            recent=tuple(row.recent),
            in_flight=tuple(row.in_flight),
        )

    def _build(self, path: str, fact: Facts) -> Build:
        payload = fact.payload
        status, word = build_status(payload.result, payload.building)
        started = from_epoch(payload.timestamp)
        finished = None
        if not status.in_flight and started is not None and payload.duration is not None:
            finished = from_epoch((payload.timestamp or 0) + max(0.0, payload.duration))
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
        queued_at = from_epoch(item.inQueueSince) if item is not None else None
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
            newest=lambda b: (b.finished_at or EPOCH, b.number or 0),
            describe=lambda b: f"{b.pipeline} #{b.number}",
        )

    async def _report(self, build: Build) -> tuple[TestResult, ...]:
        url = f"{job_url(self.config.url, build.pipeline)}/{build.number}/testReport/api/json"
        self.report_requests += 1
        # Read once; a copy of a big report is not worth keeping for a 304.
        response = await self._get(
            url, {"tree": REPORT_TREE}, ok=(200, 404), conditional=False, what="test report"
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
        what = f"job {pretty_path(path)}"
        response = await self._get(url, {"tree": tree_for(self.config.builds)}, what=what)
        if looks_like_html(response.content):
            raise self._html_instead_of_json(path, response)
        return response

    def _auth_headers(self) -> dict[str, str]:
        # An API token is a Basic-auth password: sent only with its user (else refused above).
        return self._basic_or_bearer(self.config.username) if self.token else {}

    def _placeholders(self) -> dict[str, str]:
        return {"username": self.config.username or "", "who": self._who}

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
        return activity(pipelines, "job")


def _report_key(build: Build) -> tuple[str, int]:
    return (build.pipeline, build.number or 0)


def _path_of(url: str) -> str:
    """A URL without its query (the ``tree=`` is long and says nothing to a reader)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"
