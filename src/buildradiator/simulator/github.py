"""The GitHub Actions REST API, as the simulator speaks it (api-facts section 1).

Served under ``/github`` so that ``api_url = http://127.0.0.1:PORT/github`` works like
``https://api.github.com``. Faithful where clients can tell: the documented run and job fields
(plus some undocumented-for-us extras real answers carry), ISO timestamps with ``Z``, a strong
``ETag`` on every JSON answer with ``If-None-Match`` -> 304 and no body, and the primary rate
limit headers, where a 304 costs nothing, exactly as on GitHub.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from buildradiator.simulator.answer import (
    Answer,
    etag_matches,
    iso_z,
    json_answer,
    link_header,
    page_of,
    param,
    strong_etag,
    with_link,
)
from buildradiator.simulator.runs import JobState, Person, Repo, RunState
from buildradiator.simulator.scenario import REPOS, Moment, Scenario

RATE_LIMIT = 5000
RATE_WINDOW = 3600
DOCS = "https://docs.github.com/rest"
RUN_STATUSES = {"requested", "in_progress", "completed", "queued", "pending", "waiting"}
RUN_CONCLUSIONS = {
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "stale",
    "timed_out",
    "action_required",
    "startup_failure",
}


@dataclass
class RateBudget:
    """GitHub's primary limit: a window of ``limit`` requests that resets an hour after it began."""

    limit: int = RATE_LIMIT
    remaining: int = RATE_LIMIT
    reset: int = 0

    def refresh(self, now: float) -> None:
        if now >= self.reset:
            self.remaining = self.limit
            self.reset = int(now) + RATE_WINDOW

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(self.remaining)),
            ("x-ratelimit-reset", str(self.reset)),
            ("x-ratelimit-used", str(self.limit - self.remaining)),
            ("x-ratelimit-resource", "core"),
        ]


@dataclass(frozen=True)
class Links:
    """Where the answer's URLs point: the API root and the web pages (both on the simulator)."""

    api: str
    web: str


_COMMON = [
    ("x-github-api-version-selected", "2022-11-28"),
    ("x-github-media-type", "github.v3; format=json"),
    ("cache-control", "private, max-age=60, s-maxage=60"),
    ("vary", "Accept, Authorization, Cookie, X-GitHub-OTP"),
]


class GitHubApi:
    """Answers ``/github/...`` requests. Not thread-safe: the server calls it under one lock."""

    def __init__(self, scenario: Scenario, limit: int = RATE_LIMIT) -> None:
        self.scenario = scenario
        self.budget = RateBudget(limit=limit, remaining=limit)
        self.graphql_budget = RateBudget(limit=limit, remaining=limit)
        self._served = 0

    def answer(
        self,
        path: str,
        query: dict[str, list[str]],
        if_none_match: str | None,
        moment: Moment,
        wall_time: float,
        links: Links,
    ) -> Answer:
        self.budget.refresh(wall_time)
        self._served += 1
        if path.strip("/") == "rate_limit":
            # Asking for the rate limit is itself free on GitHub.
            answer = json_answer(200, self._rate_payload())
            answer.headers += _COMMON + self.budget.headers()
            return answer
        answer = self._route(path, query, moment, links)
        answer.headers += _COMMON
        answer.headers.append(("x-github-request-id", f"SIM:{self._served:08X}"))
        if answer.status == 200:
            etag = strong_etag(answer.body)
            answer.headers.append(("ETag", etag))
            if etag_matches(if_none_match, etag):
                headers = [(k, v) for k, v in answer.headers if k.lower() != "content-type"]
                return Answer(304, b"", headers + self.budget.headers())
            if self.budget.remaining <= 0:
                limited = json_answer(
                    403,
                    {
                        "message": "API rate limit exceeded for 127.0.0.1. (But here's the good "
                        "news: Authenticated requests get a higher rate limit.)",
                        "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
                    },
                )
                limited.headers += _COMMON + self.budget.headers()
                return limited
            self.budget.remaining -= 1
        answer.headers += self.budget.headers()
        return answer

    def graphql(self, body: bytes, moment: Moment, wall_time: float) -> Answer:
        """``POST /graphql`` for the queries the radiator sends (``sources.github.graphql``):
        aliases ``r0``, ``r1``... of ``repository(owner: $oN, name: $nN)`` with the head commit
        of ``$ref`` and its check suites, and ``rateLimit``; an unknown repository is ``null``
        with a ``NOT_FOUND`` entry in ``errors``, as GitHub answers. Costs GraphQL points, not
        REST requests."""
        self.graphql_budget.refresh(wall_time)
        try:
            doc = json.loads(body)
            query, variables = doc["query"], doc.get("variables") or {}
            assert isinstance(query, str) and isinstance(variables, dict)
        except (ValueError, KeyError, TypeError, AssertionError):
            return json_answer(400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
        branch = str(variables.get("ref", "")).removeprefix("refs/heads/")
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        i = 0
        while f"o{i}" in variables:
            full = f"{variables[f'o{i}']}/{variables.get(f'n{i}')}"
            repo = REPOS.get(full.lower())
            if repo is None:
                data[f"r{i}"] = None
                errors.append({
                    "type": "NOT_FOUND",
                    "path": [f"r{i}"],
                    "locations": [{"line": 1, "column": 1}],
                    "message": f"Could not resolve to a Repository with the name '{full}'.",
                })  # fmt: skip
            else:
                data[f"r{i}"] = {"ref": self._head(repo, branch, moment)}
            i += 1
        cost = max(1, i // 100)
        self.graphql_budget.remaining = max(0, self.graphql_budget.remaining - cost)
        data["rateLimit"] = {
            "cost": cost,
            "limit": self.graphql_budget.limit,
            "remaining": self.graphql_budget.remaining,
            "resetAt": iso_z(datetime.fromtimestamp(self.graphql_budget.reset, UTC)),
        }
        answer = json_answer(200, {"data": data, **({"errors": errors} if errors else {})})
        headers = [(k, v) for k, v in self.graphql_budget.headers() if k != "x-ratelimit-resource"]
        answer.headers += _COMMON + headers + [("x-ratelimit-resource", "graphql")]
        return answer

    def _head(self, repo: Repo, branch: str, moment: Moment) -> dict[str, Any] | None:
        runs = [s for s in self.scenario.runs(repo.full_name, moment) if s.plan.branch == branch]
        if not runs:
            return None
        head = max(runs, key=lambda s: (s.created_at, s.plan.id)).plan.commit.sha
        suites = [
            {
                "databaseId": s.plan.id + 7_000_000_000,
                "status": s.status.upper(),
                "conclusion": s.conclusion.upper() if s.conclusion else None,
                "updatedAt": iso_z(s.updated_at),
            }
            for s in runs
            if s.plan.commit.sha == head
        ]
        return {"target": {"oid": head, "checkSuites": {"nodes": suites}}}

    def _rate_payload(self) -> dict[str, Any]:
        core = {
            "limit": self.budget.limit,
            "remaining": self.budget.remaining,
            "reset": self.budget.reset,
            "used": self.budget.limit - self.budget.remaining,
            "resource": "core",
        }
        return {"resources": {"core": core}, "rate": core}

    # -- routing

    def _route(
        self, path: str, query: dict[str, list[str]], moment: Moment, links: Links
    ) -> Answer:
        parts = [p for p in path.split("/") if p]
        if len(parts) < 5 or parts[0] != "repos" or parts[3] != "actions":
            return _not_found()
        repo = REPOS.get(f"{parts[1]}/{parts[2]}".lower())
        if repo is None:
            return _not_found(f"{DOCS}/actions/workflow-runs#list-workflow-runs-for-a-repository")
        rest = parts[4:]
        if rest == ["runs"]:
            return self._list_runs(repo, query, moment, links, None)
        if rest == ["workflows"]:
            return json_answer(200, {"total_count": 1, "workflows": [_workflow(repo, links)]})
        if len(rest) == 3 and rest[0] == "workflows" and rest[2] == "runs":
            if rest[1] not in (str(repo.workflow_id), repo.workflow_file):
                return _not_found(f"{DOCS}/actions/workflow-runs#list-workflow-runs-for-a-workflow")
            return self._list_runs(repo, query, moment, links, rest[1])
        if len(rest) >= 2 and rest[0] == "runs" and rest[1].isdigit():
            return self._one_run(repo, int(rest[1]), rest[2:], query, moment, links)
        return _not_found()

    def _list_runs(
        self,
        repo: Repo,
        query: dict[str, list[str]],
        moment: Moment,
        links: Links,
        workflow: str | None,
    ) -> Answer:
        runs = self.scenario.runs(repo.full_name, moment)
        filters: list[Callable[[RunState], bool]] = []
        if branch := param(query, "branch"):
            filters.append(lambda s: s.plan.branch == branch)
        if event := param(query, "event"):
            filters.append(lambda s: s.plan.event == event)
        if actor := param(query, "actor"):
            filters.append(lambda s: s.plan.actor.login == actor)
        if head_sha := param(query, "head_sha"):
            filters.append(lambda s: s.plan.commit.sha == head_sha)
        if status := param(query, "status"):
            # GitHub's ``status`` filter takes a status or a conclusion; anything else matches none.
            if status in RUN_STATUSES:
                filters.append(lambda s: s.status == status)
            else:
                filters.append(lambda s: s.conclusion == status)
        runs = [s for s in runs if all(f(s) for f in filters)]
        page = page_of(runs, query, 30)
        payload = {
            "total_count": len(runs),
            "workflow_runs": [run_json(s, links) for s in page.shown],
        }
        base = f"{links.api}/repos/{repo.full_name}/actions/" + (
            f"workflows/{workflow}/runs" if workflow else "runs"
        )
        return with_link(json_answer(200, payload), link_header(page, query, base))

    def _one_run(
        self,
        repo: Repo,
        run_id: int,
        rest: list[str],
        query: dict[str, list[str]],
        moment: Moment,
        links: Links,
    ) -> Answer:
        attempt: int | None = None
        if len(rest) >= 2 and rest[0] == "attempts" and rest[1].isdigit():
            attempt, rest = int(rest[1]), rest[2:]
        state = self.scenario.run(repo.full_name, run_id, moment, attempt)
        if state is None:
            return _not_found(f"{DOCS}/actions/workflow-runs#get-a-workflow-run")
        if rest == []:
            return json_answer(200, run_json(state, links))
        if rest == ["jobs"]:
            # filter=latest (the default) lists the current attempt's jobs; all adds earlier ones.
            everything = param(query, "filter") == "all" and attempt is None
            jobs = state.jobs if everything else state.latest_jobs
            shown = page_of(jobs, query, 30).shown
            return json_answer(
                200,
                {"total_count": len(jobs), "jobs": [job_json(state, j, links) for j in shown]},
            )
        return _not_found()


# -- payloads ----------------------------------------------------------------------------------


def _user(person: Person) -> dict[str, Any]:
    uid = 5_000_000 + sum(ord(c) * 31**i for i, c in enumerate(person.login)) % 1_000_000
    return {
        "login": person.login,
        "id": uid,
        "node_id": f"MDQ6VXNlcj{uid}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "type": "User",
        "site_admin": False,
    }


def _repository(repo: Repo, links: Links) -> dict[str, Any]:
    owner, name = repo.full_name.split("/")
    return {
        "id": 700_000 + repo.index,
        "name": name,
        "full_name": repo.full_name,
        "private": True,
        "owner": {"login": owner, "id": 90_000, "type": "Organization"},
        "html_url": f"{links.web}/{repo.full_name}",
        "url": f"{links.api}/repos/{repo.full_name}",
    }


def _workflow(repo: Repo, links: Links) -> dict[str, Any]:
    return {
        "id": repo.workflow_id,
        "name": repo.workflow_name,
        "path": repo.workflow_path,
        "state": "active",
        "url": f"{links.api}/repos/{repo.full_name}/actions/workflows/{repo.workflow_id}",
        "html_url": f"{links.web}/{repo.full_name}/blob/main/{repo.workflow_path}",
    }


def run_json(state: RunState, links: Links) -> dict[str, Any]:
    plan, repo = state.plan, state.plan.repo
    api_run = f"{links.api}/repos/{repo.full_name}/actions/runs/{plan.id}"
    commit = plan.commit
    previous = f"{api_run}/attempts/{state.attempt - 1}" if state.attempt > 1 else None
    return {
        "id": plan.id,
        "name": repo.workflow_name,
        "node_id": f"WFR_kwLO{plan.id}",
        "head_branch": plan.branch,
        "head_sha": commit.sha,
        "path": repo.workflow_path,
        "display_title": commit.message.splitlines()[0],
        "run_number": plan.number,
        "event": plan.event,
        "status": state.status,
        "conclusion": state.conclusion,
        "workflow_id": repo.workflow_id,
        "check_suite_id": plan.id + 7_000_000_000,
        "url": api_run,
        "html_url": f"{links.web}/{repo.full_name}/actions/runs/{plan.id}",
        "pull_requests": [],
        "created_at": iso_z(state.created_at),
        "updated_at": iso_z(state.updated_at),
        "actor": _user(plan.actor),
        "run_attempt": state.attempt,
        "referenced_workflows": [],
        "run_started_at": iso_z(state.run_started_at),
        "triggering_actor": _user(state.triggered_by),
        "jobs_url": f"{api_run}/jobs",
        "logs_url": f"{api_run}/logs",
        "artifacts_url": f"{api_run}/artifacts",
        "cancel_url": f"{api_run}/cancel",
        "rerun_url": f"{api_run}/rerun",
        "previous_attempt_url": previous,
        "workflow_url": f"{links.api}/repos/{repo.full_name}/actions/workflows/{repo.workflow_id}",
        "head_commit": {
            "id": commit.sha,
            "tree_id": commit.sha[::-1],
            "message": commit.message,
            "timestamp": iso_z(commit.timestamp),
            "author": {"name": commit.author.name, "email": commit.author.email},
            "committer": {"name": "GitHub", "email": "noreply@github.com"},
        },
        "repository": _repository(repo, links),
        "head_repository": _repository(repo, links),
    }


def job_json(state: RunState, job: JobState, links: Links) -> dict[str, Any]:
    plan, repo = state.plan, state.plan.repo
    runner = job.status != "queued"
    return {
        "id": job.id,
        "run_id": plan.id,
        "workflow_name": repo.workflow_name,
        "head_branch": plan.branch,
        "run_url": f"{links.api}/repos/{repo.full_name}/actions/runs/{plan.id}",
        "run_attempt": job.attempt,
        "node_id": f"CR_kwDO{job.id}",
        "head_sha": plan.commit.sha,
        "url": f"{links.api}/repos/{repo.full_name}/actions/jobs/{job.id}",
        "html_url": f"{links.web}/{repo.full_name}/actions/runs/{plan.id}/job/{job.id}",
        "status": job.status,
        "conclusion": job.conclusion,
        "created_at": iso_z(job.created_at),
        "started_at": iso_z(job.started_at),
        "completed_at": iso_z(job.completed_at) if job.completed_at else None,
        "name": job.name,
        "steps": [
            {
                "name": step.name,
                "status": step.status,
                "conclusion": step.conclusion,
                "number": step.number,
                "started_at": iso_z(step.started_at) if step.started_at else None,
                "completed_at": iso_z(step.completed_at) if step.completed_at else None,
            }
            for step in job.steps
        ],
        "check_run_url": f"{links.api}/repos/{repo.full_name}/check-runs/{job.id}",
        "labels": ["ubuntu-latest"],
        "runner_id": 40 + job.id % 7 if runner else None,
        "runner_name": f"GitHub Actions {40 + job.id % 7}" if runner else None,
        "runner_group_id": 1 if runner else None,
        "runner_group_name": "GitHub Actions" if runner else None,
    }


# -- helpers -----------------------------------------------------------------------------------


def _not_found(documentation_url: str = DOCS) -> Answer:
    return json_answer(
        404, {"message": "Not Found", "documentation_url": documentation_url, "status": "404"}
    )
