"""The Buildkite REST API v2 (api-facts section 4), as the simulator speaks it, under ``/buildkite``.

``api_url = http://127.0.0.1:PORT/buildkite`` works like ``https://api.buildkite.com``. Served:
``GET /v2/organizations/acme/pipelines`` (``page``/``per_page`` and a ``Link`` header) and
``GET /v2/organizations/acme/pipelines/{slug}/builds`` (``branch``, ``state[]``, ``page``,
``per_page``; jobs inline, retried ones only with ``include_retried_jobs=true``). Every answer
carries both rate-limit header sets (a 60 s window, Reset in seconds left) and a strong ETag
(``If-None-Match`` -> 304). Tokens are not checked (any or none works), except that an
``Authorization`` header that is not ``Bearer <token>`` gets Buildkite's 401.

The story, in script seconds of each loop (act 2, see ``moments.py``; build numbers grow with the
loop):

- **Payments API**: Priya's "Upgrade Stripe SDK" (255-315) runs lint, unit and integration; the
  integration job fails at 287 and is retried automatically, green at 315: green only after a
  retry. Tomás's "Add payout batching" (355) passes its tests by 390 and then waits at the block
  step "Deploy to production" (blocked, 390-470); unblocked, its deploy job runs until 500.
- **Web Frontend**: Kenji's "Switch bundler to Vite" (285) has a failing unit job at 320 while e2e
  still runs (state ``failing``), and fails at 340: main is red, by Kenji. Priya's "Fix Vite
  asset paths" (355) fixes it at 393, with the soft-failed "Visual diff" job noted. A build on
  the branch ``kenji/vite`` (265-295, red) shows that only ``main`` is watched.
- **Docs Site**: green, and not matched by the demo's patterns (``payments-*``, ``web-*``).
- **Test Engine** (``/v2/analytics/organizations/acme/suites/...``): two suites whose flaky
  tests grow loop by loop, see ``buildkite_testengine.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any

from buildradiator.simulator.answer import (
    Answer,
    json_answer,
    link_paged,
    revalidated,
    strong_etag,
)
from buildradiator.simulator.buildkite_testengine import SUITES, suite_tests
from buildradiator.simulator.runs import Person
from buildradiator.simulator.scenario import LOOPS_KEPT, Moment, Scenario, fake_sha
from buildradiator.simulator.sourceblock import source_block

ORG = "acme"
ORG_LIMIT = 200
USER_LIMIT = 600
WINDOW = 60
HISTORY = 8
PER_LOOP = 10
"""Room per pipeline and loop in the build-number space (the script uses at most 3)."""


PRIYA = Person("Priya Raman", "priya")
TOMAS = Person("Tomás Ortega", "tomas")
KENJI = Person("Kenji Sato", "kenji")
PEOPLE = (PRIYA, TOMAS, KENJI)


@dataclass(frozen=True)
class JobSpec:
    """One job of a build, in script seconds of its loop. A later spec with the same ``key`` is
    the automatic retry of an earlier one (which is then ``retried``)."""

    key: str
    name: str
    start: float
    end: float
    passes: bool = True
    soft: bool = False
    kind: str = "script"
    """``script``, ``manual`` (a block step: blocked from start to end) or ``waiter``."""


@dataclass(frozen=True)
class BuildSpec:
    pipeline: str
    loop: int
    k: int
    number: int
    created: float
    branch: str
    message: str
    person: Person
    jobs: tuple[JobSpec, ...]


@dataclass(frozen=True)
class PipelineInfo:
    slug: str
    name: str
    index: int
    number_base: int
    repository: str


PAYMENTS = PipelineInfo(
    "payments-api", "Payments API", 0, 2000, "git@github.com:acme/payments-api.git"
)
WEB = PipelineInfo("web-frontend", "Web Frontend", 1, 5000, "git@github.com:acme/web-frontend.git")
DOCS = PipelineInfo("docs-site", "Docs Site", 2, 300, "git@github.com:acme/docs.git")
PIPELINES = {p.slug: p for p in (PAYMENTS, WEB, DOCS)}


def _number(info: PipelineInfo, loop: int, k: int) -> int:
    if loop < 0:
        return info.number_base + k + 1
    return info.number_base + HISTORY + loop * PER_LOOP + k + 1


def _uuid(a: int, b: int, c: int = 0) -> str:
    """A stable UUID-shaped id; jobs pass their index + 1 so no job shares its build's id."""
    return f"0190{a:04x}-{b:04x}-7{c % 4096:03x}-8000-{(a * 7919 + b * 104729 + c):012x}"


def _sha(info: PipelineInfo, loop: int, k: int) -> str:
    return fake_sha(info.slug, loop, k)


def _tests(start: float, seconds: tuple[float, float, float]) -> tuple[JobSpec, ...]:
    lint, unit, integ = seconds
    return (
        JobSpec("lint", ":eslint: Lint", start, start + lint),
        JobSpec("unit", ":rspec: Unit", start + lint, start + lint + unit),
        JobSpec("integration", "Integration", start + lint, start + lint + integ),
    )


def plans(loop: int) -> list[BuildSpec]:
    """Every build the script starts in ``loop`` (loop -1: the history before the demo began)."""
    if loop < 0:
        out = []
        for info in PIPELINES.values():
            for i in range(HISTORY):
                at = 5 + 36 * i
                out.append(
                    BuildSpec(
                        info.slug,
                        loop,
                        i,
                        _number(info, loop, i),
                        at,
                        "main",
                        ("Bump dependencies", "Tidy logging", "Speed up CI cache")[i % 3],
                        PEOPLE[i % 3],
                        _tests(at, (8.0, 22.0 + 4 * (i % 3), 25.0 + 3 * (i % 2))),
                    )
                )
        return out
    pay, web, docs = PAYMENTS, WEB, DOCS
    stripe = (
        JobSpec("lint", ":eslint: Lint", 255, 265),
        JobSpec("unit", ":rspec: Unit", 265, 290),
        JobSpec("integration", "Integration", 265, 287, passes=False),
        JobSpec("integration", "Integration", 287, 315),
    )
    payouts = (
        JobSpec("lint", ":eslint: Lint", 355, 363),
        JobSpec("unit", ":rspec: Unit", 363, 385),
        JobSpec("integration", "Integration", 363, 390),
        JobSpec("wait", "", 390, 390, kind="waiter"),
        JobSpec("release", "Deploy to production", 390, 470, kind="manual"),
        JobSpec("deploy", "Deploy", 470, 500),
    )
    vite = (
        JobSpec("build", ":webpack: Build", 285, 300),
        JobSpec("unit", "Unit tests", 300, 320, passes=False),
        JobSpec("e2e", "E2E (Playwright)", 300, 340),
        JobSpec("visual", "Visual diff", 300, 315, passes=False, soft=True),
    )
    branch = (
        JobSpec("build", ":webpack: Build", 265, 277),
        JobSpec("unit", "Unit tests", 277, 295, passes=False),
    )
    fix = (
        JobSpec("build", ":webpack: Build", 355, 367),
        JobSpec("unit", "Unit tests", 367, 385),
        JobSpec("e2e", "E2E (Playwright)", 367, 393),
        JobSpec("visual", "Visual diff", 367, 380, passes=False, soft=True),
    )
    return [
        BuildSpec(
            pay.slug,
            loop,
            0,
            _number(pay, loop, 0),
            255,
            "main",
            "Upgrade Stripe SDK\n\nv12 -> v13.",
            PRIYA,
            stripe,
        ),
        BuildSpec(
            pay.slug,
            loop,
            1,
            _number(pay, loop, 1),
            355,
            "main",
            "Add payout batching",
            TOMAS,
            payouts,
        ),
        BuildSpec(
            web.slug, loop, 0, _number(web, loop, 0), 265, "kenji/vite", "WIP vite", KENJI, branch
        ),
        BuildSpec(
            web.slug,
            loop,
            1,
            _number(web, loop, 1),
            285,
            "main",
            "Switch bundler to Vite",
            KENJI,
            vite,
        ),
        BuildSpec(
            web.slug,
            loop,
            2,
            _number(web, loop, 2),
            355,
            "main",
            "Fix Vite asset paths",
            PRIYA,
            fix,
        ),
        BuildSpec(
            docs.slug,
            loop,
            0,
            _number(docs, loop, 0),
            395,
            "main",
            "Document refunds",
            TOMAS,
            _tests(395, (5, 10, 12)),
        ),
    ]


# -- what a build looks like at a moment -------------------------------------------------------


def _job_state(job: JobSpec, s: float) -> str:
    if job.kind == "manual":
        if s < job.start:
            return "waiting"
        return "blocked" if s < job.end else "unblocked"
    if job.kind == "waiter":
        return "waiting" if s < job.start else "passed"
    if s < job.start:
        return "scheduled"
    if s < job.end:
        return "running"
    return "passed" if job.passes else "failed"


def build_json(
    spec: BuildSpec,
    s: float,
    at: Callable[[float], datetime],
    api: str,
    web: str,
    retried_jobs: bool,
) -> dict[str, Any]:
    info = PIPELINES[spec.pipeline]
    build_api = f"{api}/v2/organizations/{ORG}/pipelines/{info.slug}/builds/{spec.number}"
    build_web = f"{web}/buildkite/{ORG}/{info.slug}/builds/{spec.number}"
    jobs: list[dict[str, Any]] = []
    visible = [j for j in spec.jobs if not _is_retry(spec, j) or s >= j.start]
    hard_failed = False
    running = False
    blocked = None
    for index, job in enumerate(spec.jobs):
        if job not in visible:
            continue
        retry = _retry_of(spec, job)
        retried = retry is not None and s >= retry.start
        state = _job_state(job, s)
        if job.kind == "manual" and state == "blocked":
            blocked = job
        if job.kind == "script" and not retried:
            if state == "failed" and not job.soft:
                hard_failed = True
            if state in ("scheduled", "running"):
                running = True
        if retried and not retried_jobs:
            continue
        jid = _uuid(info.index, spec.number, index + 1)
        previous = sum(1 for j in spec.jobs[:index] if j.key == job.key)
        jobs.append(
            _job_json(
                spec, job, index, jid, state, s, at, retried, retry, previous, build_api, build_web
            )
        )
    started = min(j.start for j in spec.jobs)
    if blocked is not None:
        # Buildkite: a blocked build keeps its state, sets ``blocked``, and counts as finished.
        state, finished = ("failed" if hard_failed else "passed"), at(blocked.start)
    elif running:
        state = "failing" if hard_failed else ("running" if s >= started else "scheduled")
        finished = None
    else:
        end = max(j.end for j in spec.jobs)
        state, finished = ("failed" if hard_failed else "passed"), at(end)
    return {
        "id": _uuid(info.index, spec.number),
        "graphql_id": f"QnVpbGQtLS0{info.index}{spec.number}",
        "url": build_api,
        "web_url": build_web,
        "number": spec.number,
        "state": state,
        "blocked": blocked is not None,
        "cancel_reason": None,
        "message": spec.message,
        "commit": _sha(info, spec.loop, spec.k),
        "branch": spec.branch,
        "tag": None,
        "env": {},
        "source": "webhook",
        "author": {
            "username": spec.person.login,
            "name": spec.person.name,
            "email": spec.person.email,
        },
        "creator": {
            "id": _uuid(99, PEOPLE.index(spec.person)),
            "graphql_id": "VXNlci0tLQ",
            "name": spec.person.name,
            "email": spec.person.email,
            "avatar_url": "https://www.gravatar.com/avatar/0",
            "created_at": "2023-05-01T09:00:00.000Z",
        },
        "jobs": jobs,
        "created_at": _iso(at(spec.created)),
        "scheduled_at": _iso(at(spec.created)),
        "started_at": _iso(at(started)) if s >= started else None,
        "finished_at": _iso(finished) if finished else None,
        "meta_data": {},
        "pull_request": None,
        "rebuilt_from": None,
        "pipeline": _pipeline_json(info, api, web),
    }


def _is_retry(spec: BuildSpec, job: JobSpec) -> bool:
    return any(j.key == job.key for j in spec.jobs[: spec.jobs.index(job)])


def _retry_of(spec: BuildSpec, job: JobSpec) -> JobSpec | None:
    after = spec.jobs[spec.jobs.index(job) + 1 :]
    return next((j for j in after if j.key == job.key), None)


def _job_json(
    spec: BuildSpec,
    job: JobSpec,
    index: int,
    jid: str,
    state: str,
    s: float,
    at: Callable[[float], datetime],
    retried: bool,
    retry: JobSpec | None,
    previous: int,
    build_api: str,
    build_web: str,
) -> dict[str, Any]:
    if job.kind == "waiter":
        return {
            "id": jid,
            "graphql_id": "Sm9iLS0t",
            "type": "waiter",
            "name": None,
            "step_key": None,
            "state": state,
            "web_url": None,
        }
    if job.kind == "manual":
        return {
            "id": jid,
            "graphql_id": "Sm9iLS0t",
            "type": "manual",
            "label": job.name,
            "step_key": job.key,
            "state": state,
            "web_url": None,
            "unblocked_by": {"name": TOMAS.name, "email": TOMAS.email}
            if state == "unblocked"
            else None,
            "unblocked_at": _iso(at(job.end)) if state == "unblocked" else None,
            "unblockable": state == "blocked",
            "unblock_url": f"{build_api}/jobs/{jid}/unblock",
        }
    info = PIPELINES[spec.pipeline]
    done = state in ("passed", "failed")
    return {
        "id": jid,
        "graphql_id": "Sm9iLS0t",
        "type": "script",
        "name": job.name,
        "step_key": job.key,
        "priority": {"number": 0},
        "agent_query_rules": ["queue=default"],
        "state": state,
        "build_url": build_api,
        "web_url": f"{build_web}#{jid}",
        "log_url": f"{build_api}/jobs/{jid}/log",
        "raw_log_url": f"{build_api}/jobs/{jid}/log.txt",
        "artifacts_url": f"{build_api}/jobs/{jid}/artifacts",
        "command": f"make {job.key}",
        "soft_failed": job.soft and state == "failed",
        "exit_status": (0 if job.passes else 1) if done else None,
        "artifact_paths": "",
        "agent": None
        if state == "scheduled"
        else {"name": f"agent-{info.index}-{index}", "hostname": "ci-runner"},
        "created_at": _iso(at(spec.created)),
        "scheduled_at": _iso(at(job.start if previous else spec.created)),
        "runnable_at": _iso(at(job.start)),
        "started_at": _iso(at(job.start)) if s >= job.start else None,
        "finished_at": _iso(at(job.end)) if done else None,
        "retried": retried,
        "retried_in_job_id": _uuid(info.index, spec.number, spec.jobs.index(retry) + 1)
        if retried and retry
        else None,
        "retries_count": previous or None,
        "retry_type": "automatic" if previous else None,
        "parallel_group_index": None,
        "parallel_group_total": None,
    }


def _pipeline_json(info: PipelineInfo, api: str, web: str) -> dict[str, Any]:
    url = f"{api}/v2/organizations/{ORG}/pipelines/{info.slug}"
    return {
        "id": _uuid(50, info.index),
        "graphql_id": "UGlwZWxpbmUtLS0",
        "url": url,
        "web_url": f"{web}/buildkite/{ORG}/{info.slug}",
        "name": info.name,
        "description": None,
        "slug": info.slug,
        "repository": info.repository,
        "default_branch": "main",
        "provider": {"id": "github", "settings": {"trigger_mode": "code"}},
        "skip_queued_branch_builds": False,
        "cancel_running_branch_builds": False,
        "builds_url": f"{url}/builds",
        "badge_url": f"https://badge.buildkite.com/{info.slug}.svg",
        "created_at": "2024-02-01T10:00:00.000Z",
        "archived_at": None,
        "visibility": "private",
    }


def _iso(moment: datetime) -> str:
    # Buildkite writes milliseconds and a Z.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- the API -----------------------------------------------------------------------------------


@dataclass
class _Window:
    start: int = -1
    org_used: int = 0
    user_used: int = 0


class BuildkiteSim:
    """Answers ``/buildkite/...``. Not thread-safe: the server calls it under one lock."""

    prefix = "buildkite"

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._plans: dict[int, list[BuildSpec]] = {}
        self._window = _Window()

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="buildkite",
            type="buildkite",
            api_url=f"{base_url.rstrip('/')}/buildkite",
            organization=ORG,
            pipelines=["payments-*", "web-*"],
            branch="main",
            test_suites=dict(SUITES),
        )

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        host = headers.get("Host") or "127.0.0.1"
        api = f"http://{host}/buildkite"
        auth = headers.get("Authorization")
        if auth is not None and not (auth.startswith("Bearer ") and auth[7:].strip()):
            answer = json_answer(
                401,
                {
                    "message": "Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication"
                },
            )
        else:
            answer = self._route(path, query, moment, api, web)
        if answer.status == 200:
            answer = revalidated(answer, strong_etag(answer.body), headers.get("If-None-Match"))
        answer.headers += self._rate_headers(moment.now)
        return answer

    def _rate_headers(self, now: datetime) -> list[tuple[str, str]]:
        stamp = now.timestamp()
        window = int(stamp // WINDOW)
        if window != self._window.start:
            self._window = _Window(window)
        self._window.org_used += 1
        self._window.user_used += 1
        reset = str(max(1, math.ceil((window + 1) * WINDOW - stamp)))
        return [
            ("RateLimit-Remaining", str(max(0, ORG_LIMIT - self._window.org_used))),
            ("RateLimit-Limit", str(ORG_LIMIT)),
            ("RateLimit-Reset", reset),
            ("RateLimit-User-Remaining", str(max(0, USER_LIMIT - self._window.user_used))),
            ("RateLimit-User-Limit", str(USER_LIMIT)),
            ("RateLimit-User-Reset", reset),
        ]

    def _route(
        self, path: str, query: dict[str, list[str]], moment: Moment, api: str, web: str
    ) -> Answer:
        parts = [p for p in path.split("/") if p]
        if parts[:3] == ["v2", "analytics", "organizations"]:
            return self._suite(parts[3:], query, moment, api, web)
        if parts[:2] != ["v2", "organizations"] or len(parts) < 4:
            return json_answer(404, {"message": "Not Found"})
        if parts[2] != ORG:
            return json_answer(404, {"message": "No organization found"})
        if parts[3] != "pipelines":
            return json_answer(404, {"message": "Not Found"})
        if len(parts) == 4:
            items = [_pipeline_json(p, api, web) for p in PIPELINES.values()]
            return link_paged(items, query, f"{api}/v2/organizations/{ORG}/pipelines")
        info = PIPELINES.get(parts[4])
        if info is None:
            return json_answer(404, {"message": "No pipeline found"})
        if parts[5:] == ["builds"]:
            return self._builds(info, query, moment, api, web)
        return json_answer(404, {"message": "Not Found"})

    def _suite(
        self, parts: list[str], query: dict[str, list[str]], moment: Moment, api: str, web: str
    ) -> Answer:
        # parts: acme, suites, {suite}, tests | flaky-tests
        if not parts or parts[0] != ORG:
            return json_answer(404, {"message": "No organization found"})
        if len(parts) != 4 or parts[1] != "suites" or parts[3] not in ("tests", "flaky-tests"):
            return json_answer(404, {"message": "Not Found"})
        if parts[2] not in SUITES:
            return json_answer(404, {"message": "No suite found"})
        legacy = parts[3] == "flaky-tests"
        tests = suite_tests(parts[2], moment, self.scenario, api, web, legacy=legacy)
        label = (query.get("label") or [""])[-1]
        if label and not legacy:
            tests = [t for t in tests if label in t.get("labels", [])]
        base = f"{api}/v2/analytics/organizations/{ORG}/suites/{parts[2]}/{parts[3]}"
        return link_paged(tests, query, base)

    def _builds(
        self, info: PipelineInfo, query: dict[str, list[str]], moment: Moment, api: str, web: str
    ) -> Answer:
        retried = (query.get("include_retried_jobs") or ["false"])[-1] == "true"
        branch = (query.get("branch") or [""])[-1]
        states = set(query.get("state[]", [])) | set(query.get("state", []))
        builds = []
        first = max(-1, moment.loop - LOOPS_KEPT)
        for stale in [k for k in self._plans if 0 <= k < first]:
            del self._plans[stale]
        for loop in range(first, moment.loop + 1):
            s = moment.script_t if loop == moment.loop else math.inf
            for spec in self._plans_of(loop):
                if spec.pipeline != info.slug or spec.created > s:
                    continue
                if branch and spec.branch != branch:
                    continue

                def at(x: float, loop: int = loop) -> datetime:
                    return self.scenario.at(loop, x)

                payload = build_json(spec, s, at, api, web, retried)
                if states and payload["state"] not in states:
                    continue
                builds.append(payload)
        builds.sort(key=lambda b: b["number"], reverse=True)
        base = f"{api}/v2/organizations/{ORG}/pipelines/{info.slug}/builds"
        return link_paged(builds, query, base)

    def _plans_of(self, loop: int) -> list[BuildSpec]:
        cached = self._plans.get(loop)
        if cached is None:
            cached = self._plans[loop] = plans(loop)
        return cached


def make(scenario: Scenario) -> BuildkiteSim:
    return BuildkiteSim(scenario)
