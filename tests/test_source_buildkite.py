"""The Buildkite source against a fake Buildkite speaking the documented REST v2 shapes.

The fixtures under ``payloads/buildkite/`` are full build and pipeline objects as the API returns
them (extra fields included); tests copy and bend them into the odd answers real servers send.
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
from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited, ServerError
from buildradiator.model import Status
from buildradiator.sources.buildkite import source as bk
from buildradiator.sources.buildkite.config import BuildkiteSource
from buildradiator.sources.buildkite.source import Buildkite, build_status
from buildradiator.sources.http import HttpClient

PAYLOADS = Path(__file__).parent / "payloads" / "buildkite"
TOKEN = "bkua_s3cr3tT0kenValue0123456789abcdef"
ORG = "/v2/organizations/acme"
BUILDS = f"{ORG}/pipelines/payments-api/builds"
LIST = f"{ORG}/pipelines"
RATE = {
    "ratelimit-remaining": "180",
    "ratelimit-limit": "200",
    "ratelimit-reset": "42",
}


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def bk_json(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(payload).encode(),
        headers={"content-type": "application/json; charset=utf-8", **RATE, **headers},
    )


def one_build(index: int = 3, **fields: Any) -> dict[str, Any]:
    """A build of the fixture (default #1042, passed after a retry) with fields replaced."""
    build = copy.deepcopy(load("builds.json")[index])
    build.update(fields)
    return build


class FakeBuildkite:
    """Routes by path; anything unrouted is Buildkite's 404. Records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def route(self, path: str, payload: Any = None, **headers: str) -> None:
        self.routes[path] = lambda request: bk_json(payload, **headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        return handler(request) if handler else bk_json({"message": "No pipeline found"}, 404)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


@pytest.fixture
def fake() -> FakeBuildkite:
    fake = FakeBuildkite()
    fake.route(BUILDS, load("builds.json"), etag='W/"builds-v1"')
    return fake


@pytest.fixture
async def http(fake: FakeBuildkite, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    yield client
    await client.aclose()


def make(http: HttpClient, *, token: str | None = TOKEN, **fields: Any) -> Buildkite:
    config: dict[str, Any] = {
        "type": "buildkite",
        "name": "bk",
        "organization": "acme",
        "pipelines": ["payments-api"],
        **fields,
    }
    if token is not None:
        config.setdefault("token_env", "BUILDKITE_TOKEN")
        config["token"] = SecretStr(token)
    return Buildkite(BuildkiteSource.model_validate(config), http)


# --- the realistic payload --------------------------------------------------------------------


async def test_realistic_builds_become_one_pipeline(fake: FakeBuildkite, http: HttpClient) -> None:
    result = await make(http).poll()
    (pipe,) = result.pipelines
    assert pipe.key == "acme/payments-api"
    assert pipe.name == "Payments API"  # from the build's pipeline object
    assert pipe.url == "https://buildkite.com/acme/payments-api"
    assert pipe.branch == "main"
    # The skipped #1041 says nothing about the branch and is left out.
    assert [b.number for b in pipe.recent] == [1044, 1043, 1042, 1040, 1039]
    assert [b.number for b in pipe.in_flight] == [1045]
    assert pipe.status is Status.FAILED
    assert result.summary == "1 pipeline, 1 in flight"

    failed = pipe.recent[0]
    assert failed.id == "0190-build-1044"
    assert failed.status is Status.FAILED
    assert failed.provider_status == "failed"
    assert failed.author == "Priya Raman"
    assert failed.message == "Upgrade React to 19"
    assert failed.commit == "c" * 40
    assert failed.branch == "main"
    assert failed.url == "https://buildkite.com/acme/payments-api/builds/1044"
    assert failed.attempt == 1
    # -08:00 offset with seven fraction digits; one fraction digit; six.
    assert failed.created_at == datetime(2026, 11, 26, 11, 40, 0, 123456, tzinfo=UTC)
    assert failed.started_at == datetime(2026, 11, 26, 11, 40, 5, 500000, tzinfo=UTC)
    assert failed.finished_at == datetime(2026, 11, 26, 11, 52, 10, 123456, tzinfo=UTC)

    running = pipe.in_flight[0]
    assert running.status is Status.RUNNING
    assert running.provider_status == "running"
    assert running.finished_at is None
    assert running.stage == ":rspec: Unit, Integration"
    assert running.author == "Tomás Ortega"


async def test_blocked_build_keeps_its_state_and_says_so(http: HttpClient) -> None:
    (pipe,) = (await make(http).poll()).pipelines
    blocked = next(b for b in pipe.recent if b.number == 1043)
    assert blocked.status is Status.PASSED
    assert blocked.provider_status == "blocked (waiting for unblock)"
    assert blocked.finished_at == datetime(2026, 11, 26, 11, 31, tzinfo=UTC)


async def test_retried_job_makes_a_green_build_attempt_two(http: HttpClient) -> None:
    (pipe,) = (await make(http).poll()).pipelines
    retried = next(b for b in pipe.recent if b.number == 1042)
    assert retried.status is Status.PASSED
    assert retried.attempt == 2
    # The soft-failed job is noted, like an allowed failure.
    assert retried.provider_status == "passed with soft failures: Visual diff"


async def test_rebuild_is_a_second_attempt_and_author_falls_back(http: HttpClient) -> None:
    (pipe,) = (await make(http).poll()).pipelines
    builds = {b.number: b for b in pipe.recent}
    assert builds[1039].attempt == 2  # rebuilt_from #1038
    assert builds[1039].provider_status == "passed"
    canceled = builds[1040]
    assert canceled.status is Status.CANCELED
    assert canceled.author == "Sam Lee"  # creator: null -> the commit author
    assert canceled.created_at == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


async def test_retries_counted_per_step_when_counts_are_missing(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    build = one_build()
    first = copy.deepcopy(build["jobs"][0])
    second = dict(first, id="second-retry")
    build["jobs"] = [first, second, build["jobs"][1] | {"retries_count": None}]
    fake.route(BUILDS, [build])
    (pipe,) = (await make(http).poll()).pipelines
    assert pipe.recent[0].attempt == 3


@pytest.mark.parametrize(
    ("state", "finished", "expected", "word"),
    [
        ("passed", True, Status.PASSED, "passed"),
        ("failed", True, Status.FAILED, "failed"),
        ("canceled", True, Status.CANCELED, "canceled"),
        ("waiting_failed", True, Status.FAILED, "waiting_failed"),
        ("scheduled", False, Status.QUEUED, "scheduled"),
        ("creating", False, Status.QUEUED, "creating"),
        ("waiting", False, Status.QUEUED, "waiting"),
        ("running", False, Status.RUNNING, "running"),
        ("failing", False, Status.RUNNING, "failing"),
        ("canceling", False, Status.RUNNING, "canceling"),
        ("blocked", True, Status.PASSED, "blocked (waiting for unblock)"),
        ("exploded_gently", True, Status.UNKNOWN, "exploded_gently"),
        ("exploded_gently", False, Status.QUEUED, "exploded_gently"),
        (None, True, Status.UNKNOWN, None),
        (None, False, Status.QUEUED, None),
    ],
)
async def test_every_build_state(
    fake: FakeBuildkite,
    http: HttpClient,
    state: str | None,
    finished: bool,
    expected: Status,
    word: str | None,
) -> None:
    build = one_build(state=state, finished_at="2026-11-26T10:20:00Z" if finished else None)
    build["jobs"] = [j for j in build["jobs"] if not j.get("soft_failed")]
    fake.route(BUILDS, [build])
    (pipe,) = (await make(http).poll()).pipelines
    (got,) = pipe.recent + pipe.in_flight
    assert got.status is expected
    assert got.provider_status == word
    assert (got in pipe.in_flight) is expected.in_flight


@pytest.mark.parametrize("state", ["skipped", "not_run"])
async def test_skipped_and_not_run_builds_are_left_out(
    fake: FakeBuildkite, http: HttpClient, state: str
) -> None:
    fake.route(BUILDS, [one_build(state=state)])
    result = await make(http).poll()
    assert result.pipelines == ()
    assert result.summary == "0 pipelines, 0 in flight; no builds on main in payments-api"


@pytest.mark.parametrize(
    ("state", "blocked_state", "expected", "word"),
    [
        ("blocked", None, Status.PASSED, "blocked (waiting for unblock)"),
        ("blocked", "failed", Status.FAILED, "failed, blocked (waiting for unblock)"),
        ("blocked", "running", Status.RUNNING, "running, blocked (waiting for unblock)"),
        ("failed", None, Status.FAILED, "failed, blocked (waiting for unblock)"),
        ("passed", "failed", Status.PASSED, "blocked (waiting for unblock)"),
    ],
)
def test_blocked_mapping(
    state: str, blocked_state: str | None, expected: Status, word: str
) -> None:
    assert build_status(state, True, blocked_state, True) == (expected, word)


async def test_blocked_in_flight_names_the_block_step(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    build = one_build(2, state="blocked", blocked_state="running", finished_at=None)
    fake.route(BUILDS, [build])
    (pipe,) = (await make(http).poll()).pipelines
    (got,) = pipe.in_flight
    assert got.stage == "waiting for unblock: Deploy to production"


async def test_stage_names_waiting_job_and_caps_running_ones(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    waiting = one_build(0)
    for job in waiting["jobs"]:
        if job["state"] == "running":
            job["state"] = "passed"
    waiting["jobs"][-1]["state"] = "scheduled"
    many = one_build(0, id="many", number=1046, created_at="2026-11-26T11:59:00Z")
    many["jobs"] = [
        dict(many["jobs"][1], id=f"j{i}", name=f"shard {i}", state="running") for i in range(5)
    ]
    fake.route(BUILDS, [waiting, many])
    (pipe,) = (await make(http).poll()).pipelines
    assert [b.stage for b in pipe.in_flight] == ["shard 0, shard 1, shard 2 +2 more", "Deploy"]


# --- requests and pipelines -------------------------------------------------------------------


async def test_requests_carry_params_and_bearer_token(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    await make(http, per_page=50, branch="release").poll()
    (request,) = fake.requests
    assert request.url.host == "api.buildkite.com"
    assert request.url.path == BUILDS
    assert dict(request.url.params) == {
        "branch": "release",
        "per_page": "50",
        "include_retried_jobs": "true",
    }
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_plain_slugs_need_no_listing(fake: FakeBuildkite, http: HttpClient) -> None:
    fake.route(f"{ORG}/pipelines/web-frontend/builds", [one_build(0)])
    result = await make(http, pipelines=["payments-api", "web-frontend", "payments-api"]).poll()
    assert fake.paths() == [BUILDS, f"{ORG}/pipelines/web-frontend/builds"]
    assert [p.key for p in result.pipelines] == ["acme/payments-api", "acme/web-frontend"]


async def test_patterns_list_every_page_and_match_slug_or_name(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    page2 = f"https://api.buildkite.com{LIST}?page=2&per_page=100"

    def listing(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            return bk_json(load("pipelines-page2.json"))
        return bk_json(load("pipelines.json"), link=f'<{page2}>; rel="next", <{page2}>; rel="last"')

    fake.routes[LIST] = listing
    fake.route(f"{ORG}/pipelines/payments-worker/builds", [])
    fake.route(f"{ORG}/pipelines/mobile-ios/builds", [one_build(0, pipeline=None)])
    result = await make(http, pipelines=["payments-*", "Mobile*", "nothing-*"]).poll()

    assert [str(r.url) for r in fake.requests[:2]] == [
        f"https://api.buildkite.com{LIST}?per_page=100",
        page2,
    ]
    assert fake.paths()[2:] == [
        BUILDS,
        f"{ORG}/pipelines/payments-worker/builds",
        f"{ORG}/pipelines/mobile-ios/builds",
    ]
    mobile = {p.key: p for p in result.pipelines}["acme/mobile-ios"]
    assert mobile.name == "Mobile iOS"  # the listing's name
    assert mobile.url == "https://buildkite.com/acme/mobile-ios"
    assert result.summary == (
        "2 pipelines, 2 in flight; no pipeline matches nothing-*;"
        " no builds on main in payments-worker"
    )


async def test_no_pipelines_means_all_and_listing_that_ends_early(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    def listing(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            return bk_json([])  # the "next" page is empty: the listing ends there
        nxt = f"https://api.buildkite.com{LIST}?page=2&per_page=100"
        return bk_json([load("pipelines.json")[0]], link=f'<{nxt}>; rel="next"')

    fake.routes[LIST] = listing
    result = await make(http, pipelines=[]).poll()
    assert fake.paths() == [LIST, LIST, BUILDS]
    assert [p.key for p in result.pipelines] == ["acme/payments-api"]


async def test_next_link_to_another_host_is_not_followed(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    fake.route(
        LIST, [load("pipelines.json")[0]], link='<https://evil.example/steal?page=2>; rel="next"'
    )
    await make(http, pipelines=[]).poll()
    assert [r.url.host for r in fake.requests] == ["api.buildkite.com"] * 2


async def test_next_link_that_drops_https_is_not_followed(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    # The same host over plain http would carry the token in clear text.
    nxt = f"http://api.buildkite.com{LIST}?page=2"
    fake.route(LIST, [load("pipelines.json")[0]], link=f'<{nxt}>; rel="next"')
    await make(http, pipelines=[]).poll()
    assert [r.url.scheme for r in fake.requests] == ["https"] * 2
    assert fake.paths() == [LIST, BUILDS]


async def test_listing_and_pipelines_are_capped(
    fake: FakeBuildkite, http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bk, "MAX_PIPELINES", 2)
    monkeypatch.setattr(bk, "MAX_LIST_PAGES", 3)
    counter = iter(range(100))

    def endless(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        item = dict(load("pipelines.json")[0], slug=f"p{n}", name=f"P{n}")
        nxt = f"https://api.buildkite.com{LIST}?page={n + 2}"
        return bk_json([item], link=f'<{nxt}>; rel="next"')

    fake.routes[LIST] = endless
    for n in range(3):
        fake.route(f"{ORG}/pipelines/p{n}/builds", [one_build()])
    result = await make(http, pipelines=[]).poll()
    assert fake.paths().count(LIST) == 3
    assert [p.key for p in result.pipelines] == ["acme/p0", "acme/p1"]
    assert "watching the first 2 of 3 pipelines" in result.summary


async def test_second_poll_is_conditional(fake: FakeBuildkite, http: HttpClient) -> None:
    def conditional(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == 'W/"builds-v1"':
            return httpx.Response(304, headers={**RATE, "etag": 'W/"builds-v1"'})
        return bk_json(load("builds.json"), etag='W/"builds-v1"')

    fake.routes[BUILDS] = conditional
    source = make(http)
    first = await source.poll()
    second = await source.poll()
    assert [r.headers.get("if-none-match") for r in fake.requests] == [None, 'W/"builds-v1"']
    assert second == first


# --- rate limits ------------------------------------------------------------------------------


async def test_the_tighter_of_both_rate_header_sets_is_kept(
    fake: FakeBuildkite, http: HttpClient, clock: FakeClock
) -> None:
    user = {
        "ratelimit-user-remaining": "7",
        "ratelimit-user-limit": "50",
        "ratelimit-user-reset": "9",
    }
    fake.route(BUILDS, load("builds.json"), **user)
    await make(http).poll()
    rate = http.budget("https://api.buildkite.com/", bk.BUILDKITE_BOTH_RATE).rate
    assert rate is not None
    assert (rate.remaining, rate.limit) == (7, 50)
    assert rate.reset_at == clock.now() + timedelta(seconds=9)

    fake.route(BUILDS, load("builds.json"), **{"ratelimit-user-remaining": "190"})
    await make(http).poll()
    rate = http.budget("https://api.buildkite.com/", bk.BUILDKITE_BOTH_RATE).rate
    assert rate is not None
    assert (rate.remaining, rate.limit) == (180, 200)
    assert rate.reset_at == clock.now() + timedelta(seconds=42)


async def test_429_with_spent_quota_headers_waits_for_reset(
    fake: FakeBuildkite, http: HttpClient, clock: FakeClock
) -> None:
    fake.routes[BUILDS] = lambda request: bk_json(
        {"message": "You have hit the rate limit", "reset": 999},
        429,
        **{"ratelimit-remaining": "0", "ratelimit-reset": "17"},
    )
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    assert caught.value.retry_at == clock.now() + timedelta(seconds=17)
    assert "HTTP 429" in str(caught.value)


async def test_429_with_only_the_json_reset(
    fake: FakeBuildkite, http: HttpClient, clock: FakeClock
) -> None:
    fake.routes[BUILDS] = lambda request: httpx.Response(
        429, json={"message": "You have exceeded your number of allowed requests.", "reset": 23}
    )
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    expected = clock.now() + timedelta(seconds=23)
    assert caught.value.retry_at == expected
    assert f"until {expected:%H:%M:%S} UTC" in str(caught.value)
    # The whole host now waits: the next poll does not touch the network.
    with pytest.raises(RateLimited):
        await make(http).poll()
    assert len(fake.requests) == 1
    clock.advance(24)
    fake.route(BUILDS, load("builds.json"))
    assert (await make(http).poll()).pipelines


async def test_429_retry_after_wins_and_plain_text_body_is_fine(
    fake: FakeBuildkite, http: HttpClient, clock: FakeClock
) -> None:
    fake.routes[BUILDS] = lambda request: httpx.Response(
        429, text="Retry later", headers={"retry-after": "5"}
    )
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    assert caught.value.retry_at == clock.now() + timedelta(seconds=5)


async def test_429_without_any_time(fake: FakeBuildkite, http: HttpClient) -> None:
    fake.routes[BUILDS] = lambda request: httpx.Response(429, text="<html>slow down</html>")
    with pytest.raises(RateLimited) as caught:
        await make(http).poll()
    assert caught.value.retry_at is None
    assert str(caught.value) == "rate limited by api.buildkite.com (HTTP 429)"


async def test_403_with_rate_limit_words_is_a_rate_limit(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    fake.routes[BUILDS] = lambda request: bk_json(
        {"message": "API rate limit exceeded"}, 403, **{"retry-after": "30"}
    )
    with pytest.raises(RateLimited):
        await make(http).poll()


# --- errors -----------------------------------------------------------------------------------


async def test_403_names_pipeline_scope_and_token_origin(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    fake.routes[BUILDS] = lambda request: bk_json({"message": "Forbidden"}, 403)
    with pytest.raises(AuthFailed) as caught:
        await make(http).poll()
    message = str(caught.value)
    assert "pipeline payments-api of organization acme" in message
    assert "read_builds" in message and "$BUILDKITE_TOKEN" in message
    assert TOKEN not in message


async def test_403_on_listing_names_read_pipelines(fake: FakeBuildkite, http: HttpClient) -> None:
    fake.routes[LIST] = lambda request: bk_json({"message": "Forbidden"}, 403)
    with pytest.raises(AuthFailed, match="read_pipelines"):
        await make(http, pipelines=["pay*"]).poll()


async def test_401_names_where_the_token_came_from(fake: FakeBuildkite, http: HttpClient) -> None:
    fake.routes[BUILDS] = lambda request: bk_json(
        {"message": "Authentication required. Please supply a valid API Access Token"}, 401
    )
    with pytest.raises(AuthFailed) as caught:
        await make(http).poll()
    assert str(caught.value).startswith(
        "api.buildkite.com refused the token from $BUILDKITE_TOKEN (HTTP 401)"
    )
    assert TOKEN not in str(caught.value)


async def test_401_without_token_says_to_configure_one(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    fake.routes[BUILDS] = lambda request: bk_json({"message": "Authentication required"}, 401)
    with pytest.raises(AuthFailed, match="token_env"):
        await make(http, token=None).poll()
    assert "authorization" not in fake.requests[0].headers


async def test_404_names_pipeline_and_organization(http: HttpClient) -> None:
    with pytest.raises(NotFound) as caught:
        await make(http, pipelines=["nope"]).poll()
    assert str(caught.value) == (
        "pipeline nope of organization acme not found on api.buildkite.com"
        " (or the token cannot see it)"
    )


async def test_404_of_the_organization_when_listing(http: HttpClient) -> None:
    with pytest.raises(NotFound, match=r"^organization acme not found"):
        await make(http, pipelines=[]).poll()


async def test_html_502_is_a_server_error(fake: FakeBuildkite, http: HttpClient) -> None:
    fake.routes[BUILDS] = lambda request: httpx.Response(
        502, text="<!DOCTYPE html><html><body>Bad gateway</body></html>"
    )
    with pytest.raises(ServerError, match="HTML"):
        await make(http).poll()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!DOCTYPE html><html><body>Sign in with SSO</body></html>", "HTML"),
        (b'[{"id": "0190-build-1", "state": "pas', "invalid JSON"),
        (b'{"message": "Moved"}', "unexpected payload"),
        (b'[{"number": 1}]', "0.id"),
        (b'[{"id": "x", "jobs": "none"}]', "0.jobs"),
        (b"", "empty"),
    ],
    ids=["html-200", "truncated", "object", "no-id", "jobs-string", "empty"],
)
async def test_bad_payloads(fake: FakeBuildkite, http: HttpClient, body: bytes, words: str) -> None:
    fake.routes[BUILDS] = lambda request: httpx.Response(200, content=body)
    with pytest.raises(BadPayload) as caught:
        await make(http).poll()
    assert words in str(caught.value)


async def test_nulls_extra_fields_and_wrong_types_do_not_fail(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    build = one_build(
        number=None,
        creator=None,
        author=None,
        message=None,
        commit=None,
        created_at="yesterday-ish",
        started_at=12345,
        scheduled_at=["not", "a", "time"],
        finished_at=None,
        blocked=None,
        rebuilt_from=None,
        jobs=None,
        web_url=None,
        pipeline={"slug": None},
        brand_new_field={"nested": [1, 2]},
    )
    build["state"] = "passed"
    fake.route(BUILDS, [build, {"id": "bare"}])
    (pipe,) = (await make(http).poll()).pipelines
    passed = pipe.recent[0]
    assert passed.status is Status.PASSED
    assert (passed.author, passed.message, passed.number, passed.url) == (None, None, None, None)
    assert (passed.created_at, passed.started_at, passed.finished_at) == (None, None, None)
    assert passed.attempt == 1
    assert pipe.name == "payments-api"  # no name anywhere: the slug
    assert pipe.url == "https://buildkite.com/acme/payments-api"
    (bare,) = pipe.in_flight  # no state, no finish: in flight, not a crash
    assert bare.status is Status.QUEUED


async def test_escape_sequences_are_removed_and_markup_stays_literal(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    build = one_build(
        message="\x1b[31mFix\x1b[0m \x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\"
        " [bold]markup[/] \u202edone\nsecond line",
        creator={"name": "Mal\x1b[2K\x1b[1Alory"},
        web_url="https://buildkite.com/acme/x\x1b]8;;",
        pipeline={"name": "Pay\x1b[5mments", "web_url": "javascript:alert(1)"},
    )
    fake.route(BUILDS, [build])
    (pipe,) = (await make(http).poll()).pipelines
    got = pipe.recent[0]
    assert got.message == "Fix link [bold]markup[/] done"
    assert got.author == "Mallory"
    assert got.url is None
    assert pipe.name == "Payments"
    assert pipe.url == "https://buildkite.com/acme/payments-api"  # javascript: is not a link


async def test_self_hosted_api_url_builds_urls_and_no_guessed_web_page(
    fake: FakeBuildkite, http: HttpClient
) -> None:
    build = one_build(pipeline=None)
    fake.routes.clear()
    fake.route("/bk" + BUILDS, [build])
    (pipe,) = (await make(http, api_url="http://127.0.0.1:9/bk/").poll()).pipelines
    assert str(fake.requests[0].url).startswith("http://127.0.0.1:9/bk/v2/organizations/acme/")
    assert pipe.url is None
