"""The providers' own flaky-test lists: CircleCI's flaky-tests insight and Buildkite Test Engine.

The fakes answer in the documented shapes (CircleCI: kebab-case keys as the API reference and its
generated clients spell them; Buildkite: the Tests API with ``label=flaky`` and the deprecated
``flaky-tests`` list with its counts), bent into the odd answers real servers send. Whatever the
lists say or fail to say, the builds read in the same poll stay intact.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.model import SourceResult
from buildradiator.sources.buildkite.config import BuildkiteSource
from buildradiator.sources.buildkite.source import Buildkite
from buildradiator.sources.circleci.config import CircleCISource
from buildradiator.sources.circleci.source import CircleCI
from buildradiator.sources.http import HttpClient

Handler = Callable[[httpx.Request], httpx.Response]


def answer(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.Response(
        status, content=body, headers={"content-type": "application/json", **headers}
    )


class Fake:
    """Routes by path (a handler, or a fixed answer); anything else is a 404. Records requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[httpx.Request] = []

    def route(self, path: str, payload: Any, status: int = 200, **headers: str) -> None:
        self.routes[path] = lambda request: answer(payload, status, **headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        return handler(request) if handler else answer({"message": "Not Found"}, 404)

    def count(self, fragment: str) -> int:
        return sum(1 for r in self.requests if fragment in r.url.path)


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture
async def http(fake: Fake, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    yield client
    await client.aclose()


# === CircleCI ====================================================================================

SLUG = "gh/acme/api"
INSIGHT = f"/api/v2/insights/{SLUG}/flaky-tests"
CC_TOKEN = "CCIPAT_s3cr3tT0kenValue_0123456789"


def circle_project(fake: Fake, workflows: tuple[str, ...] = ("build-test", "deploy")) -> None:
    """One green pipeline on main with the named workflows."""
    fake.route(
        f"/api/v2/project/{SLUG}/pipeline",
        {
            "items": [
                {
                    "id": "pipe-7",
                    "number": 7,
                    "state": "created",
                    "created_at": "2026-11-26T11:00:00.000Z",
                    "updated_at": "2026-11-26T11:00:01.000Z",
                    "trigger": {"type": "webhook", "actor": {"login": "erin"}},
                    "vcs": {"revision": "a" * 40, "branch": "main", "commit": {"subject": "x"}},
                }
            ],
            "next_page_token": None,
        },
    )
    fake.route(
        "/api/v2/pipeline/pipe-7/workflow",
        {
            "items": [
                {
                    "id": f"wf-{name}",
                    "name": name,
                    "status": "success",
                    "created_at": "2026-11-26T11:00:02Z",
                    "stopped_at": "2026-11-26T11:05:00Z",
                    "pipeline_number": 7,
                }
                for name in workflows
            ],
            "next_page_token": None,
        },
    )


def flaky(test: str, times: int | None = 3, **fields: Any) -> dict[str, Any]:
    """One entry as the API reference documents it (kebab-case), plus fields replaced."""
    body: dict[str, Any] = {
        "time-wasted": 612,
        "workflow-created-at": "2026-11-26T03:00:05.1234567-08:00",
        "classname": "com.acme.api.OrdersTest",
        "job-number": 1234,
        "times-flaked": times,
        "source": "junit",
        "pipeline-number": 7,
        "file": "src/test/kotlin/com/acme/api/OrdersTest.kt",
        "workflow-name": "build-test",
        "job-name": "unit",
        "workflow-id": "5034460f-c7c4-4c43-9457-de07e2029e7b",
        "test-name": test,
        "a-field-added-later": {"nested": True},
    }
    body.update(fields)
    return body


def circle(http: HttpClient, **fields: Any) -> CircleCI:
    config: dict[str, Any] = {
        "type": "circleci",
        "name": "cc",
        "projects": [SLUG],
        "token_env": "CIRCLE_TOKEN",
        "token": SecretStr(CC_TOKEN),
        **fields,
    }
    return CircleCI(CircleCISource.model_validate(config), http)


async def test_the_insight_becomes_flakes_of_the_workflow_rows(
    fake: Fake, http: HttpClient
) -> None:
    circle_project(fake)
    fake.route(
        INSIGHT,
        {
            "flaky-tests": [
                flaky("creates an order", 5),
                flaky("cancels", 2, **{"job-name": "it"}),
            ],
            "total-flaky-tests": 2,
        },
    )
    result = await circle(http).poll()

    keys = {p.key for p in result.pipelines}
    assert keys == {f"{SLUG}:build-test", f"{SLUG}:deploy"}
    first, second = result.flaky_reports
    # The same key as the row of its workflow: the panel and the row's detail view agree.
    assert first.pipeline == f"{SLUG}:build-test" and first.pipeline in keys
    assert (first.source, first.classname, first.name) == (
        "cc",
        "com.acme.api.OrdersTest",
        "creates an order",
    )
    assert (first.times_flaked, first.job) == (5, "unit")
    assert first.last_seen == datetime(2026, 11, 26, 11, 0, 5, 123456, tzinfo=UTC)
    assert first.url == (
        "https://app.circleci.com/pipelines/gh/acme/api/7/workflows/"
        "5034460f-c7c4-4c43-9457-de07e2029e7b/jobs/1234"
    )
    assert (second.name, second.times_flaked, second.job) == ("cancels", 2, "it")
    assert result.summary.endswith("; 2 flaky tests (insights)")
    [request] = [r for r in fake.requests if r.url.path == INSIGHT]
    assert request.headers["Circle-Token"] == CC_TOKEN
    assert CC_TOKEN not in result.summary


async def test_snake_case_keys_are_read_too(fake: Fake, http: HttpClient) -> None:
    circle_project(fake)
    entry = {k.replace("-", "_"): v for k, v in flaky("snake", 4).items()}
    fake.route(INSIGHT, {"flaky_tests": [entry], "total_flaky_tests": 1})
    (flake,) = (await circle(http).poll()).flaky_reports
    assert (flake.name, flake.times_flaked, flake.job) == ("snake", 4, "unit")
    assert flake.pipeline == f"{SLUG}:build-test"
    assert flake.url is not None and flake.url.endswith("/jobs/1234")


@pytest.mark.parametrize(
    "payload", [{"flaky-tests": [], "total-flaky-tests": 0}, {"flaky-tests": None}]
)
async def test_an_empty_or_null_list_means_no_flakes(
    fake: Fake, http: HttpClient, payload: dict[str, Any]
) -> None:
    circle_project(fake)
    fake.route(INSIGHT, payload)
    result = await circle(http).poll()
    assert result.flaky_reports == ()
    assert len(result.pipelines) == 2
    assert "flaky" not in result.summary


async def test_nulls_odd_types_and_broken_entries(fake: Fake, http: HttpClient) -> None:
    circle_project(fake, workflows=("build-test",))
    fake.route(
        INSIGHT,
        {
            "flaky-tests": [
                # Null count, null workflow (the project's only row), null classname (the file).
                flaky("null fields", None, classname=None, **{"workflow-name": None}),
                # Counts of the wrong type or out of range count once; a float count is whole.
                flaky("string count", "7"),  # type: ignore[arg-type]
                flaky("negative count", -3),
                flaky("float count", 2.0),  # type: ignore[arg-type]
                # Without a name it cannot be ranked: left out, alone.
                flaky("", 9),
                flaky("x", 9, **{"test-name": None}),
                "not an object",
                None,
                # Without a pipeline number no link can be made; the flake still counts.
                flaky("no link", 1, **{"pipeline-number": None, "workflow-created-at": 17}),
            ],
            "total-flaky-tests": 7,
        },
    )
    result = await circle(http).poll()
    by_name = {f.name: f for f in result.flaky_reports}
    assert set(by_name) == {
        "null fields",
        "string count",
        "negative count",
        "float count",
        "no link",
    }
    odd = by_name["null fields"]
    assert odd.pipeline == f"{SLUG}:build-test"
    assert odd.classname == "src/test/kotlin/com/acme/api/OrdersTest.kt"
    assert odd.times_flaked == 1
    assert by_name["string count"].times_flaked == 1
    assert by_name["negative count"].times_flaked == 1
    assert by_name["float count"].times_flaked == 2
    assert by_name["no link"].url is None and by_name["no link"].last_seen is None


async def test_an_entry_without_workflow_and_several_rows_belongs_to_the_project(
    fake: Fake, http: HttpClient
) -> None:
    circle_project(fake)
    fake.route(INSIGHT, {"flaky-tests": [flaky("where", 1, **{"workflow-name": ""})]})
    (flake,) = (await circle(http).poll()).flaky_reports
    assert flake.pipeline == f"{SLUG}:"


async def test_the_same_test_twice_is_one_flake(fake: Fake, http: HttpClient) -> None:
    circle_project(fake)
    fake.route(
        INSIGHT,
        {
            "flaky-tests": [
                flaky("twice", 2, **{"workflow-created-at": "2026-11-26T12:00:00Z"}),
                flaky("twice", 5, **{"workflow-created-at": "2026-11-20T12:00:00Z"}),
            ]
        },
    )
    (flake,) = (await circle(http).poll()).flaky_reports
    assert flake.times_flaked == 5
    assert flake.last_seen == datetime(2026, 11, 26, 12, tzinfo=UTC)


async def test_markup_and_escapes_in_names_stay_plain_text(fake: Fake, http: HttpClient) -> None:
    circle_project(fake)
    name = "renders \x1b[31m[bold red]<b>boom</b>[/]\x1b]0;pwned\x07 \u202eevil"
    fake.route(
        INSIGHT,
        {"flaky-tests": [flaky(name, 1, classname="ui.[link=http://x]Screens[/link]")]},
    )
    (flake,) = (await circle(http).poll()).flaky_reports
    assert flake.name == "renders [bold red]<b>boom</b>[/] evil"
    assert flake.classname == "ui.[link=http://x]Screens[/link]"
    assert "\x1b" not in flake.name and "pwned" not in flake.name


async def test_read_every_flaky_every_seconds_and_resent_in_between(
    fake: Fake, http: HttpClient, clock: FakeClock
) -> None:
    circle_project(fake)
    fake.route(INSIGHT, {"flaky-tests": [flaky("first", 1)]})
    source = circle(http, flaky_every=600)
    first = await source.poll()
    fake.route(INSIGHT, {"flaky-tests": [flaky("first", 2), flaky("second", 1)]})
    clock.advance(599)
    again = await source.poll()
    assert fake.count("/insights/") == 1
    assert again.flaky_reports == first.flaky_reports  # the last list, sent again
    clock.advance(1)
    later = await source.poll()
    assert fake.count("/insights/") == 2
    assert [(f.name, f.times_flaked) for f in later.flaky_reports] == [("first", 2), ("second", 1)]


async def test_turned_off_no_insight_is_asked(fake: Fake, http: HttpClient) -> None:
    circle_project(fake)
    result = await circle(http, flaky_tests=False).poll()
    assert fake.count("/insights/") == 0
    assert result.flaky_reports == () and len(result.pipelines) == 2


@pytest.mark.parametrize(
    ("status", "body", "headers", "words"),
    [
        (404, {"message": "Not found."}, {}, "HTTP 404: no insights on this server"),
        (403, {"message": "Permission denied"}, {}, "HTTP 403"),
        (401, {"message": "You must log in first."}, {}, "HTTP 401"),
        (429, {"message": "Too many requests"}, {"retry-after": "30"}, "rate limited"),
        (500, b"<html><body>Oops</body></html>", {}, "HTTP 500"),
        (200, b"<!DOCTYPE html><html><title>Log in</title></html>", {}, "HTML page"),
        (200, b'{"flaky-tests": [{"test-na', {}, "invalid JSON"),
        (200, {"message": "insights are warming up"}, {}, "flaky-tests"),
        (200, [flaky("a list, not an object")], {}, "expected an object"),
    ],
)
async def test_a_failing_insight_keeps_the_pipelines_and_the_last_list(
    fake: Fake,
    http: HttpClient,
    clock: FakeClock,
    status: int,
    body: Any,
    headers: dict[str, str],
    words: str,
) -> None:
    circle_project(fake)
    fake.route(INSIGHT, {"flaky-tests": [flaky("kept", 3), flaky("also kept", 1)]})
    source = circle(http)
    good = await source.poll()
    assert len(good.flaky_reports) == 2

    fake.route(INSIGHT, body, status, **headers)
    clock.advance(600)
    bad = await source.poll()
    assert bad.pipelines == good.pipelines
    assert bad.flaky_reports == good.flaky_reports
    assert f"flaky-tests insight of {SLUG} not read (" in bad.summary
    assert words in bad.summary
    assert bad.summary.endswith("keeping the last list (2)")
    assert CC_TOKEN not in bad.summary

    # Backed off to the next period: not asked again on the next polls.
    asked = fake.count("/insights/")
    clock.advance(120)
    await source.poll()
    assert fake.count("/insights/") == asked

    # Once it answers again, the new list replaces the old and the note goes.
    fake.route(INSIGHT, {"flaky-tests": [flaky("fresh", 1)]})
    clock.advance(600)
    fresh = await source.poll()
    assert [f.name for f in fresh.flaky_reports] == ["fresh"]
    assert "not read" not in fresh.summary


async def test_a_first_insight_failure_sends_no_list_and_fails_nothing(
    fake: Fake, http: HttpClient
) -> None:
    circle_project(fake)
    result = await circle(http).poll()  # no insight route: 404, as on a server install
    assert result.flaky_reports == () and len(result.pipelines) == 2
    assert result.summary.endswith(
        "not read (HTTP 404: no insights on this server, or the token cannot see them)"
    )


async def test_an_insight_rate_limit_does_not_stop_the_builds(
    fake: Fake, http: HttpClient, clock: FakeClock
) -> None:
    circle_project(fake)
    fake.route(INSIGHT, {"message": "Too many requests"}, 429, **{"retry-after": "3600"})
    source = circle(http)
    await source.poll()
    clock.advance(60)
    before = fake.count("/pipeline")
    result = await source.poll()  # the insight's budget is blocked, the pipelines' is not
    assert fake.count("/pipeline") > before
    assert len(result.pipelines) == 2


# === Buildkite Test Engine =======================================================================

BK_TOKEN = "bkua_s3cr3tT0kenValue0123456789abcdef"
ORG = "/v2/organizations/acme"
ANALYTICS = "/v2/analytics/organizations/acme/suites"
TESTS = f"{ANALYTICS}/payments-rspec/tests"
LEGACY = f"{ANALYTICS}/payments-rspec/flaky-tests"
BUILDS = json.loads((Path(__file__).parent / "payloads" / "buildkite" / "builds.json").read_text())


def suite_test(index: int, name: str, **fields: Any) -> dict[str, Any]:
    """One test as the Tests API lists it."""
    tid = f"01867216-8478-7fde-a55a-{index:012x}"
    body: dict[str, Any] = {
        "id": tid,
        "url": f"https://api.buildkite.com{ANALYTICS}/payments-rspec/tests/{tid}",
        "web_url": f"https://buildkite.com/organizations/acme/analytics/suites/payments-rspec/tests/{tid}",
        "scope": "Payouts::Batcher#flush",
        "name": name,
        "location": "./spec/payouts/batcher_spec.rb:42",
        "file_name": "./spec/payouts/batcher_spec.rb",
    }
    body.update(fields)
    return body


def legacy_test(index: int, name: str, instances: Any, **fields: Any) -> dict[str, Any]:
    """The same test as the deprecated flaky-tests list shows it, with its counts."""
    body = suite_test(index, name)
    del body["url"]
    body.update(
        {
            "instances": instances,
            "latest_occurrence_at": "2026-11-26T09:07:02.547Z",
            "most_recent_instance_at": "2026-11-26T10:07:02.547+01:00",
            "last_resolved_at": None,
            "ownership_team_ids": ["4c15a4c7-6674-4585-b592-4adcc8630383"],
        }
    )
    body.update(fields)
    return body


def buildkite(fake: Fake, http: HttpClient, **fields: Any) -> Buildkite:
    fake.route(f"{ORG}/pipelines/payments-api/builds", BUILDS)
    config: dict[str, Any] = {
        "type": "buildkite",
        "name": "bk",
        "organization": "acme",
        "pipelines": ["payments-api"],
        "test_suites": {"payments-rspec": "payments-api"},
        "token_env": "BUILDKITE_TOKEN",
        "token": SecretStr(BK_TOKEN),
        **fields,
    }
    return Buildkite(BuildkiteSource.model_validate(config), http)


async def test_flaky_labelled_tests_with_legacy_counts(fake: Fake, http: HttpClient) -> None:
    fake.route(
        TESTS, [suite_test(1, "flushes on close", labels=["flaky"]), suite_test(2, "retries")]
    )
    fake.route(LEGACY, [legacy_test(2, "retries", 7), legacy_test(9, "not labelled any more", 40)])
    result = await buildkite(fake, http).poll()

    (pipeline,) = result.pipelines
    assert pipeline.key == "acme/payments-api"
    retries, flushes = result.flaky_reports
    assert retries.pipeline == pipeline.key  # the same key as the pipeline's row
    assert (retries.source, retries.classname, retries.name) == (
        "bk",
        "Payouts::Batcher#flush",
        "retries",
    )
    assert retries.times_flaked == 7
    assert retries.last_seen == datetime(2026, 11, 26, 9, 7, 2, 547000, tzinfo=UTC)
    assert retries.url == suite_test(2, "")["web_url"]
    # Not in the legacy list: it counts once. A test only the legacy list names is not flaky.
    assert (flushes.name, flushes.times_flaked, flushes.last_seen) == ("flushes on close", 1, None)
    assert result.summary.endswith("; 2 flaky tests (Test Engine)")

    listing = next(r for r in fake.requests if r.url.path == TESTS)
    assert listing.url.params["label"] == "flaky"
    assert listing.headers["Authorization"] == f"Bearer {BK_TOKEN}"
    legacy = next(r for r in fake.requests if r.url.path == LEGACY)
    assert legacy.url.params["period"] == "28days"


async def test_counts_in_the_tests_answer_need_no_legacy_read(fake: Fake, http: HttpClient) -> None:
    fake.route(TESTS, [legacy_test(1, "already counted", 3)])
    (flake,) = (await buildkite(fake, http).poll()).flaky_reports
    assert flake.times_flaked == 3
    assert fake.count("/flaky-tests") == 0


async def test_without_tests_api_the_legacy_list_is_the_list(fake: Fake, http: HttpClient) -> None:
    fake.route(LEGACY, [legacy_test(1, "old server", 4, scope=None)])
    (flake,) = (await buildkite(fake, http).poll()).flaky_reports
    # No scope: the file names the test's home instead.
    assert (flake.classname, flake.name, flake.times_flaked) == (
        "./spec/payouts/batcher_spec.rb",
        "old server",
        4,
    )


async def test_a_server_ignoring_the_label_filter_lists_only_flaky_ones(
    fake: Fake, http: HttpClient
) -> None:
    fake.route(
        TESTS,
        [
            suite_test(1, "flaky one", labels=["slow", "Flaky"]),
            suite_test(2, "steady one", labels=[]),
            suite_test(3, "slow one", labels=["slow"]),
        ],
    )
    result = await buildkite(fake, http).poll()
    assert [f.name for f in result.flaky_reports] == ["flaky one"]


async def test_pages_follow_link_but_never_to_another_host(fake: Fake, http: HttpClient) -> None:
    def tests(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("page", "1")
        if page == "1":
            link = f'<https://api.buildkite.com{TESTS}?label=flaky&per_page=100&page=2>; rel="next"'
            return answer([suite_test(1, "page one")], link=link)
        if page == "2":
            link = f'<https://evil.example{TESTS}?page=3>; rel="next"'
            return answer([suite_test(2, "page two"), suite_test(1, "page one")], link=link)
        raise AssertionError("followed a link to another host")

    fake.routes[TESTS] = tests
    result = await buildkite(fake, http).poll()
    assert sorted(f.name for f in result.flaky_reports) == ["page one", "page two"]
    assert fake.count("/tests") == 2
    assert all(r.url.host == "api.buildkite.com" for r in fake.requests)


async def test_empty_and_odd_entries(fake: Fake, http: HttpClient) -> None:
    fake.route(
        TESTS,
        [
            suite_test(1, "fine"),
            suite_test(2, None),  # type: ignore[arg-type]
            suite_test(3, "no scope", scope=None, file_name=None, web_url="javascript:alert(1)"),
            "a string",
            None,
            {"unexpected": "shape"},
        ],
    )
    fake.route(LEGACY, [legacy_test(1, "fine", None), legacy_test(3, "no scope", True)])
    result = await buildkite(fake, http).poll()
    by_name = {f.name: f for f in result.flaky_reports}
    assert set(by_name) == {"fine", "no scope"}
    assert by_name["fine"].times_flaked == 1  # a null count
    assert by_name["no scope"].times_flaked == 1  # a boolean is no count
    assert by_name["no scope"].classname == "" and by_name["no scope"].url is None

    fake.route(TESTS, [])
    assert (await buildkite(fake, http).poll()).flaky_reports == ()


async def test_markup_and_escapes_in_test_names(fake: Fake, http: HttpClient) -> None:
    fake.route(TESTS, [suite_test(1, "rejects <script>[red]x[/]\x1b[2J\x1b]8;;http://x\x07")])
    (flake,) = (await buildkite(fake, http).poll()).flaky_reports
    assert flake.name == "rejects <script>[red]x[/]"


@pytest.mark.parametrize(
    ("status", "body", "headers", "words"),
    [
        (403, {"message": "Forbidden"}, {}, "lacks the read_suites scope"),
        (404, {"message": "No suite found"}, {}, "Test Engine suite payments-rspec"),
        (429, {"message": "Too many", "reset": 20}, {}, "rate limited"),
        (502, b"<html>Bad gateway</html>", {}, "HTTP 502"),
        (200, {"not": "a list"}, {}, "unexpected payload"),
    ],
)
async def test_a_failing_suite_keeps_the_pipelines_and_the_last_list(
    fake: Fake,
    http: HttpClient,
    clock: FakeClock,
    status: int,
    body: Any,
    headers: dict[str, str],
    words: str,
) -> None:
    fake.route(TESTS, [suite_test(1, "kept", labels=["flaky"])])
    fake.route(LEGACY, [legacy_test(1, "kept", 6)])
    source = buildkite(fake, http)
    good = await source.poll()
    assert [(f.name, f.times_flaked) for f in good.flaky_reports] == [("kept", 6)]

    fake.route(TESTS, body, status, **headers)
    fake.route(LEGACY, body, status, **headers)
    clock.advance(600)
    bad = await source.poll()
    assert bad.pipelines == good.pipelines
    assert bad.flaky_reports == good.flaky_reports
    assert "; Test Engine suite payments-rspec not read (" in bad.summary
    assert words in bad.summary
    assert bad.summary.endswith("keeping the last list (1)")
    assert BK_TOKEN not in bad.summary

    # Not asked again before the next ten minutes (the builds are: they are not limited).
    asked = fake.count("/suites/")
    clock.advance(300)
    between = await source.poll()
    assert fake.count("/suites/") == asked
    assert between.flaky_reports == good.flaky_reports


async def test_no_suites_no_test_engine_requests(fake: Fake, http: HttpClient) -> None:
    result: SourceResult = await buildkite(fake, http, test_suites={}).poll()
    assert fake.count("/analytics/") == 0
    assert result.flaky_reports == () and "Test Engine" not in result.summary
