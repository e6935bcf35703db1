"""The GitLab CI source against a fake GitLab speaking the documented REST v4 shapes.

The payload builders below return list entries, pipeline details and jobs with the fields
api-facts §2 names plus the extras real answers carry; tests bend them into the odd answers real
servers send (nulls, new statuses, HTML login pages, plain-text 429s, short pages).
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
from buildradiator.config import GitLabSource
from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited
from buildradiator.http import GITLAB_RATE, HttpClient
from buildradiator.model import Status
from buildradiator.sources.gitlab import MAX_BACKFILL, MAX_LOOKUPS, GitLabCI

TOKEN = "glpat-S3cr3tT0kenValue0123"
API = "https://gitlab.com/api/v4"
PROJECT = "acme/shop"
RAW = "/api/v4/projects/acme%2Fshop"
RATE = {"ratelimit-limit": "2000", "ratelimit-remaining": "1990", "ratelimit-reset": "1795705260"}


def item(pid: int, status: str, **fields: Any) -> dict[str, Any]:
    """A list entry: only the list's fields (api-facts), plus one the docs do not name."""
    entry = {
        "id": pid,
        "iid": pid - 1000,
        "project_id": 278964,
        "status": status,
        "source": "push",
        "ref": "main",
        "sha": f"{pid:x}".ljust(40, "a"),
        "name": None,
        "web_url": f"https://gitlab.com/acme/shop/-/pipelines/{pid}",
        "created_at": "2026-11-26T11:00:00.000Z",
        "updated_at": "2026-11-26T11:10:00.000Z",
        "is_fun": True,
    }
    entry.update(fields)
    return entry


def detail(pid: int, status: str, **fields: Any) -> dict[str, Any]:
    body = {
        **item(pid, status),
        "before_sha": "0" * 40,
        "tag": False,
        "yaml_errors": None,
        "user": {"id": 7, "username": "grace", "name": "Grace Kim", "state": "active"},
        "started_at": "2026-11-26T03:01:00.1234567-08:00",
        "finished_at": "2026-11-26T11:09:30.5+00:00",
        "committed_at": None,
        "duration": 510,
        "queued_duration": 3.2,
        "coverage": "87.5",
        "detailed_status": {"icon": "status_success", "text": "passed", "group": status},
    }
    body.update(fields)
    return body


def job(jid: int, name: str, stage: str, status: str, **fields: Any) -> dict[str, Any]:
    body = {
        "id": jid,
        "status": status,
        "stage": stage,
        "name": name,
        "ref": "main",
        "allow_failure": False,
        "created_at": "2026-11-26T11:00:01Z",
        "started_at": "2026-11-26T11:00:05Z",
        "finished_at": None,
        "failure_reason": "script_failure" if status == "failed" else None,
        "web_url": f"https://gitlab.com/acme/shop/-/jobs/{jid}",
        "commit": {
            "id": "f" * 40,
            "short_id": "ffffffff",
            "title": "Switch checkout to the new tax API",
            "message": "Switch checkout to the new tax API\n\nLong body.",
            "author_name": "Grace Kim",
            "author_email": "grace@acme.example",
        },
        "user": {"username": "grace"},
        "runner": None,
        "artifacts": [],
    }
    body.update(fields)
    return body


class FakeGitLab:
    """Routes by raw path (so URL-encoding is checked); unrouted paths are GitLab's 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def route(self, path: str, payload: Any, **headers: str) -> None:
        self.routes[path] = lambda request: gl_json(payload, **headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.raw_path.decode().split("?")[0])
        return handler(request) if handler else gl_json({"message": "404 Project Not Found"}, 404)

    def paths(self) -> list[str]:
        return [r.url.raw_path.decode().split("?")[0] for r in self.requests]


def gl_json(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(payload).encode(),
        headers={"content-type": "application/json", **RATE, **headers},
    )


def realistic(fake: FakeGitLab) -> None:
    fake.route(
        f"{RAW}/pipelines",
        [
            item(1006, "running", updated_at="2026-11-26T11:30:00Z"),
            item(1005, "success"),
            item(1004, "skipped"),
            item(1003, "failed"),
            item(1002, "canceled"),
        ],
        **{"x-page": "1", "x-next-page": "2", "x-per-page": "5"},
    )
    fake.route(f"{RAW}/pipelines/1006", detail(1006, "running", finished_at=None, duration=None))
    fake.route(
        f"{RAW}/pipelines/1006/jobs",
        [
            job(9, "deploy", "deploy", "created", started_at=None),
            job(8, "rspec 2/2", "test", "running"),
            job(7, "rspec 1/2", "test", "running"),
            job(6, "compile", "build", "success"),
        ],
    )
    fake.route(
        f"{RAW}/pipelines/1005",
        detail(1005, "success", detailed_status={"group": "success-with-warnings"}),
    )
    fake.route(
        f"{RAW}/pipelines/1005/jobs",
        [
            job(5, "rspec", "test", "success"),  # the retry: newer id, same name
            job(4, "lint", "test", "failed", allow_failure=True),
            job(3, "rspec", "test", "failed"),
            job(2, "compile", "build", "success"),
        ],
    )
    fake.route(f"{RAW}/pipelines/1003", detail(1003, "failed"))
    fake.route(f"{RAW}/pipelines/1003/jobs", [job(1, "rspec", "test", "failed")])


@pytest.fixture
def fake() -> FakeGitLab:
    fake = FakeGitLab()
    realistic(fake)
    return fake


@pytest.fixture
async def http(fake: FakeGitLab, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    yield client
    await client.aclose()


def make(http: HttpClient, *, token: str | None = TOKEN, **fields: Any) -> GitLabCI:
    config: dict[str, Any] = {"type": "gitlab", "name": "gl", "project": PROJECT, **fields}
    if token is not None:
        config.setdefault("token_env", "GITLAB_TOKEN")
        config["token"] = SecretStr(token)
    return GitLabCI(GitLabSource.model_validate(config), http)


# --- the realistic payload --------------------------------------------------------------------


async def test_realistic_pipelines(fake: FakeGitLab, http: HttpClient) -> None:
    source = make(http, per_page=5)
    result = await source.poll()
    (pipe,) = result.pipelines
    assert pipe.key == PROJECT and pipe.name == PROJECT and pipe.branch == "main"
    assert pipe.url == "https://gitlab.com/acme/shop/-/pipelines?ref=main"

    (running,) = pipe.in_flight
    assert running.status is Status.RUNNING and running.provider_status == "running"
    assert running.stage == "test › rspec 1/2 +1"
    assert running.finished_at is None
    assert running.author == "Grace Kim"

    # skipped says nothing about health and is left out; newest first.
    assert [b.id for b in pipe.recent] == ["1005", "1003", "1002"]
    passed, failed, canceled = pipe.recent
    assert passed.status is Status.PASSED
    assert passed.provider_status == "passed with allowed failures: lint"
    assert passed.attempt == 2  # rspec ran twice: green only after a retry
    assert passed.number == 5  # the iid
    assert passed.commit == f"{1005:x}".ljust(40, "a")
    assert passed.message == "Switch checkout to the new tax API"
    assert passed.url == "https://gitlab.com/acme/shop/-/pipelines/1005"
    # -08:00 offset and seven fraction digits; the detail's finish time wins over updated_at.
    assert passed.started_at == datetime(2026, 11, 26, 11, 1, 0, 123456, tzinfo=UTC)
    assert passed.finished_at == datetime(2026, 11, 26, 11, 9, 30, 500000, tzinfo=UTC)

    assert failed.status is Status.FAILED and failed.attempt == 1
    assert failed.author == "Grace Kim"  # the first red pipeline is looked up: who broke it
    # The canceled pipeline is neither last nor red: no lookup this poll, list data only.
    assert canceled.status is Status.CANCELED and canceled.author is None
    assert canceled.finished_at == datetime(2026, 11, 26, 11, 10, tzinfo=UTC)

    assert result.summary == "1 project, 1 in flight, 9 requests"
    assert source.requests_last_poll == 9


async def test_requests_encode_the_path_and_carry_the_token(
    fake: FakeGitLab, http: HttpClient
) -> None:
    await make(http, per_page=5).poll()
    first = fake.requests[0]
    assert first.url.raw_path.decode().startswith("/api/v4/projects/acme%2Fshop/pipelines?")
    assert dict(first.url.params) == {
        "ref": "main",
        "order_by": "id",
        "sort": "desc",
        "per_page": "5",
    }
    jobs = [r for r in fake.requests if r.url.path.endswith("/jobs")]
    assert jobs and all(dict(r.url.params)["include_retried"] == "true" for r in jobs)
    assert all(r.headers["private-token"] == TOKEN for r in fake.requests)
    assert all("authorization" not in r.headers for r in fake.requests)


async def test_finished_lookups_are_remembered(fake: FakeGitLab, http: HttpClient) -> None:
    fake.route(f"{RAW}/pipelines/1002", detail(1002, "canceled"))
    fake.route(f"{RAW}/pipelines/1002/jobs", [])
    source = make(http, per_page=5)
    await source.poll()
    before = len(fake.requests)
    second = await source.poll()
    again = fake.paths()[before:]
    # Only the list and the running pipeline's detail and jobs: the rest is remembered.
    assert again == [f"{RAW}/pipelines", f"{RAW}/pipelines/1006", f"{RAW}/pipelines/1006/jobs"]
    assert f"{RAW}/pipelines/1005" not in again and f"{RAW}/pipelines/1003" not in again
    assert second.pipelines[0].recent[0].attempt == 2
    assert second.pipelines[0].recent[2].author == "Grace Kim"  # backfilled on the first poll


async def test_lookups_are_capped_per_poll(fake: FakeGitLab, http: HttpClient) -> None:
    fake.route(f"{RAW}/pipelines", [item(2000 + i, "running") for i in range(30)])
    source = make(http, per_page=30)
    (pipe,) = (await source.poll()).pipelines
    assert len(pipe.in_flight) == 30
    lookups = sum(1 for p in fake.paths() if p.count("/") == 6 and "/pipelines/" in p)
    assert lookups == MAX_LOOKUPS
    assert source.requests_last_poll == 1 + 2 * MAX_LOOKUPS
    assert MAX_BACKFILL >= 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("success", Status.PASSED),
        ("failed", Status.FAILED),
        ("canceled", Status.CANCELED),
        ("created", Status.QUEUED),
        ("waiting_for_resource", Status.QUEUED),
        ("preparing", Status.QUEUED),
        ("pending", Status.QUEUED),
        ("scheduled", Status.QUEUED),
        ("manual", Status.QUEUED),
        ("running", Status.RUNNING),
        ("canceling", Status.RUNNING),
        ("waiting_for_callback", Status.RUNNING),
        ("warping", Status.QUEUED),
    ],
)
async def test_every_status(
    fake: FakeGitLab, http: HttpClient, status: str, expected: Status
) -> None:
    fake.route(f"{RAW}/pipelines", [item(3000, status)])
    fake.route(f"{RAW}/pipelines/3000", detail(3000, status, finished_at=None))
    fake.route(f"{RAW}/pipelines/3000/jobs", [job(1, "plan", "plan", "manual", started_at=None)])
    (pipe,) = (await make(http).poll()).pipelines
    (build,) = pipe.in_flight or pipe.recent
    assert build.status is expected
    assert build.provider_status == status
    if expected.in_flight:
        assert build.stage == "plan › plan (manual)"


async def test_unknown_status_of_a_finished_pipeline_is_unknown(
    fake: FakeGitLab, http: HttpClient
) -> None:
    fake.route(f"{RAW}/pipelines", [item(3000, "superseded")])
    fake.route(f"{RAW}/pipelines/3000", detail(3000, "superseded"))
    fake.route(f"{RAW}/pipelines/3000/jobs", [])
    (pipe,) = (await make(http).poll()).pipelines
    (build,) = pipe.recent
    assert build.status is Status.UNKNOWN and build.provider_status == "superseded"


async def test_success_with_warnings_without_jobs(fake: FakeGitLab, http: HttpClient) -> None:
    fake.route(f"{RAW}/pipelines", [item(1005, "success")])
    fake.routes[f"{RAW}/pipelines/1005/jobs"] = lambda r: httpx.Response(500, text="oops")
    (pipe,) = (await make(http).poll()).pipelines
    assert pipe.recent[0].provider_status == "passed with warnings"
    assert pipe.recent[0].author == "Grace Kim"  # the detail's user stands in


async def test_only_skipped_pipelines_is_a_quiet_project(
    fake: FakeGitLab, http: HttpClient
) -> None:
    fake.route(f"{RAW}/pipelines", [item(1, "skipped")])
    result = await make(http).poll()
    assert result.pipelines == ()
    assert result.summary.endswith("; no pipelines on main in acme/shop")


# --- odd answers ------------------------------------------------------------------------------


async def test_nulls_missing_fields_and_garbage_times(fake: FakeGitLab, http: HttpClient) -> None:
    fake.route(
        f"{RAW}/pipelines",
        [{"id": 77, "status": "failed"}, item(76, "success", created_at=12, updated_at="soon")],
    )
    fake.route(f"{RAW}/pipelines/77", {"id": 77, "user": None, "detailed_status": None})
    fake.route(f"{RAW}/pipelines/77/jobs", [{"id": None, "name": None, "commit": None}])
    (pipe,) = (await make(http).poll()).pipelines
    bare, garbage = pipe.recent
    assert (bare.id, bare.number, bare.status, bare.author, bare.url) == (
        "77",
        77,
        Status.FAILED,
        None,
        None,
    )
    # Unparseable times are None, not a failed poll (and 76 has no detail to fill them in).
    assert garbage.status is Status.PASSED
    assert (garbage.created_at, garbage.finished_at) == (None, None)


async def test_untrusted_text_loses_escapes(fake: FakeGitLab, http: HttpClient) -> None:
    fake.route(f"{RAW}/pipelines", [item(5, "failed", web_url="javascript:alert(1)")])
    fake.route(f"{RAW}/pipelines/5", detail(5, "failed"))
    evil = job(1, "x", "test", "failed")
    evil["commit"]["title"] = "\x1b[31mRed\x1b[0m [bold]markup[/] \x1b]8;;http://e\x07link"
    evil["commit"]["author_name"] = "Mal\x1b[2Klory"
    fake.route(f"{RAW}/pipelines/5/jobs", [evil])
    (pipe,) = (await make(http).poll()).pipelines
    build = pipe.recent[0]
    assert build.message == "Red [bold]markup[/] link"
    assert build.author == "Mallory"
    assert build.url is None


async def test_short_pages_are_followed_and_may_end_early(
    fake: FakeGitLab, http: HttpClient
) -> None:
    fake.route(f"{RAW}/pipelines", [item(10, "success")], **{"x-next-page": "2"})

    def page(request: httpx.Request) -> httpx.Response:
        number = request.url.params.get("page")
        if number == "2":
            return gl_json([item(9, "failed")], **{"x-next-page": "3"})
        return gl_json([])  # x-next-page promised a page 3 that is empty

    fake.routes[f"{RAW}/pipelines"] = lambda r: (
        page(r)
        if r.url.params.get("page")
        else gl_json([item(10, "success")], **{"x-next-page": "2"})
    )
    (pipe,) = (await make(http, per_page=5).poll()).pipelines
    assert [b.id for b in pipe.recent] == ["10", "9"]
    assert [
        r.url.params.get("page") for r in fake.requests if r.url.path.endswith("/pipelines")
    ] == [
        None,
        "2",
        "3",
    ]


async def test_a_failing_next_page_keeps_the_first(fake: FakeGitLab, http: HttpClient) -> None:
    fake.routes[f"{RAW}/pipelines"] = lambda r: (
        httpx.Response(502, text="<html>bad gateway</html>")
        if r.url.params.get("page")
        else gl_json([item(10, "success")], **{"x-next-page": "2"})
    )
    (pipe,) = (await make(http, per_page=5).poll()).pipelines
    assert [b.id for b in pipe.recent] == ["10"]


async def test_failing_lookups_keep_the_list_data(fake: FakeGitLab, http: HttpClient) -> None:
    fake.routes[f"{RAW}/pipelines/1006"] = lambda r: httpx.Response(502, text="<html></html>")
    fake.routes[f"{RAW}/pipelines/1006/jobs"] = lambda r: httpx.Response(200, content=b"[{")
    (pipe,) = (await make(http, per_page=5).poll()).pipelines
    (running,) = pipe.in_flight
    assert running.status is Status.RUNNING and running.stage is None


async def test_numeric_project_on_a_self_managed_server(fake: FakeGitLab, http: HttpClient) -> None:
    fake.routes.clear()
    fake.route(
        "/gitlab/api/v4/projects/4242/pipelines",
        [item(1, "success", web_url="https://git.corp.example/gitlab/ops/infra/-/pipelines/1")],
    )
    result = await make(
        http, api_url="https://git.corp.example/gitlab/api/v4", project="4242"
    ).poll()
    (pipe,) = result.pipelines
    assert fake.requests[0].url.host == "git.corp.example"
    assert pipe.key == "4242" and pipe.name == "ops/infra"
    assert pipe.url == "https://git.corp.example/gitlab/ops/infra/-/pipelines?ref=main"


# --- errors -----------------------------------------------------------------------------------


async def test_429_plain_text_with_retry_after(
    fake: FakeGitLab, http: HttpClient, clock: FakeClock
) -> None:
    fake.routes[f"{RAW}/pipelines"] = lambda r: httpx.Response(
        429,
        text="Retry later\n",
        headers={"content-type": "text/plain", "retry-after": "42", **RATE},
    )
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    assert caught.value.retry_at == clock.now() + timedelta(seconds=42)
    assert TOKEN not in str(caught.value)


async def test_ratelimit_headers_are_recorded(fake: FakeGitLab, http: HttpClient) -> None:
    await make(http, per_page=5).poll()
    rate = http.budget(API, GITLAB_RATE).rate
    assert rate is not None and (rate.limit, rate.remaining) == (2000, 1990)
    assert rate.reset_at == datetime.fromtimestamp(1795705260, tz=UTC)


async def test_403_with_quota_spent_is_a_rate_limit(fake: FakeGitLab, http: HttpClient) -> None:
    fake.routes[f"{RAW}/pipelines"] = lambda r: gl_json(
        {"message": "403 Forbidden"}, 403, **{"ratelimit-remaining": "0"}
    )
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    assert caught.value.retry_at == datetime.fromtimestamp(1795705260, tz=UTC)


async def test_403_without_rate_signals_is_no_access(fake: FakeGitLab, http: HttpClient) -> None:
    fake.routes[f"{RAW}/pipelines"] = lambda r: gl_json({"message": "403 Forbidden"}, 403)
    with pytest.raises(AuthFailed) as caught:
        await make(http).poll()
    message = str(caught.value)
    assert "project acme/shop" in message and "$GITLAB_TOKEN" in message and "read_api" in message
    assert TOKEN not in message


async def test_401_names_the_token_origin(fake: FakeGitLab, http: HttpClient) -> None:
    fake.routes[f"{RAW}/pipelines"] = lambda r: gl_json({"message": "401 Unauthorized"}, 401)
    with pytest.raises(AuthFailed, match=r"refused the token from \$GITLAB_TOKEN \(HTTP 401\)"):
        await make(http).poll()
    with pytest.raises(AuthFailed, match="token_env"):
        await make(http, token=None).poll()


async def test_404_names_the_project(http: HttpClient) -> None:
    with pytest.raises(NotFound) as caught:
        await make(http, project="acme/gone").poll()
    assert str(caught.value) == (
        "project acme/gone not found on gitlab.com (or the token cannot see it)"
    )


async def test_one_missing_project_among_several_fails_the_poll(http: HttpClient) -> None:
    with pytest.raises(NotFound, match="acme/gone"):
        await make(http, projects=[PROJECT, "acme/gone"], per_page=5).poll()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!DOCTYPE html><html><body>Sign in - GitLab</body></html>", "HTML"),
        (b'[{"id": 1, "status": "succ', "invalid JSON"),
        (b'{"message": "moved"}', "list"),
        (b'[{"id": "one"}]', "0.id"),
        (b"", "empty"),
    ],
    ids=["html-login", "truncated", "object", "bad-id", "empty"],
)
async def test_bad_payloads(fake: FakeGitLab, http: HttpClient, body: bytes, words: str) -> None:
    fake.routes[f"{RAW}/pipelines"] = lambda r: httpx.Response(200, content=body)
    with pytest.raises(BadPayload) as caught:
        await make(http).poll()
    assert words in str(caught.value)
