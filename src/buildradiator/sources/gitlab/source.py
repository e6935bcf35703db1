"""GitLab CI: the pipelines on one ref of one or more projects, gitlab.com or self-managed.

One ``Pipeline`` per configured project (the watched ref). Per poll and project:

- one request lists the newest pipelines of the ref (``order_by=id&sort=desc``); that list alone
  has each pipeline's status, sha, times and link, so every row is right even if nothing else is
  read;
- a *lookup* (the pipeline's detail plus its jobs with ``include_retried=true``: two requests, more
  only past 100 jobs) fills in who and what: the user and the start/finish times, the commit's
  author and title, the running stage, retried jobs (-> ``attempt``) and ``allow_failure`` jobs
  that failed. Lookups are made for the pipelines the screen shows -- those in flight, the last
  finished one and the one that turned the ref red -- at most ``MAX_LOOKUPS`` per poll, plus
  ``MAX_BACKFILL`` older finished ones so that retries in the history show up over a few polls.
  A finished pipeline never changes (a retry makes it run again, which changes its status and
  ``updated_at``), so its lookup is remembered and never repeated: once warm, a poll costs one
  request per project plus two per pipeline in flight.

Test results: ``GET /projects/:id/pipelines/:pid/test_report`` for finished pipelines whose lookup
is complete (so that the run's ``attempt`` is the build's), newest finished first, at most
``MAX_REPORTS`` per poll over all projects, each (pipeline, attempt) once per process. GitLab builds
that report from the *latest* jobs only (``builds.latest``: a retried job's JUnit report is left
out), so a job that failed and passed on its retry does not show twice in one report. The flake
shows instead as two runs of one pipeline: the report read while it had failed (attempt 1) and the
one read after the retry turned it green (attempt 2), on the same commit -- or as a new pipeline on
the same commit. A test that does show twice in one report (two JUnit files of one job, a rerun
tool) is folded by ``fold_results``. A failing report request never fails the poll: that run is
just missing (tried again on a later poll when the failure may pass, at most ``MAX_REPORT_TRIES``).

Errors: 401, 403 (when not a rate limit) and 404 of the list are reworded to name the project and
where the token came from; a failed lookup only loses the details it would have added.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from buildradiator.errors import SourceError
from buildradiator.fmt import plural
from buildradiator.model import (
    Build,
    Pipeline,
    SourceResult,
    Status,
    TestResult,
    TestRun,
    first_line,
)
from buildradiator.sources.base import Source, parse_iso, parse_model
from buildradiator.sources.gitlab import PROVIDER
from buildradiator.sources.gitlab.builds import (
    ACTIVE,
    Extra,
    allowed_failures,
    attempts_of,
    build_of,
    first_red,
    in_flight,
    pipeline_status,
    project_name,
    project_page,
    stage_of,
    stages_of,
    with_ref,
)
from buildradiator.sources.gitlab.config import GitLabSource
from buildradiator.sources.gitlab.payloads import (
    Job,
    JobList,
    PipelineDetail,
    PipelineItem,
    PipelineList,
    TestReport,
    report_cases,
)
from buildradiator.sources.http import GITLAB_RATE, HttpClient, Response
from buildradiator.sources.payload import EPOCH
from buildradiator.sources.reading import BuildLists, first_of_each
from buildradiator.sources.testreports import (
    ReportReader,
    fold_results,
)

MAX_LOOKUPS = 10
"""Pipelines looked up per poll for what the screen shows (in flight, last, first red)."""
MAX_BACKFILL = 2
"""Older finished pipelines looked up per poll, to learn their retries; each is looked up once."""
MAX_LIST_PAGES = 3
"""Pages of the pipeline list read when a server hands out fewer than ``per_page`` per page."""
MAX_JOB_PAGES = 5
"""Pages of 100 jobs read per pipeline (a 500-job pipeline is already unusual)."""

log = logging.getLogger(__name__)

# --- the source -----------------------------------------------------------------------------------


@dataclass
class _Poll:
    lookups: int = MAX_LOOKUPS
    backfill: int = MAX_BACKFILL
    sent_before: int = 0
    finished: list[Build] = field(default_factory=list)
    """Finished builds whose lookup is complete: the ones whose test report may be read."""


class GitLabCI(Source[GitLabSource]):
    """Pipelines on ``branch`` of each configured project."""

    provider = PROVIDER
    rate_headers = GITLAB_RATE
    needs = "the read_api scope"

    def __init__(self, config: GitLabSource, http: HttpClient) -> None:
        super().__init__(config, http)
        self._memo: dict[tuple[str, int], tuple[tuple[str | None, str | None], Extra]] = {}
        self._poll = _Poll()
        self._reports = ReportReader(_report_key)
        """(project, pipeline id, attempt) whose test report was read (or never will be)."""

    async def poll(self) -> SourceResult:
        self._poll = _Poll(sent_before=self.sent)
        pipelines: list[Pipeline] = []
        quiet: list[str] = []
        for project in self.config.all_projects:
            pipeline = await self._poll_project(project)
            if pipeline is None:
                quiet.append(project)
            else:
                pipelines.append(pipeline)
        runs = await self._test_runs()
        return SourceResult(
            pipelines=tuple(pipelines),
            test_runs=tuple(runs),
            summary=self._summary(pipelines, quiet),
        )

    @property
    def requests_last_poll(self) -> int:
        """How many requests the last poll made (for tests and ``check``)."""
        return self.sent - self._poll.sent_before

    # -- one project ---------------------------------------------------------------------------

    async def _poll_project(self, project: str) -> Pipeline | None:
        items = await self._list(project)
        verdicts = [(item, pipeline_status(item.status)) for item in items]
        shown = [(item, v) for item, v in verdicts if v is not None]
        if not shown:
            return None
        extras = await self._look_up(project, shown)

        row = BuildLists()
        for item, (status, word) in shown:
            extra = extras.get(item.id)
            if (
                extra
                and status is Status.QUEUED
                and extra.finished
                and ((item.status or "").lower() not in ACTIVE)
            ):
                status = Status.UNKNOWN  # a word we do not know, on a pipeline that has ended
            build = build_of(self.name, project, item, status, word, extra)
            row.add(build)
            if not status.in_flight and extra is not None and extra.complete:
                self._poll.finished.append(build)
        self._forget_reports(project, {str(item.id) for item in items})

        page = next((w for i in items if (w := project_page(i.web_url))), None)
        return Pipeline(
            source=self.name,
            key=project,
            name=project_name(project, items, self.config.api_url),
            branch=self.config.branch,
            url=with_ref(page or self._fallback_page(project), self.config.branch),
            recent=tuple(row.recent),
            in_flight=tuple(row.in_flight),
        )

    async def _list(self, project: str) -> list[PipelineItem]:
        url = f"{self._project_url(project)}/pipelines"
        per_page = self.config.per_page
        params: dict[str, Any] = {
            "ref": self.config.branch,
            "order_by": "id",
            "sort": "desc",
            "per_page": per_page,
        }
        response = await self._get_list(project, url, params)
        items = parse_model(PipelineList, response.json()).root
        pages = 1
        next_page = (response.headers.get("x-next-page") or "").strip()
        # A proxy or an old server may hand out fewer than asked per page: follow x-next-page
        # until there are enough, a page comes back empty, or a few pages were read.
        while len(items) < per_page and next_page.isdigit() and pages < MAX_LIST_PAGES:
            pages += 1
            try:
                response = await self._get(url, {**params, "page": next_page})
                more = parse_model(PipelineList, response.json()).root
            except SourceError:
                break  # pagination that ends early: keep what the first pages said
            if not more:
                break
            items.extend(more)
            next_page = (response.headers.get("x-next-page") or "").strip()
        seen: set[int] = set()
        unique = []
        for item in items:
            if item.id not in seen:
                seen.add(item.id)
                unique.append(item)
        # Newest first by id (the order asked for): protects the "newest first" promise.
        unique.sort(key=lambda i: i.id, reverse=True)
        return unique[:per_page]

    async def _get_list(self, project: str, url: str, params: dict[str, Any]) -> Response:
        return await self._get(url, params, what=f"project {project}")

    # -- lookups -------------------------------------------------------------------------------

    async def _look_up(
        self, project: str, shown: list[tuple[PipelineItem, tuple[Status, str]]]
    ) -> dict[int, Extra]:
        """Details for the pipelines worth them, within this poll's budget."""
        extras: dict[int, Extra] = {}
        live_keys = {(project, item.id) for item, _ in shown}
        for key in [k for k in self._memo if k[0] == project and k not in live_keys]:
            del self._memo[key]  # fell off the list: forget it, memory stays bounded

        for item, _ in shown:
            remembered = self._memo.get((project, item.id))
            if remembered and remembered[0] == (item.status, item.updated_at):
                extras[item.id] = remembered[1]

        flying = [item for item, (status, _) in shown if status.in_flight]
        finished = [item for item, (status, _) in shown if not status.in_flight]
        wanted = flying + finished[:1] + first_red(shown)
        for item in first_of_each(wanted, lambda item: item.id):
            if item.id in extras and not in_flight(item):
                continue
            if self._poll.lookups <= 0:
                break
            self._poll.lookups -= 1
            extras[item.id] = await self._extra(project, item)
        for item in finished:
            if self._poll.backfill <= 0:
                break
            if item.id not in extras:
                self._poll.backfill -= 1
                extras[item.id] = await self._extra(project, item)
        return extras

    async def _extra(self, project: str, item: PipelineItem) -> Extra:
        base = f"{self._project_url(project)}/pipelines/{item.id}"
        detail: PipelineDetail | None = None
        jobs: list[Job] | None = None
        try:
            detail = parse_model(PipelineDetail, (await self._get(base, {})).json())
        except SourceError:
            pass  # the list entry still stands; we only lose who and when
        try:
            jobs = await self._jobs(f"{base}/jobs")
        except SourceError:
            pass
        commit = next((j.commit for j in jobs or () if j.commit), None)
        user = detail.user if detail else None
        extra = Extra(
            started_at=parse_iso(detail.started_at) if detail else None,
            finished_at=parse_iso(detail.finished_at) if detail else None,
            finished=bool(detail and detail.finished_at),
            user=(user.name or user.username) if user else None,
            author=commit.author_name if commit else None,
            message=first_line(commit.title or commit.message) if commit else None,
            attempt=attempts_of(jobs) if jobs else 1,
            allowed=tuple(allowed_failures(jobs)) if jobs else (),
            warnings=bool(
                detail
                and detail.detailed_status
                and (detail.detailed_status.group or "").lower() == "success-with-warnings"
            ),
            stage=stage_of(jobs) if jobs and in_flight(item) else None,
            stages=stages_of(jobs) if jobs and not in_flight(item) else (),
            complete=detail is not None and jobs is not None,
        )
        if extra.complete and not in_flight(item):
            self._memo[(project, item.id)] = ((item.status, item.updated_at), extra)
        return extra

    async def _jobs(self, url: str) -> list[Job]:
        params: dict[str, Any] = {"include_retried": "true", "per_page": 100}
        jobs: list[Job] = []
        page: str | None = None
        for _ in range(MAX_JOB_PAGES):
            response = await self._get(url, {**params, "page": page} if page else params)
            more = parse_model(JobList, response.json()).root
            jobs.extend(more)
            page = (response.headers.get("x-next-page") or "").strip()
            if not more or not page.isdigit():
                break
        return jobs

    def _auth_headers(self) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self.token} if self.token else {}

    # -- test reports ----------------------------------------------------------------------------

    async def _test_runs(self) -> list[TestRun]:
        """The test reports of up to ``MAX_REPORTS`` finished pipelines not read before."""
        return await self._reports.read(
            self.name,
            self._poll.finished,
            self._report,
            newest=lambda b: (b.finished_at or EPOCH, _numeric(b.id)),
            describe=lambda b: f"{self.name} pipeline {b.id}",
        )

    async def _report(self, build: Build) -> tuple[TestResult, ...]:
        url = f"{self._project_url(build.pipeline)}/pipelines/{build.id}/test_report"
        # Not conditional: it is read once, and a copy of a big report is not worth keeping.
        response = await self._get(url, {}, ok=(200, 404), conditional=False)
        if response.status_code == 404:
            return ()  # no such pipeline any more, or a server without test reports
        report = parse_model(TestReport, response.json())
        return fold_results(report_cases(report))

    def _forget_reports(self, project: str, listed: set[str]) -> None:
        """Pipelines that fell off the list are never polled again: memory stays bounded."""
        self._reports.forget(lambda k: k[0] == project and k[1] not in listed)

    # -- words and URLs ------------------------------------------------------------------------

    def _project_url(self, project: str) -> str:
        # A path must be one URL-encoded segment (group%2Fsub%2Fproject); an id is used as is.
        return f"{self.config.api_url.rstrip('/')}/projects/{quote(project, safe='')}"

    def _fallback_page(self, project: str) -> str | None:
        if project.isdigit():
            return None
        parts = urlsplit(self.config.api_url)
        path = parts.path.rstrip("/")
        if not path.endswith("/api/v4"):
            return None
        root = urlunsplit((parts.scheme, parts.netloc, path[: -len("/api/v4")], "", ""))
        return f"{root}/{project}/-/pipelines"

    def _summary(self, pipelines: list[Pipeline], quiet: list[str]) -> str:
        running = sum(len(p.in_flight) for p in pipelines)
        text = f"{plural(len(self.config.all_projects), 'project')}, {running} in flight"
        text += f", {plural(self.sent - self._poll.sent_before, 'request')}"
        if quiet:
            text += f"; no pipelines on {self.config.branch} in {', '.join(quiet)}"
        return text


def _report_key(build: Build) -> tuple[str, str, int]:
    return (build.pipeline, build.id, build.attempt)


def _numeric(value: str) -> int:
    return int(value) if value.isdigit() else -1
