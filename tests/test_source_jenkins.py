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
from buildradiator.config import JenkinsSource
from buildradiator.errors import (
    AuthFailed,
    BadPayload,
    NotFound,
    RateLimited,
    SourceError,
    Unreachable,
)
from buildradiator.http import HttpClient
from buildradiator.model import Pipeline, Status
from buildradiator.sources.jenkins import Jenkins, build_status, from_epoch_ms, tree_for

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
    assert len(fake.requests) == 1  # one request per job per poll


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

    raw = [r.url.raw_path.split(b"?")[0].decode() for r in fake.requests]
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
    assert [r.url.raw_path.split(b"?")[0] for r in fake.requests] == [
        b"/jenkins/job/a/job/b/api/json"
    ]
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
    assert from_epoch_ms(stamp) == expected


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
