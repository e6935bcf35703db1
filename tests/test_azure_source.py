"""The Azure Pipelines source against a fake Azure DevOps speaking the documented shapes
(``payloads/azure/``): requests, auth, words for refusals, and what each lookup costs."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited, SourceError
from buildradiator.model import SourceResult, Status
from buildradiator.sources.azure import PROVIDER
from buildradiator.sources.azure.config import AzureSource
from buildradiator.sources.azure.source import MAX_SETTLED_LOOKUPS, AzurePipelines
from buildradiator.sources.catalog import make_source, url_of
from buildradiator.sources.http import HttpClient

PAYLOADS = Path(__file__).parent / "payloads" / "azure"
TOKEN = "azdopat0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"
ORG = "https://dev.azure.com/acme"
LIST = "/acme/Platform/_apis/build/builds"

Handler = Callable[[httpx.Request], httpx.Response]


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def config(token: str | None = TOKEN, **changes: Any) -> AzureSource:
    fields: dict[str, Any] = {
        "type": "azure",
        "name": "azure",
        "url": ORG,
        "project": "Platform",
        "definitions": [41, 42],
        "token_env": "AZURE_DEVOPS_TOKEN",
        "token": SecretStr(token) if token else None,
    }
    return AzureSource.model_validate({**fields, **changes})


class Fake:
    """The documented answers, each request recorded; ``override`` bends one path."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.builds = load("builds.json")
        self.override: dict[str, Handler] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for suffix, handler in self.override.items():
            if path.endswith(suffix):
                return handler(request)
        if path == LIST:
            return httpx.Response(200, json=self.builds)
        if path.endswith("/1203/timeline"):
            return httpx.Response(200, json=load("timeline_running.json"))
        if path.endswith("/1201/timeline"):
            return httpx.Response(200, json=load("timeline_retried.json"))
        if path.endswith("/timeline"):
            return httpx.Response(200, json={"records": []})
        if path.endswith("/changes"):
            return httpx.Response(200, json=load("changes.json"))
        return httpx.Response(404, json=load("error_project.json"))

    def paths(self, suffix: str) -> list[str]:
        return [r.url.path for r in self.requests if r.url.path.endswith(suffix)]


async def poll(fake: Fake, source_config: AzureSource | None = None) -> SourceResult:
    source, http = make(fake, source_config)
    try:
        return await source.poll()
    finally:
        await http.aclose()


def make(fake: Fake, source_config: AzureSource | None = None) -> tuple[AzurePipelines, HttpClient]:
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)))
    source = make_source(source_config or config(), http)
    assert isinstance(source, AzurePipelines)
    return source, http


# --- the declaration and the config -----------------------------------------------------------------


def test_the_declaration_names_the_source_its_url_and_its_simulator() -> None:
    assert PROVIDER.type == "azure" and PROVIDER.simulator == "sim_azure"
    assert PROVIDER.load() is AzurePipelines
    assert url_of(config()) == ORG


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"url": "https://dev.azure.com"}, "name the organisation"),
        ({"url": "dev.azure.com/acme"}, "http"),
        ({"definitions": []}, "at least 1"),
        ({"definitions": [0]}, "no definition id"),
        ({"definitions": ["ci"]}, "integer"),
        ({"project": ""}, "at least 1"),
        ({"builds": 0}, "greater than or equal to 1"),
        ({"organisation": "acme"}, "Extra inputs"),
        ({"api_version": "latest"}, "pattern"),
    ],
)
def test_the_config_refuses_what_cannot_work(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        config(**changes)


def test_the_config_keeps_each_definition_once_and_a_server_url() -> None:
    server = config(url="https://tfs.example.com/tfs/DefaultCollection/", definitions=[7, 7, 3])
    assert server.definitions == [7, 3]
    assert server.url == "https://tfs.example.com/tfs/DefaultCollection"


# --- requests -------------------------------------------------------------------------------------


async def test_one_list_request_asks_for_every_definition_on_the_branch_with_a_pat() -> None:
    fake = Fake()
    result = await poll(fake)
    listing = fake.requests[0]
    assert listing.url.path == LIST
    assert dict(listing.url.params) == {
        "definitions": "41,42",
        "branchName": "refs/heads/main",
        "queryOrder": "queueTimeDescending",
        "maxBuildsPerDefinition": "10",
        "$top": "20",
        "api-version": "7.1",
    }
    # A PAT over Basic auth with an empty user name, on every request.
    expected = "Basic " + base64.b64encode(f":{TOKEN}".encode()).decode()
    assert {r.headers["authorization"] for r in fake.requests} == {expected}
    assert all(r.url.params["api-version"] == "7.1" for r in fake.requests)
    assert [p.key for p in result.pipelines] == ["Platform/41", "Platform/42"]
    assert result.summary == "2 definitions, 1 running, 1 queued, 1 red"


async def test_timelines_give_the_stage_and_the_attempt_and_are_read_once() -> None:
    fake = Fake()
    source, http = make(fake)
    try:
        first = await source.poll()
        ci = first.pipelines[0]
        running = next(b for b in ci.in_flight if b.id == "1203")
        assert running.stage == "Test › unit, integration"
        assert running.status is Status.RUNNING
        retried = next(b for b in ci.recent if b.id == "1201")
        assert retried.attempt == 2
        # Both builds in flight and every finished one (up to the per-poll cap) were read.
        assert len(fake.paths("/1203/timeline")) == 1
        assert len(fake.paths("/1201/timeline")) == 1
        finished = [p for p in fake.paths("/timeline") if "/1203/" not in p and "/1204/" not in p]
        assert len(finished) == min(3, MAX_SETTLED_LOOKUPS)
        await source.poll()
        # Again: builds in flight only; finished ones are remembered.
        assert len(fake.paths("/1203/timeline")) == 2
        assert len(fake.paths("/1201/timeline")) == 1
        # A re-run finishes the build again: its timeline is read again.
        for build in fake.builds["value"]:
            if build["id"] == 1201:
                build["finishTime"] = "2026-12-06T07:20:00.0000000Z"
        await source.poll()
        assert len(fake.paths("/1201/timeline")) == 2
    finally:
        await http.aclose()


async def test_the_changes_lend_a_message_to_builds_without_one_once() -> None:
    fake = Fake()
    fake.builds = copy.deepcopy(fake.builds)
    for build in fake.builds["value"]:
        if build["id"] == 1204:
            build["triggerInfo"] = {}
    source, http = make(fake)
    try:
        result = await source.poll()
        queued = next(b for b in result.pipelines[0].in_flight if b.id == "1204")
        assert queued.message == "Add request tracing"
        await source.poll()
        assert fake.paths("/1204/changes") == [f"{LIST}/1204/changes"]
        # The nightly's builds have ci.message: no lookups for them.
        assert not fake.paths("/1187/changes")
        (asked,) = [r for r in fake.requests if r.url.path.endswith("/1204/changes")]
        assert asked.url.params["$top"] == "1"
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(204),
        httpx.Response(200, content=b""),
        httpx.Response(200, json=None),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(500, text="oops"),
        httpx.Response(404, json=load("error_project.json")),
        httpx.Response(200, text="<!doctype html><title>x</title>"),
    ],
)
async def test_a_timeline_that_cannot_be_read_costs_only_the_stage(answer: httpx.Response) -> None:
    fake = Fake()
    fake.override["/timeline"] = lambda request: answer
    result = await poll(fake)
    running = next(b for b in result.pipelines[0].in_flight if b.id == "1203")
    assert running.status is Status.RUNNING and running.stage is None and running.attempt == 1


async def test_a_definition_without_builds_is_named_in_the_summary() -> None:
    fake = Fake()
    result = await poll(fake, config(definitions=[41, 42, 77]))
    assert result.summary == (
        "2 definitions, 1 running, 1 queued, 1 red; no builds on main in definition 77"
    )
    result = await poll(fake, config(definitions=[41, 77, 78]))
    assert result.summary == (
        "1 definition, 1 running, 1 queued, 1 red; no builds on main in definitions 77, 78"
    )


# --- refusals, in words --------------------------------------------------------------------------


def refusing(status: int, body: Any = None, **headers: str) -> Fake:
    fake = Fake()
    fake.override[LIST] = lambda request: httpx.Response(
        status, json=body if body is not None else {"message": "no"}, headers=headers
    )
    return fake


@pytest.mark.parametrize(
    ("status", "token", "error", "words"),
    [
        (401, TOKEN, AuthFailed, "refused the token from $AZURE_DEVOPS_TOKEN (HTTP 401)"),
        (401, None, AuthFailed, "dev.azure.com asked for a token (HTTP 401)"),
        (403, TOKEN, AuthFailed, "lacks permission (it needs the Build (Read) scope)"),
        (404, TOKEN, NotFound, "project Platform not found on dev.azure.com (or the token cannot "
         "see it): TF200016: The following project does not exist: Nope."),
        (203, None, AuthFailed, "answered with its sign-in page (HTTP 203) for project Platform: "
         "it needs a personal access token"),
        (203, TOKEN, AuthFailed, "the token from $AZURE_DEVOPS_TOKEN was not accepted"),
    ],
)  # fmt: skip
async def test_refusals_are_worded_and_never_carry_the_token(
    status: int, token: str | None, error: type[Exception], words: str
) -> None:
    body = load("error_project.json") if status == 404 else {"message": "no"}
    with pytest.raises(error) as caught:
        await poll(refusing(status, body), config(token=token))
    assert words in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_an_older_server_is_told_which_api_version_to_ask_for() -> None:
    body = {
        "$id": "1",
        "innerException": None,
        "message": "VS800069: This service only supports API versions up to 6.0. " + "x" * 400,
        "typeKey": "VssVersionOutOfRangeException",
        "errorCode": 0,
    }
    with pytest.raises(SourceError) as caught:
        await poll(refusing(400, body))
    said = str(caught.value)
    assert said.startswith("dev.azure.com refused the request for project Platform (HTTP 400): ")
    assert "VS800069: This service only supports API versions up to 6.0." in said
    assert "xxxxxxxxxx" * 20 not in said  # the server's words are cut short
    assert "2020: 6.0" in said
    fake = Fake()
    await poll(fake, config(api_version="6.0"))
    assert {r.url.params["api-version"] for r in fake.requests} == {"6.0"}


async def test_a_sign_in_page_where_json_belongs_is_a_missing_token() -> None:
    fake = Fake()
    page = "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></html>"
    fake.override[LIST] = lambda request: httpx.Response(
        200, text=page, headers={"content-type": "text/html"}
    )
    with pytest.raises(AuthFailed, match="sign-in page for project Platform: it needs"):
        await poll(fake, config(token=None))


async def test_a_rate_limit_waits_for_retry_after() -> None:
    fake = refusing(
        429,
        {"message": "TF400733: The request has been canceled: Request was blocked"},
        **{"Retry-After": "30", "X-RateLimit-Resource": "Core", "X-RateLimit-Remaining": "0"},
    )
    with pytest.raises(RateLimited) as caught:
        await poll(fake)
    assert caught.value.retry_at is not None
    assert "HTTP 429" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [{"value": "not a list"}, {"count": 3}, ["a", "list"], {"value": {"id": 1}}],
)
async def test_another_document_fails_the_poll_rather_than_empty_the_rows(body: Any) -> None:
    with pytest.raises(BadPayload):
        await poll(refusing(200, body))
