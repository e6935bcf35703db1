"""A Jenkins, as the simulator speaks it (api-facts §3), under ``/jenkins``.

Three jobs, one of each kind the source must reach:

- ``monolith`` (a Pipeline job, ``changeSets``): green at ~280; Farid's "Parallelise integration
  tests" is UNSTABLE at ~330 (main red, yellow in Jenkins); Farid rebuilds it ("Rebuilds build
  #N") and the rebuild passes at ~385 (green only after a retry); Grace's "Drop Java 11 support"
  FAILS at ~450; her fix waits in the queue from ~455 to ~475 ("Waiting for next available
  executor") and passes at ~520. Its builds carry ``estimatedDuration`` for the progress bar.
- ``platform/payments-api`` (a freestyle job in a folder, ``changeSet``): green, except a build
  ABORTED by a user at ~365.
- ``shop/feature%2Fcheckout`` (a multibranch branch whose name holds a slash): green, except a
  NOT_BUILT build at ~371.

All of it in act 2 of the loop (``moments.py``): the builds start from 240.

Tests (``/job/.../{n}/testReport/api/json``): every build that ran publishes a JUnit report (one
suite per test class, 10-20 cases a job). Farid's UNSTABLE build fails
``com.acme.auth.LoginTest.testRedirect`` and his rebuild of the same commit passes it: the flaky
test, in every loop (so the earlier loops' builds carry it too). Grace's FAILURE fails
``com.acme.build.ToolchainTest.compilesWithJava11`` for real; her fix (a new commit) passes it.
Case words are Jenkins': ``REGRESSION``/``FIXED`` against the build before, else
``FAILED``/``PASSED``, and ``SKIPPED``. ABORTED and NOT_BUILT builds have no report: Jenkins'
HTML 404, as for a build still running.

Faithful where a client can tell: job paths ``/job/a/job/b``, branch names encoded once more in
the URL, the ``builds[...]{0,N}`` range of ``tree=``, epoch-millisecond timestamps, ``duration``
0 while building, ``result: null`` while building, ``_class`` and empty ``{}`` actions, the
``X-Jenkins`` header, and an HTML 404 page for a job that does not exist. No ETag and no
rate-limit headers, as on a real Jenkins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import quote

from buildradiator.simulator.answer import Answer, json_answer, text_answer
from buildradiator.simulator.runs import Person
from buildradiator.simulator.scenario import (
    ALICE,
    BOB,
    ERIN,
    FARID,
    GRACE,
    Moment,
    Scenario,
    fake_sha,
)
from buildradiator.simulator.sourceblock import source_block

VERSION = "2.462.3"
LOOPS_SHOWN = 3
"""Loops of history served besides the current one (5 builds a loop: 15 or more builds)."""
EXECUTOR_WAIT = "Waiting for next available executor on ‘linux’"


@dataclass(frozen=True)
class Plan:
    """One build of one loop, in script seconds."""

    k: int
    start: float
    seconds: float
    result: str
    author: Person
    message: str
    queued: float | None = None
    """When it entered the queue, if it waited there before ``start``."""
    rebuild_of: int | None = None
    """The ``k`` of the build this one rebuilds (same commit, no change set)."""
    failing: tuple[str, ...] = ()
    """Tests (``Class.method``) that fail in this build."""


@dataclass(frozen=True)
class Job:
    path: str
    """Item names joined by ``/`` (a multibranch branch's own slash is ``%2F``)."""
    kind: str
    branch: str
    number_base: int
    estimate_ms: int
    plans: tuple[Plan, ...]
    tests: tuple[str, ...] = ()
    """Every test of the job's report, ``package.Class.method``; ``SKIPPED_TESTS`` are skipped."""

    @property
    def pipeline(self) -> bool:
        return self.kind == "org.jenkinsci.plugins.workflow.job.WorkflowJob"


FLAKY_TEST = "com.acme.auth.LoginTest.testRedirect"
"""Fails on Farid's build and passes on the rebuild of the same commit."""
BROKEN_TEST = "com.acme.build.ToolchainTest.compilesWithJava11"
"""Fails for real on Grace's "Drop Java 11 support"; her next commit fixes it."""
SKIPPED_TESTS = frozenset({"com.acme.search.SearchIndexTest.reindexesNightly"})


def _tests(cls: str, *methods: str) -> tuple[str, ...]:
    return tuple(f"{cls}.{m}" for m in methods)


MONOLITH_TESTS = (
    _tests(
        "com.acme.auth.LoginTest",
        "testRedirect",
        "testLogout",
        "testBadPassword",
        "testRememberMe",
        "testLockout",
    )
    + _tests(
        "com.acme.build.ToolchainTest", "compilesWithJava11", "compilesWithJava17", "usesRelease"
    )
    + _tests(
        "com.acme.orders.OrderServiceTest",
        "placesOrder",
        "cancelsOrder",
        "refundsPartially",
        "rejectsEmptyCart",
        "appliesDiscount",
    )
    + _tests("com.acme.orders.InvoiceTest", "rendersPdf", "numbersSequentially", "roundsTax")
    + _tests(
        "com.acme.search.SearchIndexTest",
        "indexesProduct",
        "ranksByRelevance",
        "handlesUnicode",
        "reindexesNightly",
    )
)
PAYMENTS_TESTS = (
    _tests("com.acme.payments.IbanTest", "validChecksum", "invalidChecksum", "countryLength")
    + _tests("com.acme.payments.CardAuthTest", "authorises", "declines", "retriesWithBackoff")
    + _tests("com.acme.payments.WebhookTest", "signsPayload", "rejectsReplay", "acceptsLate")
    + _tests("com.acme.payments.LedgerTest", "balances", "roundsHalfEven")
)
SHOP_TESTS = _tests(
    "com.acme.shop.CheckoutFlowTest",
    "onePageCheckout",
    "remembersShippingAddress",
    "flagOffShowsOldFlow",
    "validatesPostcode",
    "showsTotals",
) + _tests("com.acme.shop.AddressBookTest", "addsAddress", "editsAddress", "deletesAddress")

_PIPELINE = "org.jenkinsci.plugins.workflow.job.WorkflowJob"
_FREESTYLE = "hudson.model.FreeStyleProject"

JOBS = {
    job.path: job
    for job in (
        Job(
            "monolith",
            _PIPELINE,
            "main",
            1200,
            45_000,
            (
                Plan(0, 240, 40, "SUCCESS", ALICE, "Cache Gradle dependencies"),
                Plan(
                    1,
                    285,
                    45,
                    "UNSTABLE",
                    FARID,
                    "Parallelise integration tests\n\nSplit the suite over four forks.",
                    failing=(FLAKY_TEST,),
                ),
                Plan(2, 340, 45, "SUCCESS", FARID, "", rebuild_of=1),
                Plan(3, 400, 50, "FAILURE", GRACE, "Drop Java 11 support", failing=(BROKEN_TEST,)),
                Plan(4, 475, 45, "SUCCESS", GRACE, "Restore Java 11 toolchain", queued=455),
            ),
            MONOLITH_TESTS,
        ),
        Job(
            "platform/payments-api",
            _FREESTYLE,
            "main",
            300,
            30_000,
            (
                Plan(0, 250, 30, "SUCCESS", ERIN, "Validate IBAN checksums"),
                Plan(1, 350, 15, "ABORTED", BOB, "Retry card authorisations"),
                Plan(2, 450, 30, "SUCCESS", BOB, "Retry card authorisations, with backoff"),
            ),
            PAYMENTS_TESTS,
        ),
        Job(
            "shop/feature%2Fcheckout",
            _PIPELINE,
            "feature/checkout",
            40,
            25_000,
            (
                Plan(0, 260, 25, "SUCCESS", ALICE, "One-page checkout behind a flag"),
                Plan(1, 370, 1, "NOT_BUILT", ALICE, "Skip CI for docs-only change"),
                Plan(2, 440, 25, "SUCCESS", ALICE, "Checkout: remember the shipping address"),
            ),
            SHOP_TESTS,
        ),
    )
}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class JenkinsSim:
    """Answers ``/jenkins/...``. Pure: every answer is computed from the moment."""

    prefix = "jenkins"

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    # -- the SimProvider protocol

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        parts = [p for p in path.split("/") if p]
        if len(parts) >= 6 and parts[-3:] == ["testReport", "api", "json"] and parts[-4].isdigit():
            names = parts[:-4]
            if len(names) % 2 == 0 and all(n == "job" for n in names[::2]):
                job = JOBS.get("/".join(names[1::2]))
                report = self._report(job, int(parts[-4]), moment) if job else None
                if report is not None:
                    return _jenkins(json_answer(200, report))
        elif len(parts) >= 4 and parts[-2:] == ["api", "json"] and parts[0] == "job":
            names = parts[:-2]
            if len(names) % 2 == 0 and all(n == "job" for n in names[::2]):
                # The server decoded the path once: a branch's ``%252F`` is its name's ``%2F`` now.
                job = JOBS.get("/".join(names[1::2]))
                if job is not None:
                    shown = _builds_range(query.get("tree", [""])[-1])
                    return _jenkins(json_answer(200, self._job(job, moment, web, shown)))
        page = (
            "<!DOCTYPE html><html><head><title>Not Found [Jenkins]</title></head>"
            "<body><h1>Not Found</h1><p>The requested resource was not found.</p></body></html>"
        )
        return _jenkins(text_answer(404, page, "text/html"))

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="jenkins-ci",
            type="jenkins",
            url=f"{base_url.rstrip('/')}/jenkins",
            jobs=list(JOBS),
            builds=10,
            names={"monolith": "Monolith (Jenkins)"},
        )

    # -- payloads

    def _job(self, job: Job, moment: Moment, web: str, shown: slice) -> dict[str, Any]:
        builds: list[dict[str, Any]] = []
        queue_item: dict[str, Any] | None = None
        numbers: dict[tuple[int, int], int] = {}
        next_number = job.number_base
        for loop in range(max(-LOOPS_SHOWN, moment.loop - LOOPS_SHOWN), moment.loop + 1):
            for plan in job.plans:
                number = job.number_base + (loop + LOOPS_SHOWN + 1) * len(job.plans) + plan.k
                numbers[(loop, plan.k)] = number
                start = self.scenario.at(loop, plan.start)
                if start <= moment.now:
                    builds.append(self._build(job, loop, plan, number, numbers, moment, web))
                    next_number = number + 1
                elif plan.queued is not None and self.scenario.at(loop, plan.queued) <= moment.now:
                    queue_item = self._queue_item(job, loop, plan, web)
        builds.sort(key=lambda b: b["number"], reverse=True)
        newest = builds[0] if builds else None
        name = job.path.rsplit("/", 1)[-1]
        url = f"{web}/jenkins/" + "".join(f"job/{quote(p, safe='')}/" for p in job.path.split("/"))
        return {
            "_class": job.kind,
            "name": name,
            "fullName": job.path,
            "displayName": name.replace("%2F", "/"),
            "url": url,
            "buildable": True,
            "color": _color(builds) + ("_anime" if newest and newest["building"] else ""),
            "inQueue": queue_item is not None,
            "queueItem": queue_item,
            "nextBuildNumber": next_number,
            "builds": builds[shown],
            "healthReport": [
                {"description": "Build stability: 1 out of the last 5 builds failed."}
            ],
        }

    def _build(
        self,
        job: Job,
        loop: int,
        plan: Plan,
        number: int,
        numbers: dict[tuple[int, int], int],
        moment: Moment,
        web: str,
    ) -> dict[str, Any]:
        start = self.scenario.at(loop, plan.start)
        end = self.scenario.at(loop, plan.start + plan.seconds)
        done = end <= moment.now
        origin = plan if plan.rebuild_of is None else job.plans[plan.rebuild_of]
        sha = fake_sha(job.path, loop, origin.k)
        causes: list[dict[str, Any]] = []
        if plan.rebuild_of is not None:
            causes.append(
                {
                    "_class": "com.sonyericsson.rebuild.RebuildCause",
                    "shortDescription": f"Rebuilds build #{numbers[(loop, plan.rebuild_of)]}",
                    "upstreamBuild": numbers[(loop, plan.rebuild_of)],
                    "upstreamProject": job.path,
                    "upstreamUrl": f"job/{job.path}/",
                }
            )
            causes.append(
                {
                    "_class": "hudson.model.Cause$UserIdCause",
                    "shortDescription": f"Started by user {plan.author.name}",
                    "userId": plan.author.login,
                    "userName": plan.author.name,
                }
            )
        else:
            causes.append(
                {
                    "_class": "hudson.triggers.SCMTrigger$SCMTriggerCause",
                    "shortDescription": "Started by an SCM change",
                }
            )
        items = [] if plan.rebuild_of is not None else [_change_item(plan, sha, start, web)]
        change_set = {
            "_class": "hudson.plugins.git.GitChangeSetList",
            "kind": "git",
            "items": items,
        }
        red = origin.result in ("UNSTABLE", "FAILURE")
        culprits = [_user(origin.author, web)] if red or plan.rebuild_of is not None else []
        build: dict[str, Any] = {
            "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun"
            if job.pipeline
            else "hudson.model.FreeStyleBuild",
            "actions": [
                {"_class": "hudson.model.CauseAction", "causes": causes},
                {},
                {
                    "_class": "hudson.plugins.git.util.BuildData",
                    "lastBuiltRevision": {
                        "SHA1": sha,
                        "branch": [
                            {
                                "SHA1": sha,
                                "name": job.branch
                                if "%2F" in job.path
                                else f"refs/remotes/origin/{job.branch}",
                            }
                        ],
                    },
                    "remoteUrls": ["https://git.acme.example/acme/monolith.git"],
                },
                {},
            ],
            "building": not done,
            "description": None,
            "displayName": f"#{number}",
            "duration": int((end - start).total_seconds() * 1000) if done else 0,
            "estimatedDuration": job.estimate_ms,
            "fullDisplayName": f"{job.path.replace('/', ' » ')} #{number}",
            "id": str(number),
            "number": number,
            "queueId": 5000 + number,
            "result": plan.result if done else None,
            "timestamp": _ms(start),
            "url": f"{web}/jenkins/"
            + "".join(f"job/{quote(p, safe='')}/" for p in job.path.split("/"))
            + f"{number}/",
            "culprits": culprits,
            "inProgress": not done,
        }
        if job.pipeline:
            build["changeSets"] = [change_set] if items else []
        else:
            build["changeSet"] = change_set
        return build

    def _report(self, job: Job, number: int, moment: Moment) -> dict[str, Any] | None:
        """Build ``number``'s test report (``tree=suites[name,cases[...]]``), or ``None`` for
        Jenkins' 404: no such build, still running, or a build that ran no tests."""
        size = len(job.plans)
        offset = number - job.number_base
        loop, k = offset // size - LOOPS_SHOWN - 1, offset % size
        if offset < 0 or loop < -LOOPS_SHOWN or loop > moment.loop:
            return None
        plan = job.plans[k]
        end = self.scenario.at(loop, plan.start + plan.seconds)
        if end > moment.now or not _has_report(plan) or not job.tests:
            return None
        before = _previous_failing(job, loop, k)
        suites: dict[str, list[dict[str, Any]]] = {}
        for test in job.tests:
            cls, method = test.rsplit(".", 1)
            if test in SKIPPED_TESTS:
                word = "SKIPPED"
            elif test in plan.failing:
                word = "FAILED" if before is not None and test in before else "REGRESSION"
            else:
                word = "FIXED" if before is not None and test in before else "PASSED"
            took = (
                0.0
                if word == "SKIPPED"
                else round(0.01 + 3 * _unit(job.path, number, test) ** 3, 3)
            )
            suites.setdefault(cls, []).append(
                {
                    "_class": "hudson.tasks.junit.CaseResult",
                    "className": cls,
                    "duration": took,
                    "name": method,
                    "status": word,
                }
            )
        return {
            "_class": "hudson.tasks.junit.TestResult",
            "suites": [
                {"_class": "hudson.tasks.junit.SuiteResult", "cases": cases, "name": cls}
                for cls, cases in suites.items()
            ],
        }

    def _queue_item(self, job: Job, loop: int, plan: Plan, web: str) -> dict[str, Any]:
        assert plan.queued is not None
        since = self.scenario.at(loop, plan.queued)
        item_id = 70_000 + (loop + 10) * 100 + plan.k
        return {
            "_class": "hudson.model.Queue$BuildableItem",
            "blocked": False,
            "buildable": True,
            "id": item_id,
            "inQueueSince": _ms(since),
            "params": "",
            "stuck": False,
            "task": {"_class": job.kind, "name": job.path.rsplit("/", 1)[-1]},
            "url": f"queue/item/{item_id}/",
            "why": EXECUTOR_WAIT,
            "buildableStartMilliseconds": _ms(since) + 5000,
            "pending": False,
        }


def _has_report(plan: Plan) -> bool:
    # An aborted or never-built build published no JUnit results.
    return plan.result in ("SUCCESS", "UNSTABLE", "FAILURE")


def _previous_failing(job: Job, loop: int, k: int) -> frozenset[str] | None:
    """What failed in the build before that had a report (Jenkins' REGRESSION/FIXED)."""
    for _ in range(len(job.plans) * 2):
        k -= 1
        if k < 0:
            loop, k = loop - 1, len(job.plans) - 1
        if loop < -LOOPS_SHOWN:
            return None
        if _has_report(job.plans[k]):
            return frozenset(job.plans[k].failing)
    return None


def _unit(*key: object) -> float:
    return int(fake_sha(*key)[:8], 16) / 16**8


def _change_item(plan: Plan, sha: str, start: datetime, web: str) -> dict[str, Any]:
    written = _ms(start) - 240_000
    return {
        "_class": "hudson.plugins.git.GitChangeSet",
        "affectedPaths": ["build.gradle"],
        "commitId": sha,
        "timestamp": written,
        "author": _user(plan.author, web),
        "authorEmail": f"{plan.author.login}@acme.example",
        "comment": plan.message + "\n",
        "date": datetime.fromtimestamp(written / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S +0000"),
        "id": sha,
        "msg": plan.message.splitlines()[0] if plan.message else "",
        "paths": [{"editType": "edit", "file": "build.gradle"}],
    }


def _user(dev: Person, web: str) -> dict[str, Any]:
    return {"absoluteUrl": f"{web}/jenkins/user/{dev.login}", "fullName": dev.name}


_COLORS = {"SUCCESS": "blue", "UNSTABLE": "yellow", "FAILURE": "red", "ABORTED": "aborted"}


def _color(builds: list[dict[str, Any]]) -> str:
    done = [b for b in builds if not b["building"]]
    return _COLORS.get(done[0]["result"], "notbuilt") if done else "notbuilt"


_RANGE = re.compile(r"builds\[.*\]\{(\d*),(\d*)\}")


def _builds_range(tree: str) -> slice:
    """The ``{M,N}`` of ``builds[...]{M,N}``; Jenkins sends at most 100 builds without one."""
    match = _RANGE.search(tree)
    if match:
        low = int(match.group(1)) if match.group(1) else 0
        high = int(match.group(2)) if match.group(2) else None
        return slice(low, high)
    return slice(0, 100)


def _jenkins(answer: Answer) -> Answer:
    answer.headers += [
        ("X-Jenkins", VERSION),
        ("X-Jenkins-Session", "5f3c9a1e"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return answer


def make(scenario: Scenario) -> JenkinsSim:
    return JenkinsSim(scenario)
