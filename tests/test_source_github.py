"""The GitHub Actions source against a fake GitHub speaking the documented REST shapes.

The fixtures under ``payloads/github/`` are full run and job objects as the API returns them
(extra fields included); tests copy and bend them into the odd answers real servers send.
"""

from __future__ import annotations

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
    ServerError,
)
from buildradiator.model import Pipeline, Status
from buildradiator.sources.github.config import GitHubSource
from buildradiator.sources.github.source import GitHubActions
from buildradiator.sources.http import GITHUB_RATE, HttpClient

PAYLOADS = Path(__file__).parent / "payloads" / "github"
TOKEN = "ghp_s3cr3tT0kenValue0123456789abcdef"
RUNS_PATH = "/repos/acme/widget/actions/runs"
JOBS_PATH = "/repos/acme/widget/actions/runs/30433642/jobs"
RATE = {
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4987",
    "x-ratelimit-used": "13",
    "x-ratelimit-reset": "1795705200",
    "x-ratelimit-resource": "core",
}


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def gh_json(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(payload).encode(),
        headers={"content-type": "application/json; charset=utf-8", **RATE, **headers},
    )


def not_found() -> httpx.Response:
    return gh_json(
        {
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/actions/workflow-runs",
            "status": "404",
        },
        404,
    )


def one_run(**fields: Any) -> dict[str, Any]:
    """The fixture's newest completed run with some fields replaced."""
    run = copy.deepcopy(load("runs.json")["workflow_runs"][3])
    run.update(fields)
    return run


class FakeGitHub:
    """Routes by path; anything unrouted is GitHub's 404. Records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def route(self, path: str, payload: Any = None, **headers: str) -> None:
        self.routes[path] = lambda request: gh_json(payload, **headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        return handler(request) if handler else not_found()

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.route(RUNS_PATH, load("runs.json"), etag='W/"runs-v1"')
    fake.route(JOBS_PATH, load("jobs.json"), etag='W/"jobs-v1"')
    return fake


@pytest.fixture
async def http(fake: FakeGitHub, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    yield client
    await client.aclose()


def make(http: HttpClient, *, token: str | None = TOKEN, **fields: Any) -> GitHubActions:
    config: dict[str, Any] = {"type": "github", "name": "gh", "repo": "acme/widget", **fields}
    if token is not None:
        config.setdefault("token_env", "GITHUB_TOKEN")
        config["token"] = SecretStr(token)
    return GitHubActions(GitHubSource.model_validate(config), http)


def by_key(pipelines: tuple[Pipeline, ...]) -> dict[str, Pipeline]:
    return {p.key: p for p in pipelines}


# --- the realistic payload --------------------------------------------------------------------


async def test_realistic_runs_become_one_pipeline_per_workflow(http: HttpClient) -> None:
    result = await make(http).poll()

    pipes = by_key(result.pipelines)
    assert list(pipes) == ["acme/widget:161335", "acme/widget:161336"]
    ci, nightly = pipes["acme/widget:161335"], pipes["acme/widget:161336"]
    assert ci.name == "acme/widget · CI"
    assert nightly.name == "acme/widget · Nightly"
    assert ci.url == nightly.url == "https://github.com/acme/widget/actions"
    assert ci.branch == "main"
    assert ci.source == "gh"

    # The skipped run #559 says nothing about health and is left out.
    assert [b.number for b in ci.recent] == [561, 560]
    assert [b.number for b in ci.in_flight] == [562]
    assert ci.status is Status.FAILED
    assert [b.number for b in nightly.recent] == [88, 87]
    assert [b.number for b in nightly.in_flight] == [89]

    failed = ci.recent[0]
    assert failed.id == "30433601"
    assert failed.pipeline == "acme/widget:161335"
    assert failed.status is Status.FAILED
    assert failed.provider_status == "failure"
    assert failed.branch == "main"
    assert failed.commit == "c" * 40
    assert failed.author == "Mona Lisa"
    assert failed.message == "Add retry to uploader"  # first line only
    assert failed.url == "https://github.com/acme/widget/actions/runs/30433601"
    # -08:00 offset and seven fraction digits.
    assert failed.created_at == datetime(2026, 11, 26, 11, 40, 0, 123456, tzinfo=UTC)
    assert failed.started_at == datetime(2026, 11, 26, 11, 40, 5, 500000, tzinfo=UTC)
    assert failed.finished_at == datetime(2026, 11, 26, 11, 52, 10, 123456, tzinfo=UTC)
    assert failed.duration_seconds == pytest.approx(724.623456)

    running = ci.in_flight[0]
    assert running.status is Status.RUNNING
    assert running.provider_status == "in_progress"
    assert running.finished_at is None  # updated_at moves while a run is in progress
    assert running.stage == "test (3.11) › Run pytest"

    waiting = nightly.in_flight[0]
    assert waiting.status is Status.QUEUED
    assert waiting.provider_status == "waiting"
    assert waiting.stage is None  # only running runs get a jobs lookup

    assert result.summary == "1 repo, 2 workflows, 2 in flight"


async def test_nulls_and_unknown_values_from_the_payload(http: HttpClient) -> None:
    nightly = by_key((await make(http).poll()).pipelines)["acme/widget:161336"]
    cancelled, superseded = nightly.recent

    # head_commit: null -> the actor and the display title stand in.
    assert cancelled.status is Status.CANCELED
    assert cancelled.author == "octocat"
    assert cancelled.message == "Nightly build"
    # run_started_at: null -> the creation time.
    assert cancelled.started_at == cancelled.created_at == datetime(2026, 11, 26, 3, tzinfo=UTC)

    # A conclusion GitHub may add one day is unknown, kept, and named.
    assert superseded.status is Status.UNKNOWN
    assert superseded.provider_status == "superseded"
    assert superseded.created_at == datetime(2026, 11, 25, 1, tzinfo=UTC)


async def test_retried_run_that_passed_on_attempt_two(fake: FakeGitHub, http: HttpClient) -> None:
    fake.route(
        RUNS_PATH,
        {
            "total_count": 1,
            "workflow_runs": [
                one_run(
                    run_attempt=2,
                    conclusion="success",
                    created_at="2026-11-26T11:20:00Z",
                    run_started_at="2026-11-26T11:40:00Z",
                    updated_at="2026-11-26T11:48:00Z",
                    previous_attempt_url="https://api.github.com/repos/acme/widget/actions/runs/30433555/attempts/1",
                )
            ],
        },
    )
    (pipeline,) = (await make(http).poll()).pipelines
    (build,) = pipeline.recent
    assert build.attempt == 2
    assert build.status is Status.PASSED
    # The duration is the second attempt's, not the time since the first one started.
    assert build.duration_seconds == 8 * 60
    # Only one workflow on the branch: the pipeline is named after the repository.
    assert pipeline.name == "acme/widget"
    assert pipeline.key == "acme/widget:161335"


@pytest.mark.parametrize(
    ("conclusion", "expected"),
    [
        ("success", Status.PASSED),
        ("neutral", Status.PASSED),
        ("failure", Status.FAILED),
        ("timed_out", Status.FAILED),
        ("startup_failure", Status.FAILED),
        ("action_required", Status.FAILED),
        ("cancelled", Status.CANCELED),
        ("no_such_conclusion_yet", Status.UNKNOWN),
        (None, Status.UNKNOWN),
    ],
)
async def test_every_conclusion(
    fake: FakeGitHub, http: HttpClient, conclusion: str | None, expected: Status
) -> None:
    fake.route(RUNS_PATH, {"total_count": 1, "workflow_runs": [one_run(conclusion=conclusion)]})
    (pipeline,) = (await make(http).poll()).pipelines
    (build,) = pipeline.recent
    assert build.status is expected
    assert build.provider_status == (conclusion or "completed")
    assert pipeline.in_flight == ()


@pytest.mark.parametrize("conclusion", ["skipped", "stale"])
async def test_skipped_and_stale_runs_are_left_out(
    fake: FakeGitHub, http: HttpClient, conclusion: str
) -> None:
    fake.route(RUNS_PATH, {"total_count": 1, "workflow_runs": [one_run(conclusion=conclusion)]})
    result = await make(http).poll()
    assert result.pipelines == ()
    assert result.summary == "1 repo, 0 workflows, 0 in flight; no runs on main in acme/widget"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("in_progress", Status.RUNNING),
        ("queued", Status.QUEUED),
        ("waiting", Status.QUEUED),
        ("requested", Status.QUEUED),
        ("pending", Status.QUEUED),
        ("awaiting_moon_phase", Status.QUEUED),
    ],
)
async def test_every_run_status_in_flight(
    fake: FakeGitHub, http: HttpClient, status: str, expected: Status
) -> None:
    fake.route(
        RUNS_PATH,
        {"total_count": 1, "workflow_runs": [one_run(id=30433642, status=status, conclusion=None)]},
    )
    (pipeline,) = (await make(http).poll()).pipelines
    (build,) = pipeline.in_flight
    assert build.status is expected
    assert build.provider_status == status
    assert build.finished_at is None
    assert pipeline.recent == ()
    assert (JOBS_PATH in fake.paths()) is (expected is Status.RUNNING)


# --- stage of a running run -------------------------------------------------------------------


async def test_stage_is_first_queued_job_when_none_runs(fake: FakeGitHub, http: HttpClient) -> None:
    jobs = load("jobs.json")
    jobs["jobs"][1]["status"] = "completed"
    jobs["jobs"][1]["conclusion"] = "success"
    jobs["jobs"][2]["name"] = "deploy (production)"
    fake.route(JOBS_PATH, jobs)
    ci = by_key((await make(http).poll()).pipelines)["acme/widget:161335"]
    assert ci.in_flight[0].stage == "deploy (production)"


async def test_stage_without_a_running_step_is_the_job(fake: FakeGitHub, http: HttpClient) -> None:
    jobs = load("jobs.json")
    jobs["jobs"][1]["steps"] = None
    fake.route(JOBS_PATH, jobs)
    ci = by_key((await make(http).poll()).pipelines)["acme/widget:161335"]
    assert ci.in_flight[0].stage == "test (3.11)"


@pytest.mark.parametrize(
    "answer",
    [
        lambda: httpx.Response(502, text="<html><body><h1>502 Bad Gateway</h1></body></html>"),
        lambda: not_found(),
        lambda: gh_json({"total_count": 1, "jobs": "not a list"}),
        lambda: httpx.Response(200, content=b'{"total_count": 3, "jobs": [{"id": 3994'),
    ],
    ids=["html-502", "404", "wrong-type", "truncated"],
)
async def test_failing_jobs_call_keeps_the_run(
    fake: FakeGitHub, http: HttpClient, answer: Callable[[], httpx.Response]
) -> None:
    fake.routes[JOBS_PATH] = lambda request: answer()
    ci = by_key((await make(http).poll()).pipelines)["acme/widget:161335"]
    (running,) = ci.in_flight
    assert running.id == "30433642"
    assert running.status is Status.RUNNING
    assert running.stage is None
    assert JOBS_PATH in fake.paths()


async def test_jobs_lookups_are_capped_per_poll(fake: FakeGitHub, http: HttpClient) -> None:
    runs = [
        one_run(id=1000 + i, run_number=600 + i, status="in_progress", conclusion=None)
        for i in range(15)
    ]
    fake.route(RUNS_PATH, {"total_count": 15, "workflow_runs": runs})
    (pipeline,) = (await make(http).poll()).pipelines
    assert len(pipeline.in_flight) == 15
    assert sum("/jobs" in p for p in fake.paths()) == 10


# --- requests ---------------------------------------------------------------------------------


async def test_requests_carry_headers_params_and_bearer_token(
    fake: FakeGitHub, http: HttpClient
) -> None:
    await make(http, per_page=50).poll()
    runs, jobs = fake.requests
    assert runs.url.host == "api.github.com"
    assert runs.url.path == RUNS_PATH
    assert dict(runs.url.params) == {
        "branch": "main",
        "per_page": "50",
        "exclude_pull_requests": "true",
    }
    assert jobs.url.path == JOBS_PATH
    assert dict(jobs.url.params) == {"filter": "latest", "per_page": "100"}
    for request in (runs, jobs):
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_no_authorization_header_without_token(fake: FakeGitHub, http: HttpClient) -> None:
    await make(http, token=None).poll()
    assert len(fake.requests) == 2
    assert all("authorization" not in r.headers for r in fake.requests)


async def test_workflow_setting_uses_the_workflow_endpoint(
    fake: FakeGitHub, http: HttpClient
) -> None:
    runs = load("runs.json")
    runs["workflow_runs"] = [r for r in runs["workflow_runs"] if r["workflow_id"] == 161335]
    fake.route("/repos/acme/widget/actions/workflows/ci.yml/runs", runs)
    result = await make(http, workflow="ci.yml", branch="release").poll()
    assert fake.requests[0].url.path == "/repos/acme/widget/actions/workflows/ci.yml/runs"
    assert fake.requests[0].url.params["branch"] == "release"
    (pipeline,) = result.pipelines
    assert pipeline.name == "acme/widget"
    assert pipeline.branch == "release"


async def test_second_poll_is_conditional_and_304_gives_the_same_pipelines(
    fake: FakeGitHub, http: HttpClient
) -> None:
    etags = {RUNS_PATH: 'W/"runs-v1"', JOBS_PATH: 'W/"jobs-v1"'}
    bodies = {RUNS_PATH: load("runs.json"), JOBS_PATH: load("jobs.json")}

    def conditional(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.headers.get("if-none-match") == etags[path]:
            return httpx.Response(304, headers={**RATE, "etag": etags[path]})
        return gh_json(bodies[path], etag=etags[path])

    fake.routes[RUNS_PATH] = fake.routes[JOBS_PATH] = conditional
    source = make(http)
    first = await source.poll()
    second = await source.poll()

    assert [r.headers.get("if-none-match") for r in fake.requests] == [
        None,
        None,
        'W/"runs-v1"',
        'W/"jobs-v1"',
    ]
    assert second == first
    assert second.pipelines[0].in_flight[0].stage == "test (3.11) › Run pytest"
    assert http.budget("https://api.github.com/", GITHUB_RATE).not_modified == 2


async def test_several_repos_and_summary(fake: FakeGitHub, http: HttpClient) -> None:
    other = load("runs.json")
    for run in other["workflow_runs"]:
        run["html_url"] = run["html_url"].replace("acme/widget", "acme/gadget")
        run["status"], run["conclusion"] = "completed", "success"
    other["workflow_runs"] = [r for r in other["workflow_runs"] if r["workflow_id"] == 161336]
    fake.route("/repos/acme/gadget/actions/runs", other)
    result = await make(http, repos=["acme/widget", "acme/gadget"]).poll()
    assert [p.key for p in result.pipelines] == [
        "acme/widget:161335",
        "acme/widget:161336",
        "acme/gadget:161336",
    ]
    gadget = result.pipelines[2]
    assert gadget.name == "acme/gadget"  # one workflow there
    assert gadget.url == "https://github.com/acme/gadget/actions"
    assert result.summary == "2 repos, 3 workflows, 2 in flight"


# --- errors -----------------------------------------------------------------------------------


async def test_quota_spent_is_rate_limited_until_reset(fake: FakeGitHub, http: HttpClient) -> None:
    reset = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
    fake.routes[RUNS_PATH] = lambda request: gh_json(
        {
            "message": "API rate limit exceeded for user ID 583231.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        },
        403,
        **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(reset.timestamp()))},
    )
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    assert caught.value.retry_at == reset
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("status", [403, 429])
async def test_secondary_limit_with_retry_after(
    fake: FakeGitHub, http: HttpClient, clock: FakeClock, status: int
) -> None:
    fake.routes[RUNS_PATH] = lambda request: gh_json(
        {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
        status,
        **{"retry-after": "90"},
    )
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    assert caught.value.retry_at == clock.now() + timedelta(seconds=90)


async def test_403_without_rate_signals_is_auth_failed(fake: FakeGitHub, http: HttpClient) -> None:
    fake.routes[RUNS_PATH] = lambda request: gh_json(
        {
            "message": "Resource not accessible by personal access token",
            "documentation_url": "https://docs.github.com/rest/actions/workflow-runs",
        },
        403,
    )
    with pytest.raises(AuthFailed) as caught:
        await make(http).poll()
    message = str(caught.value)
    assert "acme/widget" in message
    assert "$GITHUB_TOKEN" in message
    assert "403" in message
    assert TOKEN not in message


async def test_401_names_where_the_token_came_from(fake: FakeGitHub, http: HttpClient) -> None:
    fake.routes[RUNS_PATH] = lambda request: gh_json(
        {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, 401
    )
    with pytest.raises(AuthFailed) as caught:
        await make(http).poll()
    message = str(caught.value)
    assert message.startswith("api.github.com refused the token from $GITHUB_TOKEN (HTTP 401)")
    assert TOKEN not in message


async def test_401_without_token_says_to_configure_one(fake: FakeGitHub, http: HttpClient) -> None:
    fake.routes[RUNS_PATH] = lambda request: gh_json({"message": "Requires authentication"}, 401)
    with pytest.raises(AuthFailed, match="token_env"):
        await make(http, token=None).poll()


async def test_404_names_repo_and_host_never_the_token(http: HttpClient) -> None:
    with pytest.raises(NotFound) as caught:
        await make(http, repo="acme/x").poll()
    message = str(caught.value)
    assert message == "repository acme/x not found on api.github.com (or the token cannot see it)"
    assert TOKEN not in message


async def test_404_of_one_repo_among_several_fails_the_poll(
    fake: FakeGitHub, http: HttpClient
) -> None:
    with pytest.raises(NotFound, match="repository acme/gone not found"):
        await make(http, repos=["acme/widget", "acme/gone"]).poll()
    assert fake.paths()[0] == RUNS_PATH  # the first repo was read, then the second failed


async def test_404_of_a_workflow_names_it(http: HttpClient) -> None:
    with pytest.raises(NotFound, match=r"workflow deploy\.yml of repository acme/widget"):
        await make(http, workflow="deploy.yml").poll()


async def test_html_502_page_is_a_server_error(fake: FakeGitHub, http: HttpClient) -> None:
    fake.routes[RUNS_PATH] = lambda request: httpx.Response(
        502,
        text="<!DOCTYPE html>\n<html><head><title>Unicorn! · GitHub</title></head><body>...</body></html>",
        headers={"content-type": "text/html; charset=utf-8"},
    )
    with pytest.raises(ServerError, match="HTML"):
        await make(http).poll()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!DOCTYPE html><html><body>Sign in to your SSO provider</body></html>", "HTML"),
        (b'{"total_count": 7, "workflow_runs": [{"id": 30433642, "name": "C', "invalid JSON"),
        (b'{"total_count": 7, "workflow_runs": {"id": 30433642}}', "workflow_runs"),
        (b'{"total_count": 7, "workflow_runs": "none"}', "workflow_runs"),
        (b'{"message": "Moved Permanently"}', "workflow_runs"),
        (b'{"total_count": 1, "workflow_runs": [{"id": "not-a-number"}]}', "workflow_runs.0.id"),
        (b"[]", "top level"),
        (b"", "empty"),
    ],
    ids=[
        "html-200",
        "truncated",
        "runs-object",
        "runs-string",
        "no-runs",
        "bad-id",
        "list",
        "empty",
    ],
)
async def test_bad_payloads(fake: FakeGitHub, http: HttpClient, body: bytes, words: str) -> None:
    fake.routes[RUNS_PATH] = lambda request: httpx.Response(200, content=body)
    with pytest.raises(BadPayload) as caught:
        await make(http).poll()
    assert words in str(caught.value)


async def test_garbage_timestamps_do_not_fail_the_poll(fake: FakeGitHub, http: HttpClient) -> None:
    run = one_run(created_at="yesterday-ish", run_started_at=12345, updated_at=None)
    fake.route(RUNS_PATH, {"total_count": 1, "workflow_runs": [run]})
    (pipeline,) = (await make(http).poll()).pipelines
    (build,) = pipeline.recent
    assert build.status is Status.PASSED
    assert (build.created_at, build.started_at, build.finished_at) == (None, None, None)


# --- untrusted text ---------------------------------------------------------------------------


async def test_escape_sequences_are_removed_and_markup_stays_literal(
    fake: FakeGitHub, http: HttpClient
) -> None:
    run = one_run(
        name="\x1b]0;pwned title\x07CI",
        head_commit={
            "id": "d" * 40,
            "message": "\x1b[31mFix\x1b[0m \x1b]8;;https://evil.example/\x1b\\the link\x1b]8;;\x1b\\"
            " [red]markup[/] \x9b2Jdone\u202e\nsecond line",
            "timestamp": "2026-11-26T11:20:00Z",
            "author": {"name": "Mal\x1b[2K\x1b[1Alory", "email": "m@example.com"},
        },
        html_url="https://github.com/acme/widget/actions/runs/1\x1b]8;;x",
    )
    other = one_run(id=1, workflow_id=99, name="Docs\x1b[5m")
    fake.route(RUNS_PATH, {"total_count": 2, "workflow_runs": [run, other]})
    pipes = by_key((await make(http).poll()).pipelines)
    build = pipes["acme/widget:161335"].recent[0]
    assert build.message == "Fix the link [red]markup[/] done"
    assert build.author == "Mallory"
    assert build.url is None  # a URL with an escape in it is not offered as a link
    assert pipes["acme/widget:161335"].name == "acme/widget · CI"
    assert pipes["acme/widget:99"].name == "acme/widget · Docs"
    for text in (build.message, build.author, pipes["acme/widget:161335"].name):
        assert "\x1b" not in text and "\x9b" not in text and "]8;;" not in text


async def test_javascript_urls_are_not_links(fake: FakeGitHub, http: HttpClient) -> None:
    run = one_run(html_url="javascript:alert(1)")
    fake.route(RUNS_PATH, {"total_count": 1, "workflow_runs": [run]})
    (pipeline,) = (await make(http).poll()).pipelines
    assert pipeline.recent[0].url is None
    # The actions page then comes from the API root instead.
    assert pipeline.url == "https://github.com/acme/widget/actions"


# --- GitHub Enterprise Server ---------------------------------------------------------------


async def test_ghes_api_url_builds_the_right_urls(fake: FakeGitHub, http: HttpClient) -> None:
    runs = load("runs.json")
    for run in runs["workflow_runs"]:
        run["html_url"] = None  # derive the web pages from the API root
    fake.routes.clear()
    fake.route("/api/v3" + RUNS_PATH, runs)
    fake.route("/api/v3" + JOBS_PATH, load("jobs.json"))
    result = await make(http, api_url="http://ghe.local/api/v3/").poll()

    assert [str(r.url).split("?")[0] for r in fake.requests] == [
        "http://ghe.local/api/v3/repos/acme/widget/actions/runs",
        "http://ghe.local/api/v3/repos/acme/widget/actions/runs/30433642/jobs",
    ]
    ci = by_key(result.pipelines)["acme/widget:161335"]
    assert ci.url == "http://ghe.local/acme/widget/actions"
    assert ci.in_flight[0].stage == "test (3.11) › Run pytest"


async def test_ghes_404_names_the_ghes_host(http: HttpClient) -> None:
    with pytest.raises(NotFound, match=r"repository acme/widget not found on ghe\.local "):
        await make(http, api_url="http://ghe.local/api/v3").poll()


async def test_actions_page_comes_from_the_run_links(fake: FakeGitHub, http: HttpClient) -> None:
    # An API root that names no web UI (a proxy, the built-in simulator): only html_url tells.
    runs = load("runs.json")
    fake.routes.clear()
    fake.route(RUNS_PATH, runs)
    fake.route(JOBS_PATH, load("jobs.json"))
    result = await make(http, api_url="http://127.0.0.1:8765").poll()
    assert fake.requests[0].url.host == "127.0.0.1"
    assert {p.url for p in result.pipelines} == {"https://github.com/acme/widget/actions"}

    for run in runs["workflow_runs"]:
        run["html_url"] = None
    assert {
        p.url for p in (await make(http, api_url="http://127.0.0.1:8765").poll()).pipelines
    } == {None}


# --- branch patterns and several workflows ----------------------------------------------------


def branch_runs() -> dict[str, Any]:
    """The repository's newest runs on every branch, as the unfiltered runs list answers."""
    runs = [
        one_run(id=501, run_number=70, head_branch="release/2.1", conclusion="failure"),
        one_run(
            id=502, run_number=69, head_branch="release/2.1", created_at="2026-11-20T10:00:00Z"
        ),
        one_run(
            id=503, run_number=68, head_branch="release/2.0", status="in_progress", conclusion=None
        ),
        one_run(id=504, run_number=67, head_branch="feature/login"),
        one_run(
            id=505,
            run_number=66,
            head_branch="release/2.1",
            workflow_id=161336,
            name="Nightly",
            path=".github/workflows/nightly.yml",
        ),
        # Runs of the default branch come with the filtered request: never twice.
        one_run(id=30433601, head_branch="main"),
        one_run(id=506, head_branch=None),
    ]
    return {"total_count": 912, "workflow_runs": runs}


def route_by_branch(fake: FakeGitHub, path: str, filtered: Any, every: Any) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return gh_json(filtered if "branch" in request.url.params else every)

    fake.routes[path] = answer


async def test_branch_patterns_add_one_pipeline_per_matching_branch(
    fake: FakeGitHub, http: HttpClient
) -> None:
    route_by_branch(fake, RUNS_PATH, load("runs.json"), branch_runs())
    result = await make(http, branches=["release/*"]).poll()

    pipes = by_key(result.pipelines)
    assert list(pipes) == [
        "acme/widget:161335",
        "acme/widget:161335@release/2.0",
        "acme/widget:161335@release/2.1",
        "acme/widget:161336",
        "acme/widget:161336@release/2.1",
    ]
    release = pipes["acme/widget:161335@release/2.1"]
    assert release.name == "acme/widget · CI (release/2.1)"
    assert release.branch == "release/2.1"
    assert [b.id for b in release.recent] == ["501", "502"]
    assert release.status is Status.FAILED
    assert all(b.pipeline == release.key for b in release.recent)
    assert pipes["acme/widget:161335@release/2.0"].in_flight[0].id == "503"
    # The default branch's pipelines keep their keys, names and builds.
    main = pipes["acme/widget:161335"]
    assert (main.name, main.branch) == ("acme/widget · CI", "main")
    assert [b.number for b in main.recent] == [561, 560]

    scan = fake.requests[1]
    assert scan.url.path == RUNS_PATH
    assert dict(scan.url.params) == {"per_page": "100", "exclude_pull_requests": "true"}
    runs_requests = [r for r in fake.requests if r.url.path == RUNS_PATH]
    assert len(runs_requests) == 2  # one filtered, one scan: bounded whatever the branch count
    assert result.summary == "1 repo, 2 workflows, 3 pipelines on release/*, 3 in flight"


async def test_branch_pattern_names_show_the_branch_with_one_workflow(
    fake: FakeGitHub, http: HttpClient
) -> None:
    main_only = {"total_count": 1, "workflow_runs": [one_run()]}
    every = {"total_count": 2, "workflow_runs": [one_run(id=9, head_branch="release/2.1")]}
    route_by_branch(fake, RUNS_PATH, main_only, every)
    result = await make(http, branches=["release/*", "hotfix-*"]).poll()
    assert [(p.key, p.name) for p in result.pipelines] == [
        ("acme/widget:161335", "acme/widget"),
        ("acme/widget:161335@release/2.1", "acme/widget (release/2.1)"),
    ]


async def test_no_branches_means_no_scan(fake: FakeGitHub, http: HttpClient) -> None:
    route_by_branch(fake, RUNS_PATH, load("runs.json"), branch_runs())
    result = await make(http).poll()
    assert all("branch" in r.url.params for r in fake.requests if r.url.path == RUNS_PATH)
    assert all("@" not in p.key for p in result.pipelines)


async def test_several_workflows_one_request_each(fake: FakeGitHub, http: HttpClient) -> None:
    runs = load("runs.json")["workflow_runs"]
    ci = {"total_count": 3, "workflow_runs": [r for r in runs if r["workflow_id"] == 161335]}
    nightly = {"total_count": 3, "workflow_runs": [r for r in runs if r["workflow_id"] == 161336]}
    fake.route("/repos/acme/widget/actions/workflows/ci.yml/runs", ci)
    fake.route("/repos/acme/widget/actions/workflows/161336/runs", nightly)
    result = await make(http, workflow="ci.yml", workflows=["161336", "ci.yml"]).poll()
    assert [p for p in fake.paths() if p.endswith("/runs")] == [
        "/repos/acme/widget/actions/workflows/ci.yml/runs",
        "/repos/acme/widget/actions/workflows/161336/runs",
    ]
    assert [p.key for p in result.pipelines] == ["acme/widget:161335", "acme/widget:161336"]
    assert [p.name for p in result.pipelines] == ["acme/widget · CI", "acme/widget · Nightly"]
    assert all(
        r.url.params.get("branch") == "main" for r in fake.requests if "/workflows/" in r.url.path
    )


async def test_one_missing_workflow_of_several_is_named(fake: FakeGitHub, http: HttpClient) -> None:
    fake.route("/repos/acme/widget/actions/workflows/ci.yml/runs", load("runs.json"))
    with pytest.raises(NotFound, match=r"workflow gone\.yml of repository acme/widget"):
        await make(http, workflows=["ci.yml", "gone.yml"]).poll()


async def test_workflows_and_branches_scan_keeps_only_those_workflows(
    fake: FakeGitHub, http: HttpClient
) -> None:
    runs = load("runs.json")["workflow_runs"]
    ci = {"total_count": 3, "workflow_runs": [r for r in runs if r["workflow_id"] == 161335]}
    fake.route("/repos/acme/widget/actions/workflows/ci.yml/runs", ci)
    route_by_branch(fake, RUNS_PATH, {"total_count": 0, "workflow_runs": []}, branch_runs())
    result = await make(http, workflows=["ci.yml"], branches=["release/2.1"]).poll()
    assert fake.paths()[:2] == ["/repos/acme/widget/actions/workflows/ci.yml/runs", RUNS_PATH]
    # Nightly's release run (505) is not one of the configured workflows.
    assert [p.key for p in result.pipelines] == [
        "acme/widget:161335",
        "acme/widget:161335@release/2.1",
    ]


async def test_branch_patterns_against_the_simulator() -> None:
    from buildradiator.simulator import Simulator

    with Simulator() as sim:
        sim.set_time(40)
        client = HttpClient(httpx.AsyncClient())
        try:
            source = make(
                client,
                token=None,
                api_url=sim.base_url + "/github",
                repo="acme/monolith",
                branches=["feature/*"],
            )
            result = await source.poll()
        finally:
            await client.aclose()
    pipes = by_key(result.pipelines)
    feature = pipes["acme/monolith:61001@feature/login-sso"]
    assert feature.name == "acme/monolith (feature/login-sso)"
    assert feature.branch == "feature/login-sso"
    assert all(b.branch == "feature/login-sso" for b in feature.recent + feature.in_flight)
    assert all(b.branch == "main" for b in pipes["acme/monolith:61001"].recent)
