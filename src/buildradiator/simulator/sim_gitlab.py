"""GitLab CI's REST v4 API (api-facts section 2), as the simulator speaks it, under ``/gitlab``.

``api_url = http://127.0.0.1:PORT/gitlab/api/v4`` works like ``https://gitlab.com/api/v4``; the
links (``web_url``) point at ``/gitlab/<path>/-/pipelines/<id>`` like a self-managed server
installed under a sub-path, and those pages answer with HTML.

The story, in script seconds of every loop (ids and iids keep growing across loops):

- ``acme/storefront``: Alice's pipeline runs build -> test -> deploy from 10 to 88 and passes,
  but its ``lint`` job (``allow_failure: true``) failed: "passed with warnings". In act 2 (see
  ``moments.py``) Grace's "Switch checkout to the new tax API" fails ``rspec`` at 480: the ref is
  red, and Grace is the one who broke it. Bob's fix fails ``rspec`` too at 534 (two in a row),
  someone retries ``rspec`` at 540 and the pipeline goes green at 572 on the retried job: green
  only after a retry.
- Tests (``/pipelines/:pid/test_report``): the ``rspec`` job reports an ``rspec`` suite of 20
  cases. Grace's pipeline fails ``TaxCalculator rounds per line item`` (a real failure, red in
  every loop); Bob's first ``rspec`` fails ``CheckoutSpec adds item``, which passes on the retry
  of the same commit: the flaky test. As on GitLab, the report is built from the *latest* jobs
  only (a retried job's report is left out), so the flake shows as the report read while the
  pipeline had failed and the one read after the retry made it green. In the history before loop
  0 the same test failed once more, and a new pipeline on that commit (``source: web``) passed.
- ``platform/terraform`` (watched by its numeric id 4242): Dana's plan runs 32-80, then the
  pipeline waits on the manual ``apply`` job (status ``manual``) until it is played at 200; applied
  and green at 240.

Faithful where clients can tell: list entries carry only the list's fields, the detail adds
``user``, ``started_at``, ``finished_at``, ``duration``, ``detailed_status``; jobs carry ``commit``
and ``allow_failure``, and ``include_retried=true`` adds the retried jobs; ``x-page``/``x-next-page``
/``x-total`` pagination, ``RateLimit-*`` headers (Reset as unix time) and weak ETags with 304.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

from buildradiator.simulator.answer import (
    Answer,
    Page,
    gitlab_paging,
    json_answer,
    page_asked,
    page_of,
    param,
    revalidated,
    text_answer,
)
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

PREFIX = "gitlab"
RATE_LIMIT = 2000
"""gitlab.com's authenticated API limit per minute."""
ID_BASE = 880_000_000
HISTORY = 6


@dataclass(frozen=True)
class Project:
    id: int
    path: str
    index: int


STOREFRONT = Project(4101, "acme/storefront", 0)
TERRAFORM = Project(4242, "platform/terraform", 1)
PROJECTS = (STOREFRONT, TERRAFORM)


@dataclass(frozen=True)
class JobPlan:
    name: str
    stage: str
    start: datetime
    end: datetime
    ok: bool = True
    allow_failure: bool = False
    appears: datetime | None = None
    """When the job was created (a retry appears when someone clicks retry); default: with the
    pipeline."""
    played: datetime | None = None
    """For a manual job: when someone played it (it shows ``manual`` before)."""
    failing: tuple[str, ...] = ()
    """Test cases (names in ``RSPEC``) that fail in this job; only ``rspec`` reports tests."""


@dataclass(frozen=True)
class PipelinePlan:
    id: int
    iid: int
    project: Project
    created: datetime
    sha: str
    message: str
    author: Person
    jobs: tuple[JobPlan, ...]
    trigger: str = "push"
    """The list's ``source``: ``push``, or ``web`` for a pipeline someone ran again by hand."""


@dataclass(frozen=True)
class JobState:
    id: int
    plan: JobPlan
    status: str


def _unit(*key: object) -> float:
    return int(fake_sha(*key)[:8], 16) / 16**8


FLAKY_CASE = "CheckoutSpec adds item"
"""Fails on a first attempt now and then, passes on the retry of the same commit."""
BROKEN_CASE = "TaxCalculator rounds per line item"
"""Fails for real on Grace's commit (fixed by Bob's): red, never flaky."""
PENDING_CASE = "Orders API exports CSV"

RSPEC: tuple[tuple[str, str], ...] = (
    ("spec.features.checkout_spec", FLAKY_CASE),
    ("spec.features.checkout_spec", "CheckoutSpec removes item"),
    ("spec.features.checkout_spec", "CheckoutSpec applies gift card"),
    ("spec.features.checkout_spec", "CheckoutSpec shows shipping options"),
    ("spec.features.checkout_spec", "CheckoutSpec pays with card"),
    ("spec.models.tax_calculator_spec", BROKEN_CASE),
    ("spec.models.tax_calculator_spec", "TaxCalculator handles a zero rate"),
    ("spec.models.tax_calculator_spec", "TaxCalculator uses the new tax API"),
    ("spec.models.tax_calculator_spec", "TaxCalculator caches rates"),
    ("spec.models.cart_spec", "Cart totals line items"),
    ("spec.models.cart_spec", "Cart merges a guest cart"),
    ("spec.models.cart_spec", "Cart expires after a day"),
    ("spec.models.cart_spec", "Cart rejects a negative quantity"),
    ("spec.models.gift_card_spec", "GiftCard checks the balance"),
    ("spec.models.gift_card_spec", "GiftCard rejects an expired card"),
    ("spec.models.gift_card_spec", "GiftCard splits a payment"),
    ("spec.requests.orders_spec", "Orders API lists orders"),
    ("spec.requests.orders_spec", "Orders API creates an order"),
    ("spec.requests.orders_spec", "Orders API paginates"),
    ("spec.requests.orders_spec", PENDING_CASE),
)
"""The ``rspec`` suite: (classname, name) as rspec_junit_formatter writes them."""


def _iso(moment: datetime) -> str:
    """GitLab's style: milliseconds and ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


# -- the script ------------------------------------------------------------------------------------


class GitLabStory(LoopStory[PipelinePlan]):
    def _pipeline(
        self,
        project: Project,
        loop: int,
        k: int,
        created: datetime,
        message: str,
        author: Person,
        jobs: list[JobPlan],
        *,
        same_commit_as: int | None = None,
    ) -> PipelinePlan:
        """Pipeline ``k`` of ``loop``; ``same_commit_as=j`` runs the commit of pipeline ``j``
        again (someone pressed "Run pipeline")."""
        pid = ID_BASE + (loop + 1) * 100 + project.index * 10 + k
        iid = 300 + (loop + 1) * 10 + k
        sha = fake_sha(
            "gitlab", project.path, loop, k if same_commit_as is None else same_commit_as
        )
        trigger = "push" if same_commit_as is None else "web"
        return PipelinePlan(pid, iid, project, created, sha, message, author, tuple(jobs), trigger)

    def _loop(self, loop: int) -> tuple[PipelinePlan, ...]:
        def at(s: float) -> datetime:
            return self.scenario.at(loop, s)

        sf, tf = STOREFRONT, TERRAFORM
        alice = [
            JobPlan("compile", "build", at(12), at(30)),
            JobPlan("rspec", "test", at(30), at(70)),
            JobPlan("lint", "test", at(30), at(44), ok=False, allow_failure=True),
            JobPlan("review-app", "deploy", at(70), at(88)),
        ]
        grace = [
            JobPlan("compile", "build", at(432), at(448)),
            JobPlan("rspec", "test", at(448), at(480), ok=False, failing=(BROKEN_CASE,)),
            JobPlan("lint", "test", at(448), at(460), allow_failure=True),
            JobPlan("review-app", "deploy", at(480), at(480)),
        ]
        bob = [
            JobPlan("compile", "build", at(492), at(506)),
            JobPlan("rspec", "test", at(506), at(534), ok=False, failing=(FLAKY_CASE,)),
            JobPlan("lint", "test", at(506), at(516), allow_failure=True),
            JobPlan("rspec", "test", at(542), at(560), appears=at(540)),
            JobPlan("review-app", "deploy", at(560), at(572)),
        ]
        dana = [
            JobPlan("validate", "plan", at(32), at(50)),
            JobPlan("plan", "plan", at(50), at(80)),
            JobPlan("apply", "apply", at(205), at(240), played=at(200)),
        ]
        return (
            self._pipeline(sf, loop, 0, at(10), "Add gift card balance to checkout", ALICE, alice),
            self._pipeline(
                sf,
                loop,
                1,
                at(430),
                "Switch checkout to the new tax API\n\nThe old endpoint is retired in March.",
                GRACE,
                grace,
            ),
            self._pipeline(sf, loop, 2, at(490), "Round tax per line item", BOB, bob),
            self._pipeline(tf, loop, 0, at(30), "Bump AWS provider to 5.80", DANA, dana),
        )

    def _history(self) -> tuple[PipelinePlan, ...]:
        """Pipelines before loop 0, 40 minutes apart: green, except one that went green on a
        retried job (2) and one that failed on the flaky test (3), whose commit passed when it
        was run again by hand (4)."""
        plans = []
        people = (CHEN, ERIN, ALICE, BOB, DANA, GRACE)
        for i in range(HISTORY):
            created = (self.scenario.start - timedelta(minutes=40 * (HISTORY - i))).replace(
                microsecond=0
            )

            def t(s: float, created: datetime = created) -> datetime:
                return created + timedelta(seconds=s)

            flaky = i in (2, 3)
            jobs = [
                JobPlan("compile", "build", t(5), t(25)),
                JobPlan("rspec", "test", t(25), t(65), ok=not flaky, failing=(FLAKY_CASE,) * flaky),
                JobPlan("lint", "test", t(25), t(37), allow_failure=True),
            ]
            if i == 2:
                jobs.append(JobPlan("rspec", "test", t(130), t(170), appears=t(120)))
            end = jobs[-1].end if i == 2 else t(65)
            # The stage after a failed one never runs (start == end: skipped).
            last = end if i == 3 else end + timedelta(seconds=18)
            jobs.append(JobPlan("review-app", "deploy", end, last))
            again = i == 4  # pipeline 3's commit, run again by hand
            person = people[(i - again) % len(people)]
            plans.append(
                self._pipeline(
                    STOREFRONT,
                    -1,
                    i,
                    created,
                    f"Tidy checkout step {i + 1 - again}",
                    person,
                    jobs,
                    same_commit_as=3 if again else None,
                )
            )
            if i % 2 == 0:
                tf_jobs = [
                    JobPlan("validate", "plan", t(7), t(20)),
                    JobPlan("plan", "plan", t(20), t(50)),
                    JobPlan("apply", "apply", t(300), t(330), played=t(290)),
                ]
                plans.append(
                    self._pipeline(
                        TERRAFORM, -1, i, t(2), f"Resize worker pool ({i})", person, tf_jobs
                    )
                )
        return tuple(plans)


# -- states at a moment ------------------------------------------------------------------------------


def job_states(plan: PipelinePlan, now: datetime) -> list[JobState]:
    """Every job that exists at ``now`` (retried ones included), in creation order."""
    states: list[JobState] = []
    for i, job in enumerate(plan.jobs):
        if (job.appears or plan.created) > now:
            continue
        if job.played is not None and now < job.played:
            word = "manual"
        elif job.start == job.end:
            word = "created"  # planned never to run: skipped once the stage before it failed
        elif now >= job.end:
            word = "success" if job.ok else "failed"
        elif now >= job.start:
            word = "running"
        elif job.played is not None:
            word = "pending"
        else:
            word = "created"
        states.append(JobState(plan.id * 100 + i, job, word))
    if _blocking_failure(states):
        # Jobs after a failed stage are skipped at once; a retry brings them back to created.
        states = [JobState(s.id, s.plan, "skipped") if s.status == "created" else s for s in states]
    return states


def _latest(states: list[JobState]) -> list[JobState]:
    newest: dict[str, JobState] = {}
    for state in states:
        newest[state.plan.name] = state
    return list(newest.values())


def _blocking_failure(states: list[JobState]) -> bool:
    return any(s.status == "failed" and not s.plan.allow_failure for s in _latest(states))


def pipeline_status(states: list[JobState]) -> str:
    latest = _latest(states)
    words = {s.status for s in latest}
    if "running" in words:
        return "running"
    if _blocking_failure(states):
        return "failed"
    if "manual" in words:
        return "manual"
    if words & {"created", "pending"}:
        started = any(s.status not in ("created", "pending") for s in latest)
        return "running" if started else "pending"
    return "success"


@dataclass(frozen=True)
class PipelineState:
    plan: PipelinePlan
    status: str
    jobs: list[JobState]
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


def pipeline_state(plan: PipelinePlan, now: datetime) -> PipelineState | None:
    if now < plan.created:
        return None
    jobs = job_states(plan, now)
    status = pipeline_status(jobs)
    begun = [j.plan.start for j in jobs if j.status in ("running", "success", "failed")]
    started = min(begun) if begun else None
    finished = None
    if status in ("success", "failed"):
        ends = [j.plan.end for j in jobs if j.status in ("success", "failed") and j.plan.end <= now]
        finished = max(ends) if ends else plan.created
    events = [plan.created] + [
        t
        for j in plan.jobs
        for t in (j.appears, j.played, j.start, j.end)
        if t is not None and t <= now
    ]
    return PipelineState(plan, status, jobs, started, finished, max(events))


# -- the API -----------------------------------------------------------------------------------------


class GitLabSim:
    prefix = PREFIX

    def __init__(self, scenario: Scenario) -> None:
        self.story = GitLabStory(scenario)
        self._window = 0
        self._used = 0

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="gitlab",
            type="gitlab",
            api_url=f"{base_url.rstrip('/')}/{PREFIX}/api/v4",
            projects=[STOREFRONT.path, str(TERRAFORM.id)],
            branch="main",
            names={str(TERRAFORM.id): TERRAFORM.path},
        )

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        site = web.removesuffix("/web") + "/" + PREFIX
        if not path.startswith("/api/v4/"):
            # The web pages the links point at.
            return text_answer(
                200, "<!doctype html><title>GitLab</title><h1>Simulated GitLab</h1>\n", "text/html"
            )
        answer = self._route(path.removeprefix("/api/v4"), query, moment, site)
        answer.headers += self._rate_headers(moment)
        answer.headers.append(("cache-control", "max-age=0, private, must-revalidate"))
        answer.headers.append(("x-request-id", fake_sha(path, moment.now)[:26].upper()))
        if answer.status == 200:
            etag = 'W/"' + hashlib.md5(answer.body, usedforsecurity=False).hexdigest() + '"'
            return revalidated(answer, etag, headers.get("If-None-Match"))
        return answer

    def _rate_headers(self, moment: Moment) -> list[tuple[str, str]]:
        minute = int(moment.now.timestamp()) // 60
        if minute != self._window:
            self._window, self._used = minute, 0
        self._used += 1
        return [
            ("RateLimit-Name", "throttle_authenticated_api"),
            ("RateLimit-Limit", str(RATE_LIMIT)),
            ("RateLimit-Observed", str(self._used)),
            ("RateLimit-Remaining", str(max(0, RATE_LIMIT - self._used))),
            ("RateLimit-Reset", str((minute + 1) * 60)),
        ]

    def _route(self, path: str, query: dict[str, list[str]], moment: Moment, site: str) -> Answer:
        rest = path.removeprefix("/projects/")
        if rest == path:
            return _not_found("404 Not Found")
        project = None
        for candidate in PROJECTS:
            # The server hands us the path decoded: group%2Fproject arrives as group/project.
            for name in (candidate.path, str(candidate.id)):
                if rest.startswith(name + "/"):
                    project, rest = candidate, rest[len(name) + 1 :]
        if project is None:
            return _not_found("404 Project Not Found")
        parts = rest.split("/")
        if parts == ["pipelines"]:
            return self._list(project, query, moment, site)
        if len(parts) in (2, 3) and parts[0] == "pipelines" and parts[1].isdigit():
            state = self._find(project, int(parts[1]), moment)
            if state is None:
                return _not_found("404 Not found")
            if len(parts) == 2:
                return json_answer(200, detail_json(state, site))
            if parts[2] == "jobs":
                return self._jobs(state, query, site)
            if parts[2] == "test_report":
                return json_answer(200, test_report_json(state))
        return _not_found("404 Not Found")

    def _states(self, project: Project, moment: Moment, wanted: int) -> list[PipelineState]:
        states: list[PipelineState] = []
        for loop in range(moment.loop, -2, -1):
            for plan in self.story.plans(loop):
                if plan.project == project and (s := pipeline_state(plan, moment.now)):
                    states.append(s)
            if len(states) > wanted:
                break
        states.sort(key=lambda s: s.plan.id, reverse=True)
        return states

    def _find(self, project: Project, pid: int, moment: Moment) -> PipelineState | None:
        loop = (pid - ID_BASE) // 100 - 1
        if loop > moment.loop or loop < -1:
            return None
        for plan in self.story.plans(loop):
            if plan.id == pid and plan.project == project:
                return pipeline_state(plan, moment.now)
        return None

    def _list(
        self, project: Project, query: dict[str, list[str]], moment: Moment, site: str
    ) -> Answer:
        number, size = page_asked(query, 20, most=10_000)
        states = self._states(project, moment, number * size)
        ref = param(query, "ref")
        if ref is not None and ref != "main":
            states = []
        if (status := param(query, "status")) is not None:
            states = [s for s in states if s.status == status]
        if param(query, "sort") == "asc":
            states.reverse()
        page = Page.cut(states, number, size)
        answer = json_answer(200, [list_json(s, site) for s in page.shown])
        # The states were read only as far as this page (and one more): no total to tell.
        answer.headers += gitlab_paging(page, total_known=False)
        return answer

    def _jobs(self, state: PipelineState, query: dict[str, list[str]], site: str) -> Answer:
        jobs = state.jobs
        if param(query, "include_retried") != "true":
            jobs = [j for j in jobs if j in _latest(jobs)]
        # GitLab lists a pipeline's jobs newest first.
        jobs = sorted(jobs, key=lambda j: j.id, reverse=True)
        page = page_of(jobs, query, 20, most=10_000)
        answer = json_answer(200, [job_json(state, j, site) for j in page.shown])
        answer.headers += gitlab_paging(page)
        return answer


# -- payloads ----------------------------------------------------------------------------------------


def _user(person: Person, site: str) -> dict[str, Any]:
    uid = 10_000 + sum(ord(c) for c in person.login)
    return {
        "id": uid,
        "username": person.login,
        "name": person.name,
        "state": "active",
        "locked": False,
        "avatar_url": None,
        "web_url": f"{site}/{person.login}",
    }


def list_json(state: PipelineState, site: str) -> dict[str, Any]:
    plan = state.plan
    return {
        "id": plan.id,
        "iid": plan.iid,
        "project_id": plan.project.id,
        "sha": plan.sha,
        "ref": "main",
        "status": state.status,
        "source": plan.trigger,
        "created_at": _iso(plan.created),
        "updated_at": _iso(state.updated_at),
        "web_url": f"{site}/{plan.project.path}/-/pipelines/{plan.id}",
        "name": None,
    }


_DETAILED = {
    "success": ("passed", "success"),
    "failed": ("failed", "failed"),
    "running": ("running", "running"),
    "pending": ("pending", "pending"),
    "manual": ("blocked", "manual"),
}


def detail_json(state: PipelineState, site: str) -> dict[str, Any]:
    plan = state.plan
    text, group = _DETAILED.get(state.status, (state.status, state.status))
    warned = state.status == "success" and any(
        j.status == "failed" and j.plan.allow_failure for j in _latest(state.jobs)
    )
    if warned:
        text, group = "warning", "success-with-warnings"
    duration = None
    if state.started_at and state.finished_at:
        duration = int((state.finished_at - state.started_at).total_seconds())
    return {
        **list_json(state, site),
        "before_sha": fake_sha("before", plan.sha),
        "tag": False,
        "yaml_errors": None,
        "user": _user(plan.author, site),
        "started_at": _iso(state.started_at) if state.started_at else None,
        "finished_at": _iso(state.finished_at) if state.finished_at else None,
        "committed_at": None,
        "duration": duration,
        "queued_duration": 2,
        "coverage": None,
        "detailed_status": {
            "icon": f"status_{group}",
            "text": text,
            "label": "passed with warnings" if warned else text,
            "group": group,
            "tooltip": text,
            "has_details": True,
            "details_path": f"/{plan.project.path}/-/pipelines/{plan.id}",
        },
    }


def job_json(state: PipelineState, job: JobState, site: str) -> dict[str, Any]:
    plan, jp = state.plan, job.plan
    begun = job.status in ("running", "success", "failed")
    done = job.status in ("success", "failed")
    created = jp.appears or plan.created
    title = plan.message.splitlines()[0]
    return {
        "id": job.id,
        "status": job.status,
        "stage": jp.stage,
        "name": jp.name,
        "ref": "main",
        "tag": False,
        "coverage": None,
        "allow_failure": jp.allow_failure,
        "created_at": _iso(created),
        "started_at": _iso(jp.start) if begun else None,
        "finished_at": _iso(jp.end) if done else None,
        "erased_at": None,
        "duration": (jp.end - jp.start).total_seconds() if done else None,
        "queued_duration": 1.5 if begun else None,
        "user": _user(plan.author, site),
        "commit": {
            "id": plan.sha,
            "short_id": plan.sha[:8],
            "created_at": _iso(plan.created - timedelta(minutes=3)),
            "parent_ids": [fake_sha("before", plan.sha)],
            "title": title,
            "message": plan.message,
            "author_name": plan.author.name,
            "author_email": plan.author.email,
            "authored_date": _iso(plan.created - timedelta(minutes=3)),
            "committer_name": plan.author.name,
            "committer_email": plan.author.email,
            "committed_date": _iso(plan.created - timedelta(minutes=3)),
            "web_url": f"{site}/{plan.project.path}/-/commit/{plan.sha}",
        },
        "pipeline": {
            "id": plan.id,
            "project_id": plan.project.id,
            "ref": "main",
            "sha": plan.sha,
            "status": state.status,
        },
        "failure_reason": "script_failure" if job.status == "failed" else None,
        "web_url": f"{site}/{plan.project.path}/-/jobs/{job.id}",
        "artifacts": [],
        "runner": None,
        "tag_list": ["docker"],
        "archived": False,
    }


def test_report_json(state: PipelineState) -> dict[str, Any]:
    """The pipeline's test report: one suite per finished *latest* job that writes JUnit (the
    ``rspec`` job); a retried job's report is not in it, as on GitLab. No such job: no suites."""
    suites = []
    for job in _latest(state.jobs):
        if job.plan.name != "rspec" or job.status not in ("success", "failed"):
            continue
        cases = []
        for classname, name in RSPEC:
            if name == PENDING_CASE:
                status = "skipped"
            else:
                status = "failed" if name in job.plan.failing else "success"
            took = round(0.05 + 2.5 * _unit(state.plan.id, job.id, name) ** 3, 4)
            cases.append(
                {
                    "status": status,
                    "name": name,
                    "classname": classname,
                    "file": "./" + classname.replace(".", "/") + ".rb",
                    "execution_time": 0.0 if status == "skipped" else took,
                    "system_output": (
                        f"Failure/Error: expected {name!r} to pass\n  ./spec/support/"
                        "capybara.rb:12:in `block (2 levels)'"
                    )
                    if status == "failed"
                    else None,
                    "stack_trace": None,
                    "recent_failures": None,
                }
            )
        suites.append(_suite("rspec", cases))
    total = _suite("", [c for suite in suites for c in suite["test_cases"]])
    del total["name"], total["suite_error"], total["test_cases"]
    return {**total, "test_suites": suites}


def _suite(name: str, cases: list[dict[str, Any]]) -> dict[str, Any]:
    def count(word: str) -> int:
        return sum(1 for c in cases if c["status"] == word)

    return {
        "name": name,
        "total_time": round(sum(c["execution_time"] for c in cases), 3),
        "total_count": len(cases),
        "success_count": count("success"),
        "failed_count": count("failed"),
        "skipped_count": count("skipped"),
        "error_count": count("error"),
        "suite_error": None,
        "test_cases": cases,
    }


def _not_found(message: str) -> Answer:
    return json_answer(404, {"message": message})


def make(scenario: Scenario) -> GitLabSim:
    return GitLabSim(scenario)
