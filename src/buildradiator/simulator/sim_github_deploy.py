"""GitHub Deployments and the compare API of ``acme/monolith``, under ``/github-deploy``.

``api_url = http://127.0.0.1:PORT/github-deploy`` works like ``https://api.github.com``. The
answers are wrapped exactly like the simulated Actions API's (``GitHubApi``, subclassed for its
routing only): a strong ``ETag`` with ``If-None-Match`` -> 304, the ``x-ratelimit-*`` headers
where a 304 costs nothing, GitHub's JSON 404.

The story (``prodstory``), in script seconds of every loop. Deploys ship main's newest commit
whose CI run was green at that moment -- what a pipeline gated on CI deploys -- which is why
main runs ahead of production (the GitHub Actions scenario of ``acme/monolith``):

- production (``PROD_DEPLOY``): at 20 a deployment of the newest green commit (the previous
  loop's revert; Mallory's c0ffee0, pushed at 8, is still being built), ``queued``, then
  ``in_progress`` at 21, ``success`` at 40, when the previous loop's production deployment
  turns ``inactive``. Main moves on: Mallory's commit (8), Chen's (55), Dana's revert (95), so
  the compare of the live commit with ``main`` answers ``ahead`` with real commits.
- staging: the same commit goes to staging first (10, ``success`` at 18); in act 2
  (``STAGING_DEPLOY``, 540) the newest green commit (Dana's revert) is deployed and fails at 555
  with ``STAGING_FAILURE``, so staging keeps the older commit live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any

from buildradiator.simulator.answer import (
    Answer,
    iso_z,
    json_answer,
    link_header,
    page_of,
    param,
    with_link,
)
from buildradiator.simulator.github import (
    DOCS,
    GitHubApi,
    Links,
    _not_found,
    _user,
)
from buildradiator.simulator.prodstory import PROD_DEPLOY, STAGING_DEPLOY
from buildradiator.simulator.runs import RunState
from buildradiator.simulator.scenario import LOOPS_KEPT, MONOLITH, Moment, Scenario
from buildradiator.simulator.sourceblock import source_block

PREFIX = "github-deploy"
REPO = MONOLITH.full_name
DEPLOYMENT_ID_BASE = 2_100_000_000
STAGING_EARLY = (10.0, 18.0)
"""Staging gets each release before production does, and it works there."""
STAGING_FAILURE = "helm upgrade failed: timed out waiting for the condition"
ENV_URLS = {
    "production": "https://monolith.acme.example",
    "staging": "https://staging.monolith.acme.example",
}
BOT = {
    "login": "github-actions[bot]",
    "id": 41898282,
    "node_id": "MDM6Qm90NDE4OTgyODI=",
    "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4",
    "type": "Bot",
    "site_admin": False,
}
COMPARE_MAX = 250
"""Commits the compare API lists without pagination (oldest first)."""


@dataclass(frozen=True)
class StatusPlan:
    number: int
    state: str
    at: datetime
    description: str


@dataclass(frozen=True)
class DeployPlan:
    id: int
    environment: str
    sha: str
    created: datetime
    statuses: tuple[StatusPlan, ...]
    """Oldest first; shown once their time has come."""

    def statuses_at(self, now: datetime) -> list[StatusPlan]:
        """The statuses that exist at ``now``, newest first (as GitHub lists them)."""
        return [s for s in reversed(self.statuses) if s.at <= now]


class GitHubDeploySim:
    """The SimProvider: hands each request to the API under its prefix."""

    prefix = PREFIX

    def __init__(self, scenario: Scenario) -> None:
        self.api = DeploymentsApi(scenario)

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="deploys",
            type="github_deployments",
            api_url=f"{base_url.rstrip('/')}/{PREFIX}",
            repo=REPO,
            environments=["production", "staging"],
            branch="main",
            service="monolith",
            pipeline=REPO,
        )

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        links = Links(api=web.removesuffix("/web") + "/" + PREFIX, web=web)
        # The scenario's time stands in for the wall clock of the rate window.
        wall = moment.now.timestamp()
        return self.api.answer(path, query, headers.get("If-None-Match"), moment, wall, links)


class DeploymentsApi(GitHubApi):
    """The deployments of ``acme/monolith`` and the compare API, at any moment of the script.
    ``GitHubApi.answer`` wraps every answer (ETag, 304, rate headers); only routing is ours."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        self._loops: dict[int, tuple[DeployPlan, ...]] = {}

    # -- routing (GitHubApi adds the ETag, the 304 and the rate headers)

    def _route(
        self, path: str, query: dict[str, list[str]], moment: Moment, links: Links
    ) -> Answer:
        parts = [p for p in path.split("/") if p]
        if len(parts) < 4 or parts[0] != "repos":
            return _not_found()
        if f"{parts[1]}/{parts[2]}".lower() != REPO:
            return _not_found(f"{DOCS}/deployments/deployments#list-deployments")
        rest = parts[3:]
        if rest == ["deployments"]:
            return self._list(query, moment, links)
        if len(rest) in (2, 3) and rest[0] == "deployments" and rest[1].isdigit():
            plan = self._find(int(rest[1]), moment)
            if plan is None:
                return _not_found(f"{DOCS}/deployments/deployments#get-a-deployment")
            if len(rest) == 2:
                return json_answer(200, deployment_json(plan, moment, links))
            if rest[2] == "statuses":
                statuses = plan.statuses_at(moment.now)
                shown = page_of(statuses, query, 30).shown
                return json_answer(200, [status_json(plan, s, links) for s in shown])
        if len(rest) == 2 and rest[0] == "compare":
            return self._compare(rest[1], moment, links)
        return _not_found()

    def _list(self, query: dict[str, list[str]], moment: Moment, links: Links) -> Answer:
        plans = self._existing(moment)
        if (environment := param(query, "environment")) is not None:
            plans = [p for p in plans if p.environment == environment]
        if (sha := param(query, "sha")) is not None:
            plans = [p for p in plans if p.sha == sha]
        if param(query, "ref") not in (None, "main") or param(query, "task") not in (
            None,
            "deploy",
        ):
            plans = []
        page = page_of(plans, query, 30)
        answer = json_answer(200, [deployment_json(p, moment, links) for p in page.shown])
        base = f"{links.api}/repos/{REPO}/deployments"
        return with_link(answer, link_header(page, query, base))

    def _compare(self, basehead: str, moment: Moment, links: Links) -> Answer:
        base, sep, head = basehead.partition("...")
        if not sep:
            base, sep, head = basehead.partition("..")
        history = self._main(moment)
        shas = [s.plan.commit.sha for s in history]
        low, high = _index(shas, base), _index(shas, head, branch=True)
        if not sep or low is None or high is None:
            return _not_found(f"{DOCS}/commits/commits#compare-two-commits")
        ahead, behind = max(0, high - low), max(0, low - high)
        commits = history[low + 1 : high + 1][:COMPARE_MAX]
        status = "identical" if low == high else ("ahead" if ahead else "behind")
        web = f"{links.web}/{REPO}"
        payload = {
            "url": f"{links.api}/repos/{REPO}/compare/{basehead}",
            "html_url": f"{web}/compare/{basehead}",
            "permalink_url": f"{web}/compare/acme:{shas[low]}...acme:{shas[high]}",
            "diff_url": f"{web}/compare/{basehead}.diff",
            "patch_url": f"{web}/compare/{basehead}.patch",
            "base_commit": commit_json(history[low], history, links),
            "merge_base_commit": commit_json(history[min(low, high)], history, links),
            "status": status,
            "ahead_by": ahead,
            "behind_by": behind,
            "total_commits": ahead,
            "commits": [commit_json(s, history, links) for s in commits],
            "files": [_file(s) for s in commits],
        }
        return json_answer(200, payload)

    # -- the script

    def _existing(self, moment: Moment) -> list[DeployPlan]:
        """Every deployment created by ``moment``, newest first."""
        found = [
            plan
            for loop in range(max(-1, moment.loop - LOOPS_KEPT), moment.loop + 1)
            for plan in self.plans(loop)
            if plan.created <= moment.now
        ]
        return sorted(found, key=lambda p: (p.created, p.id), reverse=True)

    def _find(self, deployment_id: int, moment: Moment) -> DeployPlan | None:
        return next((p for p in self._existing(moment) if p.id == deployment_id), None)

    def _main(self, moment: Moment) -> list[RunState]:
        """Main's commits pushed by ``moment``, oldest first (one run per commit in the script)."""
        runs = [s for s in self.scenario.runs(REPO, moment) if s.plan.branch == "main"]
        seen: set[str] = set()
        ordered = []
        for state in sorted(runs, key=lambda s: (s.created_at, s.plan.id)):
            if state.plan.commit.sha not in seen:
                seen.add(state.plan.commit.sha)
                ordered.append(state)
        return ordered

    def plans(self, loop: int) -> tuple[DeployPlan, ...]:
        cached = self._loops.get(loop)
        if cached is None:
            cached = self._loop(loop)
            self._loops[loop] = cached
            for old in [k for k in self._loops if k < loop - LOOPS_KEPT - 1]:
                del self._loops[old]
        return cached

    def _loop(self, loop: int) -> tuple[DeployPlan, ...]:
        at = self.scenario.at

        def deploy(
            k: int, env: str, span: tuple[float, float], outcome: str, why: str
        ) -> DeployPlan:
            start, end = span
            statuses = [
                StatusPlan(1, "queued", at(loop, start), "Deployment queued"),
                StatusPlan(2, "in_progress", at(loop, start + 1), f"Deploying to {env}"),
                StatusPlan(3, outcome, at(loop, end), why),
            ]
            if outcome == "success":
                # GitHub marks a deployment inactive once a newer one to its environment works.
                statuses.append(
                    StatusPlan(4, "inactive", at(loop + 1, end), "Superseded by a newer deployment")
                )
            sha = self._green_sha(loop, start)
            deployment_id = DEPLOYMENT_ID_BASE + (loop + 1) * 10 + k
            return DeployPlan(deployment_id, env, sha, at(loop, start), tuple(statuses))

        return (
            deploy(0, "staging", STAGING_EARLY, "success", "Deployment finished successfully."),
            deploy(1, "production", PROD_DEPLOY, "success", "Deployment finished successfully."),
            deploy(2, "staging", STAGING_DEPLOY, "failure", STAGING_FAILURE),
        )

    def _green_sha(self, loop: int, script_t: float) -> str:
        """The newest main commit whose CI run was green at that moment of ``loop``."""
        scale = self.scenario.scale
        moment = Moment(loop, script_t * scale, script_t, self.scenario.at(loop, script_t))
        main = [s for s in self.scenario.runs(REPO, moment) if s.plan.branch == "main"]
        green = [s for s in main if s.conclusion == "success"] or main
        # Loop -1 stands for the time before the demo, whose last commit is what loop 0 ships
        # first: its early deploys shipped the commit before, or loop 0 would redeploy them.
        if loop < 0 and script_t < STAGING_DEPLOY[0] and len(green) > 1:
            return green[1].plan.commit.sha
        return green[0].plan.commit.sha


# -- payloads ----------------------------------------------------------------------------------


def deployment_json(plan: DeployPlan, moment: Moment, links: Links) -> dict[str, Any]:
    api = f"{links.api}/repos/{REPO}/deployments/{plan.id}"
    statuses = plan.statuses_at(moment.now)
    return {
        "url": api,
        "id": plan.id,
        "node_id": f"DE_kwDOH{plan.id}",
        "task": "deploy",
        "original_environment": plan.environment,
        "environment": plan.environment,
        "description": f"Deploy {plan.sha[:7]} to {plan.environment}",
        "created_at": iso_z(plan.created),
        "updated_at": iso_z(statuses[0].at if statuses else plan.created),
        "statuses_url": f"{api}/statuses",
        "repository_url": f"{links.api}/repos/{REPO}",
        "creator": BOT,
        "sha": plan.sha,
        "ref": "main",
        "payload": {"image": f"ghcr.io/acme/monolith:{plan.sha[:12]}"},
        "transient_environment": False,
        "production_environment": plan.environment == "production",
        "performed_via_github_app": None,
    }


def status_json(plan: DeployPlan, status: StatusPlan, links: Links) -> dict[str, Any]:
    api = f"{links.api}/repos/{REPO}/deployments/{plan.id}"
    log = f"{links.web}/{REPO}/actions/runs/{plan.id}"
    return {
        "url": f"{api}/statuses/{plan.id * 10 + status.number}",
        "id": plan.id * 10 + status.number,
        "node_id": f"DES_kwDOH{plan.id * 10 + status.number}",
        "state": status.state,
        "creator": BOT,
        "description": status.description,
        "environment": plan.environment,
        "target_url": log,
        "created_at": iso_z(status.at),
        "updated_at": iso_z(status.at),
        "deployment_url": api,
        "repository_url": f"{links.api}/repos/{REPO}",
        "environment_url": ENV_URLS.get(plan.environment, ""),
        "log_url": log,
        "performed_via_github_app": None,
    }


def commit_json(state: RunState, history: list[RunState], links: Links) -> dict[str, Any]:
    commit = state.plan.commit
    api = f"{links.api}/repos/{REPO}"
    position = history.index(state)
    parents = [history[position - 1].plan.commit.sha] if position else []
    return {
        "sha": commit.sha,
        "node_id": f"C_kwDOH{commit.sha[:20]}",
        "commit": {
            # Written on a laptop earlier; committed to main (a squash merge) when pushed.
            "author": {
                "name": commit.author.name,
                "email": commit.author.email,
                "date": iso_z(commit.timestamp),
            },
            "committer": {
                "name": "GitHub",
                "email": "noreply@github.com",
                "date": iso_z(state.created_at),
            },
            "message": commit.message,
            "tree": {"sha": commit.sha[::-1], "url": f"{api}/git/trees/{commit.sha[::-1]}"},
            "url": f"{api}/git/commits/{commit.sha}",
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
            },
        },
        "url": f"{api}/commits/{commit.sha}",
        "html_url": f"{links.web}/{REPO}/commit/{commit.sha}",
        "comments_url": f"{api}/commits/{commit.sha}/comments",
        "author": _user(commit.author),
        "committer": {"login": "web-flow", "id": 19864447, "type": "User", "site_admin": False},
        "parents": [
            {
                "sha": sha,
                "url": f"{api}/commits/{sha}",
                "html_url": f"{links.web}/{REPO}/commit/{sha}",
            }
            for sha in parents
        ],
    }


def _file(state: RunState) -> dict[str, Any]:
    sha = state.plan.commit.sha
    return {
        "sha": sha[::-1],
        "filename": f"src/monolith/{sha[:6]}.py",
        "status": "modified",
        "additions": 3,
        "deletions": 1,
        "changes": 4,
        "patch": "@@ -1,2 +1,4 @@",
    }


def _index(shas: list[str], ref: str, *, branch: bool = False) -> int | None:
    """Where a commit (a full sha or a prefix of at least 7) or ``main`` sits in main's history."""
    if branch and ref == "main":
        return len(shas) - 1 if shas else None
    if len(ref) < 7:
        return None
    return next((i for i, sha in enumerate(shas) if sha.startswith(ref.lower())), None)


def make(scenario: Scenario) -> GitHubDeploySim:
    return GitHubDeploySim(scenario)
