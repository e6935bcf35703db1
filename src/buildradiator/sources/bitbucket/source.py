"""Bitbucket Pipelines (Bitbucket Cloud, REST 2.0): the pipelines on a branch of repositories.

Per poll and repository, one request lists the newest pipelines on the branch:
``GET {api}/repositories/{workspace}/{repo_slug}/pipelines/?target.branch=main&sort=-created_on
&pagelen=N``. The list has each pipeline's state, result, creator, commit, times, ``build_number``
and ``run_number`` (a re-run of the same pipeline counts up: ``attempt``), so every row is right
from it alone. Then, newest first and at most ``MAX_STEP_REQUESTS`` per poll, the steps
(``.../pipelines/{uuid}/steps/``) of the pipelines in flight (which step runs: the stage) and of
the paused ones (green only when every step passed and a manual one waits). A paused pipeline's
steps do not change while it stays paused: they are read once per pause. The list carries each
commit's hash but not its message: ``.../commit/{hash}`` is read once per commit for the newest
``COMMITS_SHOWN`` pipelines, at most ``MAX_COMMIT_REQUESTS`` per poll.

A re-run is the same pipeline again (same uuid and ``build_number``, ``run_number`` + 1): the
API then no longer says how the run before it ended. The source remembers how each listed
pipeline last finished, so a red main stays red while its re-run runs; a radiator started during
a re-run cannot know, and shows the pipeline finished before it until the re-run ends.

Defences: the branch is checked on every item too (a server that ignores ``target.branch``); a
server that answers 400 to ``sort`` is asked again without it (remembered for the source's
lifetime), and a list that comes oldest first is read from its last page too.

Rate limit: an hourly, rolling window (1,000 requests and up, per user or token). Access tokens
get ``X-RateLimit-Limit`` and ``X-RateLimit-NearLimit`` (true below 20 % left) but no count and no
reset: near the limit the engine is told at most a fifth is left for the hour, so it spreads
the polls out. A 429 waits for ``Retry-After`` when sent; without it the engine backs off from a
minute, doubling, up to an hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited, SourceError
from buildradiator.model import Build, Pipeline, RateInfo, SourceResult
from buildradiator.sources.base import Source, Words, parse_model
from buildradiator.sources.bitbucket import PROVIDER
from buildradiator.sources.bitbucket.config import BitbucketSource
from buildradiator.sources.bitbucket.parse import (
    build_id,
    commit_hash,
    needs_steps,
    newest_first,
    on_branch,
    parse_pipelines,
    parse_steps,
    state_words,
    to_pipeline,
)
from buildradiator.sources.bitbucket.payloads import (
    ApiError,
    Commit,
    PipelinePayload,
    StepPayload,
)
from buildradiator.sources.http import (
    HttpClient,
    RateHeaders,
    Response,
    rate_limited,
    retry_after,
)
from buildradiator.sources.reading import activity
from buildradiator.text import clean_text

MAX_REPOSITORIES = 30
"""Repositories read per poll at most (one request each, more for steps)."""
MAX_STEP_REQUESTS = 4
"""Steps requests per poll over all repositories, for the newest pipelines in flight or paused."""
MAX_COMMIT_REQUESTS = 2
"""Commit requests per poll over all repositories, for messages the list leaves out."""
COMMITS_SHOWN = 5
"""The newest pipelines per repository whose commit message is looked up."""
MAX_COMMITS_KEPT = 500
MAX_PAUSES_KEPT = 100
NEAR_LIMIT_SHARE = 0.2
"""What ``X-RateLimit-NearLimit: true`` means: less than this share of the hour is left."""
CLOUD_API = "api.bitbucket.org"
CLOUD_WEB = "https://bitbucket.org"


@dataclass(frozen=True)
class HourlyRateHeaders(RateHeaders):
    """Bitbucket's ``X-RateLimit-Limit`` (per hour) and ``X-RateLimit-NearLimit`` (a boolean).

    No remaining count and no reset are sent: near the limit the remaining share is taken at its
    upper bound and the reset an hour away (a rolling window), so that the engine spreads polls.
    """

    def parse(self, headers: httpx.Headers, now: datetime) -> RateInfo | None:
        raw = (headers.get(self.prefix + "limit") or "").strip()
        limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
        if not limit:
            return None
        if (headers.get(self.prefix + "nearlimit") or "").strip().lower() != "true":
            return RateInfo(limit=limit)
        left = math.floor(limit * NEAR_LIMIT_SHARE)
        return RateInfo(limit=limit, remaining=left, reset_at=now + timedelta(hours=1))


BITBUCKET_RATE = HourlyRateHeaders("bitbucket", "x-ratelimit-")

_CREDENTIALS = "set token_env (an access token), or username and token_env (an app password)"


class BitbucketPipelines(Source[BitbucketSource]):
    """The newest pipelines on ``branch`` of each configured repository."""

    provider = PROVIDER
    rate_headers = BITBUCKET_RATE
    needs = "Pipelines: read, and access to the repository"
    status_words = MappingProxyType(
        {
            401: Words(
                AuthFailed,
                f"{{host}} asked for credentials (HTTP 401): {_CREDENTIALS}",
                "{host} refused the credentials from {origin} (HTTP 401): wrong, expired or "
                "revoked",
            ),
            404: Words(
                NotFound,
                "{what} not found on {host} (or the credentials cannot see it, or Pipelines is "
                "not enabled)",
            ),
        }
    )

    def __init__(self, config: BitbucketSource, http: HttpClient) -> None:
        super().__init__(config, http)
        self._sort = True
        """False once the server refused ``sort`` (an older or a compatible server)."""
        self._paused: dict[tuple[str, int, str], list[StepPayload]] = {}
        """Steps of paused pipelines, by (id, run, state): read once per pause."""
        self.step_requests = 0
        """Steps requests of the last poll (for tests)."""
        self.commit_requests = 0
        """Commit requests of the last poll (for tests)."""
        self._no_commits = False
        """True once the credentials were refused the commits (no repository read scope)."""
        self._commits: dict[str, str] = {}
        """Commit messages by hash, oldest first (at most ``MAX_COMMITS_KEPT``)."""
        self._finished: dict[str, dict[str, Build]] = {}
        """Per repository, how each build of the last answer finished (see ``to_pipeline``)."""

    async def poll(self) -> SourceResult:
        self.step_requests = self.commit_requests = 0
        pipelines: list[Pipeline] = []
        quiet: list[str] = []
        for repo in self.config.repositories[:MAX_REPOSITORIES]:
            pipeline = await self._poll_repository(repo)
            if pipeline is None:
                quiet.append(repo)
            else:
                pipelines.append(pipeline)
        return SourceResult(pipelines=tuple(pipelines), summary=self._summary(pipelines, quiet))

    # -- one repository ------------------------------------------------------------------------

    async def _poll_repository(self, repo: str) -> Pipeline | None:
        payloads = await self._list(repo)
        steps: dict[str, list[StepPayload]] = {}
        for payload in newest_first(payloads):
            if not on_branch(payload, self.config.branch) or not needs_steps(payload):
                continue
            if payload.uuid is None:
                continue
            found = await self._steps(repo, payload)
            if found is not None:
                steps[build_id(payload) or ""] = found
        messages = await self._messages(repo, payloads)
        key = f"{self.config.workspace}/{repo}"
        web = self._web(repo)
        pipeline = to_pipeline(
            payloads,
            source=self.name,
            key=key,
            name=key,
            branch=self.config.branch,
            url=f"{web}/pipelines" if web else None,
            steps=steps,
            page_url=(
                (lambda p: f"{web}/pipelines/results/{p.build_number}" if p.build_number else None)
                if web
                else None
            ),
            earlier=self._finished.get(key),
            messages=messages,
        )
        # How each build listed last finished, for a re-run to come (bounded by the page).
        self._finished[key] = {b.id: b for b in pipeline.recent} if pipeline else {}
        return pipeline

    async def _list(self, repo: str) -> list[PipelinePayload]:
        url = f"{self._repo_api(repo)}/pipelines/"
        what = f"repository {self.config.workspace}/{repo}"
        params: dict[str, Any] = {"target.branch": self.config.branch}
        if self._sort:
            params["sort"] = "-created_on"
        params["pagelen"] = self.config.pagelen
        response = await self._request(url, params, what)
        if response.status_code == 400 and self._sort and _about_sort(response):
            self._sort = False
            params.pop("sort")
            response = await self._request(url, params, what)
        if response.status_code != 200:
            raise self._bad_request(response, what)
        page = parse_pipelines(response.json())
        values = page.values
        if page.size and page.size > len(values) and _oldest_first(values):
            # The server's own order (oldest first; ``sort`` refused or silently ignored): the
            # newest are on the last page.
            last = math.ceil(page.size / self.config.pagelen)
            response = await self._request(url, {**params, "page": last}, what)
            if response.status_code == 200:
                values = [*values, *parse_pipelines(response.json()).values]
        return values

    async def _steps(self, repo: str, payload: PipelinePayload) -> list[StepPayload] | None:
        """The steps of one pipeline; ``None`` when not read (the budget, or a failed read:
        the row stays right without them, only the stage is missing)."""
        words = state_words(payload.state)
        ident = build_id(payload) or ""
        paused_key = (ident, payload.run_number or 1, f"{words.state}/{words.stage}")
        if words.paused and paused_key in self._paused:
            return self._paused[paused_key]
        if self.step_requests >= MAX_STEP_REQUESTS:
            return None
        self.step_requests += 1
        url = f"{self._repo_api(repo)}/pipelines/{quote(payload.uuid or '', safe='')}/steps/"
        what = f"the steps of pipeline #{payload.build_number} of {self.config.workspace}/{repo}"
        try:
            response = await self._request(url, {"pagelen": 100}, what)
        except RateLimited:
            self.step_requests = MAX_STEP_REQUESTS  # no more this poll; the list is enough
            return None
        except SourceError:
            return None
        if response.status_code != 200:
            return None
        try:
            steps = parse_steps(response.json())
        except BadPayload:
            return None
        if words.paused:
            self._paused = {k: v for k, v in self._paused.items() if k[0] != ident}
            self._paused[paused_key] = steps
            while len(self._paused) > MAX_PAUSES_KEPT:
                self._paused.pop(next(iter(self._paused)))
        return steps

    async def _messages(self, repo: str, payloads: list[PipelinePayload]) -> dict[str, str]:
        """Commit messages the list left out, for the newest pipelines on the branch: read once
        per commit (a commit never changes), at most ``MAX_COMMIT_REQUESTS`` per poll."""
        found: dict[str, str] = {}
        if self._no_commits:
            return found
        shown = [p for p in newest_first(payloads) if on_branch(p, self.config.branch)]
        for payload in shown[:COMMITS_SHOWN]:
            sha = commit_hash(payload)
            commit = payload.target.commit if payload.target else None
            if sha is None or (commit is not None and commit.text):
                continue
            if sha not in self._commits:
                if self.commit_requests >= MAX_COMMIT_REQUESTS:
                    continue
                self.commit_requests += 1
                message = await self._commit_message(repo, sha)
                if message is None:
                    continue
                self._commits[sha] = message
                while len(self._commits) > MAX_COMMITS_KEPT:
                    self._commits.pop(next(iter(self._commits)))
            found[sha] = self._commits[sha]
        return found

    async def _commit_message(self, repo: str, sha: str) -> str | None:
        url = f"{self._repo_api(repo)}/commit/{quote(sha, safe='')}"
        what = f"commit {sha[:12]} of {self.config.workspace}/{repo}"
        try:
            response = await self._request(url, {}, what)
            if response.status_code != 200:
                return None
            return parse_model(Commit, response.json()).text or ""
        except RateLimited:
            self.commit_requests = MAX_COMMIT_REQUESTS
            return None
        except AuthFailed:
            # The token may read pipelines but not the repository: never ask again.
            self._no_commits = True
            return None
        except NotFound:
            return ""  # gone (a force-push): no message, and no use asking again
        except SourceError:
            return None  # a failure that may pass: asked again on a later poll

    # -- HTTP ----------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        return self._basic_or_bearer(self.config.username) if self.token else {}

    async def _request(self, url: str, params: dict[str, Any], what: str) -> Response:
        response = await self._get(url, params, what=what, ok=(200, 400, 429))
        if response.status_code == 429:
            raise self._rate_limited(response)
        return response

    def _rate_limited(self, response: Response) -> RateLimited:
        now = self.http.clock.now()
        retry_at, asked = retry_after(response.headers, now)
        budget = self.http.budget(response.url, BITBUCKET_RATE)
        hourly = "; the hourly limit: trying again in a minute or more"
        return rate_limited(self._host, 429, budget, now, retry_at, asked, otherwise=hourly)

    def _bad_request(self, response: Response, what: str) -> SourceError:
        try:
            said = parse_model(ApiError, response.json()).message
        except BadPayload:
            said = None
        detail = f": {clean_text(self._without_secrets(said), 200)}" if said else ""
        return SourceError(
            f"{self._host} refused the request for {what} (HTTP {response.status_code}){detail}"
        )

    # -- words ---------------------------------------------------------------------------------

    def _repo_api(self, repo: str) -> str:
        api = self.config.api_url.rstrip("/")
        return f"{api}/repositories/{quote(self.config.workspace, safe='')}/{quote(repo, safe='')}"

    def _web(self, repo: str) -> str | None:
        base = self.config.web_url
        if base is None and urlsplit(self.config.api_url).netloc.lower() == CLOUD_API:
            base = CLOUD_WEB
        if base is None:
            return None
        return f"{base.rstrip('/')}/{quote(self.config.workspace)}/{quote(repo)}"

    def _summary(self, pipelines: list[Pipeline], quiet: list[str]) -> str:
        text = activity(pipelines, "repo")
        watched = len(self.config.repositories)
        if watched > MAX_REPOSITORIES:
            text += f"; watching the first {MAX_REPOSITORIES} of {watched} repositories"
        if quiet:
            shown = ", ".join(quiet[:5]) + (f" and {len(quiet) - 5} more" if len(quiet) > 5 else "")
            text += f"; no pipelines on {self.config.branch} in {shown}"
        if self._no_commits:
            text += "; no commit messages: the credentials may not read the repository"
        return text


def _about_sort(response: Response) -> bool:
    return b"sort" in response.content[:4000].lower()


def _oldest_first(values: list[PipelinePayload]) -> bool:
    numbers = [v.build_number for v in values if v.build_number is not None]
    return len(numbers) >= 2 and numbers[0] < numbers[-1]
