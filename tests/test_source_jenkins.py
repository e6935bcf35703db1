"""The Jenkins source against a fake Jenkins speaking the documented JSON API shapes.

``payloads/jenkins/job.json`` is a Pipeline job as ``/job/monolith/api/json`` returns it (with
``_class``, empty ``{}`` and ``null`` actions, a shared library's revision, and extras that a
``tree=`` would have cut); tests copy and bend it into the odd answers real servers send.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import (
    AuthFailed,
    BadPayload,
    NotFound,
    RateLimited,
    SourceError,
    Unreachable,
)
from buildradiator.history import History
from buildradiator.model import Pipeline, Status, TestResult, TestStatus
from buildradiator.sources.http import HttpClient
from buildradiator.sources.jenkins.config import JenkinsSource
from buildradiator.sources.jenkins.source import (
    REPORT_TREE,
    Jenkins,
    build_status,
    tree_for,
)
from buildradiator.sources.reading import from_epoch
from buildradiator.sources.testreports import MAX_REPORT_TRIES

PAYLOADS = Path(__file__).parent / "payloads" / "jenkins"
TOKEN = "11a4b5c6d7e8f90123456789abcdef0123"
JOB_PATH = "/job/monolith/api/json"


def load() -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((PAYLOADS / "job.json").read_text())
    return payload


def jenkins_json(payload: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(payload).encode(),
        headers={"content-type": "application/json;charset=utf-8", "x-jenkins": "2.462.3"},
    )


def html(status: int, body: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=body.encode(), headers={"content-type": "text/html", **headers}
    )


NOT_FOUND_PAGE = (
    "<html><head><title>Error 404 Not Found</title></head><body>Not Found</body></html>"
)
LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Sign in [Jenkins]</title></head><body>"
    '<form method="post" action="j_spring_security_check"><input name="j_username"/>'
    '<input name="j_password" type="password"/></form></body></html>'
)


class FakeJenkins:
    """Routes by raw path (so encoding is visible); anything unrouted is Jenkins' HTML 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def route(self, path: str, payload: Any) -> None:
        self.routes[path] = lambda request: jenkins_json(payload)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.raw_path.split(b"?", 1)[0].decode()
        handler = self.routes.get(path)
        return handler(request) if handler else html(404, NOT_FOUND_PAGE)


def job_requests(fake: FakeJenkins) -> list[httpx.Request]:
    return [r for r in fake.requests if b"/testReport/" not in r.url.raw_path]


def report_paths(fake: FakeJenkins) -> list[str]:
    paths = [r.url.raw_path.split(b"?")[0].decode() for r in fake.requests]
    return [p for p in paths if "/testReport/" in p]


@pytest.fixture
def fake() -> FakeJenkins:
    fake = FakeJenkins()
    fake.route(JOB_PATH, load())
    return fake


@pytest.fixture
async def http(fake: FakeJenkins, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(fake), follow_redirects=True),
        clock=clock,
    )
    yield client
    await client.aclose()


def make(
    http: HttpClient, *, token: str | None = TOKEN, username: str | None = "radiator", **fields: Any
) -> Jenkins:
    config: dict[str, Any] = {
        "type": "jenkins",
        "name": "ci",
        "url": "https://jenkins.acme.example",
        "jobs": ["monolith"],
        **fields,
    }
    if username is not None:
        config["username"] = username
    if token is not None:
        config.setdefault("token_env", "JENKINS_TOKEN")
        config["token"] = SecretStr(token)
    return Jenkins(JenkinsSource.model_validate(config), http)


def with_builds(*builds: dict[str, Any], **job: Any) -> dict[str, Any]:
    payload = load()
    payload.update({"builds": list(builds), "inQueue": False, "queueItem": None, **job})
    return payload


def a_build(**fields: Any) -> dict[str, Any]:
    """Build #55 of the fixture (UNSTABLE, two commits) with some fields replaced."""
    build: dict[str, Any] = copy.deepcopy(load()["builds"][2])
    build.update(fields)
    return build


async def only(fake: FakeJenkins, http: HttpClient, **fields: Any) -> Pipeline:
    fake.route(JOB_PATH, with_builds(a_build(**fields)))
    (pipeline,) = (await make(http).poll()).pipelines
    return pipeline


def at(h: int, m: int, s: float = 0) -> datetime:
    return datetime(2026, 11, 26, h, m, tzinfo=UTC).replace(second=int(s))


# --- the realistic payload --------------------------------------------------------------------


async def test_realistic_job(http: HttpClient, fake: FakeJenkins) -> None:
    result = await make(http).poll()

    (pipe,) = result.pipelines
    assert pipe.key == "monolith" and pipe.name == "monolith" and pipe.source == "ci"
    assert pipe.url == "https://jenkins.acme.example/job/monolith/"
    assert pipe.branch == "main"  # from the built revision, refs/remotes/origin/ stripped
    assert [b.number for b in pipe.recent] == [56, 55, 54, 53, 52, 51]
    assert [b.provider_status for b in pipe.recent] == [
        "SUCCESS",
        "UNSTABLE",
        "FAILURE",
        "ABORTED",
        "NOT_BUILT",
        "SUCCESS",
    ]
    assert [b.status for b in pipe.recent] == [
        Status.PASSED,
        Status.FAILED,
        Status.FAILED,
        Status.CANCELED,
        Status.UNKNOWN,
        Status.PASSED,
    ]

    unstable = pipe.recent[1]
    assert unstable.id == "55" and unstable.attempt == 1
    # The change-set item that was built (matching the revision), not the library's revision.
    assert unstable.commit == "a" * 40
    assert unstable.author == "Farid Haddad"
    assert unstable.message == "Parallelise integration tests"
    assert unstable.started_at == unstable.created_at == at(11, 0)
    assert unstable.finished_at == datetime(2026, 11, 26, 11, 7, 0, 500000, tzinfo=UTC)
    assert unstable.duration_seconds == pytest.approx(420.5)
    assert unstable.url == "https://jenkins.acme.example/job/monolith/55/"
    assert unstable.estimated_seconds == pytest.approx(421.337)

    # "Rebuilds build #55": attempt 2, and the commit facts of #55 (it has no change set).
    rebuild = pipe.recent[0]
    assert rebuild.attempt == 2 and rebuild.status is Status.PASSED
    assert rebuild.commit == "a" * 40
    assert rebuild.message == "Parallelise integration tests"
    assert rebuild.author == "Farid Haddad"

    # No change set, no culprits: the user who started it.
    failed = pipe.recent[2]
    assert failed.author == "Dana Smith" and failed.commit == "c" * 40 and failed.message is None

    # Hostile text stays text: the escape sequence is gone, the markup is shown literally.
    assert pipe.recent[5].message == 'Merge "[bold red]x[/]" red'
    assert pipe.recent[5].estimated_seconds is None  # Jenkins says -1: no estimate yet

    queued, running = pipe.in_flight
    assert running.status is Status.RUNNING and running.provider_status == "building"
    assert running.number == 57 and running.finished_at is None  # duration is 0 while building
    assert running.author == "Ada Lovelace" and running.estimated_seconds == pytest.approx(421.337)
    assert queued.status is Status.QUEUED and queued.provider_status == "queued, blocked"
    assert queued.stage == "Build #57 is already in progress (ETA: 3 min 2 sec)"
    assert queued.number == 58 and queued.id == "queue-4711"
    assert queued.created_at == at(11, 55)

    assert result.summary == "1 job, 1 running, 1 queued"
    assert len(job_requests(fake)) == 1  # one request per job per poll
    # ... plus at most three test reports, newest finished first (none here: Jenkins' 404).
    assert report_paths(fake) == [f"/job/monolith/{n}/testReport/api/json" for n in (56, 55, 54)]
    assert result.test_runs == ()


async def test_one_request_per_job_with_tree_auth_and_paths(
    fake: FakeJenkins, http: HttpClient
) -> None:
    for path in (
        "/job/monolith/api/json",
        "/job/team/job/payments/job/api/api/json",
        "/job/shop/job/feature%252Fx/api/json",
    ):
        fake.route(path, load())
    source = make(http, jobs=["monolith", "team/payments/api", "shop/feature%2Fx"], builds=7)
    result = await source.poll()

    raw = [r.url.raw_path.split(b"?")[0].decode() for r in job_requests(fake)]
    assert raw == [
        "/job/monolith/api/json",
        "/job/team/job/payments/job/api/api/json",
        "/job/shop/job/feature%252Fx/api/json",
    ]
    request = fake.requests[0]
    assert request.url.params["tree"] == tree_for(7)
    assert request.url.params["tree"].endswith("]{0,7}")
    for needed in ("estimatedDuration", "culprits[fullName]", "changeSets[", "changeSet[", "why"):
        assert needed in request.url.params["tree"]
    expected = base64.b64encode(f"radiator:{TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert [p.name for p in result.pipelines] == ["monolith", "team/payments/api", "shop/feature/x"]
    assert result.summary == "3 jobs, 3 running, 3 queued"


async def test_jobs_under_a_path_prefix(fake: FakeJenkins, http: HttpClient) -> None:
    fake.route("/jenkins/job/a/job/b/api/json", load())
    result = await make(http, url="https://ci.acme.example/jenkins", jobs=["a/b"]).poll()
    assert [r.url.raw_path.split(b"?")[0] for r in job_requests(fake)] == [
        b"/jenkins/job/a/job/b/api/json"
    ]
    assert report_paths(fake)[0] == "/jenkins/job/a/job/b/56/testReport/api/json"
    assert result.pipelines[0].key == "a/b"


async def test_the_key_is_the_job_path_that_display_names_are_keyed_by(
    fake: FakeJenkins, http: HttpClient
) -> None:
    # Display names are applied by the engine, keyed by this key (see test_engine).
    (pipe,) = (await make(http).poll()).pipelines
    assert pipe.key == "monolith"


# --- status vocabulary ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "building", "status", "word"),
    [
        ("SUCCESS", False, Status.PASSED, "SUCCESS"),
        ("UNSTABLE", False, Status.FAILED, "UNSTABLE"),
        ("FAILURE", False, Status.FAILED, "FAILURE"),
        ("ABORTED", False, Status.CANCELED, "ABORTED"),
        ("NOT_BUILT", False, Status.UNKNOWN, "NOT_BUILT"),
        ("CYCLE_DETECTED", False, Status.UNKNOWN, "CYCLE_DETECTED"),
        ("success", False, Status.PASSED, "success"),
        (None, True, Status.RUNNING, "building"),
        (None, False, Status.RUNNING, "building"),
        ("UNSTABLE", True, Status.RUNNING, "building, UNSTABLE so far"),
        ("FAILURE", None, Status.FAILED, "FAILURE"),
    ],
)
async def test_every_result(
    fake: FakeJenkins,
    http: HttpClient,
    result: str | None,
    building: bool | None,
    status: Status,
    word: str,
) -> None:
    assert build_status(result, building) == (status, word)
    pipe = await only(fake, http, result=result, building=building)
    (build,) = pipe.recent or pipe.in_flight
    assert build.status is status and build.provider_status == word
    assert (build in pipe.in_flight) == status.in_flight


# --- odd payloads -----------------------------------------------------------------------------


async def test_freestyle_change_set_and_extra_fields(fake: FakeJenkins, http: HttpClient) -> None:
    build = a_build(
        _class="hudson.model.FreeStyleBuild",
        changeSet=load()["builds"][2]["changeSets"][0],
        builtOn="agent-7",
        artifacts=[{"fileName": "app.jar"}],
    )
    del build["changeSets"]
    fake.route(JOB_PATH, with_builds(build, _class="hudson.model.FreeStyleProject", color="yellow"))
    (pipe,) = (await make(http).poll()).pipelines
    assert pipe.recent[0].author == "Farid Haddad" and pipe.recent[0].commit == "a" * 40


async def test_nulls_missing_fields_and_garbage(fake: FakeJenkins, http: HttpClient) -> None:
    fake.route(
        JOB_PATH,
        {
            "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
            "builds": [
                None,
                {"number": 9, "result": "FAILURE", "building": False},
                {
                    "number": "8",
                    "result": "SUCCESS",
                    "timestamp": "garbage",
                    "duration": None,
                    "estimatedDuration": None,
                    "culprits": None,
                    "changeSets": [None, {"items": None}, {"items": [{"author": None}]}],
                    "actions": [None, {}, {"causes": None}, {"lastBuiltRevision": None}],
                    "url": "javascript:alert(1)",
                },
                {"result": "FAILURE"},  # no number: cannot be told apart, left out
                {"number": 8, "result": "FAILURE"},  # a duplicate number counts once
            ],
        },
    )
    (pipe,) = (await make(http).poll()).pipelines
    assert [b.number for b in pipe.recent] == [9, 8]
    nine, eight = pipe.recent
    assert nine.status is Status.FAILED and nine.started_at is None and nine.author is None
    assert eight.status is Status.PASSED and eight.started_at is None and eight.url is None
    assert pipe.in_flight == () and pipe.branch is None
    assert pipe.url == "https://jenkins.acme.example/job/monolith"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        (1795690800000, at(11, 0)),  # epoch milliseconds, as documented
        (1795690800, at(11, 0)),  # seconds, from a proxy or plugin that rewrote it
        (1795690800000.0, at(11, 0)),
        (0, None),
        (-1, None),
        (10**20, None),
        (None, None),
    ],
)
def test_epoch_milliseconds_and_seconds(stamp: float | None, expected: datetime | None) -> None:
    assert from_epoch(stamp) == expected


async def test_rebuild_chains_and_replays(fake: FakeJenkins, http: HttpClient) -> None:
    def cause(text: str) -> list[dict[str, Any]]:
        return [{"causes": [{"shortDescription": text}]}]

    fake.route(
        JOB_PATH,
        with_builds(
            a_build(number=13, result="SUCCESS", changeSets=[], actions=cause("Replayed #12")),
            a_build(
                number=12, result="FAILURE", changeSets=[], actions=cause("Rebuilds build #11")
            ),
            a_build(number=11, result="FAILURE"),
            a_build(number=5, result="SUCCESS", changeSets=[], actions=cause("Rebuilt #2")),
        ),
    )
    (pipe,) = (await make(http).poll()).pipelines
    assert [(b.number, b.attempt) for b in pipe.recent] == [(13, 3), (12, 2), (11, 1), (5, 2)]
    assert pipe.recent[0].message == "Parallelise integration tests"  # inherited down the chain


async def test_multibranch_branch_name(fake: FakeJenkins, http: HttpClient) -> None:
    build = a_build()
    build["actions"] = [
        {"lastBuiltRevision": {"SHA1": "a" * 40, "branch": [{"name": "feature/x"}]}}
    ]
    fake.route("/job/shop/job/feature%252Fx/api/json", with_builds(build))
    (pipe,) = (await make(http, jobs=["shop/feature%2Fx"]).poll()).pipelines
    assert pipe.key == "shop/feature%2Fx" and pipe.name == "shop/feature/x"
    assert pipe.branch == "feature/x" and pipe.recent[0].branch == "feature/x"


# --- errors, in words -------------------------------------------------------------------------


def messages_are_clean(exc: SourceError) -> None:
    assert TOKEN not in str(exc)
    assert "\n" not in str(exc)


async def test_job_not_found_names_the_job(http: HttpClient) -> None:
    with pytest.raises(NotFound) as caught:
        await make(http, jobs=["monolith", "team/gone"]).poll()
    assert "job team/gone not found on Jenkins at jenkins.acme.example" in str(caught.value)
    assert "/job/team/job/gone/api/json" in str(caught.value)
    messages_are_clean(caught.value)


async def test_a_folder_is_not_a_job(fake: FakeJenkins, http: HttpClient) -> None:
    fake.route(
        "/job/shop/api/json",
        {
            "_class": "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
            "jobs": [{"name": "main"}, {"name": "feature%2Fx"}],
        },
    )
    with pytest.raises(NotFound) as caught:
        await make(http, jobs=["shop"]).poll()
    assert "shop on Jenkins at jenkins.acme.example is a folder or multibranch project" in str(
        caught.value
    )
    assert "shop/main" in str(caught.value)


@pytest.mark.parametrize(
    ("token", "username", "words"),
    [
        (
            TOKEN,
            "radiator",
            "refused user radiator with the API token from $JENKINS_TOKEN (HTTP 401)",
        ),
        (None, None, "asked for a login (HTTP 401): set username and token_env"),
    ],
)
async def test_401(
    fake: FakeJenkins, http: HttpClient, token: str | None, username: str | None, words: str
) -> None:
    fake.routes[JOB_PATH] = lambda r: html(
        401, "<html><body>Invalid password/token for user: radiator</body></html>"
    )
    with pytest.raises(AuthFailed) as caught:
        await make(http, token=token, username=username).poll()
    assert words in str(caught.value)
    messages_are_clean(caught.value)


async def test_403_html_page_is_access_denied_not_rate_limit(
    fake: FakeJenkins, http: HttpClient
) -> None:
    fake.routes[JOB_PATH] = lambda r: html(
        403,
        "<html><head><meta http-equiv='refresh' content='1;url=/login?from=%2Fjob%2Fmonolith'/>"
        "</head><body>Authentication required</body></html>",
        **{"x-you-are-authenticated-as": "anonymous"},
    )
    with pytest.raises(AuthFailed) as caught:
        await make(http, token=None, username=None).poll()
    assert "denied anonymous access to job monolith (HTTP 403)" in str(caught.value)
    with pytest.raises(AuthFailed) as caught:
        await make(http).poll()
    assert "denied user radiator access to job monolith (HTTP 403)" in str(caught.value)
    messages_are_clean(caught.value)


async def test_proxy_rate_limit_is_rate_limited(
    fake: FakeJenkins, http: HttpClient, clock: FakeClock
) -> None:
    fake.routes[JOB_PATH] = lambda r: httpx.Response(
        429, content=b"Too Many Requests", headers={"retry-after": "120"}
    )
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    assert caught.value.retry_at == clock.now() + timedelta(seconds=120)


async def test_redirect_to_the_login_page(fake: FakeJenkins, http: HttpClient) -> None:
    fake.routes[JOB_PATH] = lambda r: httpx.Response(
        302, headers={"location": "https://jenkins.acme.example/login?from=%2Fjob%2Fmonolith"}
    )
    fake.routes["/login"] = lambda r: html(200, LOGIN_PAGE)
    with pytest.raises(AuthFailed) as caught:
        await make(http, token=None, username=None).poll()
    assert "answered job monolith with its login page" in str(caught.value)
    messages_are_clean(caught.value)


async def test_other_html_and_broken_json_are_bad_payloads(
    fake: FakeJenkins, http: HttpClient
) -> None:
    fake.routes[JOB_PATH] = lambda r: html(200, "<!doctype html><h1>Welcome to nginx!</h1>")
    with pytest.raises(BadPayload) as caught:
        await make(http).poll()
    assert "HTML page where JSON was expected" in str(caught.value)
    assert "is url the Jenkins root?" in str(caught.value)

    fake.routes[JOB_PATH] = lambda r: httpx.Response(200, content=b'{"builds": [{"number": 5')
    with pytest.raises(BadPayload, match="invalid JSON"):
        await make(http).poll()

    fake.route(JOB_PATH, {"builds": "not a list"})
    with pytest.raises(BadPayload, match="builds"):
        await make(http).poll()


async def test_token_without_username_says_so_before_asking(
    fake: FakeJenkins, http: HttpClient
) -> None:
    with pytest.raises(AuthFailed, match="no username: set username"):
        await make(http, username=None).poll()
    assert fake.requests == []


async def test_unreachable(clock: FakeClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(refuse)), clock=clock)
    try:
        with pytest.raises(Unreachable, match="connection refused"):
            await make(client).poll()
    finally:
        await client.aclose()


# --- test reports -------------------------------------------------------------------------------


def jcase(cls: str | None, name: str, status: str, duration: Any = 0.25) -> dict[str, Any]:
    """A ``CaseResult`` as ``tree=suites[name,cases[...]]`` returns it (with its ``_class``)."""
    return {
        "_class": "hudson.tasks.junit.CaseResult",
        "className": cls,
        "duration": duration,
        "name": name,
        "status": status,
    }


def jreport(*suites: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "_class": "hudson.tasks.junit.TestResult",
        "suites": [
            {"_class": "hudson.tasks.junit.SuiteResult", "name": name, "cases": cases}
            for name, cases in suites
        ],
    }


LOGIN = "com.acme.auth.LoginTest"
TOOLCHAIN = "com.acme.build.ToolchainTest"


def suite_of(redirect: str, java11: str) -> dict[str, Any]:
    return jreport(
        (
            LOGIN,
            [
                jcase(LOGIN, "testRedirect", redirect, 1.5),
                jcase(LOGIN, "testLogout", "PASSED", 0.2),
                jcase(LOGIN, "testSso", "SKIPPED", 0.0),
            ],
        ),
        (TOOLCHAIN, [jcase(TOOLCHAIN, "compilesWithJava11", java11, 3.0)]),
    )


def statuses(results: tuple[TestResult, ...]) -> dict[str, list[TestStatus]]:
    out: dict[str, list[TestStatus]] = {}
    for r in sorted(results, key=lambda r: r.attempt):
        out.setdefault(f"{r.classname}.{r.name}", []).append(r.status)
    return out


def report_routes(fake: FakeJenkins) -> None:
    fake.route("/job/monolith/56/testReport/api/json", suite_of("FIXED", "PASSED"))
    fake.route("/job/monolith/55/testReport/api/json", suite_of("REGRESSION", "PASSED"))
    fake.route("/job/monolith/54/testReport/api/json", suite_of("PASSED", "FAILED"))


async def test_test_reports_of_finished_builds(fake: FakeJenkins, http: HttpClient) -> None:
    report_routes(fake)
    result = await make(http).poll()
    (pipe,) = result.pipelines
    reports = [r for r in fake.requests if b"/testReport/" in r.url.raw_path]
    assert [r.url.params["tree"] for r in reports] == [REPORT_TREE] * 3
    assert REPORT_TREE == "suites[name,cases[className,name,status,duration]]"
    expected = base64.b64encode(f"radiator:{TOKEN}".encode()).decode()
    assert all(r.headers["authorization"] == f"Basic {expected}" for r in reports)

    rebuild, unstable, failure = result.test_runs
    builds = {b.id: b for b in pipe.recent}
    for run in result.test_runs:
        build = builds[run.build_id]
        assert (run.source, run.pipeline) == ("ci", "monolith")
        assert (run.attempt, run.commit, run.finished_at) == (
            build.attempt,
            build.commit,
            build.finished_at,
        )
    assert (rebuild.build_id, rebuild.attempt) == ("56", 2)
    assert (unstable.build_id, unstable.attempt) == ("55", 1)
    assert rebuild.commit == unstable.commit == "a" * 40
    # FIXED is a pass and REGRESSION a failure: Jenkins' words for "changed since last build".
    assert statuses(rebuild.results)[f"{LOGIN}.testRedirect"] == [TestStatus.PASSED]
    assert statuses(unstable.results) == {
        f"{LOGIN}.testRedirect": [TestStatus.FAILED],
        f"{LOGIN}.testLogout": [TestStatus.PASSED],
        f"{LOGIN}.testSso": [TestStatus.SKIPPED],
        f"{TOOLCHAIN}.compilesWithJava11": [TestStatus.PASSED],
    }
    assert failure.build_id == "54"
    assert statuses(failure.results)[f"{TOOLCHAIN}.compilesWithJava11"] == [TestStatus.FAILED]
    durations = {r.name: r.duration for r in unstable.results}
    assert durations["testRedirect"] == 1.5  # seconds, not the build's milliseconds

    # Recorded as the engine does: the rebuild of the same commit makes testRedirect a flake;
    # compilesWithJava11 failed on another commit and never passed on its own: not flaky.
    history = History.memory()
    try:
        for run in result.test_runs:
            history.record_tests(
                "ci",
                run.pipeline,
                run.build_id,
                run.commit,
                run.results,
                build_attempt=run.attempt,
                at=run.finished_at,
            )
        flaky = history.flaky_tests(window_days=100_000)
        assert [(f.classname, f.name, f.times_flaked) for f in flaky] == [
            (LOGIN, "testRedirect", 1)
        ]
    finally:
        history.close()


async def test_each_build_once_at_most_three_per_poll(fake: FakeJenkins, http: HttpClient) -> None:
    report_routes(fake)
    source = make(http)
    polls = []
    for _ in range(3):
        before = len(report_paths(fake))
        await source.poll()
        polls.append([p.split("/")[3] for p in report_paths(fake)[before:]])
    # Newest finished first; NOT_BUILT (#52) never ran: never asked. A 404 is remembered too.
    assert polls == [["56", "55", "54"], ["53", "51"], []]
    assert source.report_requests == 0


@pytest.mark.parametrize(
    ("answer", "retried"),
    [
        (lambda r: html(503, "<html><body>Service Unavailable</body></html>"), True),
        (lambda r: html(200, LOGIN_PAGE), False),
        (lambda r: html(403, "<html><body>Access Denied</body></html>"), False),
        (lambda r: httpx.Response(200, content=b'{"suites": [{"cases": [{"na'), False),
        (lambda r: jenkins_json({"suites": "many"}), False),
    ],
    ids=["503", "login-page", "403", "truncated", "bad-shape"],
)
async def test_a_failing_report_never_fails_the_poll(
    fake: FakeJenkins,
    http: HttpClient,
    answer: Callable[[httpx.Request], httpx.Response],
    retried: bool,
) -> None:
    report_routes(fake)
    fake.routes["/job/monolith/56/testReport/api/json"] = answer
    source = make(http)
    result = await source.poll()
    assert [r.build_id for r in result.test_runs] == ["55", "54"]
    assert len(result.pipelines[0].recent) == 6
    for _ in range(MAX_REPORT_TRIES + 1):
        await source.poll()
    tries = report_paths(fake).count("/job/monolith/56/testReport/api/json")
    assert tries == (MAX_REPORT_TRIES if retried else 1)


async def test_a_report_too_large_is_left_out(fake: FakeJenkins, clock: FakeClock) -> None:
    report_routes(fake)
    big = [jcase("com.acme.Big", f"test{i}", "PASSED") for i in range(500)]
    fake.route("/job/monolith/56/testReport/api/json", jreport(("com.acme.Big", big)))
    client = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock, max_body=20_000
    )
    try:
        result = await make(client).poll()
    finally:
        await client.aclose()
    assert [r.build_id for r in result.test_runs] == ["55", "54"]


async def test_odd_report_shapes(fake: FakeJenkins, http: HttpClient) -> None:
    fake.route(
        "/job/monolith/56/testReport/api/json",
        {
            "_class": "hudson.tasks.junit.TestResult",
            "failCount": 1,
            "suites": [
                None,
                {"name": "empty"},
                {"name": "null cases", "cases": None},
                {
                    "name": "com.acme.Odd",
                    "cases": [
                        None,
                        jcase(
                            "com.acme.Odd", "t\x1b]8;;http://e\x07link [b]x[/b]", "passed", "0.5"
                        ),
                        jcase(None, "noClass", "REGRESSION", None),
                        jcase("com.acme.Odd", "quarantined", "QUARANTINED", 1.0),
                        jcase("com.acme.Odd", "", "FAILED", 1.0),
                        {"className": "com.acme.Odd", "status": "FAILED"},
                        jcase("com.acme.Odd", "nan", "FAILED", "NaN"),
                        jcase("com.acme.Odd", "negative", "FIXED", -3),
                    ],
                },
            ],
        },
    )
    fake.route("/job/monolith/55/testReport/api/json", {"_class": "hudson.tasks.junit.TestResult"})
    fake.route("/job/monolith/54/testReport/api/json", {"suites": None, "empty": True})
    result = await make(http).poll()
    (run,) = result.test_runs
    assert {(r.classname, r.name): (r.status, r.duration) for r in run.results} == {
        ("com.acme.Odd", "tlink [b]x[/b]"): (TestStatus.PASSED, 0.5),
        ("com.acme.Odd", "noClass"): (TestStatus.FAILED, None),  # the suite's name stands in
        ("com.acme.Odd", "nan"): (TestStatus.FAILED, None),
        ("com.acme.Odd", "negative"): (TestStatus.PASSED, None),
    }


async def test_a_rerun_inside_one_build(fake: FakeJenkins, http: HttpClient) -> None:
    fake.route(
        "/job/monolith/56/testReport/api/json",
        jreport(
            (
                LOGIN,
                [
                    jcase(LOGIN, "testRedirect", "FAILED", 1.0),
                    jcase(LOGIN, "testRedirect", "PASSED", 0.5),
                ],
            ),
            ("linux", [jcase(TOOLCHAIN, "compilesWithJava11", "PASSED")]),
            ("windows", [jcase(TOOLCHAIN, "compilesWithJava11", "FAILED")]),
        ),
    )
    (run,) = (await make(http).poll()).test_runs
    assert statuses(run.results) == {
        f"{LOGIN}.testRedirect": [TestStatus.FAILED, TestStatus.PASSED],
        f"{TOOLCHAIN}.compilesWithJava11": [TestStatus.FAILED],  # two platforms, not a rerun
    }


async def test_report_memory_is_bounded_by_the_builds_shown(
    fake: FakeJenkins, http: HttpClient
) -> None:
    source = make(http)
    await source.poll()
    assert {n for _, n in source._reports.done} == {56, 55, 54}
    fake.route(JOB_PATH, with_builds(a_build(number=60, result="SUCCESS")))
    await source.poll()
    assert source._reports.done == {("monolith", 60)}
