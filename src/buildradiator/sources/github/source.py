"""GitHub Actions: the workflow runs on one branch (and branch patterns) of one or more repositories.

One ``Pipeline`` per (repository, workflow, branch) seen among the newest runs. A run in progress
costs one more request, for its jobs, so the radiator can say which job and step is running now.

Requests per poll, per repository: one runs request for ``branch`` (or one per workflow named in
``workflow``/``workflows``, via ``/actions/workflows/{wf}/runs``); with ``branches`` one more,
unfiltered by branch (the newest ``BRANCH_SCAN`` runs of the repository), whose runs are matched
client-side against the patterns with ``fnmatch`` on ``head_branch``; and jobs lookups for running
runs, ``MAX_STAGE_LOOKUPS`` at most across the whole poll. So a repository costs at most
``len(workflows) + 1`` requests plus its share of the jobs lookups.

Keys: ``{repo}:{workflow_id}`` on ``branch`` (unchanged from before branch patterns existed), and
``{repo}:{workflow_id}@{branch}`` on any other branch; names then say the branch:
``acme/monolith (release/2.1)``.

Errors: the HTTP layer's ``SourceError``s pass through, except 401, 403 (when not a rate limit)
and 404, which are re-worded to name the repository and where the token came from -- never the
token itself. With several repositories, one failing repository fails the whole poll and the
engine shows this source's error: a partial result would make a missing repository look like a
repository with nothing to report.
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from buildradiator.errors import SourceError
from buildradiator.fmt import plural
from buildradiator.model import Build, Pipeline, SourceResult, StageTime, Status, first_line
from buildradiator.sources.base import Source, parse_iso, parse_model, safe_url
from buildradiator.sources.github import PROVIDER, graphql
from buildradiator.sources.github.config import GitHubSource
from buildradiator.sources.github.payloads import JobsPage, RunPayload, RunsPage
from buildradiator.sources.github.runs import run_status, stage_of, stages_of, web_base
from buildradiator.sources.http import GITHUB_RATE, RateHeaders, Response
from buildradiator.sources.payload import EPOCH
from buildradiator.sources.reading import BuildLists
from buildradiator.sources.stages import StageMemo

API_VERSION = "2022-11-28"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}

BATCH_FROM = 20
"""From this many repositories up, ``batch = "auto"`` learns what changed over GraphQL (see
``graphql``; measured by ``bench/github_scale.py``)."""
GITHUB_GRAPHQL_RATE = RateHeaders("github-graphql", "x-ratelimit-")
"""GraphQL's quota is its own, in points: kept apart from REST's."""
log = logging.getLogger(__name__)

BRANCH_SCAN = 100
"""Runs read (one page, GitHub's maximum) to find the branches matching ``branches``: a branch
whose last run is older than the repository's newest 100 runs does not show."""

MAX_STAGE_LOOKUPS = 10
"""Jobs requests per poll at most. Each one that is not answered 304 costs one request of the
hourly quota (5,000 with a token, 60 without); a busy monorepo with dozens of runs in flight
should not spend the quota on stage names."""

# --- the source -------------------------------------------------------------------------------


@dataclass
class _Workflow:
    """The runs of one workflow in one repository, as one poll saw them."""

    name: str
    branch: str
    builds: BuildLists = field(default_factory=BuildLists)


class GitHubActions(Source[GitHubSource]):
    """Workflow runs on ``branch`` of each configured repository."""

    provider = PROVIDER
    rate_headers = GITHUB_RATE
    needs = "read access to Actions"
    _stage_lookups = MAX_STAGE_LOOKUPS
    _staged: StageMemo | None = None
    """Stages of finished runs by (run id, attempt), read once each."""

    _watch: graphql.HeadWatch | None = None

    async def poll(self) -> SourceResult:
        pipelines: list[Pipeline] = []
        quiet: list[str] = []
        self._stage_lookups = MAX_STAGE_LOOKUPS  # per poll, across all repositories
        repos = self.config.all_repos
        unchanged = await self._unchanged(repos) if self._batched() else {}
        for repo in repos:
            found = unchanged.get(repo)
            if found is None:
                found = await self._poll_repo(repo)
                self._remember(repo, found)
            if not found:
                quiet.append(repo)
            pipelines.extend(found)
        summary = self._summary(pipelines, quiet)
        if self._batched():
            summary += f"; {len(repos) - len(unchanged)} read, {len(unchanged)} unchanged (GraphQL)"
        return SourceResult(pipelines=tuple(pipelines), summary=summary)

    # -- many repositories: only the changed ones are read -------------------------------------

    def _batched(self) -> bool:
        if self.config.batch == "rest" or not self.token:
            return False
        if self.config.batch == "graphql":
            return True
        return len(self.config.all_repos) >= BATCH_FROM and not self.config.branches

    async def _unchanged(self, repos: list[str]) -> dict[str, list[Pipeline]]:
        """The repositories whose branch did not move since they were read (``HeadWatch``),
        with the pipelines read then; none when GraphQL does not answer (REST still does)."""
        watch = self._watch = self._watch or graphql.HeadWatch()
        prints: dict[str, graphql.Fingerprint | None] = {}
        try:
            for batch in graphql.batches(repos, self.config.branch):
                response = await self._get(
                    self._graphql_url(),
                    what="the GraphQL API",
                    method="POST",
                    content=batch.body,
                    conditional=False,
                    rate_headers=GITHUB_GRAPHQL_RATE,
                )
                prints.update(graphql.read(batch, response.json()).fingerprints)
        except SourceError as exc:
            log.info("github source %s: GraphQL not used this poll: %s", self.name, exc)
            prints = {}
        return watch.unchanged(prints, self.http.clock.monotonic())

    def _remember(self, repo: str, found: list[Pipeline]) -> None:
        if self._watch is not None and self._batched():
            self._watch.remember(repo, found)

    def _graphql_url(self) -> str:
        """``https://api.github.com/graphql``; GHES: ``https://HOST/api/graphql``."""
        base = self.config.api_url.rstrip("/")
        return base[: -len("/v3")] + "/graphql" if base.endswith("/api/v3") else base + "/graphql"

    # -- one repository ------------------------------------------------------------------------

    async def _poll_repo(self, repo: str) -> list[Pipeline]:
        runs = await self._runs_of(repo)
        workflows: dict[str, _Workflow] = {}
        page_url: str | None = None
        default = self.config.branch
        for run, branch in runs:
            verdict = run_status(run.status, run.conclusion)
            if verdict is None:
                continue
            status, word = verdict
            flow_id = run.workflow_id if run.workflow_id is not None else run.name
            # The default branch keeps the key it always had, so nothing moves for existing users.
            key = f"{repo}:{flow_id}" if branch == default else f"{repo}:{flow_id}@{branch}"
            flow = workflows.get(key)
            if flow is None:
                flow = workflows[key] = _Workflow(_workflow_name(run), branch)
            stage = None
            if status is Status.RUNNING and self._stage_lookups > 0:
                self._stage_lookups -= 1
                stage = await self._stage(repo, run.id)
            build = self._build(key, run, status, word, stage)
            if self.config.stage_times and not status.in_flight and not flow.builds.recent:
                # The newest finished run of each workflow (the one that just finished): its
                # jobs, once, for the stage times.
                build = build.model_copy(update={"stages": await self._stages(repo, run)})
            flow.builds.add(build)
            page_url = page_url or _actions_page(run.html_url)

        page_url = page_url or self._fallback_page(repo)
        several = len({flow.name for flow in workflows.values()}) > 1
        return [
            Pipeline(
                source=self.name,
                key=key,
                name=_pipeline_name(repo, flow, several, default),
                branch=flow.branch,
                url=page_url,
                recent=tuple(flow.builds.recent),
                in_flight=tuple(flow.builds.in_flight),
            )
            for key, flow in sorted(
                workflows.items(),
                key=lambda kv: (kv[1].name.casefold(), kv[1].branch != default, kv[1].branch),
            )
        ]

    async def _runs_of(self, repo: str) -> list[tuple[RunPayload, str]]:
        """The runs to show for one repository with the branch each is shown under,
        deduplicated, newest first."""
        wanted = self._workflows
        # The filtered requests' runs belong to ``branch`` whatever their head_branch says: the
        # server chose them for it (and a pipeline's builds must never jump between rows).
        found: list[tuple[RunPayload, str]] = []
        chosen_ids: set[int] = set()
        targets: list[str | None] = [*wanted] if wanted else [None]
        for workflow in targets:
            page = parse_model(RunsPage, (await self._get_runs(repo, workflow)).json())
            found.extend((run, self.config.branch) for run in page.workflow_runs)
            chosen_ids.update(
                r.workflow_id for r in page.workflow_runs if r.workflow_id is not None
            )
        if self.config.branches:
            page = parse_model(
                RunsPage, (await self._get_runs(repo, None, every_branch=True)).json()
            )
            for run in page.workflow_runs:
                branch = run.head_branch
                # Runs of the default branch came with the filtered request(s) already.
                if not branch or branch == self.config.branch:
                    continue
                if not any(fnmatch.fnmatchcase(branch, p) for p in self.config.branches):
                    continue
                if wanted and not _is_wanted(run, wanted, chosen_ids):
                    continue
                found.append((run, branch))
        seen: set[int] = set()
        runs = []
        for run, branch in found:
            # Build ids must be unique within a pipeline; a duplicate would count twice in history.
            if run.id not in seen:
                seen.add(run.id)
                runs.append((run, branch))
        # The API sorts newest first already; sorting again costs nothing and protects the
        # "newest first" promise. Created time is the commit order, which is what "is the branch
        # green" asks about, even when an old run was re-run later.
        runs.sort(key=lambda rb: (parse_iso(rb[0].created_at) or EPOCH, rb[0].id), reverse=True)
        return runs

    @property
    def _workflows(self) -> list[str]:
        """``workflow`` and ``workflows`` together, in order, each once; empty: all workflows."""
        named = ([self.config.workflow] if self.config.workflow else []) + self.config.workflows
        return list(dict.fromkeys(named))

    async def _get_runs(
        self, repo: str, workflow: str | None, *, every_branch: bool = False
    ) -> Response:
        base = self.config.api_url.rstrip("/")
        if workflow:
            url = f"{base}/repos/{repo}/actions/workflows/{quote(workflow, safe='')}/runs"
            what = f"workflow {workflow} of repository {repo}"
        else:
            url = f"{base}/repos/{repo}/actions/runs"
            what = f"repository {repo}"
        params: dict[str, Any] = {
            "branch": self.config.branch,
            "per_page": self.config.per_page,
            "exclude_pull_requests": "true",
        }
        if every_branch:
            del params["branch"]
            params["per_page"] = BRANCH_SCAN
        return await self._get(url, params, what=what)

    async def _stage(self, repo: str, run_id: int) -> str | None:
        url = f"{self.config.api_url.rstrip('/')}/repos/{repo}/actions/runs/{run_id}/jobs"
        try:
            response = await self._get(url, {"filter": "latest", "per_page": 100}, what="jobs")
            return stage_of(parse_model(JobsPage, response.json()).jobs)
        except SourceError:
            # The run itself is known; without its jobs we only lose the stage name.
            return None

    async def _stages(self, repo: str, run: RunPayload) -> tuple[StageTime, ...]:
        staged = self._staged = self._staged or StageMemo()
        key = (run.id, run.run_attempt or 1)
        known = staged.known(key)
        if known is None and self._stage_lookups > 0:
            self._stage_lookups -= 1
            url = f"{self.config.api_url.rstrip('/')}/repos/{repo}/actions/runs/{run.id}/jobs"
            try:
                response = await self._get(url, {"filter": "latest", "per_page": 100}, what="jobs")
                jobs = parse_model(JobsPage, response.json()).jobs
            except SourceError:
                return ()  # the run is known; without its jobs only its stage times are lost
            known = staged.keep(key, stages_of(jobs))
        return known or ()

    def _headers(self) -> dict[str, str]:
        return dict(API_HEADERS)

    # -- turning runs into builds --------------------------------------------------------------

    def _build(
        self, key: str, run: RunPayload, status: Status, word: str | None, stage: str | None
    ) -> Build:
        commit = run.head_commit
        author = (commit.author.name if commit and commit.author else None) or (
            run.actor.login if run.actor else None
        )
        message = first_line(commit.message if commit else None) or first_line(run.display_title)
        created = parse_iso(run.created_at)
        return Build(
            source=self.name,
            pipeline=key,
            id=str(run.id),
            number=run.run_number,
            attempt=run.run_attempt or 1,
            branch=run.head_branch,
            status=status,
            provider_status=word,
            created_at=created,
            # run_started_at resets on a re-run, so the duration is the last attempt's.
            started_at=parse_iso(run.run_started_at) or created,
            # No finish field exists; updated_at stops moving once the run completed.
            finished_at=None if status.in_flight else parse_iso(run.updated_at),
            commit=run.head_sha,
            author=author,
            message=message,
            url=safe_url(run.html_url),
            stage=stage,
        )

    # -- words ---------------------------------------------------------------------------------

    def _fallback_page(self, repo: str) -> str | None:
        root = web_base(self.config.api_url)
        return f"{root}/{repo}/actions" if root else None

    def _summary(self, pipelines: list[Pipeline], quiet: list[str]) -> str:
        repos = len(self.config.all_repos)
        running = sum(len(p.in_flight) for p in pipelines)
        default = [p for p in pipelines if p.branch == self.config.branch]
        text = f"{plural(repos, 'repo')}, {plural(len(default), 'workflow')}"
        if self.config.branches:
            others = len(pipelines) - len(default)
            text += f", {plural(others, 'pipeline')} on {', '.join(self.config.branches)}"
        text += f", {running} in flight"
        if quiet:
            text += f"; no runs on {self.config.branch} in {', '.join(quiet)}"
        return text


def _pipeline_name(repo: str, flow: _Workflow, several: bool, default: str) -> str:
    name = f"{repo} · {flow.name}" if several else repo
    return name if flow.branch == default else f"{name} ({flow.branch})"


def _is_wanted(run: RunPayload, wanted: list[str], chosen_ids: set[int]) -> bool:
    """Whether a run from the unfiltered list belongs to one of the configured workflows, named
    by id or by file name (the run's ``path`` ends with it)."""
    if run.workflow_id is not None and run.workflow_id in chosen_ids:
        return True
    file_name = (run.path or "").rsplit("/", 1)[-1]
    return any(w in (str(run.workflow_id), file_name, run.path) for w in wanted)


def _workflow_name(run: RunPayload) -> str:
    if run.name:
        return run.name
    if run.path:
        return run.path.rsplit("/", 1)[-1]
    return f"workflow {run.workflow_id}"


def _actions_page(html_url: str | None) -> str | None:
    """``https://github.com/o/r/actions/runs/1`` -> ``https://github.com/o/r/actions``."""
    url = safe_url(html_url)
    if url and "/actions/runs/" in url:
        return url.split("/actions/runs/", 1)[0] + "/actions"
    return None
