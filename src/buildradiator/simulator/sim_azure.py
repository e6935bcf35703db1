"""Azure Pipelines (Build REST API 7.1), as the simulator speaks it, under ``/azure``.

``url = http://127.0.0.1:PORT/azure/acme`` works like ``https://dev.azure.com/acme`` (the
organisation, or a Server's collection); project ``Platform``. Served:

- ``GET /{org}/{project}/_apis/build/builds`` with ``definitions``, ``branchName``, ``statusFilter``,
  ``$top``, ``maxBuildsPerDefinition``, ``queryOrder`` and ``continuationToken`` (the next page's
  token in the ``x-ms-continuationtoken`` header), answering ``{"count", "value"}``;
- ``GET .../_apis/build/builds/{id}/timeline``: Stage > Phase > Job > Task records with ``state``,
  ``result``, ``attempt`` and ``previousAttempts``. What Azure answers for a build that has not
  started is not documented [UNCONFIRMED]; the simulator answers 204 without a body, and the
  source reads a 204, an empty body, ``null`` and a timeline without records alike;
- ``GET .../_apis/build/builds/{id}/changes``: the built commit first;
- ``/{org}/{project}/_build...`` pages as HTML, so "open in browser" lands somewhere.

Every answer asks for ``api-version`` the way Azure does (a 400 without it). Tokens are not
checked, but an ``Authorization`` that is not Basic gets Azure's 401; an unknown project gets
``TF200016`` as JSON with a 404. Times are written as Azure writes them: UTC, seven fractional
digits.

Azure's part of the story is a calm one, so the demo never shows more than two broken windows:
``platform-api CI`` (definition 41) builds Grace's "Add request tracing" from 25 (queued until
35; Build, then Test with unit, integration and lint side by side, then Deploy) to green at 110,
and Bob's "Tune retry budget" in act 2 (320-395). Its history holds a red build, fixed by the next
one, and a build that went green only after "Rerun failed jobs" (attempt 2 of ``integration``).
``platform-api nightly`` (42) ran once a night, scheduled (for Azure's service identity; the
commit's author comes from the build's changes), and partially succeeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any
from urllib.parse import quote

from buildradiator.simulator.answer import Answer, int_param, json_answer, param, text_answer
from buildradiator.simulator.runs import Person
from buildradiator.simulator.scenario import (
    ALICE,
    BOB,
    CHEN,
    DANA,
    ERIN,
    GRACE,
    LoopStory,
    Moment,
    Scenario,
    fake_sha,
)
from buildradiator.simulator.sourceblock import source_block

PREFIX = "azure"
ORG = "acme"
PROJECT = "Platform"
PROJECT_ID = "2f2cfc9d-71d5-48f9-a438-b27f90d2d343"
REPO_ID = "1e61703d-aab2-473a-9608-75bfd95d46e9"
CI, NIGHTLY = 41, 42
DEFINITIONS = {CI: "platform-api CI", NIGHTLY: "platform-api nightly"}
HISTORY = 8
SERVICE = Person("Microsoft.VisualStudio.Services.TFS", "tfs-service")
STAGES = ("Build", "Test", "Deploy")


@dataclass(frozen=True)
class JobPlan:
    stage: str
    name: str
    start: datetime
    end: datetime
    result: str = "succeeded"
    """``succeeded``, ``failed`` or ``skipped`` (after a failed stage)."""


@dataclass(frozen=True)
class BuildPlan:
    id: int
    definition: int
    queued: datetime
    sha: str
    message: str
    person: Person
    reason: str
    jobs: tuple[JobPlan, ...]
    rerun: tuple[JobPlan, ...] = ()
    """Jobs run again by "Rerun failed jobs" (attempt 2), replacing those of the same name."""
    outcome: str | None = None
    """The result when all jobs are over (default: failed if one failed, else succeeded)."""
    branch: str = "refs/heads/main"
    committer: Person | None = None
    """Who wrote the commit, when it is not whom the build ran for (a scheduled build)."""

    @property
    def number(self) -> str:
        return f"{self.queued:%Y%m%d}.{self.id % 100}"

    @property
    def first_end(self) -> datetime:
        return max(j.end for j in self.jobs)

    @property
    def end(self) -> datetime:
        return max(j.end for j in (*self.jobs, *self.rerun))


def _stamp(moment: datetime) -> str:
    """Azure's style: UTC, seven fractional digits, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _jobs(at: Callable[[float], datetime], failing: bool = False) -> tuple[JobPlan, ...]:
    """Build, then Test (unit, integration and lint side by side), then Deploy; ``at`` turns
    seconds into the build into times. A failing build fails ``integration`` and skips Deploy."""
    return (
        JobPlan("Build", "compile", at(0), at(15)),
        JobPlan("Test", "unit", at(15), at(45)),
        JobPlan("Test", "integration", at(15), at(60), "failed" if failing else "succeeded"),
        JobPlan("Test", "lint", at(15), at(25)),
        JobPlan(
            "Deploy",
            "deploy-staging",
            at(60),
            at(60 if failing else 75),
            "skipped" if failing else "succeeded",
        ),
    )


def _after(start: datetime) -> Callable[[float], datetime]:
    return lambda seconds: start + timedelta(seconds=seconds)


# -- the story ----------------------------------------------------------------------------------


class AzureStory(LoopStory[BuildPlan]):
    kept = 6

    def _loop(self, loop: int) -> tuple[BuildPlan, ...]:
        at = self.scenario.at

        def jobs(s: float) -> tuple[JobPlan, ...]:
            # Script seconds: the plan stretches with the loop like the rest of the story.
            return _jobs(lambda x: at(loop, s + x))

        base = 5000 + loop * 10
        grace = "Add request tracing\n\nSpans for every handler."
        return (
            BuildPlan(
                base + 1,
                CI,
                at(loop, 25),
                fake_sha("azure", loop, 1),
                grace,
                GRACE,
                "individualCI",
                jobs(35),
            ),
            BuildPlan(
                base + 2,
                CI,
                at(loop, 320),
                fake_sha("azure", loop, 2),
                "Tune retry budget",
                BOB,
                "individualCI",
                jobs(328),
            ),
        )

    def _history(self) -> tuple[BuildPlan, ...]:
        start = self.scenario.start.replace(microsecond=0)
        people = (ALICE, CHEN, DANA, ERIN, BOB)
        plans: list[BuildPlan] = []
        for i in range(HISTORY):
            queued = start - timedelta(minutes=50 * (HISTORY - i))
            began = queued + timedelta(seconds=8)
            red = i == 2
            retried = i == 5
            rerun: tuple[JobPlan, ...] = ()
            if retried:
                again = began + timedelta(seconds=180)
                rerun = (
                    JobPlan("Test", "integration", again, again + timedelta(seconds=45)),
                    JobPlan(
                        "Deploy",
                        "deploy-staging",
                        again + timedelta(seconds=45),
                        again + timedelta(seconds=60),
                    ),
                )
            plans.append(
                BuildPlan(
                    4800 + i,
                    CI,
                    queued,
                    fake_sha("azure", -1, i),
                    "Fix flaky clock in tests"
                    if red or retried
                    else f"Refine handlers, part {i + 1}",
                    people[i % len(people)],
                    "individualCI",
                    _jobs(_after(began), red or retried),
                    rerun,
                )
            )
        for night in range(3):
            queued = (start - timedelta(days=night + 1)).replace(hour=2, minute=0, second=0)
            plans.append(
                BuildPlan(
                    4700 + night,
                    NIGHTLY,
                    queued,
                    fake_sha("azure-nightly", night),
                    "Bump locked dependencies",
                    SERVICE,
                    "schedule",
                    _jobs(_after(queued + timedelta(seconds=9))),
                    outcome="partiallySucceeded",
                    committer=DANA,
                )
            )
        return tuple(plans)

    def existing(self, moment: Moment) -> list[BuildPlan]:
        found: list[BuildPlan] = []
        # The history and the last few loops: a demo left on a wall for a week lists no more.
        for loop in (-1, *range(max(0, moment.loop - 6), moment.loop + 1)):
            found += [p for p in self.plans(loop) if p.queued <= moment.now]
        found.sort(key=lambda p: (p.queued, p.id), reverse=True)
        return found


# -- what the API shows at a moment ---------------------------------------------------------------


def _job_state(job: JobPlan, now: datetime) -> tuple[str, str | None]:
    if now >= job.end:
        return "completed", job.result
    if now >= job.start:
        return "inProgress", None
    return "pending", None


def current_jobs(plan: BuildPlan, now: datetime) -> list[tuple[JobPlan, int]]:
    """The jobs as the timeline shows them, each with its attempt."""
    rerun = {j.name: j for j in plan.rerun if j.start <= now}
    return [(rerun[j.name], 2) if j.name in rerun else (j, 1) for j in plan.jobs]


def build_state(plan: BuildPlan, now: datetime) -> tuple[str, str | None, datetime | None]:
    """``(status, result, finishTime)`` at ``now``."""
    if now < plan.jobs[0].start:
        return "notStarted", None, None
    rerun_started = any(j.start <= now for j in plan.rerun)
    if now >= plan.first_end and not rerun_started:
        failed = any(j.result == "failed" for j in plan.jobs)
        if failed or not plan.rerun:
            outcome = "failed" if failed else (plan.outcome or "succeeded")
            return "completed", outcome, plan.first_end
    if now < plan.end:
        return "inProgress", None, None
    failed = any(j.result == "failed" for j, _ in current_jobs(plan, now))
    return "completed", "failed" if failed else (plan.outcome or "succeeded"), plan.end


def timeline_json(plan: BuildPlan, now: datetime, base: str) -> dict[str, Any]:
    records: list[dict[str, Any]] = []
    jobs = current_jobs(plan, now)
    for order, stage in enumerate(STAGES, 1):
        mine = [(j, a) for j, a in jobs if j.stage == stage]
        states = [_job_state(j, now) for j, _ in mine]
        attempt = max(a for _, a in mine)
        if all(s == "completed" for s, _ in states):
            results = [r for _, r in states]
            state = "completed"
            result = (
                "failed"
                if "failed" in results
                else ("skipped" if all(r == "skipped" for r in results) else "succeeded")
            )
        else:
            state = "pending" if all(s == "pending" for s, _ in states) else "inProgress"
            result = None
        sid = f"stage-{plan.id}-{stage}"
        records.append(
            _record(
                sid,
                None,
                "Stage",
                stage,
                state,
                result,
                order,
                attempt,
                min(j.start for j, _ in mine),
                max(j.end for j, _ in mine),
                now,
            )
        )
        for n, (job, attempt) in enumerate(mine, 1):
            s, r = _job_state(job, now)
            pid, jid = f"phase-{plan.id}-{job.name}", f"job-{plan.id}-{job.name}-{attempt}"
            records.append(
                _record(pid, sid, "Phase", job.name, s, r, n, attempt, job.start, job.end, now)
            )
            records.append(
                _record(jid, pid, "Job", job.name, s, r, 1, attempt, job.start, job.end, now)
            )
            records.append(
                _record(
                    f"task-{jid}",
                    jid,
                    "Task",
                    f"Run {job.name}",
                    s,
                    r,
                    1,
                    attempt,
                    job.start,
                    job.end,
                    now,
                )
            )
    return {
        "records": records,
        "lastChangedBy": "00000002-0000-8888-8000-000000000000",
        "lastChangedOn": _stamp(min(now, plan.end)),
        "id": f"8a1d2e3f-4b5c-4d6e-8f70-{plan.id:012d}",
        "changeId": len(records),
        "url": f"{base}/{PROJECT_ID}/_apis/build/builds/{plan.id}/Timeline",
    }


def _record(
    rid: str,
    parent: str | None,
    kind: str,
    name: str,
    state: str,
    result: str | None,
    order: int,
    attempt: int,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, Any]:
    previous = [
        {"attempt": a, "timelineId": f"9f3c1b7a-0000-4000-8000-{a:012d}", "recordId": f"{rid}-{a}"}
        for a in range(1, attempt)
    ]
    return {
        "previousAttempts": previous,
        "id": rid,
        "parentId": parent,
        "type": kind,
        "name": name,
        "startTime": _stamp(start) if state != "pending" else None,
        "finishTime": _stamp(end) if state == "completed" else None,
        "currentOperation": None,
        "percentComplete": 100 if state == "completed" else 0,
        "state": state,
        "result": result,
        "resultCode": None,
        "changeId": 1,
        "lastModified": "0001-01-01T00:00:00",
        "workerName": "Hosted Agent" if kind == "Job" and state != "pending" else None,
        "order": order,
        "details": None,
        "errorCount": 1 if result == "failed" and kind == "Task" else 0,
        "warningCount": 0,
        "url": None,
        "log": None,
        "task": {
            "id": "d9bafed4-0b18-4f58-968d-86655b4d2ce9",
            "name": "CmdLine",
            "version": "2.237.1",
        }
        if kind == "Task"
        else None,
        "attempt": attempt,
        "identifier": name if kind != "Task" else None,
    }


def _identity(person: Person, base: str) -> dict[str, Any]:
    return {
        "displayName": person.name,
        "url": f"{base}/_apis/Identities/{person.login}",
        "id": f"6b1f0d0e-3a1c-4a53-9d71-{fake_sha('person', person.login)[:12]}",
        "uniqueName": person.email,
        "imageUrl": f"{base}/_api/_common/identityImage?id={person.login}",
        "descriptor": f"aad.{person.login}",
    }


def build_json(plan: BuildPlan, now: datetime, base: str) -> dict[str, Any]:
    status, result, finished = build_state(plan, now)
    project = {"id": PROJECT_ID, "name": PROJECT, "state": "wellFormed", "visibility": "private"}
    item: dict[str, Any] = {
        "_links": {
            "self": {"href": f"{base}/{PROJECT_ID}/_apis/build/Builds/{plan.id}"},
            "web": {"href": f"{base}/{PROJECT_ID}/_build/results?buildId={plan.id}"},
            "timeline": {"href": f"{base}/{PROJECT_ID}/_apis/build/builds/{plan.id}/Timeline"},
        },
        "properties": {},
        "tags": [],
        "validationResults": [],
        "plans": [{"planId": f"b91e5bb3-3b65-4e5a-9a48-{plan.id:012d}"}],
        "triggerInfo": {},
        "id": plan.id,
        "buildNumber": plan.number,
        "status": status,
        "queueTime": _stamp(plan.queued),
        "url": f"{base}/{PROJECT_ID}/_apis/build/Builds/{plan.id}",
        "definition": {
            "drafts": [],
            "id": plan.definition,
            "name": DEFINITIONS[plan.definition],
            "path": "\\",
            "type": "build",
            "queueStatus": "enabled",
            "revision": 7,
            "project": project,
        },
        "project": project,
        "uri": f"vstfs:///Build/Build/{plan.id}",
        "sourceBranch": plan.branch,
        "sourceVersion": plan.sha,
        "priority": "normal",
        "reason": plan.reason,
        "requestedFor": _identity(plan.person, base),
        "requestedBy": _identity(SERVICE, base),
        "lastChangedDate": _stamp(min(now, plan.end)),
        "lastChangedBy": _identity(SERVICE, base),
        "repository": {"id": REPO_ID, "type": "TfsGit", "name": "platform-api"},
        "retainedByRelease": False,
        "appendCommitMessageToRunName": True,
    }
    if plan.reason == "individualCI":
        item["triggerInfo"] = {
            "ci.sourceBranch": plan.branch,
            "ci.sourceSha": plan.sha,
            "ci.message": plan.message,
            "ci.triggerRepository": REPO_ID,
        }
    if status != "notStarted":
        item["startTime"] = _stamp(plan.jobs[0].start)
    if finished is not None:
        item["finishTime"] = _stamp(finished)
        item["result"] = result
    return item


# -- the API ----------------------------------------------------------------------------------------


class AzureSim:
    prefix = PREFIX

    def __init__(self, scenario: Scenario) -> None:
        self.story = AzureStory(scenario)

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="azure",
            type="azure",
            url=f"{base_url.rstrip('/')}/{PREFIX}/{ORG}",
            project=PROJECT,
            definitions=[CI, NIGHTLY],
            branch="main",
        )

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        auth = headers.get("Authorization")
        if auth is not None and not auth.startswith("Basic "):
            return text_answer(401, "Access Denied: the Personal Access Token used has expired.\n")
        parts = [p for p in path.split("/") if p]
        host = headers.get("Host") or "127.0.0.1"
        base = f"http://{host}/{PREFIX}/{ORG}"
        if len(parts) < 3 or parts[0] != ORG:
            return text_answer(404, "not found\n")
        if parts[1] != PROJECT:
            return _error(
                404,
                f"TF200016: The following project does not exist: {parts[1]}. "
                "Verify that the name of the project is correct and that the project "
                "exists on the specified Azure DevOps Server.",
                "ProjectDoesNotExistException",
            )
        if parts[2] == "_build":
            page = (
                "<!doctype html><title>Azure Pipelines</title><h1>Simulated Azure Pipelines</h1>\n"
            )
            return text_answer(200, page, "text/html")
        if parts[2:5] != ["_apis", "build", "builds"]:
            return text_answer(404, "not found\n")
        if not param(query, "api-version"):
            return _error(
                400,
                "VSS800002: No api-version was supplied for the GET request.",
                "VssVersionNotSpecifiedException",
            )
        if len(parts) == 5:
            return self._list(query, moment, base)
        if len(parts) == 7 and parts[6].lower() in ("timeline", "changes"):
            plan = self._find(parts[5], moment)
            if plan is None:
                return _error(
                    404,
                    f"TF215015: The requested build {parts[5]} could not be found.",
                    "BuildNotFoundException",
                )
            if parts[6].lower() == "timeline":
                if build_state(plan, moment.now)[0] == "notStarted":
                    return Answer(204)
                return json_answer(200, timeline_json(plan, moment.now, base))
            return json_answer(200, _changes(plan, base))
        return text_answer(404, "not found\n")

    def _find(self, raw: str, moment: Moment) -> BuildPlan | None:
        if not raw.isdigit():
            return None
        return next((p for p in self.story.existing(moment) if p.id == int(raw)), None)

    def _list(self, query: dict[str, list[str]], moment: Moment, base: str) -> Answer:
        plans = self.story.existing(moment)
        wanted = {int(d) for d in (param(query, "definitions") or "").split(",") if d.isdigit()}
        if wanted:
            plans = [p for p in plans if p.definition in wanted]
        branch = param(query, "branchName")
        if branch:
            plans = [p for p in plans if p.branch == branch]
        status = param(query, "statusFilter")
        if status and status != "all":
            plans = [p for p in plans if build_state(p, moment.now)[0] == status]
        per = int_param(query, "maxBuildsPerDefinition", 0, 0, 10_000)
        if per:
            seen: dict[int, int] = {}
            kept = []
            for plan in plans:
                seen[plan.definition] = seen.get(plan.definition, 0) + 1
                if seen[plan.definition] <= per:
                    kept.append(plan)
            plans = kept
        start = int(token) if (token := param(query, "continuationToken") or "").isdigit() else 0
        top = int_param(query, "$top", 1000, 1, 5000)
        shown = plans[start : start + top]
        answer = json_answer(
            200, {"count": len(shown), "value": [build_json(p, moment.now, base) for p in shown]}
        )
        if start + top < len(plans):
            answer.headers.append(("x-ms-continuationtoken", str(start + top)))
        return answer


def _changes(plan: BuildPlan, base: str) -> dict[str, Any]:
    change = {
        "id": plan.sha,
        "message": plan.message,
        "type": "TfsGit",
        "author": _identity(plan.committer or plan.person, base),
        "timestamp": _stamp(plan.queued - timedelta(minutes=2)),
        "location": f"{base}/_apis/git/repositories/{REPO_ID}/commits/{plan.sha}",
        "messageTruncated": False,
        "pusher": (plan.committer or plan.person).email,
        "displayUri": f"{base}/{quote(PROJECT)}/_git/platform-api/commit/{plan.sha}",
    }
    return {"count": 1, "value": [change]}


def _error(status: int, message: str, key: str) -> Answer:
    body = {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": f"Microsoft.TeamFoundation.Build.WebApi.{key}, Microsoft.TeamFoundation",
        "typeKey": key,
        "errorCode": 0,
        "eventId": 3000,
    }
    return json_answer(status, body)


def make(scenario: Scenario) -> AzureSim:
    return AzureSim(scenario)
