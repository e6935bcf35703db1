"""CircleCI (API v2): the workflows of the pipelines on one branch of one or more projects; a
row is one (project, workflow name); the package docstring says why.

Per poll and project: one request for the newest pipelines of the branch (one page of 20; more
pages only if a server hands out fewer), one per pipeline for its workflows and one per workflow in
flight for its jobs (the stage). A pipeline whose workflows have all ended is remembered, so only
the newest ``REFRESH_NEWEST`` pipelines (where a re-run shows up) are asked again, and at most
``MAX_WORKFLOW_LOOKUPS`` / ``MAX_JOB_LOOKUPS`` requests are made per poll. Once warm, a poll costs
1 + ``REFRESH_NEWEST`` requests per project, plus one per workflow in flight.

A re-run ("rerun workflow" or "rerun from failed") is a new workflow with the same name on the same
pipeline: the newest one is the build, and ``attempt`` counts them.

Errors: 401, 403 (when not a rate limit) and 404 of the pipeline list name the project and the
token's origin. A failed workflows request fails the poll (without it a red pipeline would look
like the green one before it); a failed jobs request only loses the stage.

With ``flaky_tests`` (the default) each project's flaky-tests insight is read too, at most every
``flaky_every`` seconds, into ``flaky_reports`` (see ``flaky.py``); it never fails a poll.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from buildradiator.errors import NotFound, SourceError
from buildradiator.fmt import plural
from buildradiator.model import Build, Pipeline, ReportedFlake, SourceResult, Status, first_line
from buildradiator.sources.base import Source, parse_iso, parse_model, safe_url
from buildradiator.sources.circleci import PROVIDER
from buildradiator.sources.circleci.builds import (
    by_name,
    ended,
    failed_jobs,
    project_label,
    stage_of,
    stages_of,
    workflow_status,
)
from buildradiator.sources.circleci.config import CircleCISource
from buildradiator.sources.circleci.flaky import CIRCLECI_INSIGHTS_RATE, FlakyInsight
from buildradiator.sources.circleci.payloads import (
    Job,
    JobPage,
    PipelineItem,
    PipelinePage,
    Workflow,
    WorkflowPage,
)
from buildradiator.sources.http import HttpClient, RateHeaders, Response
from buildradiator.sources.payload import EPOCH
from buildradiator.sources.reading import first_of_each
from buildradiator.sources.stages import StageMemo, Stages
from buildradiator.text import clean_text

PIPELINES_WANTED = 20
"""Pipelines read per project: one page on circleci.com."""
MAX_PIPELINE_PAGES = 3
MAX_WORKFLOW_PAGES = 3
REFRESH_NEWEST = 3
"""The newest pipelines' workflows are asked for on every poll: a re-run appears there."""
MAX_WORKFLOW_LOOKUPS = 12
"""Workflow requests per poll at most (across projects); older pipelines fill in over polls."""
MAX_JOB_LOOKUPS = 8
"""Job requests per poll at most, for the stage of workflows in flight."""

CIRCLECI_RATE = RateHeaders("circleci", "x-ratelimit-")
"""CircleCI documents only 429 with Retry-After [UNCONFIRMED: any quota headers]; its own
budget key keeps a 429 from blocking other APIs on the same host, and quota headers, if a server
sends the common ``X-RateLimit-*`` ones, are read."""

# --- the source -----------------------------------------------------------------------------------


@dataclass
class _Poll:
    workflow_lookups: int = MAX_WORKFLOW_LOOKUPS
    job_lookups: int = MAX_JOB_LOOKUPS
    sent_before: int = 0


@dataclass
class _Row:
    name: str
    builds: list[tuple[int, Build]] = field(default_factory=list)
    """(pipeline order, build): sorted newest first at the end."""


class CircleCI(Source[CircleCISource]):
    """Workflows of the pipelines on ``branch`` of each configured project."""

    provider = PROVIDER
    rate_headers = CIRCLECI_RATE

    def __init__(self, config: CircleCISource, http: HttpClient) -> None:
        super().__init__(config, http)
        # pipeline id -> (updated_at, workflows) for pipelines whose workflows have all ended.
        self._memo: dict[str, tuple[str | None, list[Workflow]]] = {}
        self._staged = StageMemo()
        self._poll = _Poll()
        self._flaky = FlakyInsight(config.flaky_every, http.clock) if config.flaky_tests else None

    @property
    def requests_last_poll(self) -> int:
        return self.sent - self._poll.sent_before

    async def poll(self) -> SourceResult:
        self._poll = _Poll(sent_before=self.sent)
        pipelines: list[Pipeline] = []
        quiet: list[str] = []
        live: set[str] = set()
        for slug in self.config.projects:
            found, ids = await self._poll_project(slug)
            live |= ids
            if not found:
                quiet.append(slug)
            pipelines.extend(found)
        for key in [k for k in self._memo if k not in live]:
            del self._memo[key]  # fell off the first page: memory stays bounded
        flaky: tuple[ReportedFlake, ...] = ()
        extra = ""
        if self._flaky is not None:
            # After the rows: the insight's trouble never costs the poll its pipelines.
            flaky = await self._flaky.refresh(
                self.name,
                self._api,
                self._web,
                self.config.projects,
                [p.key for p in pipelines],
                self._insight,
            )
            extra = self._flaky.summary()
        summary = self._summary(pipelines, quiet) + extra
        return SourceResult(pipelines=tuple(pipelines), flaky_reports=flaky, summary=summary)

    # -- one project ---------------------------------------------------------------------------

    async def _poll_project(self, slug: str) -> tuple[list[Pipeline], set[str]]:
        items = await self._pipelines(slug)
        rows: dict[str, _Row] = {}
        errored: list[tuple[int, PipelineItem]] = []
        for order, item in enumerate(items):
            workflows = await self._workflows(item, fresh=order < REFRESH_NEWEST)
            if workflows is None:
                continue  # not looked up this poll (budget): the next poll fills it in
            if not workflows and (item.state or "").lower() == "errored":
                errored.append((order, item))
                continue
            for name, attempts in by_name(workflows).items():
                newest = attempts[-1]
                verdict = workflow_status(newest.status, bool(newest.stopped_at))
                if verdict is None:
                    continue
                status, word = verdict
                key = f"{slug}:{clean_text(name)}"
                row = rows.setdefault(key, _Row(name))
                stage = None
                if status.in_flight and self._poll.job_lookups > 0:
                    self._poll.job_lookups -= 1
                    jobs = await self._jobs(newest.id)
                    if jobs is not None:
                        stage = stage_of(jobs)
                        failed = failed_jobs(jobs)
                        if (newest.status or "").lower() == "failing" and failed:
                            word = "failing: " + ", ".join(failed)
                build = self._build(key, slug, item, newest, len(attempts), status, word, stage)
                finished = not status.in_flight and all(b.status.in_flight for _, b in row.builds)
                if self.config.stage_times and finished:
                    build = build.model_copy(update={"stages": await self._stages(newest.id)})
                row.builds.append((order, build))
                if status.in_flight:
                    # While a re-run runs, the attempt before it is still this commit's last
                    # result: a red main stays red until the re-run has passed.
                    earlier = self._last_ended(key, slug, item, attempts[:-1])
                    if earlier is not None:
                        row.builds.append((order, earlier))

        if errored and not rows:
            rows[f"{slug}:"] = _Row("")
        for order, item in errored:
            for key in rows:
                rows[key].builds.append((order, self._errored_build(key, slug, item)))

        page = self._project_page(slug)
        pipelines = []
        for key, row in sorted(rows.items(), key=lambda kv: kv[1].name.casefold()):
            builds = [b for _, b in sorted(row.builds, key=lambda ob: ob[0])]
            label = project_label(slug)
            pipelines.append(
                Pipeline(
                    source=self.name,
                    key=key,
                    name=label if len(rows) == 1 or not row.name else f"{label} · {row.name}",
                    branch=self.config.branch,
                    url=page,
                    recent=tuple(b for b in builds if not b.status.in_flight),
                    in_flight=tuple(b for b in builds if b.status.in_flight),
                )
            )
        return pipelines, {item.id for item in items}

    async def _pipelines(self, slug: str) -> list[PipelineItem]:
        url = f"{self._api}/project/{slug}/pipeline"
        params: dict[str, Any] = {"branch": self.config.branch}
        response = await self._get_list(slug, url, params)
        page = parse_model(PipelinePage, response.json())
        items = list(page.items)
        token = page.next_page_token
        pages = 1
        # circleci.com answers 20 per page; a server that hands out fewer gets asked again.
        while token and len(items) < PIPELINES_WANTED and pages < MAX_PIPELINE_PAGES:
            pages += 1
            try:
                more = parse_model(
                    PipelinePage, (await self._get(url, {**params, "page-token": token})).json()
                )
            except SourceError:
                break  # pagination that ends early: keep what the first page said
            if not more.items:
                break
            items.extend(more.items)
            token = more.next_page_token
        unique = first_of_each(items, lambda item: item.id)
        # Newest first by pipeline number (the commit order on the branch), then creation.
        unique.sort(
            key=lambda i: (
                i.number if i.number is not None else -1,
                parse_iso(i.created_at) or EPOCH,
            ),
            reverse=True,
        )
        return unique[:PIPELINES_WANTED]

    async def _get_list(self, slug: str, url: str, params: dict[str, Any]) -> Response:
        return await self._get(url, params, what=f"project {slug}")

    async def _workflows(self, item: PipelineItem, fresh: bool) -> list[Workflow] | None:
        remembered = self._memo.get(item.id)
        if remembered and remembered[0] == item.updated_at and not fresh:
            return remembered[1]
        if self._poll.workflow_lookups <= 0:
            return remembered[1] if remembered else None
        self._poll.workflow_lookups -= 1
        url = f"{self._api}/pipeline/{quote(item.id, safe='')}/workflow"
        workflows: list[Workflow] = []
        token: str | None = None
        for _ in range(MAX_WORKFLOW_PAGES):
            try:
                response = await self._get(url, {"page-token": token} if token else {})
            except NotFound:
                return []  # the pipeline went away between the two requests
            page = parse_model(WorkflowPage, response.json())
            workflows.extend(page.items)
            token = page.next_page_token
            if not token or not page.items:
                break
        if workflows and all(w.stopped_at and ended(w.status) for w in workflows):
            self._memo[item.id] = (item.updated_at, workflows)
        return workflows

    async def _stages(self, workflow_id: str) -> Stages:
        """The newest finished workflow's jobs (of each row), read once, as its stages."""
        known = self._staged.known(workflow_id)
        if known is None and self._poll.job_lookups > 0:
            self._poll.job_lookups -= 1
            jobs = await self._jobs(workflow_id)
            known = None if jobs is None else self._staged.keep(workflow_id, stages_of(jobs))
        return known or ()

    async def _jobs(self, workflow_id: str) -> list[Job] | None:
        url = f"{self._api}/workflow/{quote(workflow_id, safe='')}/job"
        try:
            return parse_model(JobPage, (await self._get(url, {})).json()).items
        except SourceError:
            return None  # the workflow is known; without its jobs we only lose the stage

    def _auth_headers(self) -> dict[str, str]:
        return {"Circle-Token": self.token} if self.token else {}

    async def _insight(self, url: str) -> Response:
        return await self._get(url, rate_headers=CIRCLECI_INSIGHTS_RATE, what="flaky tests")

    # -- builds --------------------------------------------------------------------------------

    def _build(
        self,
        key: str,
        slug: str,
        item: PipelineItem,
        workflow: Workflow,
        attempt: int,
        status: Status,
        word: str,
        stage: str | None,
    ) -> Build:
        vcs = item.vcs
        actor = item.trigger.actor if item.trigger else None
        started = parse_iso(workflow.created_at)
        number = item.number if item.number is not None else workflow.pipeline_number
        return Build(
            source=self.name,
            pipeline=key,
            id=workflow.id,
            number=number,
            attempt=attempt,
            branch=vcs.branch if vcs else None,
            status=status,
            provider_status=word,
            created_at=parse_iso(item.created_at) or started,
            # A re-run's workflow starts anew: the duration is the last attempt's.
            started_at=started,
            finished_at=None if status.in_flight else parse_iso(workflow.stopped_at),
            commit=vcs.revision if vcs else None,
            author=actor.login if actor else None,
            message=first_line(vcs.commit.subject) if vcs and vcs.commit else None,
            url=self._workflow_page(slug, number, workflow.id),
            stage=stage if status.in_flight else None,
        )

    def _last_ended(
        self, key: str, slug: str, item: PipelineItem, earlier: list[Workflow]
    ) -> Build | None:
        for attempt in range(len(earlier), 0, -1):
            workflow = earlier[attempt - 1]
            verdict = workflow_status(workflow.status, bool(workflow.stopped_at))
            if verdict is not None and not verdict[0].in_flight:
                status, word = verdict
                return self._build(key, slug, item, workflow, attempt, status, word, None)
        return None

    def _errored_build(self, key: str, slug: str, item: PipelineItem) -> Build:
        vcs = item.vcs
        actor = item.trigger.actor if item.trigger else None
        reason = next((e.message or e.type for e in item.errors or () if e.message or e.type), None)
        created = parse_iso(item.created_at)
        return Build(
            source=self.name,
            pipeline=key,
            id=item.id,
            number=item.number,
            branch=vcs.branch if vcs else None,
            status=Status.FAILED,
            provider_status=f"errored: {reason}" if reason else "errored",
            created_at=created,
            started_at=created,
            finished_at=parse_iso(item.updated_at) or created,
            commit=vcs.revision if vcs else None,
            author=actor.login if actor else None,
            message=first_line(vcs.commit.subject) if vcs and vcs.commit else None,
            url=self._pipeline_page(slug, item.number),
        )

    # -- words and URLs ------------------------------------------------------------------------

    @property
    def _api(self) -> str:
        return f"{self.config.api_url.rstrip('/')}/api/v2"

    @property
    def _web(self) -> str:
        """The web app: app.circleci.com for circleci.com, the server's own root otherwise."""
        parts = urlsplit(self.config.api_url)
        host = parts.hostname or ""
        if host == "circleci.com" or host.endswith(".circleci.com"):
            return "https://app.circleci.com"
        return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))

    def _project_page(self, slug: str) -> str | None:
        return safe_url(f"{self._web}/pipelines/{slug}?branch={quote(self.config.branch, safe='')}")

    def _pipeline_page(self, slug: str, number: int | None) -> str | None:
        return safe_url(f"{self._web}/pipelines/{slug}/{number}") if number is not None else None

    def _workflow_page(self, slug: str, number: int | None, workflow_id: str) -> str | None:
        if number is None:
            return None
        return safe_url(
            f"{self._web}/pipelines/{slug}/{number}/workflows/{quote(workflow_id, safe='')}"
        )

    def _summary(self, pipelines: list[Pipeline], quiet: list[str]) -> str:
        running = sum(len(p.in_flight) for p in pipelines)
        text = (
            f"{plural(len(self.config.projects), 'project')}, "
            f"{plural(len(pipelines), 'workflow')}, {running} in flight, "
            f"{plural(self.sent - self._poll.sent_before, 'request')}"
        )
        if quiet:
            text += f"; no pipelines on {self.config.branch} in {', '.join(quiet)}"
        return text
