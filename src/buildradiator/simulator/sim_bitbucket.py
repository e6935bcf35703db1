"""Bitbucket Cloud's pipelines API (REST 2.0), as the simulator speaks it, under ``/bitbucket``.

``api_url = http://127.0.0.1:PORT/bitbucket/2.0`` works like ``https://api.bitbucket.org/2.0``
for workspace ``acme``. Served:

- ``GET /2.0/repositories/acme/{repo_slug}/pipelines/`` with ``target.branch``, ``sort``
  (``-created_on`` newest first; otherwise oldest first, as the API lists by default), ``page``
  and ``pagelen`` (default 10, at most 100): ``{"page", "pagelen", "size", "values", "next"}``,
  ``next`` a full URL while more pages follow;
- ``GET .../pipelines/{uuid}`` and ``GET .../pipelines/{uuid}/steps/`` (the steps of the latest
  run), braces in the uuid sent URL-encoded or not;
- ``GET .../commit/{hash}``: the commit and its message (the pipelines list names only the hash);
- errors as Bitbucket words them: ``{"type": "error", "error": {"message": ...}}``.

An ``Authorization`` that is neither ``Bearer <token>`` nor ``Basic`` gets Bitbucket's 401. A
request with an access token (``Bearer``) gets the hourly rate-limit headers
(``X-RateLimit-Limit``, ``X-RateLimit-Resource``, ``X-RateLimit-NearLimit``), which Bitbucket
sends to access tokens only.

Bitbucket's part of the story is a calm one (see ``moments.py``), in ``acme/web-portal``:

- Act 1: Grace's "Add dark mode toggle" (20) is pending, then runs Build, then Unit tests and
  Lint side by side, then Deploy to staging, and is green at 125. Bob's "Publish the docs site"
  (160) builds and tests green by 215 and then pauses at the manual step "Deploy to production"
  (green while it waits, as Bitbucket's UI says "Successful") until Bob runs it, green at 290.
- Act 2: Erin's "Bump axios to 1.7" (285) fails in Integration tests at 305: main is red, alone
  on the screen (after the CCTray feed came back, before Jenkins' story). Erin re-runs it at 310
  (run 2 of the same pipeline; main stays red while it runs) and it is green at 327: green only
  after a re-run.
- A pipeline on ``feature/dark-mode`` (40-100, red) shows that only ``main`` is watched.

Times are ISO with microseconds and ``Z``; uuids are ``{...}``, as api.bitbucket.org writes them.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

from buildradiator.simulator.answer import Answer, json_answer, page_of, page_url, param
from buildradiator.simulator.runs import Person
from buildradiator.simulator.scenario import (
    BOB,
    CHEN,
    DANA,
    ERIN,
    GRACE,
    LOOPS_KEPT,
    Moment,
    Scenario,
)
from buildradiator.simulator.sourceblock import source_block

PREFIX = "bitbucket"
WORKSPACE = "acme"
REPO = "web-portal"
HISTORY = 8
PER_LOOP = 5
"""Room per loop in the build-number space (the script uses 4)."""
NUMBER_BASE = 700
RATE_LIMIT = 1000


@dataclass(frozen=True)
class StepPlan:
    name: str
    start: float
    end: float
    ok: bool = True
    manual: bool = False
    """Waits for a person from the end of the step before it until ``start``."""


@dataclass(frozen=True)
class RunPlan:
    """One run of a pipeline: its steps, in script seconds of its loop."""

    created: float
    steps: tuple[StepPlan, ...]
    creator: Person


@dataclass(frozen=True)
class PipelinePlan:
    number: int
    loop: int
    branch: str
    message: str
    sha: str
    runs: tuple[RunPlan, ...]
    trigger: str = "PUSH"


def _uuid(*key: object) -> str:
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "buildradiator-bitbucket:" + repr(key))) + "}"


def _sha(*key: object) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "bb-sha:" + repr(key)).hex + "0" * 8


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _story(loop: int) -> tuple[PipelinePlan, ...]:
    base = NUMBER_BASE + HISTORY + loop * PER_LOOP

    def plan(k: int, branch: str, message: str, *runs: RunPlan) -> PipelinePlan:
        return PipelinePlan(base + k + 1, loop, branch, message, _sha(loop, k), runs)

    return (
        plan(
            0,
            "main",
            "Add dark mode toggle",
            RunPlan(
                20,
                (
                    StepPlan("Build", 28, 60),
                    StepPlan("Unit tests", 60, 100),
                    StepPlan("Lint", 60, 85),
                    StepPlan("Deploy to staging", 100, 125),
                ),
                GRACE,
            ),
        ),
        plan(
            1,
            "feature/dark-mode",
            "WIP: dark mode for the admin pages",
            RunPlan(40, (StepPlan("Build", 44, 70), StepPlan("Unit tests", 70, 100, ok=False)), GRACE),
        ),
        plan(
            2,
            "main",
            "Publish the docs site",
            RunPlan(
                160,
                (
                    StepPlan("Build and test", 166, 215),
                    StepPlan("Deploy to production", 270, 290, manual=True),
                ),
                BOB,
            ),
        ),
        plan(
            3,
            "main",
            "Bump axios to 1.7",
            RunPlan(285, (StepPlan("Build", 290, 300), StepPlan("Integration tests", 300, 305, ok=False)), ERIN),
            RunPlan(310, (StepPlan("Build", 310, 316), StepPlan("Integration tests", 316, 327)), ERIN),
        ),
    )  # fmt: skip


@functools.cache
def _history() -> tuple[PipelinePlan, ...]:
    people = (CHEN, DANA, ERIN, GRACE, BOB)
    plans = []
    for i in range(HISTORY):
        steps = (StepPlan("Build", 6, 50), StepPlan("Unit tests", 50, 140 + 7 * i))
        plans.append(
            PipelinePlan(
                NUMBER_BASE + i + 1,
                -1 - (HISTORY - i),
                "main",
                f"Polish the checkout page, part {i + 1}",
                _sha("history", i),
                (RunPlan(0, steps, people[i % len(people)]),),
            )
        )
    return tuple(plans)


# --- a run at a moment ------------------------------------------------------------------------


def step_state(step: StepPlan, s: float) -> dict[str, Any]:
    if s < step.start:
        return {"name": "PENDING", "type": "pipeline_step_state_pending"}
    if s < step.end:
        return {"name": "IN_PROGRESS", "type": "pipeline_step_state_in_progress"}
    result = "SUCCESSFUL" if step.ok else "FAILED"
    return {
        "name": "COMPLETED",
        "type": "pipeline_step_state_completed",
        "result": {"name": result, "type": f"pipeline_step_state_completed_{result.lower()}"},
    }


def run_outcome(run: RunPlan, s: float) -> tuple[dict[str, Any], float | None]:
    """The pipeline's ``state`` during ``run`` at script second ``s``, and when it completed."""
    failed = next((st for st in run.steps if not st.ok and st.end <= s), None)
    if failed is not None:
        return _completed("FAILED"), failed.end
    last = max(st.end for st in run.steps)
    if s >= last:
        return _completed("SUCCESSFUL"), last
    if s < run.steps[0].start:
        return {"name": "PENDING", "type": "pipeline_state_pending"}, None
    running = any(st.start <= s < st.end for st in run.steps)
    waiting = next((st for st in run.steps if s < st.start), None)
    if not running and waiting is not None and waiting.manual:
        stage = {"name": "PAUSED", "type": "pipeline_state_in_progress_paused"}
    else:
        stage = {"name": "RUNNING", "type": "pipeline_state_in_progress_running"}
    return {"name": "IN_PROGRESS", "type": "pipeline_state_in_progress", "stage": stage}, None


def _completed(result: str) -> dict[str, Any]:
    return {
        "name": "COMPLETED",
        "type": "pipeline_state_completed",
        "result": {"name": result, "type": f"pipeline_state_completed_{result.lower()}"},
    }


class BitbucketSim:
    prefix = PREFIX

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._loops: dict[int, tuple[PipelinePlan, ...]] = {}

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="bitbucket",
            type="bitbucket",
            api_url=f"{base_url.rstrip('/')}/{PREFIX}/2.0",
            web_url=f"{base_url.rstrip('/')}/web/{PREFIX}",
            workspace=WORKSPACE,
            repositories=[REPO],
            branch="main",
        )

    # -- time

    def _at(self, plan: PipelinePlan, s: float) -> datetime:
        if plan.loop < 0:
            # History: one pipeline every 40 minutes before the demo began.
            return self.scenario.start + timedelta(minutes=40 * plan.loop, seconds=s)
        return self.scenario.at(plan.loop, s)

    def _scale(self, plan: PipelinePlan) -> float:
        """Wall seconds per script second: the loop's, or 1 for the history before the demo."""
        return self.scenario.scale if plan.loop >= 0 else 1.0

    def _script_s(self, plan: PipelinePlan, moment: Moment) -> float:
        """How far ``moment`` is into the loop of ``plan``, in script seconds."""
        return (moment.now - self._at(plan, 0)).total_seconds() / self._scale(plan)

    def _plans(self, moment: Moment) -> list[PipelinePlan]:
        """Every pipeline created by ``moment``, newest first."""
        found = list(_history())
        first = max(0, moment.loop - LOOPS_KEPT + 1)
        for loop in [k for k in self._loops if k < first]:
            del self._loops[loop]  # a demo that runs for days keeps only what it lists
        for loop in range(first, moment.loop + 1):
            if loop not in self._loops:
                self._loops[loop] = _story(loop)
            found += self._loops[loop]
        live = [p for p in found if self._script_s(p, moment) >= p.runs[0].created]
        return sorted(live, key=lambda p: p.number, reverse=True)

    def _run(self, plan: PipelinePlan, moment: Moment) -> tuple[int, RunPlan, float]:
        s = self._script_s(plan, moment)
        index = max(i for i, run in enumerate(plan.runs) if s >= run.created)
        return index + 1, plan.runs[index], s

    # -- payloads

    def pipeline_json(
        self, plan: PipelinePlan, moment: Moment, api: str, web: str
    ) -> dict[str, Any]:
        run_number, run, s = self._run(plan, moment)
        state, done = run_outcome(run, s)
        first = plan.runs[0]
        began = min(st.start for st in run.steps)
        ran = (done if done is not None else min(s, max(st.end for st in run.steps))) - began
        item: dict[str, Any] = {
            "type": "pipeline",
            "uuid": _uuid(plan.number),
            "build_number": plan.number,
            "run_number": run_number,
            "creator": {
                "type": "user",
                "display_name": run.creator.name,
                "nickname": run.creator.login,
                "uuid": _uuid("user", run.creator.login),
                "account_id": f"557058:{_uuid('account', run.creator.login)[1:-1]}",
            },
            "repository": {"type": "repository", "full_name": f"{WORKSPACE}/{REPO}", "name": REPO},
            "target": {
                "type": "pipeline_ref_target",
                "ref_type": "branch",
                "ref_name": plan.branch,
                # The list names the commit only; its message is at .../commit/{hash}.
                "commit": {"type": "commit", "hash": plan.sha},
                "selector": {"type": "branches", "pattern": plan.branch},
            },
            "trigger": {"name": plan.trigger, "type": f"pipeline_trigger_{plan.trigger.lower()}"},
            "state": state,
            "created_on": _iso(self._at(plan, first.created)),
            "completed_on": _iso(self._at(plan, done)) if done is not None else None,
            "build_seconds_used": max(0, round(ran)) if done is not None else 0,
            "duration_in_seconds": max(0, round(ran * self._scale(plan))),
            "first_successful": False,
            "expired": False,
            "has_variables": False,
            "links": {
                "self": {"href": f"{api}/pipelines/{_uuid(plan.number)}"},
                "html": {
                    "href": f"{web}/{PREFIX}/{WORKSPACE}/{REPO}/pipelines/results/{plan.number}"
                },
            },
        }
        return item

    def steps_json(self, plan: PipelinePlan, moment: Moment) -> list[dict[str, Any]]:
        run_number, run, s = self._run(plan, moment)
        out = []
        for step in run.steps:
            state = step_state(step, s)
            item: dict[str, Any] = {
                "type": "pipeline_step",
                "uuid": _uuid(plan.number, run_number, step.name),
                "name": step.name,
                "pipeline": {"type": "pipeline", "uuid": _uuid(plan.number)},
                "trigger": {
                    "type": "pipeline_step_trigger_manual"
                    if step.manual
                    else "pipeline_step_trigger_automatic"
                },
                "state": state,
                "run_number": run_number,
                "image": {"name": "atlassian/default-image:4"},
                "script_commands": [{"name": step.name, "command": f"make {step.name.lower()}"}],
            }
            if s >= step.start:
                item["started_on"] = _iso(self._at(plan, step.start))
            if s >= step.end:
                item["completed_on"] = _iso(self._at(plan, step.end))
                seconds = (step.end - step.start) * self._scale(plan)
                item["duration_in_seconds"] = round(seconds)
            out.append(item)
        return out

    # -- the API

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        host = headers.get("Host") or "127.0.0.1"
        auth = headers.get("Authorization")
        if auth is not None and not (
            (auth.startswith("Bearer ") and auth[7:].strip()) or auth.startswith("Basic ")
        ):
            return _error(401, "Unauthorized", "Access token expired or invalid.")
        answer = self._route(path, query, moment, f"http://{host}/{PREFIX}", web)
        if auth is not None and auth.startswith("Bearer "):
            answer.headers += [
                ("X-RateLimit-Limit", str(RATE_LIMIT)),
                ("X-RateLimit-Resource", "api"),
                ("X-RateLimit-NearLimit", "false"),
            ]
        return answer

    def _route(
        self, path: str, query: dict[str, list[str]], moment: Moment, api: str, web: str
    ) -> Answer:
        parts = [p for p in path.split("/") if p]
        if parts[:2] != ["2.0", "repositories"] or len(parts) < 5:
            return _error(404, "Resource not found")
        if parts[2].lower() != WORKSPACE or parts[3].lower() != REPO:
            return _error(404, f"Repository {parts[2]}/{parts[3]} not found")
        repo_api = f"{api}/2.0/repositories/{WORKSPACE}/{REPO}"
        if parts[4] == "commit" and len(parts) == 6:
            return self._commit(parts[5], moment, repo_api)
        if parts[4] != "pipelines":
            return _error(404, "Resource not found")
        rest = parts[5:]
        if not rest:
            return self._list(query, moment, repo_api, web)
        wanted = rest[0] if rest[0].startswith("{") else "{" + rest[0] + "}"
        plan = next((p for p in self._plans(moment) if _uuid(p.number) == wanted.lower()), None)
        if plan is None:
            return _error(404, "Not found", f"Pipeline {rest[0]} does not exist.")
        if len(rest) == 1:
            return json_answer(200, self.pipeline_json(plan, moment, repo_api, web))
        if rest[1:] == ["steps"]:
            steps = self.steps_json(plan, moment)
            return _paged(steps, query, f"{api}/{'/'.join(parts)}/")
        return _error(404, "Resource not found")

    def _commit(self, sha: str, moment: Moment, repo_api: str) -> Answer:
        plan = next((p for p in self._plans(moment) if p.sha.startswith(sha.lower())), None)
        if plan is None or len(sha) < 7:
            return _error(404, f"Commit not found: {sha}")
        author = plan.runs[0].creator
        body = {
            "type": "commit",
            "hash": plan.sha,
            "date": _iso(self._at(plan, plan.runs[0].created - 30)),
            "author": {
                "type": "author",
                "raw": f"{author.name} <{author.email}>",
                "user": {"type": "user", "display_name": author.name, "nickname": author.login},
            },
            "message": plan.message + "\n",
            "summary": {"raw": plan.message + "\n", "markup": "markdown", "html": ""},
            "parents": [],
            "links": {"self": {"href": f"{repo_api}/commit/{plan.sha}"}},
        }
        return json_answer(200, body)

    def _list(self, query: dict[str, list[str]], moment: Moment, api: str, web: str) -> Answer:
        plans = self._plans(moment)
        branch = param(query, "target.branch") or param(query, "target.ref_name")
        if branch is not None:
            plans = [p for p in plans if p.branch == branch]
        if param(query, "sort") != "-created_on":
            plans.reverse()  # the API's own order is oldest first
        items = [self.pipeline_json(p, moment, api, web) for p in plans]
        return _paged(items, query, f"{api}/pipelines/")


def _paged(items: list[dict[str, Any]], query: dict[str, list[str]], url: str) -> Answer:
    page = page_of(items, query, 10, size_param="pagelen")
    body: dict[str, Any] = {
        "page": page.number,
        "pagelen": page.size,
        "size": page.total,
        "values": page.shown,
    }
    if page.more:
        body["next"] = page_url(url, query, page.number + 1)
    if page.number > 1:
        body["previous"] = page_url(url, query, page.number - 1)
    return json_answer(200, body)


def _error(status: int, message: str, detail: str | None = None) -> Answer:
    error: dict[str, Any] = {"message": message}
    if detail:
        error["detail"] = detail
    return json_answer(status, {"type": "error", "error": error})


def make(scenario: Scenario) -> BitbucketSim:
    return BitbucketSim(scenario)
