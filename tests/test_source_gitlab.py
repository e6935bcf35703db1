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
from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited
from buildradiator.history import History
from buildradiator.model import Status, TestResult, TestStatus
from buildradiator.sources.gitlab.config import GitLabSource
from buildradiator.sources.gitlab.source import (
    MAX_BACKFILL,
    MAX_LOOKUPS,
    GitLabCI,
)
from buildradiator.sources.http import GITLAB_RATE, HttpClient
from buildradiator.sources.testreports import MAX_REPORT_TRIES, MAX_REPORTS, Case, fold_results

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


def case(
    name: str, classname: str | None, status: str, time: Any = 0.25, **fields: Any
) -> dict[str, Any]:
    """One ``test_cases`` entry as GitLab sends it (rspec_junit_formatter's shape)."""
    body = {
        "status": status,
        "name": name,
        "classname": classname,
        "file": "./" + (classname or "x").replace(".", "/") + ".rb",
        "execution_time": time,
        "system_output": "Failure/Error: expect(cart.total).to eq(10)"
        if status == "failed"
        else None,
        "stack_trace": None,
        "recent_failures": None,
    }
    body.update(fields)
    return body


def suite(name: str, cases: list[dict[str, Any]]) -> dict[str, Any]:
    def count(word: str) -> int:
        return sum(1 for c in cases if c.get("status") == word)

    return {
        "name": name,
        "total_time": 1.5,
        "total_count": len(cases),
        "success_count": count("success"),
        "failed_count": count("failed"),
        "skipped_count": count("skipped"),
        "error_count": count("error"),
        "suite_error": None,
        "test_cases": cases,
    }


def report(*suites: dict[str, Any]) -> dict[str, Any]:
    return {
        "total_time": 1.5 * len(suites),
        "total_count": sum(s["total_count"] for s in suites),
        "success_count": sum(s["success_count"] for s in suites),
        "failed_count": sum(s["failed_count"] for s in suites),
        "skipped_count": sum(s["skipped_count"] for s in suites),
        "error_count": sum(s["error_count"] for s in suites),
        "test_suites": list(suites),
    }


GREEN_REPORT = report(
    suite(
        "rspec",
        [
            case("Cart adds item", "spec.cart_spec", "success", 0.31),
            case("Cart removes item", "spec.cart_spec", "success", 0.12),
            case("Checkout charges tax", "spec.checkout_spec", "success", 1.2),
            case("Checkout pending feature", "spec.checkout_spec", "skipped", 0.0),
        ],
    )
)
RED_REPORT = report(
    suite(
        "rspec",
        [
            case("Cart adds item", "spec.cart_spec", "success", 0.31),
            case("Cart removes item", "spec.cart_spec", "failed", 0.4),
            case("Checkout charges tax", "spec.checkout_spec", "error", None),
            case("Checkout pending feature", "spec.checkout_spec", "skipped", 0.0),
        ],
    )
)


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
    fake.route(f"{RAW}/pipelines/1005/test_report", GREEN_REPORT)
    fake.route(f"{RAW}/pipelines/1003/test_report", RED_REPORT)


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

    # 1 list + 3 lookups of 2 (1006, 1005, 1003) + 1 backfill of 1002 (2) + 2 test reports.
    assert result.summary == "1 project, 1 in flight, 11 requests"
    assert source.requests_last_poll == 11


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
    # The reset (15:01) is three hours away: the radiator asks again within the hour (a server
    # never makes it wait longer), and says what the server asked for.
    assert caught.value.retry_at == http.clock.now() + timedelta(hours=1)
    assert "15:01" in str(caught.value) and "at most 1h" in str(caught.value)


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


# --- test reports -------------------------------------------------------------------------------


def by_test(results: tuple[TestResult, ...]) -> dict[tuple[str, str], list[tuple[TestStatus, Any]]]:
    out: dict[tuple[str, str], list[tuple[TestStatus, Any]]] = {}
    for r in sorted(results, key=lambda r: r.attempt):
        out.setdefault((r.classname, r.name), []).append((r.status, r.duration))
    return out


def report_paths(fake: FakeGitLab) -> list[str]:
    return [p for p in fake.paths() if p.endswith("/test_report")]


async def test_test_reports_of_finished_pipelines(fake: FakeGitLab, http: HttpClient) -> None:
    result = await make(http, per_page=5).poll()
    (pipe,) = result.pipelines
    # Finished pipelines with a complete lookup, newest finished first; never the running one.
    assert report_paths(fake) == [
        f"{RAW}/pipelines/1005/test_report",
        f"{RAW}/pipelines/1003/test_report",
    ]
    reports = [r for r in fake.requests if r.url.path.endswith("/test_report")]
    assert all(r.headers["private-token"] == TOKEN for r in reports)
    assert all("if-none-match" not in r.headers for r in reports)

    green, red = result.test_runs
    builds = {b.id: b for b in pipe.recent}
    for run in (green, red):
        build = builds[run.build_id]
        assert (run.source, run.pipeline) == ("gl", PROJECT)
        assert (run.attempt, run.commit, run.finished_at) == (
            build.attempt,
            build.commit,
            build.finished_at,
        )
    assert green.build_id == "1005" and green.attempt == 2
    assert by_test(green.results) == {
        ("spec.cart_spec", "Cart adds item"): [(TestStatus.PASSED, 0.31)],
        ("spec.cart_spec", "Cart removes item"): [(TestStatus.PASSED, 0.12)],
        ("spec.checkout_spec", "Checkout charges tax"): [(TestStatus.PASSED, 1.2)],
        ("spec.checkout_spec", "Checkout pending feature"): [(TestStatus.SKIPPED, 0.0)],
    }
    assert red.build_id == "1003" and red.attempt == 1
    assert by_test(red.results) == {
        ("spec.cart_spec", "Cart adds item"): [(TestStatus.PASSED, 0.31)],
        ("spec.cart_spec", "Cart removes item"): [(TestStatus.FAILED, 0.4)],
        # ``error`` is a failure too; a null execution_time is unknown, not zero.
        ("spec.checkout_spec", "Checkout charges tax"): [(TestStatus.FAILED, None)],
        ("spec.checkout_spec", "Checkout pending feature"): [(TestStatus.SKIPPED, 0.0)],
    }


async def test_each_report_is_read_once_and_again_after_a_retry(
    fake: FakeGitLab, http: HttpClient
) -> None:
    source = make(http, per_page=5)
    first = await source.poll()
    assert [r.build_id for r in first.test_runs] == ["1005", "1003"]
    second = await source.poll()
    assert second.test_runs == () and len(report_paths(fake)) == 2

    # Someone retries rspec of 1003 and it passes: the pipeline runs again (new updated_at),
    # attempt 2, and its report is read again: the same commit failed, then passed.
    fake.route(
        f"{RAW}/pipelines",
        [
            item(1006, "running", updated_at="2026-11-26T11:30:00Z"),
            item(1005, "success"),
            item(1004, "skipped"),
            item(1003, "success", updated_at="2026-11-26T11:40:00Z"),
            item(1002, "canceled"),
        ],
    )
    fake.route(f"{RAW}/pipelines/1003", detail(1003, "success", finished_at="2026-11-26T11:40:00Z"))
    fake.route(
        f"{RAW}/pipelines/1003/jobs",
        [job(2, "rspec", "test", "success"), job(1, "rspec", "test", "failed")],
    )
    fake.route(f"{RAW}/pipelines/1003/test_report", GREEN_REPORT)
    third = await source.poll()
    (retried,) = third.test_runs
    assert (retried.build_id, retried.attempt) == ("1003", 2)
    assert retried.commit == first.test_runs[1].commit

    # The two runs of 1003, recorded as the engine does, make "Cart removes item" a flake.
    history = History.memory()
    try:
        for run in (first.test_runs[1], retried):
            history.record_tests(
                "gl",
                run.pipeline,
                run.build_id,
                run.commit,
                run.results,
                build_attempt=run.attempt,
                at=run.finished_at,
            )
        flaky = history.flaky_tests(window_days=100_000)
        assert [(f.classname, f.name, f.times_flaked) for f in flaky] == [
            ("spec.cart_spec", "Cart removes item", 1),
            ("spec.checkout_spec", "Checkout charges tax", 1),
        ]
    finally:
        history.close()


async def test_at_most_three_reports_per_poll_newest_finished_first(
    fake: FakeGitLab, http: HttpClient
) -> None:
    ids = list(range(2010, 2000, -1))
    fake.routes.clear()
    fake.route(f"{RAW}/pipelines", [item(pid, "failed") for pid in ids])
    for n, pid in enumerate(ids):
        # Finish times are not in id order: the newest *finished* is read first.
        minute = 50 - n if pid != 2008 else 59
        fake.route(
            f"{RAW}/pipelines/{pid}",
            detail(pid, "failed", finished_at=f"2026-11-26T11:{minute:02d}:00Z"),
        )
        fake.route(f"{RAW}/pipelines/{pid}/jobs", [job(pid, "rspec", "test", "failed")])
        fake.route(f"{RAW}/pipelines/{pid}/test_report", RED_REPORT)
    source = make(http, per_page=10)
    seen: list[str] = []
    for _ in range(6):
        before = len(fake.requests)
        result = await source.poll()
        fetched = [p for p in fake.paths()[before:] if p.endswith("/test_report")]
        assert len(fetched) <= MAX_REPORTS == 3
        assert [r.build_id for r in result.test_runs] == [p.split("/")[-2] for p in fetched]
        seen += [r.build_id for r in result.test_runs]
    assert sorted(seen) == sorted(str(i) for i in ids)  # every pipeline's report once
    # Poll 1 looked up 2010 (last), 2001 (first red), 2009 and 2008 (backfill): of those, the
    # three that finished last; then the backfill brings the older ones two by two.
    assert seen == ["2008", "2010", "2009", "2007", "2006", "2001", "2005", "2004", "2003", "2002"]


@pytest.mark.parametrize(
    ("answer", "retried"),
    [
        (lambda r: httpx.Response(500, text="<html>500</html>"), True),
        (lambda r: httpx.Response(200, content=b'{"test_suites": [{"name": "rsp'), False),
        (lambda r: httpx.Response(200, text="<!DOCTYPE html><html>Sign in</html>"), False),
        (lambda r: gl_json({"message": "403 Forbidden"}, 403), False),
        (lambda r: gl_json({"message": "404 Not found"}, 404), False),
        (lambda r: gl_json(["not", "a", "report"]), False),
    ],
    ids=["500", "truncated", "html-login", "403", "404", "a-list"],
)
async def test_a_failing_report_never_fails_the_poll(
    fake: FakeGitLab,
    http: HttpClient,
    answer: Callable[[httpx.Request], httpx.Response],
    retried: bool,
) -> None:
    fake.routes[f"{RAW}/pipelines/1005/test_report"] = answer
    source = make(http, per_page=5)
    result = await source.poll()
    assert [r.build_id for r in result.test_runs] == ["1003"]  # 1005's run is just missing
    assert len(result.pipelines[0].recent) == 3
    for _ in range(MAX_REPORT_TRIES + 1):
        await source.poll()
    tries = report_paths(fake).count(f"{RAW}/pipelines/1005/test_report")
    # What may pass (a 5xx) is tried on a few polls; what will not is given up at once.
    assert tries == (MAX_REPORT_TRIES if retried else 1)


async def test_a_report_too_large_is_left_out(fake: FakeGitLab, clock: FakeClock) -> None:
    huge = report(
        suite("rspec", [case(f"case {i}", "spec.big_spec", "success") for i in range(400)])
    )
    fake.route(f"{RAW}/pipelines/1005/test_report", huge)
    client = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock, max_body=20_000
    )
    try:
        result = await make(client, per_page=5).poll()
    finally:
        await client.aclose()
    assert [r.build_id for r in result.test_runs] == ["1003"]
    assert result.pipelines[0].recent[0].status is Status.PASSED


async def test_a_rate_limited_report_stops_the_reports_of_this_poll(
    fake: FakeGitLab, http: HttpClient
) -> None:
    fake.routes[f"{RAW}/pipelines/1005/test_report"] = lambda r: httpx.Response(
        429, text="Retry later\n", headers={"content-type": "text/plain", **RATE}
    )
    result = await make(http, per_page=5).poll()
    assert result.test_runs == ()
    assert report_paths(fake) == [f"{RAW}/pipelines/1005/test_report"]  # 1003 waits


async def test_odd_report_shapes(fake: FakeGitLab, http: HttpClient) -> None:
    fake.route(
        f"{RAW}/pipelines/1005/test_report",
        {
            "total_count": 9,
            "test_suites": [
                None,
                {"name": "no cases"},
                {"name": "null cases", "test_cases": None},
                {
                    "name": "jest",
                    "extra": {"new": "field"},
                    "test_cases": [
                        None,
                        case("renders \x1b[31mred\x1b[0m [b]cart[/b]", "Cart", "success", "0.5"),
                        case("no classname", None, "failed", -1),
                        case("quarantined", "Cart", "quarantined", 1.0),
                        case("", "Cart", "failed", 1.0),
                        {"status": "success"},
                        {"status": 7, "name": "odd", "classname": "Cart"},
                        case("upper case word", "Cart", "FAILED", 2.0),
                    ],
                },
            ],
        },
    )
    fake.route(f"{RAW}/pipelines/1003/test_report", {"total_count": 0})  # no test_suites at all
    result = await make(http, per_page=5).poll()
    (run,) = result.test_runs
    assert by_test(run.results) == {
        # Escapes stripped, markup kept as text; a string time is not a number.
        ("Cart", "renders red [b]cart[/b]"): [(TestStatus.PASSED, None)],
        # A missing classname is the suite's name; a negative time is unknown.
        ("jest", "no classname"): [(TestStatus.FAILED, None)],
        ("Cart", "upper case word"): [(TestStatus.FAILED, 2.0)],
    }


async def test_no_test_suites_is_no_run(fake: FakeGitLab, http: HttpClient) -> None:
    empty = {
        "total_time": 0,
        "total_count": 0,
        "success_count": 0,
        "failed_count": 0,
        "skipped_count": 0,
        "error_count": 0,
        "test_suites": [],
    }
    fake.route(f"{RAW}/pipelines/1005/test_report", empty)
    fake.route(f"{RAW}/pipelines/1003/test_report", {"test_suites": None})
    source = make(http, per_page=5)
    assert (await source.poll()).test_runs == ()
    await source.poll()
    assert len(report_paths(fake)) == 2  # read once all the same


async def test_the_same_test_twice_in_a_report(fake: FakeGitLab, http: HttpClient) -> None:
    fake.route(
        f"{RAW}/pipelines/1005/test_report",
        report(
            suite(
                "rspec",
                [
                    case("Cart adds item", "spec.cart_spec", "failed", 0.5),
                    case("Cart totals", "spec.cart_spec", "success", 0.1),
                    case("Cart adds item", "spec.cart_spec", "success", 0.4),
                ],
            ),
            suite("rspec-ee", [case("Cart totals", "spec.cart_spec", "failed", 0.2)]),
        ),
    )
    result = await make(http, per_page=5).poll()
    run = next(r for r in result.test_runs if r.build_id == "1005")
    assert by_test(run.results) == {
        # Failed, then passed on a rerun in the same job: a flake within the pipeline.
        ("spec.cart_spec", "Cart adds item"): [(TestStatus.FAILED, 0.5), (TestStatus.PASSED, 0.4)],
        # Passed in one job and failed in another: a failure, not a flake.
        ("spec.cart_spec", "Cart totals"): [(TestStatus.FAILED, 0.2)],
    }


def test_fold_results_rules() -> None:
    P, F, S = TestStatus.PASSED, TestStatus.FAILED, TestStatus.SKIPPED

    def fold(*cases: tuple[str, TestStatus, float | None]) -> list[tuple[TestStatus, Any, int]]:
        folded = fold_results(Case(suite, "C", "t", status, d) for suite, status, d in cases)
        return [(r.status, r.duration, r.attempt) for r in folded]

    assert fold(("a", P, 1.0)) == [(P, 1.0, 1)]
    assert fold(("a", F, 1.0), ("a", F, 2.0), ("a", P, 0.5)) == [(F, 3.0, 1), (P, 0.5, 2)]
    assert fold(("a", P, 1.0), ("a", F, 2.0)) == [(F, 2.0, 1)]  # ends in a failure: failed
    assert fold(("a", S, 0.0), ("a", P, 0.5)) == [(P, 0.5, 1)]
    assert fold(("a", S, 0.0), ("b", S, None)) == [(S, 0.0, 1)]
    assert fold(("a", F, 1.0), ("a", P, 0.5), ("b", F, 0.7)) == [(F, 0.7, 1)]
    assert fold(("a", F, 0.0), ("a", P, None)) == [(F, 0.0, 1), (P, None, 2)]


async def test_report_memory_is_bounded_by_the_list(fake: FakeGitLab, http: HttpClient) -> None:
    source = make(http, per_page=5)
    await source.poll()
    assert {k[1] for k in source._reports.done} == {"1005", "1003"}
    fake.route(f"{RAW}/pipelines", [item(1006, "running")])
    await source.poll()
    assert source._reports.done == set()
