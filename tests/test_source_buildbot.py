"""The Buildbot source against a fake master speaking the REST API v2 shapes.

The fixtures under ``payloads/buildbot/`` are answers as a master sends them (``meta``, extra
fields, properties as ``{name: [value, source]}``); ``builds_linux.json`` holds one build of every
``results`` code plus one the docs do not know (9), and the odd property shapes real masters send.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import AuthFailed, BadPayload, NotFound
from buildradiator.model import Pipeline, Status
from buildradiator.sources.buildbot.config import BuildbotSource
from buildradiator.sources.buildbot.source import Buildbot, build_status, person
from buildradiator.sources.http import HttpClient
from buildradiator.sources.reading import from_epoch

PAYLOADS = Path(__file__).parent / "payloads" / "buildbot"
API = "/api/v2"
TOKEN = "bb-session-s3cr3t-0123456789"


def load(name: str) -> Any:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def bb_json(payload: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(payload).encode(), headers={"content-type": "application/json"}
    )


class FakeMaster:
    """Routes by path; anything unrouted is Buildbot's JSON 404. Records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def route(self, path: str, payload: Any, status: int = 200) -> None:
        self.routes[API + path] = lambda request: bb_json(payload, status)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        return handler(request) if handler else bb_json({"error": "not found"}, 404)

    def paths(self) -> list[str]:
        return [r.url.path.removeprefix(API) for r in self.requests]


def empty_builds() -> dict[str, Any]:
    return {"builds": [], "meta": {"total": 0}}


@pytest.fixture
def fake() -> FakeMaster:
    fake = FakeMaster()
    fake.route("/builders", load("builders"))
    fake.route("/builders/1/builds", load("builds_linux"))
    fake.route("/builders/2/builds", empty_builds())
    fake.route("/builders/3/builds", empty_builds())
    fake.route("/builds", load("builds_running"))
    fake.route("/buildrequests", load("buildrequests"))
    fake.route("/builds/117/changes", load("changes"))
    return fake


@pytest.fixture
async def http(fake: FakeMaster, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    yield client
    await client.aclose()


def make(http: HttpClient, *, token: str | None = None, **fields: Any) -> Buildbot:
    config: dict[str, Any] = {
        "type": "buildbot",
        "name": "farm",
        "url": "https://buildbot.acme.example",
        **fields,
    }
    if token is not None:
        config["token_env"] = "BUILDBOT_TOKEN"
        config["token"] = SecretStr(token)
    return Buildbot(BuildbotSource.model_validate(config), http)


def by_key(pipelines: tuple[Pipeline, ...]) -> dict[str, Pipeline]:
    return {p.key: p for p in pipelines}


def at(h: int, m: int, s: int = 0) -> datetime:
    return datetime(2026, 11, 26, h, m, s, tzinfo=UTC)


# --- the realistic payload --------------------------------------------------------------------


async def test_realistic_master(fake: FakeMaster, http: HttpClient) -> None:
    result = await make(http).poll()

    pipes = by_key(result.pipelines)
    assert list(pipes) == ["docs", "linux-x86_64", "macos-arm64"]
    linux = pipes["linux-x86_64"]
    assert linux.source == "farm" and linux.name == "linux-x86_64" and linux.branch is None
    assert linux.url == "https://buildbot.acme.example/#/builders/1"

    # SKIPPED (#16) is left out; every other code is shown as what it is.
    assert [(b.number, b.status, b.provider_status) for b in linux.recent] == [
        (20, Status.PASSED, "success"),
        (19, Status.PASSED, "warnings"),
        (18, Status.CANCELED, "retry"),
        (17, Status.FAILED, "failure"),
        (15, Status.FAILED, "exception"),
        (14, Status.CANCELED, "cancelled"),
        (13, Status.UNKNOWN, "result 9"),
        (12, Status.PASSED, "success"),
    ]
    newest = linux.recent[0]
    assert newest.id == "120" and newest.attempt == 1
    assert newest.author == "Alice Nguyen"  # from owners, the email cut off
    assert newest.commit == "e" * 40 and newest.branch == "main"
    assert newest.started_at == newest.created_at == at(11, 40)
    assert newest.finished_at == at(11, 45) and newest.duration_seconds == 300
    assert newest.url == "https://buildbot.acme.example/#/builders/1/builds/20"
    assert newest.stage is None

    # Who broke it: the change that was built (matched by revision), with its first line.
    failed = linux.recent[3]
    assert failed.author == "Chen Wei" and failed.message == "Port allocator to arm64"
    assert failed.commit == "b" * 40
    # got_revision per codebase: one of them stands for the build.
    assert linux.recent[4].commit == "a" * 40 and linux.recent[4].author is None
    # Properties in shapes the docs do not promise are ignored, not fatal.
    assert linux.recent[6].branch is None and linux.recent[6].commit is None
    assert linux.recent[7].branch == "release/1.x"

    # In flight: the waiting request first (newest), then the running builds, newest first.
    queued, running, rerun = linux.in_flight
    assert queued.status is Status.QUEUED and queued.stage == "waiting for a worker"
    assert queued.id == "request-1023" and queued.created_at == at(11, 59, 30)
    assert running.status is Status.RUNNING and running.stage == "running 'make test'"
    assert running.number == 22 and running.finished_at is None and running.author == "Bob Okafor"
    # #21 runs the request that #18 gave back with RETRY: the second attempt.
    assert rerun.number == 21 and rerun.attempt == 2 and rerun.stage == "compiling"

    assert [b.stage for b in pipes["macos-arm64"].in_flight] == ["starting"]
    assert pipes["docs"].recent == () and pipes["docs"].in_flight == ()
    assert result.summary == "3 builders, 3 running, 1 queued"


async def test_requests_sent(fake: FakeMaster, http: HttpClient) -> None:
    await make(http, builds=5, token=TOKEN).poll()
    builds = next(r for r in fake.requests if r.url.path == API + "/builders/1/builds")
    params = builds.url.params
    assert params["complete"] == "true" and params["order"] == "-number" and params["limit"] == "5"
    wanted = params.get_list("property")
    for name in ("got_revision", "branch", "owners", "event.change.author"):
        assert name in wanted
    running = next(r for r in fake.requests if r.url.path == API + "/builds")
    assert running.url.params["complete"] == "false"
    queued = next(r for r in fake.requests if r.url.path == API + "/buildrequests")
    assert queued.url.params["claimed"] == "false"
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake.requests)
    # One per builder, plus builders, running, requests, and the changes of failed/newest builds.
    assert fake.paths().count("/builders") == 1
    assert sorted(p for p in fake.paths() if p.endswith("/changes")) == [
        "/builds/115/changes",
        "/builds/117/changes",
        "/builds/120/changes",
    ]


async def test_changes_are_asked_once_per_finished_build(
    fake: FakeMaster, http: HttpClient
) -> None:
    source = make(http)
    await source.poll()
    fake.requests.clear()
    second = await source.poll()
    assert "/builds/117/changes" not in fake.paths()
    assert by_key(second.pipelines)["linux-x86_64"].recent[3].author == "Chen Wei"


# --- status vocabulary ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("results", "complete", "expected"),
    [
        (0, True, (Status.PASSED, "success")),
        (1, True, (Status.PASSED, "warnings")),
        (2, True, (Status.FAILED, "failure")),
        (3, True, None),
        (4, True, (Status.FAILED, "exception")),
        (5, True, (Status.CANCELED, "retry")),
        (6, True, (Status.CANCELED, "cancelled")),
        (7, True, (Status.UNKNOWN, "result 7")),
        (-1, True, (Status.UNKNOWN, "result -1")),
        (None, False, (Status.RUNNING, "building")),
        (None, True, (Status.UNKNOWN, "complete, no result")),
    ],
)
def test_every_results_code(
    results: int | None, complete: bool, expected: tuple[Status, str] | None
) -> None:
    assert build_status(results, complete, "whatever") == expected


# --- selection --------------------------------------------------------------------------------


async def test_builders_by_glob_and_tag(fake: FakeMaster, http: HttpClient) -> None:
    result = await make(http, builders=["*-arm64", "linux-*"]).poll()
    assert [p.key for p in result.pipelines] == ["linux-x86_64", "macos-arm64"]
    result = await make(http, tags=["macos"]).poll()
    assert [p.key for p in result.pipelines] == ["macos-arm64"]
    fake.requests.clear()
    result = await make(http, builders=["win-*"]).poll()
    assert result.pipelines == () and result.summary == "no builder matches win-*"
    assert fake.paths() == ["/builders"]


async def test_a_builder_that_does_not_exist_is_named(http: HttpClient) -> None:
    with pytest.raises(NotFound) as caught:
        await make(http, builders=["linux-x86_64", "freebsd"]).poll()
    assert str(caught.value) == (
        "builder freebsd not found on Buildbot at buildbot.acme.example "
        "(builders: docs, linux-x86_64, macos-arm64)"
    )


async def test_branch_filter_from_the_branch_property(fake: FakeMaster, http: HttpClient) -> None:
    result = await make(http, builders=["linux-x86_64"], branch="release/1.x").poll()
    (linux,) = result.pipelines
    assert [b.number for b in linux.recent] == [12]
    assert linux.branch == "release/1.x"
    assert linux.in_flight == ()  # running builds are on main; a waiting request has no branch


# --- odd answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        (1795690800, datetime(2026, 11, 26, 11, tzinfo=UTC)),
        (1795690800.25, datetime(2026, 11, 26, 11, 0, 0, 250000, tzinfo=UTC)),
        (1795690800000, datetime(2026, 11, 26, 11, tzinfo=UTC)),  # milliseconds after all
        (0, None),
        (None, None),
        (1e30, None),
    ],
)
def test_epoch_seconds_and_milliseconds(stamp: float | None, expected: datetime | None) -> None:
    assert from_epoch(stamp) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Dana Smith <dana@acme.example>", "Dana Smith"),
        (["", "Bob <bob@x>"], "Bob"),
        ("<ci@acme.example>", "ci@acme.example"),
        ("plain", "plain"),
        ([], None),
        (42, None),
        (None, None),
    ],
)
def test_people(value: Any, expected: str | None) -> None:
    assert person(value) == expected


async def test_nulls_missing_fields_and_strange_values(fake: FakeMaster, http: HttpClient) -> None:
    fake.route(
        "/builds/1/changes",
        {"changes": [{"author": None, "comments": None, "revision": None}], "meta": {}},
    )
    fake.route(
        "/builders/1/builds",
        {
            "builds": [
                {"buildid": 1, "number": None, "results": 2, "complete": True, "extra": [1]},
                {
                    "buildid": 2,
                    "number": "7",
                    "results": "0",
                    "complete": True,
                    "started_at": "soon",
                    "complete_at": 1795690800000,
                    "properties": None,
                    "state_string": None,
                },
                {"buildid": 2, "number": 7, "results": 0, "complete": True},
            ]
        },
    )
    fake.route("/builds", {"builds": [], "meta": {"total": 0}})
    linux = by_key((await make(http).poll()).pipelines)["linux-x86_64"]
    assert [(b.id, b.number, b.status) for b in linux.recent] == [
        ("2", 7, Status.PASSED),
        ("1", None, Status.FAILED),
    ]
    assert linux.recent[0].finished_at == datetime(2026, 11, 26, 11, tzinfo=UTC)
    assert linux.recent[0].started_at is None
    assert linux.recent[1].url is None and linux.recent[1].author is None


async def test_untrusted_text_from_changes(fake: FakeMaster, http: HttpClient) -> None:
    changes = load("changes")
    changes["changes"][1]["comments"] = "Fix \x1b]8;;http://evil\x07link\x1b]8;;\x07 [red]now[/]"
    changes["changes"][1]["author"] = "Eve\u202e <eve@x>"
    fake.route("/builds/117/changes", changes)
    linux = by_key((await make(http).poll()).pipelines)["linux-x86_64"]
    assert linux.recent[3].message == "Fix link [red]now[/]"
    assert linux.recent[3].author == "Eve"


async def test_builders_pagination_that_ends_early(fake: FakeMaster, http: HttpClient) -> None:
    first = load("builders")
    first["meta"]["total"] = 40  # promises more than it sends...
    pages: list[httpx.Request] = []

    def builders(request: httpx.Request) -> httpx.Response:
        pages.append(request)
        # ...and the next page is empty.
        return bb_json(first if "offset" not in request.url.params else {"builders": []})

    fake.routes[API + "/builders"] = builders
    result = await make(http).poll()
    assert len(result.pipelines) == 3
    assert [r.url.params.get("offset") for r in pages] == [None, "3"]


async def test_missing_optional_endpoints_lose_only_their_part(
    fake: FakeMaster, http: HttpClient
) -> None:
    del fake.routes[API + "/buildrequests"]
    del fake.routes[API + "/builds/117/changes"]
    linux = by_key((await make(http).poll()).pipelines)["linux-x86_64"]
    assert [b.status for b in linux.in_flight] == [Status.RUNNING, Status.RUNNING]
    assert linux.recent[3].status is Status.FAILED and linux.recent[3].author is None


# --- errors -----------------------------------------------------------------------------------


async def test_no_api_under_the_url(fake: FakeMaster, http: HttpClient) -> None:
    fake.routes.clear()
    with pytest.raises(NotFound) as caught:
        await make(http).poll()
    assert "the builders list not found on Buildbot at buildbot.acme.example" in str(caught.value)
    assert "is url the Buildbot root" in str(caught.value)


async def test_login_required_and_access_denied(fake: FakeMaster, http: HttpClient) -> None:
    fake.route("/builders", {"error": "unauthorized"}, 401)
    with pytest.raises(AuthFailed, match=r"asked for a login \(HTTP 401\).*set token_env"):
        await make(http).poll()
    fake.route("/builders", {"error": "forbidden"}, 403)
    with pytest.raises(AuthFailed) as caught:
        await make(http, token=TOKEN).poll()
    assert "denied access to the builders list (HTTP 403)" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_html_and_wrong_shapes_are_bad_payloads(fake: FakeMaster, http: HttpClient) -> None:
    fake.routes[API + "/builders"] = lambda r: httpx.Response(
        200, content=b"<!DOCTYPE html><html><body>Buildbot login</body></html>"
    )
    with pytest.raises(BadPayload, match="HTML page"):
        await make(http).poll()
    fake.route("/builders", {"builders": [{"name": "no id"}]})
    with pytest.raises(BadPayload, match="builderid"):
        await make(http).poll()
    broken = copy.deepcopy(load("builds_linux"))
    broken["builds"] = {"not": "a list"}
    fake.route("/builders", load("builders"))
    fake.route("/builders/1/builds", broken)
    with pytest.raises(BadPayload, match="builds"):
        await make(http).poll()
