"""CircleCI (API v2): the workflows of the pipelines on one branch of one or more projects.

A CircleCI pipeline's ``state`` says whether its config was processed, not whether it passed: the
result lives in its workflows. So a row is one (project, workflow name): a project usually runs
several workflows (``build-test``, ``deploy``, ``nightly``) that pass and fail on their own, and the
web UI shows them apart; one row per project would hide which one is red and mix their durations
into one ETA. A pipeline whose config did not even compile (``state: errored``) has no workflow: it
counts as a failed build in every row of its project, since none of them ran on that commit.

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
``flaky_every`` seconds, into ``flaky_reports`` (see ``circleci_flaky.py``); it never fails a poll.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from buildradiator.config.loading import CircleCISource
from buildradiator.errors import AuthFailed, NotFound, SourceError
from buildradiator.model import (
    Build,
    Pipeline,
    ReportedFlake,
    SourceResult,
    Status,
    first_line,
)
from buildradiator.sources.base import Source, Stamp, parse_iso, parse_model, safe_url
from buildradiator.sources.circleci_flaky import CIRCLECI_INSIGHTS_RATE, FlakyInsight
from buildradiator.sources.http import HttpClient, RateHeaders, Response
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

# --- status vocabulary (api-facts §5) ---------------------------------------------------------

_FINISHED = {
    "success": Status.PASSED,
    "failed": Status.FAILED,
    # The config or the infrastructure broke: nothing was verified, the branch is not green.
    "error": Status.FAILED,
    # A restricted context the triggering user may not use: like GitHub's action_required,
    # main is not verified until someone acts.
    "unauthorized": Status.FAILED,
    "canceled": Status.CANCELED,
}
# A workflow that never ran (filtered out, superseded) says nothing about the branch.
_NO_SIGNAL = {"not_run"}
_ACTIVE = {
    "running": Status.RUNNING,
    # Still running, but a job has already failed: shown as running, with the word "failing".
    "failing": Status.RUNNING,
    # Waiting for someone to approve a hold job.
    "on_hold": Status.QUEUED,
}
_WORDS = {"on_hold": "on hold (approval)"}
_JOB_FAILED = {"failed", "infrastructure_fail", "timedout", "terminated-unknown", "unauthorized"}
_JOB_WAITING = {"queued", "not_running", "blocked"}


def workflow_status(status: str | None, stopped: bool) -> tuple[Status, str] | None:
    """Our status and CircleCI's word; ``None`` for a workflow to leave out.

    An unknown word is ``unknown`` once the workflow has stopped, in flight (queued) before.
    """
    word = status or "unknown"
    key = word.lower()
    if key in _NO_SIGNAL:
        return None
    if key in _FINISHED:
        return _FINISHED[key], word
    if key in _ACTIVE:
        return _ACTIVE[key], _WORDS.get(key, word)
    return (Status.UNKNOWN if stopped else Status.QUEUED), word


# --- payload shapes -----------------------------------------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Actor(_Payload):
    login: str | None = None


class Trigger(_Payload):
    type: str | None = None
    actor: Actor | None = None


class VcsCommit(_Payload):
    subject: str | None = None
    body: str | None = None


class Vcs(_Payload):
    revision: str | None = None
    branch: str | None = None
    commit: VcsCommit | None = None


class PipelineError(_Payload):
    type: str | None = None
    message: str | None = None


class PipelineItem(_Payload):
    id: str
    number: int | None = None
    state: str | None = None
    created_at: Stamp = None
    updated_at: Stamp = None
    trigger: Trigger | None = None
    vcs: Vcs | None = None
    errors: list[PipelineError] | None = None


class PipelinePage(_Payload):
    items: list[PipelineItem]
    next_page_token: str | None = None


class Workflow(_Payload):
    id: str
    name: str | None = None
    status: str | None = None
    created_at: Stamp = None
    stopped_at: Stamp = None
    pipeline_number: int | None = None


class WorkflowPage(_Payload):
    items: list[Workflow]
    next_page_token: str | None = None


class Job(_Payload):
    name: str | None = None
    status: str | None = None
    type: str | None = None
    job_number: int | None = None


class JobPage(_Payload):
    items: list[Job]
    next_page_token: str | None = None


def stage_of(jobs: list[Job]) -> str | None:
    """The running job (``unit-tests +2``), else the hold waiting for approval, else what waits."""
    running = [j.name or "job" for j in jobs if (j.status or "").lower() == "running"]
    if running:
        return running[0] + (f" +{len(running) - 1}" if len(running) > 1 else "")
    for job in jobs:
        if (job.status or "").lower() == "on_hold":
            return f"{job.name or 'hold'} (approval)"
    for job in jobs:
        if (job.status or "").lower() in _JOB_WAITING:
            return job.name
    return None


def failed_jobs(jobs: list[Job]) -> list[str]:
    return [j.name or "job" for j in jobs if (j.status or "").lower() in _JOB_FAILED]


# --- the source -----------------------------------------------------------------------------------


@dataclass
class _Poll:
    workflow_lookups: int = MAX_WORKFLOW_LOOKUPS
    job_lookups: int = MAX_JOB_LOOKUPS
    requests: int = 0


@dataclass
class _Row:
    name: str
    builds: list[tuple[int, Build]] = field(default_factory=list)
    """(pipeline order, build): sorted newest first at the end."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CircleCI(Source[CircleCISource]):
    """Workflows of the pipelines on ``branch`` of each configured project."""

    type = "circleci"
    rate_headers = CIRCLECI_RATE

    def __init__(self, config: CircleCISource, http: HttpClient) -> None:
        super().__init__(config, http)
        # pipeline id -> (updated_at, workflows) for pipelines whose workflows have all ended.
        self._memo: dict[str, tuple[str | None, list[Workflow]]] = {}
        self._poll = _Poll()
        self._flaky = FlakyInsight(config.flaky_every, http.clock) if config.flaky_tests else None

    @property
    def requests_last_poll(self) -> int:
        return self._poll.requests

    async def poll(self) -> SourceResult:
        self._poll = _Poll()
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
            for name, attempts in _by_name(workflows).items():
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
            label = _project_label(slug)
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
        seen: set[str] = set()
        unique = []
        for item in items:
            if item.id not in seen:
                seen.add(item.id)
                unique.append(item)
        # Newest first by pipeline number (the commit order on the branch), then creation.
        unique.sort(
            key=lambda i: (
                i.number if i.number is not None else -1,
                parse_iso(i.created_at) or _EPOCH,
            ),
            reverse=True,
        )
        return unique[:PIPELINES_WANTED]

    async def _get_list(self, slug: str, url: str, params: dict[str, Any]) -> Response:
        try:
            response = await self._get(url, params, verify_ok=(200, 401, 404))
        except AuthFailed:
            raise AuthFailed(
                f"{self._host} denied access to project {slug} (HTTP 403): "
                + (
                    "set token_env, token_file or token_command"
                    if self.token is None
                    else f"the token from {self._token_origin} lacks permission"
                )
            ) from None
        if response.status_code == 404:
            raise NotFound(f"project {slug} not found on {self._host} (or the token cannot see it)")
        if response.status_code == 401:
            if self.token is None:
                raise AuthFailed(
                    f"{self._host} asked for a token (HTTP 401): "
                    "set token_env, token_file or token_command"
                )
            raise AuthFailed(
                f"{self._host} refused the token from {self._token_origin} (HTTP 401): "
                "wrong, expired or revoked"
            )
        return response

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
        if workflows and all(w.stopped_at and _ended(w.status) for w in workflows):
            self._memo[item.id] = (item.updated_at, workflows)
        return workflows

    async def _jobs(self, workflow_id: str) -> list[Job] | None:
        url = f"{self._api}/workflow/{quote(workflow_id, safe='')}/job"
        try:
            return parse_model(JobPage, (await self._get(url, {})).json()).items
        except SourceError:
            return None  # the workflow is known; without its jobs we only lose the stage

    async def _get(
        self, url: str, params: dict[str, Any], verify_ok: tuple[int, ...] = (200,)
    ) -> Response:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Circle-Token"] = self.token
        self._poll.requests += 1
        # A 429's Retry-After becomes RateLimited with its retry time in the HTTP layer.
        return await self.http.get(
            url,
            params=params,
            headers=headers,
            timeout=self.config.timeout,
            rate_headers=CIRCLECI_RATE,
            conditional=True,
            verify_ok=verify_ok,
        )

    async def _insight(self, url: str) -> Response:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Circle-Token"] = self.token
        self._poll.requests += 1
        return await self.http.get(
            url,
            headers=headers,
            timeout=self.config.timeout,
            rate_headers=CIRCLECI_INSIGHTS_RATE,
            conditional=True,
        )

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
            f"{_count(len(self.config.projects), 'project')}, "
            f"{_count(len(pipelines), 'workflow')}, {running} in flight, "
            f"{_count(self._poll.requests, 'request')}"
        )
        if quiet:
            text += f"; no pipelines on {self.config.branch} in {', '.join(quiet)}"
        return text


def _ended(status: str | None) -> bool:
    verdict = workflow_status(status, stopped=True)
    return verdict is None or not verdict[0].in_flight


def _by_name(workflows: list[Workflow]) -> dict[str, list[Workflow]]:
    """Workflows per name, oldest first: the later ones of a name are its re-runs."""
    named: dict[str, list[Workflow]] = {}
    ordered = sorted(
        enumerate(workflows), key=lambda iw: (parse_iso(iw[1].created_at) or _EPOCH, iw[0])
    )
    for _, workflow in ordered:
        named.setdefault(workflow.name or "workflow", []).append(workflow)
    return named


def _project_label(slug: str) -> str:
    """``gh/acme/api`` -> ``acme/api``; a ``circleci/<uuid>/<uuid>`` slug stays whole."""
    vcs, _, rest = slug.partition("/")
    return rest if vcs.lower() in ("gh", "github", "bb", "bitbucket") else slug


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
