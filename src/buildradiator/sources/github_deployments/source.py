"""GitHub Deployments: per environment the latest deployment, what is live, and the drift.

Requests per poll, per configured environment: one deployments list (newest first), then the
statuses of the newest deployments until one whose latest status is ``success`` -- that one is
live -- ``MAX_STATUS_LOOKUPS`` at most; then one compare of the live commit with the head of
``branch``, once per distinct live commit (two environments running one commit share it). Every
request is conditional: an unchanged answer is a 304, which costs nothing of GitHub's primary
quota, so the compare can be asked every poll and still notice main moving on the cheap.

The newest deployment decides the state (a deploy queued, running, failed...); the live one
(the newest whose latest status is ``success``; GitHub marks older ones ``inactive``) decides
``revision``/``deployed_at`` and the drift. A deployment whose statuses were never written, a
newest deployment someone deactivated, an unknown state word: each is an ``unknown`` state with
the reason in words, never an error. Errors are GitHub's usual: 401, 403 (not a rate limit) and a
404 repository are re-worded as in ``github.py`` to name the repository and where the token came
from; a compare that GitHub cannot answer (the live commit was force-pushed away: 404/422) costs
only the drift, said in the summary.

Config: ``service`` defaults to the repository's name and ``pipeline`` to the repository (the
GitHub Actions source's key for it); ``environment``, with a single entry in ``environments``,
renames it on screen (GitHub's ``production`` shown as the ``prod`` of the health checks) while
GitHub is still asked about its own name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from buildradiator.errors import NotFound, ServerError, Timeout
from buildradiator.fmt import format_age, plural, seconds_between, short_sha
from buildradiator.model import Deployment, DeployState, SourceResult
from buildradiator.sources.base import (
    STATUS_WORDS,
    Source,
    Words,
    parse_iso,
    parse_model,
    safe_url,
)
from buildradiator.sources.github.runs import web_base
from buildradiator.sources.github.source import API_HEADERS
from buildradiator.sources.github_deployments import PROVIDER
from buildradiator.sources.github_deployments.config import GitHubDeploymentsSource
from buildradiator.sources.github_deployments.payloads import (
    ComparePayload,
    DeploymentList,
    DeploymentPayload,
    StatusList,
    StatusPayload,
)
from buildradiator.sources.http import GITHUB_RATE
from buildradiator.sources.payload import EPOCH
from buildradiator.text import clean_text

PER_PAGE = 10
"""Deployments read per environment: enough to find the live one behind a few failed deploys."""

MAX_STATUS_LOOKUPS = 5
"""Statuses requests per environment at most, newest deployment first, stopping at the live
one. A run of more failed deploys than this leaves the live commit unknown for a while, which
is better than spending the quota on a long list of failures."""

STATUSES_PER_PAGE = 5
COMPARE_MISSING = (404, 422)
"""GitHub's answers when the live commit is unknown (force-pushed away) or unrelated to the branch."""

_STATES = {
    "queued": DeployState.QUEUED,
    "pending": DeployState.QUEUED,
    "in_progress": DeployState.RUNNING,
    "success": DeployState.SUCCEEDED,
    "failure": DeployState.FAILED,
    "error": DeployState.FAILED,
}
_FINISHED = {"success", "failure", "error"}


# --- pure pieces ------------------------------------------------------------------------------


def deploy_state(word: str | None) -> tuple[DeployState, str | None]:
    """Our state for a deployment's latest status word, and the reason when it says too little.

    ``inactive`` on the *newest* deployment means someone deactivated it (GitHub only marks
    older deployments inactive on its own): nothing we can call live or failed."""
    if word is None:
        return DeployState.UNKNOWN, "no status reported"
    folded = word.lower()
    if folded == "inactive":
        return DeployState.UNKNOWN, "deactivated"
    state = _STATES.get(folded)
    if state is None:
        return DeployState.UNKNOWN, f"unknown deployment state {word}"
    return state, None


def _stamp(value: str | None) -> datetime:
    return parse_iso(value) or EPOCH


def newest_first_deployments(items: list[DeploymentPayload]) -> list[DeploymentPayload]:
    # GitHub lists newest first already; sorting again protects the promise cheaply.
    return sorted(items, key=lambda d: (_stamp(d.created_at), d.id), reverse=True)


def newest_first_statuses(items: list[StatusPayload]) -> list[StatusPayload]:
    return sorted(items, key=lambda s: (_stamp(s.created_at), s.id or 0), reverse=True)


@dataclass(frozen=True)
class Drift:
    """How far ``branch`` is ahead of a live commit, or why that is unknown."""

    behind_by: int | None = None
    oldest_undeployed_at: datetime | None = None
    note: str | None = None


def drift_of(payload: ComparePayload) -> Drift:
    """Commits on the branch that are not live, and when the oldest of them was made."""
    status = (payload.status or "").lower()
    commits = payload.commits or []
    ahead = payload.ahead_by if payload.ahead_by is not None else len(commits)
    # "behind": the live commit is past the branch (a hotfix deployed from elsewhere); nothing
    # on the branch waits. "diverged" still has ``ahead_by`` commits waiting.
    if status in ("identical", "behind") or ahead <= 0:
        return Drift(0)
    oldest = None
    if commits and commits[0].commit:
        inner = commits[0].commit
        oldest = parse_iso(inner.committer.date if inner.committer else None) or parse_iso(
            inner.author.date if inner.author else None
        )
    return Drift(ahead, oldest)


# --- the source -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    deployment: Deployment
    words: str
    """This environment's part of the summary line."""


class GitHubDeployments(Source[GitHubDeploymentsSource]):
    """Per configured environment of one repository: the latest deployment and what is live."""

    provider = PROVIDER
    rate_headers = GITHUB_RATE
    needs = "read access to Deployments and Contents"
    # Requests name the bare repository (``denied access to acme/shop``); a 404 says what it is.
    status_words = {404: Words(NotFound, "repository " + STATUS_WORDS[404].anonymous)}

    async def poll(self) -> SourceResult:
        drifts: dict[str, Drift] = {}
        found = [await self._environment(env, drifts) for env in self.config.environments]
        return SourceResult(
            deployments=tuple(f.deployment for f in found),
            summary="; ".join(f.words for f in found),
        )

    @property
    def _base(self) -> str:
        return f"{self.config.api_url.rstrip('/')}/repos/{self.config.repo}"

    # -- one environment -----------------------------------------------------------------------

    async def _environment(self, env: str, drifts: dict[str, Drift]) -> _Found:
        listed = await self._deployments(env)
        if not listed:
            deployment = self._deployment(
                env, state=DeployState.UNKNOWN, detail="no deployments yet", url=self._page()
            )
            return _Found(deployment, f"{env}: no deployments yet")
        newest = listed[0]
        newest_statuses, live = await self._newest_and_live(listed)
        drift = Drift()
        if live is not None and live[0].sha:
            sha = live[0].sha
            if sha not in drifts:
                drifts[sha] = await self._drift(sha)
            drift = drifts[sha]

        latest = newest_statuses[0] if newest_statuses else None
        word = latest.state if latest else None
        state, reason = deploy_state(word)
        if state is DeployState.FAILED:
            reason = (latest.description if latest else None) or f"deployment {word}"
        finished = None
        if not state.in_flight:
            ended = next((s for s in newest_statuses if (s.state or "").lower() in _FINISHED), None)
            finished = parse_iso(ended.created_at) if ended else None
        url = None
        if latest:
            url = (
                safe_url(latest.log_url)
                or safe_url(latest.target_url)
                or safe_url(latest.environment_url)
            )
        is_live = live is not None and live[0].id == newest.id
        deployment = self._deployment(
            env,
            id=str(newest.id),
            state=state,
            provider_state=word,
            revision=live[0].sha if live else None,
            version=live[0].ref if live and live[0].ref != live[0].sha else None,
            deployed_at=parse_iso(live[1].created_at) if live else None,
            target_revision=None if is_live else newest.sha,
            started_at=parse_iso(newest.created_at),
            finished_at=finished,
            author=newest.creator.login if newest.creator else None,
            detail=reason,
            url=url or self._page(),
            behind_by=drift.behind_by,
            oldest_undeployed_at=drift.oldest_undeployed_at,
        )
        return _Found(deployment, self._words(env, deployment, is_live, drift))

    async def _newest_and_live(
        self, listed: list[DeploymentPayload]
    ) -> tuple[list[StatusPayload], tuple[DeploymentPayload, StatusPayload] | None]:
        """The newest deployment's statuses, and the live deployment with its success status:
        the newest whose latest status is ``success``, among the first ``MAX_STATUS_LOOKUPS``."""
        newest_statuses: list[StatusPayload] = []
        for index, candidate in enumerate(listed[:MAX_STATUS_LOOKUPS]):
            statuses = await self._statuses(candidate.id)
            if index == 0:
                newest_statuses = statuses
            if statuses and (statuses[0].state or "").lower() == "success":
                return newest_statuses, (candidate, statuses[0])
        return newest_statuses, None

    def _deployment(self, env: str, **fields: Any) -> Deployment:
        config = self.config
        shown = config.environment if config.environment and len(config.environments) == 1 else env
        return Deployment(
            source=self.name,
            service=config.service or config.repo.split("/", 1)[1],
            environment=shown,
            repo=config.repo,
            pipeline=config.pipeline or config.repo,
            **fields,
        )

    # -- requests ------------------------------------------------------------------------------

    async def _deployments(self, env: str) -> list[DeploymentPayload]:
        response = await self._get(
            f"{self._base}/deployments",
            {"environment": env, "per_page": PER_PAGE},
            what=self.config.repo,
        )
        return newest_first_deployments(parse_model(DeploymentList, response.json()).root)

    async def _statuses(self, deployment_id: int) -> list[StatusPayload]:
        response = await self._get(
            f"{self._base}/deployments/{deployment_id}/statuses",
            {"per_page": STATUSES_PER_PAGE},
            ok=(200, 404),
            what=self.config.repo,
        )
        if response.status_code == 404:
            # Deleted between the two requests: as good as a deployment without statuses.
            return []
        return newest_first_statuses(parse_model(StatusList, response.json()).root)

    async def _drift(self, sha: str) -> Drift:
        # The sha comes from the API: quoted whole, so it can only ever be one path segment.
        basehead = f"{quote(sha, safe='')}...{quote(self.config.branch, safe='/')}"
        try:
            response = await self._get(
                f"{self._base}/compare/{basehead}",
                ok=(200, *COMPARE_MISSING),
                what=self.config.repo,
            )
        except (ServerError, Timeout):
            # GitHub gives up on very large comparisons with a 5xx or a slow answer; that costs
            # the drift, not the deployments.
            return Drift(note="drift unknown (compare failed)")
        if response.status_code in COMPARE_MISSING:
            shown = short_sha(clean_text(sha, 40))
            return Drift(note=f"drift unknown ({shown} not found on {self.config.branch})")
        return drift_of(parse_model(ComparePayload, response.json()))

    def _headers(self) -> dict[str, str]:
        return dict(API_HEADERS)

    # -- words ---------------------------------------------------------------------------------

    def _page(self) -> str | None:
        root = web_base(self.config.api_url)
        return f"{root}/{self.config.repo}/deployments" if root else None

    def _words(self, env: str, deployment: Deployment, is_live: bool, drift: Drift) -> str:
        """``production: a1b2c3d live 2h ago, 7 commits behind, deploying``. Only our own words
        and cleaned commit ids: API text (descriptions) stays in the deployment's fields."""
        bits: list[str] = []
        if deployment.revision:
            age = format_age(seconds_between(deployment.deployed_at, self.http.clock.now()))
            bits.append(f"{short_sha(deployment.revision)} live {age} ago")
            if drift.behind_by is not None:
                behind = drift.behind_by
                bits.append(f"{plural(behind, 'commit')} behind" if behind else "up to date")
            elif drift.note:
                bits.append(drift.note)
        if not is_live:
            bits.append(_state_words(deployment))
        return f"{env}: {', '.join(bits)}"


_STATE_WORDS = {
    DeployState.QUEUED: "deploy queued",
    DeployState.RUNNING: "deploying",
    DeployState.FAILED: "deploy failed",
    DeployState.SUCCEEDED: "deployed",
}


def _state_words(deployment: Deployment) -> str:
    word = _STATE_WORDS.get(deployment.state)
    if word is not None:
        return word
    # Our own reasons ("no status reported", "deactivated") read well; an unknown state word
    # from the API stays out of the summary line.
    known = deployment.provider_state is None or deployment.provider_state.lower() == "inactive"
    return (deployment.detail or "state unknown") if known else "state unknown"
