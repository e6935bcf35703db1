"""The simulated Bitbucket Cloud speaks the pipelines API's shapes and tells a calm story."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from buildradiator.model import Pipeline, Status
from buildradiator.simulator.scenario import Scenario
from buildradiator.simulator.sim_bitbucket import BitbucketSim, make
from buildradiator.sources.bitbucket.parse import (
    build_id,
    needs_steps,
    parse_pipelines,
    parse_steps,
    to_pipeline,
)

START = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
LIST = "/2.0/repositories/acme/web-portal/pipelines/"
MAIN = {"target.branch": ["main"], "sort": ["-created_on"]}


@pytest.fixture
def sim() -> BitbucketSim:
    return make(Scenario(START))


def headers(auth: str | None = "Bearer t0k3n") -> Message:
    message = Message()
    message["Host"] = "127.0.0.1:8123"
    if auth is not None:
        message["Authorization"] = auth
    return message


def get(
    sim: BitbucketSim,
    path: str,
    query: dict[str, list[str]] | None = None,
    t: float = 0.0,
    auth: str | None = "Bearer t0k3n",
) -> tuple[int, Any, dict[str, str]]:
    moment = sim.scenario.moment(START, t)
    answer = sim.answer(path, query or {}, headers(auth), moment, "http://127.0.0.1:8123/web")
    return answer.status, json.loads(answer.body), dict(answer.headers)


def main_at(sim: BitbucketSim, t: float, earlier: Pipeline | None = None) -> Pipeline:
    """What the radiator's parser makes of main at script second ``t`` (after ``earlier``)."""
    _, body, _ = get(sim, LIST, MAIN, t)
    page = parse_pipelines(body)
    steps = {}
    for item in page.values:
        if needs_steps(item):
            _, found, _ = get(sim, f"{LIST}{item.uuid}/steps/", t=t)
            steps[build_id(item) or ""] = parse_steps(found)
    pipeline = to_pipeline(
        page.values, source="bitbucket", key="acme/web-portal", name="x", branch="main",
        steps=steps, earlier={b.id: b for b in earlier.recent} if earlier else None,
    )  # fmt: skip
    assert pipeline is not None
    return pipeline


def test_pages_carry_values_page_pagelen_size_and_next(sim: BitbucketSim) -> None:
    status, body, _ = get(sim, LIST, {**MAIN, "pagelen": ["3"]}, t=599)
    assert status == 200
    assert set(body) == {"page", "pagelen", "size", "values", "next"}
    assert (body["page"], body["pagelen"], len(body["values"])) == (1, 3, 3)
    numbers = [v["build_number"] for v in body["values"]]
    assert numbers == sorted(numbers, reverse=True)
    next_url = urlsplit(body["next"])
    assert next_url.path == "/bitbucket" + LIST
    query = parse_qs(next_url.query)
    assert query["page"] == ["2"] and query["target.branch"] == ["main"]
    _, second, _ = get(sim, LIST, query, t=599)
    assert second["values"][0]["build_number"] == numbers[-1] - 1
    assert "previous" in second
    # The last page has no next.
    last = -(-body["size"] // 3)
    _, final, _ = get(sim, LIST, {**query, "page": [str(last)]}, t=599)
    assert "next" not in final


def test_without_sort_the_oldest_come_first_and_every_branch_is_listed(
    sim: BitbucketSim,
) -> None:
    _, body, _ = get(sim, LIST, {"pagelen": ["100"]}, t=599)
    numbers = [v["build_number"] for v in body["values"]]
    assert numbers == sorted(numbers)
    assert {v["target"]["ref_name"] for v in body["values"]} == {"main", "feature/dark-mode"}


def test_one_pipeline_and_its_steps_by_uuid_with_or_without_braces(sim: BitbucketSim) -> None:
    _, body, _ = get(sim, LIST, MAIN, t=70)
    running = body["values"][0]
    assert running["state"]["stage"]["name"] == "RUNNING"
    uuid = running["uuid"]
    assert uuid.startswith("{") and uuid.endswith("}")
    for ref in (uuid, uuid.strip("{}")):
        status, one, _ = get(sim, f"{LIST}{ref}", t=70)
        assert (status, one["uuid"]) == (200, uuid)
    _, steps, _ = get(sim, f"{LIST}{uuid}/steps/", t=70)
    words = {s["name"]: s["state"]["name"] for s in steps["values"]}
    assert words == {
        "Build": "COMPLETED",
        "Unit tests": "IN_PROGRESS",
        "Lint": "IN_PROGRESS",
        "Deploy to staging": "PENDING",
    }


def test_errors_are_worded_as_bitbucket_words_them(sim: BitbucketSim) -> None:
    status, body, _ = get(sim, "/2.0/repositories/acme/nope/pipelines/")
    assert status == 404 and body["type"] == "error"
    assert body["error"]["message"] == "Repository acme/nope not found"
    status, body, _ = get(sim, f"{LIST}{{00000000-0000-0000-0000-000000000000}}/steps/")
    assert status == 404 and body["error"]["message"] == "Not found"
    status, body, _ = get(sim, "/2.0/repositories/acme/web-portal/commit/0000000")
    assert status == 404 and body["error"]["message"] == "Commit not found: 0000000"
    status, body, _ = get(sim, LIST, auth="Token nope")
    assert status == 401 and body["type"] == "error"


def test_rate_limit_headers_go_to_access_tokens_only(sim: BitbucketSim) -> None:
    _, _, bearer = get(sim, LIST)
    assert bearer["X-RateLimit-Limit"] == "1000"
    assert bearer["X-RateLimit-NearLimit"] == "false"
    _, _, basic = get(sim, LIST, auth="Basic dXNlcjphcHBwYXNz")
    assert "X-RateLimit-Limit" not in basic


def test_the_story_running_paused_and_a_rerun_that_goes_green(sim: BitbucketSim) -> None:
    running = main_at(sim, 70)
    assert running.status is Status.PASSED
    assert [(b.status, b.stage) for b in running.in_flight] == [
        (Status.RUNNING, "Unit tests, Lint")
    ]
    assert running.in_flight[0].author == "Grace Kim"
    paused = main_at(sim, 230)
    assert paused.in_flight == ()
    assert paused.recent[0].provider_status == (
        "paused (waiting for manual step Deploy to production)"
    )
    assert paused.status is Status.PASSED
    red = main_at(sim, 307)
    assert red.status is Status.FAILED
    # The list names the commit only; the commit says what it is.
    assert red.recent[0].message is None and red.recent[0].commit
    sha = red.recent[0].commit
    status, commit, _ = get(sim, f"/2.0/repositories/acme/web-portal/commit/{sha}", t=307)
    assert (status, commit["message"]) == (200, "Bump axios to 1.7\n")
    assert commit["author"]["raw"] == "Erin Walsh <erin@acme.example>"
    # The re-run: the same pipeline, run 2, in flight; main stays red until it has passed.
    rerun = main_at(sim, 320, earlier=red)
    assert [(b.attempt, b.status) for b in rerun.in_flight] == [(2, Status.RUNNING)]
    assert (rerun.status, rerun.recent[0].attempt) == (Status.FAILED, 1)
    assert main_at(sim, 320).status is Status.PASSED  # what the API alone would say
    green = main_at(sim, 330, earlier=rerun)
    assert (green.status, green.recent[0].attempt, green.recent[0].number) == (
        Status.PASSED,
        2,
        red.recent[0].number,
    )


def test_main_is_red_only_from_the_failure_until_the_rerun_passed(sim: BitbucketSim) -> None:
    red, last = [], None
    for t in range(0, 600, 5):
        last = main_at(sim, t, earlier=last)
        if last.status is not Status.PASSED:
            red.append(t)
    assert red == [305, 310, 315, 320, 325]


def test_the_demo_block_names_the_source(sim: BitbucketSim) -> None:
    block = sim.demo_sources("http://127.0.0.1:8123/")
    assert 'type = "bitbucket"' in block
    assert 'api_url = "http://127.0.0.1:8123/bitbucket/2.0"' in block
