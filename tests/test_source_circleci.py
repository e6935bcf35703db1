"""The CircleCI source against a fake CircleCI speaking the documented API v2 shapes.

Pipelines, workflows and jobs below have the fields api-facts §5 names plus the extras real answers
carry; tests bend them into re-runs, held and failing workflows, errored pipelines, short pages and
the odd answers real servers send.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited, ServerError
from buildradiator.model import Status
from buildradiator.sources.circleci.config import CircleCISource
from buildradiator.sources.circleci.source import MAX_WORKFLOW_LOOKUPS, REFRESH_NEWEST, CircleCI
from buildradiator.sources.http import HttpClient

TOKEN = "CCIPAT_s3cr3tT0kenValue_0123456789"
SLUG = "gh/acme/api"
LIST = f"/api/v2/project/{SLUG}/pipeline"


def pipeline(number: int, **fields: Any) -> dict[str, Any]:
    body = {
        "id": f"pipe-{number}",
        "errors": [],
        "project_slug": SLUG,
        "updated_at": "2026-11-26T11:00:01.000Z",
        "number": number,
        "trigger_parameters": {"circleci": {"event_type": "push"}},
        "state": "created",
        "created_at": "2026-11-26T11:00:00.000Z",
        "trigger": {
            "type": "webhook",
            "received_at": "2026-11-26T11:00:00.000Z",
            "actor": {"login": "farid", "avatar_url": None},
        },
        "vcs": {
            "provider_name": "GitHub",
            "origin_repository_url": "https://github.com/acme/api",
            "target_repository_url": "https://github.com/acme/api",
            "revision": f"{number:x}".ljust(40, "b"),
            "branch": "main",
            "tag": None,
            "commit": {"subject": "Upgrade Kotlin to 2.1", "body": "Long body"},
        },
    }
    body.update(fields)
    return body


def workflow(wid: str, name: str, status: str, number: int, **fields: Any) -> dict[str, Any]:
    body = {
        "pipeline_id": f"pipe-{number}",
        "canceled_by": None,
        "id": wid,
        "name": name,
        "project_slug": SLUG,
        "errored_by": None,
        "tag": None,
        "status": status,
        "started_by": "5034460f-c7c4-4c43-9457-de07e2029e7b",
        "pipeline_number": number,
        "created_at": "2026-11-26T03:00:05.1234567-08:00",
        "stopped_at": None
        if status in ("running", "failing", "on_hold")
        else "2026-11-26T11:04:05Z",
    }
    body.update(fields)
    return body


def job(name: str, status: str, **fields: Any) -> dict[str, Any]:
    body = {
        "dependencies": [],
        "job_number": 1234,
        "id": f"job-{name}",
        "started_at": "2026-11-26T11:00:10Z",
        "name": name,
        "project_slug": SLUG,
        "status": status,
        "type": "build",
        "stopped_at": None,
    }
    body.update(fields)
    return body


def page(items: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    return {"items": items, "next_page_token": token}


class FakeCircle:
    def __init__(self) -> None:
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def route(self, path: str, payload: Any, status: int = 200, **headers: str) -> None:
        self.routes[path] = lambda request: cc_json(payload, status, **headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        return handler(request) if handler else cc_json({"message": "Not found."}, 404)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def cc_json(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(payload).encode(),
        headers={"content-type": "application/json;charset=utf-8", **headers},
    )


@pytest.fixture
def fake() -> FakeCircle:
    fake = FakeCircle()
    fake.route(LIST, page([pipeline(12), pipeline(11), pipeline(10)]))
    # 12: build-test failing (a job failed, another still runs); deploy waits for approval.
    fake.route(
        "/api/v2/pipeline/pipe-12/workflow",
        page(
            [
                workflow("wf-12a", "build-test", "failing", 12),
                workflow("wf-12b", "deploy", "on_hold", 12),
            ]
        ),
    )
    fake.route(
        "/api/v2/workflow/wf-12a/job",
        page([job("build", "success"), job("unit", "failed"), job("integration", "running")]),
    )
    fake.route(
        "/api/v2/workflow/wf-12b/job",
        page([job("build", "success"), job("hold", "on_hold", type="approval")]),
    )
    # 11: build-test failed, then was re-run (a new workflow, same name) and passed.
    fake.route(
        "/api/v2/pipeline/pipe-11/workflow",
        page(
            [
                workflow("wf-11b", "build-test", "success", 11, created_at="2026-11-26T11:20:00Z"),
                workflow("wf-11a", "build-test", "failed", 11),
                workflow("wf-11c", "deploy", "not_run", 11),
            ]
        ),
    )
    fake.route(
        "/api/v2/pipeline/pipe-10/workflow",
        page(
            [
                workflow("wf-10a", "build-test", "failed", 10),
                workflow("wf-10b", "deploy", "success", 10),
            ]
        ),
    )
    return fake


@pytest.fixture
async def http(fake: FakeCircle, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    yield client
    await client.aclose()


def make(http: HttpClient, *, token: str | None = TOKEN, **fields: Any) -> CircleCI:
    # The pipeline tests here leave the flaky-tests insight out (its tests turn it on).
    config: dict[str, Any] = {
        "type": "circleci",
        "name": "cc",
        "projects": [SLUG],
        "flaky_tests": False,
        **fields,
    }
    if token is not None:
        config.setdefault("token_env", "CIRCLE_TOKEN")
        config["token"] = SecretStr(token)
    return CircleCI(CircleCISource.model_validate(config), http)


def rows(result: Any) -> dict[str, Any]:
    return {p.key: p for p in result.pipelines}


# --- the realistic payload --------------------------------------------------------------------


async def test_one_row_per_workflow_with_reruns_holds_and_failing(
    fake: FakeCircle, http: HttpClient
) -> None:
    source = make(http)
    result = await source.poll()
    by_key = rows(result)
    assert list(by_key) == ["gh/acme/api:build-test", "gh/acme/api:deploy"]
    build_test, deploy = by_key.values()
    assert build_test.name == "acme/api · build-test"
    assert build_test.url == "https://app.circleci.com/pipelines/gh/acme/api?branch=main"

    (failing,) = build_test.in_flight
    assert failing.status is Status.RUNNING
    assert failing.provider_status == "failing: unit"
    assert failing.stage == "integration"

    rerun, red = build_test.recent
    assert (rerun.id, rerun.number, rerun.attempt) == ("wf-11b", 11, 2)
    assert rerun.status is Status.PASSED  # green only after a re-run
    assert rerun.author == "farid"
    assert rerun.commit == f"{11:x}".ljust(40, "b")
    assert rerun.message == "Upgrade Kotlin to 2.1"
    assert rerun.url == "https://app.circleci.com/pipelines/gh/acme/api/11/workflows/wf-11b"
    # The re-run's own start: the duration is the last attempt's.
    assert rerun.started_at == datetime(2026, 11, 26, 11, 20, tzinfo=UTC)
    assert rerun.created_at == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert red.status is Status.FAILED and red.attempt == 1
    # -08:00 offset and seven fraction digits.
    assert red.started_at == datetime(2026, 11, 26, 11, 0, 5, 123456, tzinfo=UTC)
    assert red.finished_at == datetime(2026, 11, 26, 11, 4, 5, tzinfo=UTC)

    (held,) = deploy.in_flight
    assert held.status is Status.QUEUED
    assert held.provider_status == "on hold (approval)"
    assert held.stage == "hold (approval)"
    # not_run on pipeline 11 says nothing; 10's deploy passed.
    assert [b.id for b in deploy.recent] == ["wf-10b"]

    assert result.summary == "1 project, 2 workflows, 2 in flight, 6 requests"


async def test_requests_carry_the_token_and_branch(fake: FakeCircle, http: HttpClient) -> None:
    await make(http, branch="release/2.x").poll()
    first = fake.requests[0]
    assert first.url.host == "circleci.com"
    assert first.url.path == LIST and dict(first.url.params) == {"branch": "release/2.x"}
    assert all(r.headers["circle-token"] == TOKEN for r in fake.requests)
    await make(http, token=None).poll()
    assert "circle-token" not in fake.requests[-1].headers


async def test_an_earlier_attempt_stays_while_a_rerun_runs(
    fake: FakeCircle, http: HttpClient
) -> None:
    fake.route(LIST, page([pipeline(11)]))
    fake.route(
        "/api/v2/pipeline/pipe-11/workflow",
        page(
            [
                workflow("wf-11b", "build-test", "running", 11, created_at="2026-11-26T11:20:00Z"),
                workflow("wf-11a", "build-test", "failed", 11),
            ]
        ),
    )
    (row,) = (await make(http).poll()).pipelines
    assert [b.id for b in row.in_flight] == ["wf-11b"]
    assert row.in_flight[0].attempt == 2
    # Main stays red until the re-run has passed.
    assert [b.id for b in row.recent] == ["wf-11a"] and row.status is Status.FAILED


@pytest.mark.parametrize(
    ("status", "stopped", "expected", "word"),
    [
        ("success", True, Status.PASSED, "success"),
        ("failed", True, Status.FAILED, "failed"),
        ("error", True, Status.FAILED, "error"),
        ("unauthorized", True, Status.FAILED, "unauthorized"),
        ("canceled", True, Status.CANCELED, "canceled"),
        ("running", False, Status.RUNNING, "running"),
        ("failing", False, Status.RUNNING, "failing"),
        ("on_hold", False, Status.QUEUED, "on hold (approval)"),
        ("brand_new", True, Status.UNKNOWN, "brand_new"),
        ("brand_new", False, Status.QUEUED, "brand_new"),
    ],
)
async def test_every_workflow_status(
    fake: FakeCircle, http: HttpClient, status: str, stopped: bool, expected: Status, word: str
) -> None:
    fake.route(LIST, page([pipeline(5)]))
    stop = "2026-11-26T11:04:05Z" if stopped else None
    fake.route(
        "/api/v2/pipeline/pipe-5/workflow", page([workflow("w", "ci", status, 5, stopped_at=stop)])
    )
    fake.route("/api/v2/workflow/w/job", page([]))
    (row,) = (await make(http).poll()).pipelines
    (build,) = row.in_flight or row.recent
    assert build.status is expected
    assert build.provider_status == word
    assert (build.finished_at is None) is expected.in_flight


async def test_not_run_is_left_out(fake: FakeCircle, http: HttpClient) -> None:
    fake.route(LIST, page([pipeline(5)]))
    fake.route("/api/v2/pipeline/pipe-5/workflow", page([workflow("w", "ci", "not_run", 5)]))
    result = await make(http).poll()
    assert result.pipelines == ()
    assert result.summary.endswith("; no pipelines on main in gh/acme/api")


async def test_errored_pipeline_is_red_in_every_row(fake: FakeCircle, http: HttpClient) -> None:
    broken = pipeline(
        13,
        state="errored",
        errors=[{"type": "config", "message": "Config does not conform to schema"}],
        updated_at="2026-11-26T12:00:00Z",
    )
    fake.route(LIST, page([broken, pipeline(10)]))
    fake.route("/api/v2/pipeline/pipe-13/workflow", page([]))
    by_key = rows(await make(http).poll())
    for row in by_key.values():
        assert row.recent[0].id == "pipe-13"
        assert row.recent[0].status is Status.FAILED
        assert row.recent[0].provider_status == "errored: Config does not conform to schema"
        assert row.recent[0].author == "farid"
    # Only errored pipelines: one row for the project.
    fake.route(LIST, page([broken]))
    (row,) = (await make(http).poll()).pipelines
    assert row.key == "gh/acme/api:" and row.name == "acme/api"


# --- requests per poll ------------------------------------------------------------------------


async def test_finished_pipelines_are_remembered(fake: FakeCircle, http: HttpClient) -> None:
    many = [pipeline(n) for n in range(30, 10, -1)]
    fake.route(LIST, page(many))
    for n in range(30, 10, -1):
        fake.route(
            f"/api/v2/pipeline/pipe-{n}/workflow", page([workflow(f"w{n}", "ci", "success", n)])
        )
    source = make(http)
    first = await source.poll()
    assert source.requests_last_poll == 1 + MAX_WORKFLOW_LOOKUPS
    assert len(first.pipelines[0].recent) == MAX_WORKFLOW_LOOKUPS  # the rest fill in later
    await source.poll()
    second = await source.poll()
    assert len(second.pipelines[0].recent) == 20
    # Warm: the list plus the newest pipelines, where a re-run would show up.
    assert source.requests_last_poll == 1 + REFRESH_NEWEST


async def test_short_pages_are_followed_and_may_end_early(
    fake: FakeCircle, http: HttpClient
) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("page-token")
        if token is None:
            return cc_json(page([pipeline(12)], "tok-2"))
        if token == "tok-2":
            return cc_json(page([pipeline(11)], "tok-3"))
        return cc_json(page([], "tok-4"))  # a token that leads nowhere

    fake.routes[LIST] = pages
    (row, _) = (await make(http).poll()).pipelines
    tokens = [r.url.params.get("page-token") for r in fake.requests if r.url.path == LIST]
    assert tokens == [None, "tok-2", "tok-3"]
    assert [b.number for b in row.in_flight + row.recent] == [12, 11]


async def test_a_failing_next_page_keeps_the_first(fake: FakeCircle, http: HttpClient) -> None:
    fake.routes[LIST] = lambda r: (
        httpx.Response(500, text="<html>oops</html>")
        if r.url.params.get("page-token")
        else cc_json(page([pipeline(10)], "tok-2"))
    )
    by_key = rows(await make(http).poll())
    assert by_key["gh/acme/api:build-test"].recent[0].id == "wf-10a"


# --- failures ---------------------------------------------------------------------------------


async def test_failing_workflows_request_fails_the_poll(fake: FakeCircle, http: HttpClient) -> None:
    # Without pipeline 12's workflows, 11's green would pass for the branch's state.
    fake.routes["/api/v2/pipeline/pipe-12/workflow"] = lambda r: httpx.Response(503, text="")
    with pytest.raises(ServerError):
        await make(http).poll()


async def test_failing_jobs_request_only_loses_the_stage(
    fake: FakeCircle, http: HttpClient
) -> None:
    fake.routes["/api/v2/workflow/wf-12a/job"] = lambda r: httpx.Response(
        200, content=b'{"items": ['
    )
    build_test = rows(await make(http).poll())["gh/acme/api:build-test"]
    (failing,) = build_test.in_flight
    assert failing.stage is None and failing.provider_status == "failing"


async def test_nulls_and_missing_fields(fake: FakeCircle, http: HttpClient) -> None:
    fake.route(LIST, page([{"id": "pipe-1", "trigger": None, "vcs": None, "number": None}]))
    fake.route(
        "/api/v2/pipeline/pipe-1/workflow",
        page(
            [{"id": "w1", "name": None, "status": "success", "created_at": 5, "stopped_at": None}]
        ),
    )
    (row,) = (await make(http).poll()).pipelines
    (build,) = row.recent
    assert (build.number, build.author, build.commit, build.message, build.url) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert build.status is Status.PASSED and build.started_at is None


async def test_untrusted_text_loses_escapes(fake: FakeCircle, http: HttpClient) -> None:
    evil = pipeline(10)
    evil["vcs"]["commit"]["subject"] = "\x1b[31mRed\x1b[0m [bold]x[/] \x1b]0;title\x07done"
    evil["trigger"]["actor"]["login"] = "mal\x1b[2Klory"
    fake.route(LIST, page([evil]))
    fake.route(
        "/api/v2/pipeline/pipe-10/workflow", page([workflow("w", "ci\x1b[5m", "failed", 10)])
    )
    (row,) = (await make(http).poll()).pipelines
    build = row.recent[0]
    assert build.message == "Red [bold]x[/] done"
    assert build.author == "mallory"
    assert row.name == "acme/api"
    assert "\x1b" not in row.key


async def test_server_install_links_to_its_own_ui(fake: FakeCircle, http: HttpClient) -> None:
    fake.routes = {k.replace("/api/v2", "/ci/api/v2"): v for k, v in fake.routes.items()}
    by_key = rows(await make(http, api_url="https://ci.corp.example/ci").poll())
    assert fake.requests[0].url.path == f"/ci{LIST}"
    row = by_key["gh/acme/api:build-test"]
    assert row.url == "https://ci.corp.example/ci/pipelines/gh/acme/api?branch=main"
    assert (
        row.recent[0].url == "https://ci.corp.example/ci/pipelines/gh/acme/api/11/workflows/wf-11b"
    )


# --- errors -----------------------------------------------------------------------------------


async def test_429_with_retry_after(fake: FakeCircle, http: HttpClient, clock: FakeClock) -> None:
    fake.route(LIST, {"message": "Rate limit exceeded"}, 429, **{"retry-after": "30"})
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    assert caught.value.retry_at == clock.now() + timedelta(seconds=30)
    assert TOKEN not in str(caught.value)


async def test_401_and_404_name_project_and_token(fake: FakeCircle, http: HttpClient) -> None:
    fake.route(LIST, {"message": "You must log in first."}, 401)
    with pytest.raises(AuthFailed, match=r"refused the token from \$CIRCLE_TOKEN") as caught:
        await make(http).poll()
    assert TOKEN not in str(caught.value)
    fake.route(LIST, {"message": "Project not found"}, 404)
    with pytest.raises(NotFound) as missing:
        await make(http).poll()
    assert str(missing.value) == (
        "project gh/acme/api not found on circleci.com (or the token cannot see it)"
    )


async def test_403_is_no_access_unless_rate_limited(fake: FakeCircle, http: HttpClient) -> None:
    fake.route(LIST, {"message": "Permission denied"}, 403)
    with pytest.raises(AuthFailed, match=r"project gh/acme/api \(HTTP 403\)"):
        await make(http).poll()
    fake.route(LIST, {"message": "Too many requests"}, 403, **{"retry-after": "5"})
    with pytest.raises(RateLimited):
        await make(http).poll()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!doctype html><html><body>Log in to CircleCI</body></html>", "HTML"),
        (b'{"items": [{"id": "p', "invalid JSON"),
        (b'{"items": "none"}', "items"),
        (b"[]", "top level"),
    ],
    ids=["html-login", "truncated", "items-string", "list"],
)
async def test_bad_payloads(fake: FakeCircle, http: HttpClient, body: bytes, words: str) -> None:
    fake.routes[LIST] = lambda r: httpx.Response(200, content=body)
    with pytest.raises(BadPayload) as caught:
        await make(http).poll()
    assert words in str(caught.value)
