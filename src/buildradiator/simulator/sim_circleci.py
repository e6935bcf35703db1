"""CircleCI's API v2 (api-facts section 5), as the simulator speaks it, under ``/circleci``.

``api_url = http://127.0.0.1:PORT/circleci`` works like ``https://circleci.com`` (the source adds
``/api/v2``); the radiator's links for a server install point at ``/circleci/pipelines/...``, which
answer with an HTML page.

The story of ``gh/acme/mobile-api``, in script seconds of every loop:

- Erin's pipeline (15) runs ``build-test`` (build, then unit and integration side by side) green by
  75; its ``deploy`` workflow builds, then waits on the ``hold-for-release`` approval from 30 to 150
  (``on_hold``), deploys and is green at 175.
- Chen's pipeline (260) runs ``build-test`` to 295.
- In act 2 (see ``moments.py``), Farid's "Upgrade Kotlin to 2.1" (475): ``unit`` fails at 505
  while ``integration`` still runs, so the workflow is ``failing`` (red but running) until it is
  ``failed`` at 525: main is red and Farid's commit broke it. At 540 someone re-runs the workflow
  from failed: a new ``build-test`` workflow on the same pipeline, green at 580 -- green only
  after a re-run.

The flaky-tests insight (``/api/v2/insights/{slug}/flaky-tests``, kebab-case keys as circleci.com
sends them) lists three tests whose counts grow loop by loop: the ``unit`` test behind Farid's
re-run (one more flake each time the re-run goes green at 580), an ``integration`` test that flakes
once a loop in Erin's pipeline (at 75), and a UI snapshot test whose name carries markup and a
terminal escape, which must reach the screen as plain text.

Faithful where clients can tell: pipelines carry ``state`` (never a result), ``trigger.actor``,
``vcs.revision`` and ``vcs.commit.subject``; lists page with ``next_page_token``/``page-token`` (20
items, like circleci.com); ids are UUIDs; timestamps ISO with milliseconds and ``Z``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

from buildradiator.simulator.answer import Answer, json_answer, param, text_answer
from buildradiator.simulator.runs import Person
from buildradiator.simulator.scenario import (
    ALICE,
    BOB,
    CHEN,
    DANA,
    ERIN,
    FARID,
    LoopStory,
    Moment,
    Scenario,
)
from buildradiator.simulator.sourceblock import source_block

PREFIX = "circleci"
SLUG = "gh/acme/mobile-api"
PAGE_SIZE = 20
HISTORY = 8
NUMBER_BASE = 5200
FARID_K = 2
"""Farid's pipeline is the loop's third (after Erin's and Chen's): numbers follow creation."""


@dataclass(frozen=True)
class JobPlan:
    name: str
    start: datetime
    end: datetime
    ok: bool = True
    approval: bool = False
    """An approval job: ``on_hold`` from ``start`` until approved at ``end``."""


@dataclass(frozen=True)
class WorkflowPlan:
    name: str
    created: datetime
    jobs: tuple[JobPlan, ...]


@dataclass(frozen=True)
class PipelinePlan:
    number: int
    created: datetime
    sha: str
    subject: str
    actor: Person
    workflows: tuple[WorkflowPlan, ...]


def _id(*key: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "buildradiator-circleci:" + repr(key)))


def _iso(moment: datetime) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    return text + f"{moment.microsecond // 1000:03d}Z"


# -- the script ------------------------------------------------------------------------------------


def _build_test(
    at: Callable[[float], datetime],
    s: float,
    *,
    build: float = 15,
    unit: float = 20,
    it: float = 40,
    unit_ok: bool = True,
) -> WorkflowPlan:
    """``build`` from ``s``, then ``unit`` and ``integration`` side by side (seconds each)."""
    return WorkflowPlan(
        "build-test",
        at(s),
        (
            JobPlan("build", at(s), at(s + build)),
            JobPlan("unit", at(s + build), at(s + build + unit), ok=unit_ok),
            JobPlan("integration", at(s + build), at(s + build + it)),
        ),
    )


def _deploy(at: Callable[[float], datetime], s: float, approved: float) -> WorkflowPlan:
    """``build`` from ``s``, then on hold for release until ``approved``, then ``deploy-prod``."""
    return WorkflowPlan(
        "deploy",
        at(s),
        (
            JobPlan("build", at(s), at(s + 15)),
            JobPlan("hold-for-release", at(s + 15), at(approved), approval=True),
            JobPlan("deploy-prod", at(approved), at(approved + 25)),
        ),
    )


def _sha(loop: int, k: int, pad: str) -> str:
    return _id("sha", loop, k).replace("-", "")[:40].ljust(40, pad)


class CircleStory(LoopStory[PipelinePlan]):
    def _number(self, loop: int, k: int) -> int:
        return NUMBER_BASE + HISTORY + loop * 10 + k + 1 if loop >= 0 else NUMBER_BASE + k + 1

    def _loop(self, loop: int) -> tuple[PipelinePlan, ...]:
        def at(s: float) -> datetime:
            return self.scenario.at(loop, s)

        def pipeline(
            k: int, s: float, subject: str, actor: Person, workflows: tuple[WorkflowPlan, ...]
        ) -> PipelinePlan:
            return PipelinePlan(
                self._number(loop, k), at(s), _sha(loop, k, str(k)), subject, actor, workflows
            )

        erin = (_build_test(at, 15, it=45), _deploy(at, 15, approved=150))
        chen = (_build_test(at, 260, it=20),)
        # Unit tests fail; someone reruns the workflow at 540 s, and it passes.
        farid = (
            _build_test(at, 475, unit=15, it=35, unit_ok=False),
            _build_test(at, 540, build=10, unit=15, it=30),
        )
        return (
            pipeline(0, 15, "Add push notification opt-out", ERIN, erin),
            pipeline(1, 260, "Cache Gradle dependencies", CHEN, chen),
            pipeline(FARID_K, 475, "Upgrade Kotlin to 2.1", FARID, farid),
        )

    def _history(self) -> tuple[PipelinePlan, ...]:
        people = (ALICE, BOB, CHEN, DANA, ERIN, FARID)
        plans = []
        for i in range(HISTORY):
            created = (self.scenario.start - timedelta(minutes=45 * (HISTORY - i))).replace(
                microsecond=0
            )

            def t(s: float, created: datetime = created) -> datetime:
                return created + timedelta(seconds=s)

            workflow = _build_test(t, 0, it=43)
            deploy = _deploy(t, 0, approved=600)
            plans.append(
                PipelinePlan(
                    self._number(-1, i),
                    created,
                    _sha(-1, i, "3"),
                    f"Polish onboarding screen {i + 1}",
                    people[i % len(people)],
                    (workflow, deploy) if i % 3 == 1 else (workflow,),
                )
            )
        return tuple(plans)


# -- states at a moment ------------------------------------------------------------------------------


def job_status(job: JobPlan, now: datetime) -> str:
    if now < job.start:
        return "blocked"
    if now < job.end:
        return "on_hold" if job.approval else "running"
    if job.approval:
        return "success"
    return "success" if job.ok else "failed"


def workflow_status(workflow: WorkflowPlan, now: datetime) -> str:
    words = [job_status(j, now) for j in workflow.jobs]
    failed = "failed" in words
    if "running" in words:
        return "failing" if failed else "running"
    if failed:
        return "failed"
    if "on_hold" in words:
        return "on_hold"
    if "blocked" in words:
        return "running"
    return "success"


def stopped_at(workflow: WorkflowPlan, now: datetime) -> datetime | None:
    if workflow_status(workflow, now) not in ("success", "failed"):
        return None
    ends = [j.end for j in workflow.jobs if j.end <= now and j.start < j.end]
    return max(ends) if ends else workflow.created


# -- the API -----------------------------------------------------------------------------------------


class CircleSim:
    prefix = PREFIX

    def __init__(self, scenario: Scenario) -> None:
        self.story = CircleStory(scenario)

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="circleci",
            type="circleci",
            api_url=f"{base_url.rstrip('/')}/{PREFIX}",
            projects=[SLUG],
            branch="main",
            stage_times=True,
        )

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        if path.startswith("/pipelines/"):
            page = "<!doctype html><title>CircleCI</title><h1>Simulated CircleCI</h1>\n"
            return text_answer(200, page, "text/html")
        parts = [p for p in path.removeprefix("/api/v2/").split("/") if p]
        if not path.startswith("/api/v2/"):
            return _not_found("Not found.")
        answer = self._route(parts, query, moment)
        answer.headers.append(("x-request-id", _id(path, moment.now.isoformat())))
        return answer

    def _route(self, parts: list[str], query: dict[str, list[str]], moment: Moment) -> Answer:
        if len(parts) == 5 and parts[0] == "insights" and parts[4] == "flaky-tests":
            if "/".join(parts[1:4]) != SLUG:
                return _not_found("Project not found")
            tests = self._flaky_tests(moment)
            return json_answer(200, {"flaky-tests": tests, "total-flaky-tests": len(tests)})
        if len(parts) == 5 and parts[0] == "project" and parts[4] == "pipeline":
            if "/".join(parts[1:4]) != SLUG:
                return _not_found("Project not found")
            return self._pipelines(query, moment)
        if len(parts) == 3 and parts[0] == "pipeline" and parts[2] == "workflow":
            found = self._pipeline(parts[1], moment)
            if found is None:
                return _not_found("Pipeline not found")
            return _paged(
                [workflow_json(found, w, moment) for w in self._workflows(found, moment)], query
            )
        if len(parts) == 3 and parts[0] == "workflow" and parts[2] == "job":
            for plan, workflow in self._all_workflows(moment):
                if _id("workflow", plan.number, workflow.name, workflow.created) == parts[1]:
                    jobs = [job_json(plan, workflow, j, moment) for j in workflow.jobs]
                    return _paged(jobs, query)
            return _not_found("Workflow not found")
        return _not_found("Not found.")

    def _flaky_tests(self, moment: Moment) -> list[dict[str, Any]]:
        """The insight at ``moment``: each test's count and the workflow of its latest flake."""
        s, loop = moment.script_t, moment.loop
        farid = 1 if s >= 580 else 0  # the re-run of Farid's build-test passed: one more flake
        erin = 1 if s >= 75 else 0
        tests = [
            ("com.acme.mobile.KotlinFlowTest", "collects the flow after resume", "unit", FARID_K,
             2 + loop + farid, loop - 1 + farid),
            ("com.acme.mobile.sync.SyncWorkerTest", "retries on HTTP 503", "integration", 0,
             1 + loop + erin, loop - 1 + erin),
            ("ui.snapshots.[bold red]Screens[/]",
             "renders \x1b[31m<Banner/>[/bold] for \"emoji\" \U0001f389\x1b]0;pwned\x07",
             "unit", FARID_K, 1 + loop // 2, loop - 1 + farid),
        ]  # fmt: skip
        out: list[dict[str, Any]] = []
        for classname, name, job, k, times, last_loop in tests:
            plan = self.story.plans(last_loop)[k] if last_loop >= 0 else self.story.plans(-1)[-2]
            workflow = plan.workflows[-1] if k == FARID_K and last_loop >= 0 else plan.workflows[0]
            job_index = [j.name for j in workflow.jobs].index(job)
            out.append(
                {
                    "time-wasted": 37 * times,
                    "workflow-created-at": _iso(workflow.created),
                    "classname": classname,
                    "job-number": plan.number * 10 + job_index,
                    "times-flaked": times,
                    "source": "junit",
                    "pipeline-number": plan.number,
                    "file": classname.replace(".", "/") + ".kt",
                    "workflow-name": workflow.name,
                    "job-name": job,
                    "workflow-id": _id("workflow", plan.number, workflow.name, workflow.created),
                    "test-name": name,
                }
            )
        out.sort(key=lambda t: -t["times-flaked"])
        return out

    def _existing(self, moment: Moment, wanted: int) -> list[PipelinePlan]:
        found: list[PipelinePlan] = []
        for loop in range(moment.loop, -2, -1):
            found += [p for p in self.story.plans(loop) if p.created <= moment.now]
            if len(found) > wanted:
                break
        found.sort(key=lambda p: p.number, reverse=True)
        return found

    def _pipeline(self, pipeline_id: str, moment: Moment) -> PipelinePlan | None:
        for plan in self._existing(moment, 60):
            if _id("pipeline", plan.number) == pipeline_id:
                return plan
        return None

    def _workflows(self, plan: PipelinePlan, moment: Moment) -> list[WorkflowPlan]:
        return [w for w in plan.workflows if w.created <= moment.now]

    def _all_workflows(self, moment: Moment) -> list[tuple[PipelinePlan, WorkflowPlan]]:
        return [(p, w) for p in self._existing(moment, 60) for w in self._workflows(p, moment)]

    def _pipelines(self, query: dict[str, list[str]], moment: Moment) -> Answer:
        branch = param(query, "branch")
        start = _offset(param(query, "page-token"))
        plans = self._existing(moment, start + PAGE_SIZE)
        if branch not in (None, "main"):
            plans = []
        items = [pipeline_json(p, moment) for p in plans]
        return _paged(items, query)


def _offset(token: str | None) -> int:
    # Page tokens are opaque to clients; ours encode the offset.
    if token and token.startswith("off-") and token[4:].isdigit():
        return int(token[4:])
    return 0


def _paged(items: list[dict[str, Any]], query: dict[str, list[str]]) -> Answer:
    start = _offset(param(query, "page-token"))
    shown = items[start : start + PAGE_SIZE]
    token = f"off-{start + PAGE_SIZE}" if len(items) > start + PAGE_SIZE else None
    return json_answer(200, {"items": shown, "next_page_token": token})


# -- payloads ----------------------------------------------------------------------------------------


def pipeline_json(plan: PipelinePlan, moment: Moment) -> dict[str, Any]:
    return {
        "id": _id("pipeline", plan.number),
        "errors": [],
        "project_slug": SLUG,
        "updated_at": _iso(plan.created + timedelta(seconds=1)),
        "number": plan.number,
        "trigger_parameters": {},
        "state": "created",
        "created_at": _iso(plan.created),
        "trigger": {
            "type": "webhook",
            "received_at": _iso(plan.created),
            "actor": {
                "login": plan.actor.login,
                "avatar_url": f"https://avatars.githubusercontent.com/{plan.actor.login}",
            },
        },
        "vcs": {
            "provider_name": "GitHub",
            "target_repository_url": "https://github.com/acme/mobile-api",
            "branch": "main",
            "review_id": None,
            "review_url": None,
            "revision": plan.sha,
            "tag": None,
            "commit": {"subject": plan.subject, "body": ""},
            "origin_repository_url": "https://github.com/acme/mobile-api",
        },
    }


def workflow_json(plan: PipelinePlan, workflow: WorkflowPlan, moment: Moment) -> dict[str, Any]:
    stopped = stopped_at(workflow, moment.now)
    return {
        "pipeline_id": _id("pipeline", plan.number),
        "canceled_by": None,
        "id": _id("workflow", plan.number, workflow.name, workflow.created),
        "name": workflow.name,
        "project_slug": SLUG,
        "errored_by": None,
        "tag": None,
        "status": workflow_status(workflow, moment.now),
        "started_by": _id("user", plan.actor.login),
        "pipeline_number": plan.number,
        "created_at": _iso(workflow.created),
        "stopped_at": _iso(stopped) if stopped else None,
    }


def job_json(
    plan: PipelinePlan, workflow: WorkflowPlan, job: JobPlan, moment: Moment
) -> dict[str, Any]:
    status = job_status(job, moment.now)
    began = status not in ("blocked",)
    number = plan.number * 10 + workflow.jobs.index(job)
    item: dict[str, Any] = {
        "dependencies": [],
        "id": _id("job", plan.number, workflow.name, workflow.created, job.name),
        "name": job.name,
        "project_slug": SLUG,
        "status": status,
        "type": "approval" if job.approval else "build",
        "started_at": _iso(job.start) if began and not job.approval else None,
        "stopped_at": _iso(job.end) if status in ("success", "failed") else None,
    }
    if job.approval:
        item["approval_request_id"] = _id("approval", plan.number, job.name)
    else:
        item["job_number"] = number
    return item


def _not_found(message: str) -> Answer:
    return json_answer(404, {"message": message})


def make(scenario: Scenario) -> CircleSim:
    return CircleSim(scenario)
