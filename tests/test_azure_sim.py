"""The simulator's Azure Pipelines: the documented shapes, its calm story, and that the radiator's
own parse functions read what it says."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import Message
from typing import Any

import pytest

from buildradiator.model import Status
from buildradiator.simulator import moments
from buildradiator.simulator.scenario import Scenario
from buildradiator.simulator.sim_azure import CI, NIGHTLY, AzureSim, make
from buildradiator.sources.azure import parse
from buildradiator.sources.azure.payloads import BuildList, ChangeList, TimelinePayload

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
API = "/acme/Platform/_apis/build/builds"
BASE = "http://127.0.0.1:9/azure/acme"


def headers(**values: str) -> Message:
    message = Message()
    message["Host"] = "127.0.0.1:9"
    for name, value in values.items():
        message[name] = value
    return message


def get(
    sim: AzureSim, scenario: Scenario, t: float, path: str, loop: int = 1, **query: str
) -> tuple[int, Any, dict[str, str]]:
    moment = scenario.moment(scenario.at(loop, 0), pinned=t)
    answer = sim.answer(
        path, {k: [v] for k, v in {"api-version": "7.1", **query}.items()}, headers(), moment, ""
    )
    body = json.loads(answer.body) if answer.body else None
    return answer.status, body, dict(answer.headers)


@pytest.fixture
def world() -> tuple[AzureSim, Scenario]:
    scenario = Scenario(START)
    return make(scenario), scenario


def rows(world: tuple[AzureSim, Scenario], t: float, **query: str) -> dict[int, Any]:
    sim, scenario = world
    status, body, _ = get(
        sim, scenario, t, API, definitions=f"{CI},{NIGHTLY}", branchName="refs/heads/main", **query
    )
    assert status == 200
    grouped = parse.by_definition(BuildList.model_validate(body).value, [CI, NIGHTLY])
    facts = {}
    for build in grouped[CI]:
        if build.status != "completed" and build.id is not None:
            code, timeline, _ = get(sim, scenario, t, f"{API}/{build.id}/timeline")
            if code == 200:
                facts[build.id] = parse.timeline_facts(TimelinePayload.model_validate(timeline))
    return {
        d: parse.pipeline_of("azure", BASE, "Platform", d, "refs/heads/main", b, facts, {})
        for d, b in grouped.items()
    }


def test_the_list_has_the_documented_envelope_and_build_fields(
    world: tuple[AzureSim, Scenario],
) -> None:
    sim, scenario = world
    status, body, _ = get(sim, scenario, 60, API, definitions=str(CI))
    assert status == 200 and set(body) == {"count", "value"}
    build = body["value"][0]
    for name in ("id", "buildNumber", "status", "queueTime", "startTime", "definition",
                 "sourceBranch", "sourceVersion", "requestedFor", "requestedBy", "triggerInfo",
                 "_links", "project", "reason"):  # fmt: skip
        assert name in build, name
    assert build["status"] == "inProgress" and "result" not in build
    assert build["requestedFor"]["displayName"] == "Grace Kim"
    assert build["triggerInfo"]["ci.message"].startswith("Add request tracing")
    assert len(build["queueTime"].split(".")[1]) == 8  # seven digits and the Z


def test_the_calm_story_goes_queued_running_green(world: tuple[AzureSim, Scenario]) -> None:
    queued = rows(world, 30)[CI]
    assert queued is not None and queued.in_flight[0].status is Status.QUEUED
    assert queued.status is Status.PASSED  # the history's last build was green

    running = rows(world, 55)[CI]
    assert running is not None
    (build,) = running.in_flight
    assert build.status is Status.RUNNING and build.author == "Grace Kim"
    assert build.stage == "Test › unit, integration, lint"
    assert build.message == "Add request tracing"
    assert rows(world, 100)[CI].in_flight[0].stage == "Deploy › deploy-staging"  # type: ignore[union-attr]

    green = rows(world, 115)[CI]
    assert green is not None and not green.in_flight
    assert green.status is Status.PASSED and green.last is not None
    assert green.last.duration_seconds == pytest.approx(75, abs=1)
    # Act 2: Bob's build runs and goes green too; never a red main in the loop.
    assert rows(world, 340)[CI].in_flight[0].author == "Bob Okafor"  # type: ignore[union-attr]
    for t in (0, moments.MAIN_RED, moments.DEPLOY_SUSPECT, moments.TWO_RED, 400, 599):
        row = rows(world, t)[CI]
        assert row is not None and row.status is Status.PASSED, t


def test_history_holds_a_red_build_and_a_green_only_after_a_rerun(
    world: tuple[AzureSim, Scenario],
) -> None:
    sim, scenario = world
    _, body, _ = get(sim, scenario, 10, API, loop=0, definitions=str(CI))
    builds = {b["id"]: b for b in body["value"]}
    assert builds[4802]["result"] == "failed" and builds[4803]["result"] == "succeeded"
    assert builds[4805]["result"] == "succeeded"
    _, timeline, _ = get(sim, scenario, 10, f"{API}/4805/timeline", loop=0)
    facts = parse.timeline_facts(TimelinePayload.model_validate(timeline))
    assert facts.attempt == 2
    integration = [
        r for r in timeline["records"] if r["type"] == "Job" and r["name"] == "integration"
    ]
    assert integration[0]["previousAttempts"][0]["attempt"] == 1
    _, red, _ = get(sim, scenario, 10, f"{API}/4802/timeline", loop=0)
    deploy = next(r for r in red["records"] if r["type"] == "Stage" and r["name"] == "Deploy")
    assert deploy["result"] == "skipped"


def test_the_nightly_partially_succeeded_on_a_schedule(world: tuple[AzureSim, Scenario]) -> None:
    nightly = rows(world, 200)[NIGHTLY]
    assert nightly is not None and nightly.status is Status.PASSED and nightly.last is not None
    assert nightly.last.provider_status == "partially succeeded"
    assert nightly.last.message is None  # a scheduled build has no ci.message...
    sim, scenario = world
    _, body, _ = get(sim, scenario, 200, f"{API}/{nightly.last.id}/changes")
    (change,) = ChangeList.model_validate(body).value
    assert change.message == "Bump locked dependencies"  # ... but its changes have one
    assert change.author is not None and change.author.displayName == "Dana Smith"


def test_filters_paging_and_errors(world: tuple[AzureSim, Scenario]) -> None:
    sim, scenario = world
    _, body, head = get(sim, scenario, 200, API, definitions=str(CI), **{"$top": "3"})
    assert body["count"] == 3 and head["x-ms-continuationtoken"] == "3"
    _, more, _ = get(sim, scenario, 200, API, definitions=str(CI), continuationToken="3")
    first, second = [b["id"] for b in body["value"]], [b["id"] for b in more["value"]]
    assert second and not set(first) & set(second)  # the next page, not the same one again
    assert first + second == sorted(first + second, reverse=True)  # newest first throughout
    _, per, _ = get(sim, scenario, 200, API, maxBuildsPerDefinition="1")
    assert sorted(b["definition"]["id"] for b in per["value"]) == [CI, NIGHTLY]
    _, other, _ = get(sim, scenario, 200, API, branchName="refs/heads/feature/x")
    assert other == {"count": 0, "value": []}
    _, running, _ = get(sim, scenario, 60, API, statusFilter="inProgress")
    assert [b["status"] for b in running["value"]] == ["inProgress"]

    status, error, _ = get(sim, scenario, 200, "/acme/Nope/_apis/build/builds")
    assert status == 404 and error["message"].startswith("TF200016")
    status, error, _ = get(sim, scenario, 200, f"{API}/1/timeline")
    assert status == 404 and error["typeKey"] == "BuildNotFoundException"
    assert get(sim, scenario, 30, f"{API}/5011/timeline")[0] == 204  # not started yet
    moment = scenario.moment(scenario.at(1, 0), pinned=10)
    assert sim.answer(API, {}, headers(), moment, "").status == 400  # no api-version
    bearer = headers(Authorization="Bearer x")
    assert sim.answer(API, {"api-version": ["7.1"]}, bearer, moment, "").status == 401
    page = sim.answer("/acme/Platform/_build/results", {}, headers(), moment, "")
    assert page.status == 200 and b"Simulated Azure Pipelines" in page.body


def test_demo_block_names_the_definitions() -> None:
    text = make(Scenario(START)).demo_sources("http://127.0.0.1:1/")
    assert 'type = "azure"' in text and 'url = "http://127.0.0.1:1/azure/acme"' in text
    assert "definitions = [41, 42]" in text


def test_a_week_on_the_wall_lists_the_last_loops_only(world: tuple[AzureSim, Scenario]) -> None:
    sim, scenario = world
    _, body, _ = get(sim, scenario, 400, API, loop=1008)
    ids = [b["id"] for b in body["value"]]
    assert ids[0] == 5000 + 1008 * 10 + 2  # Bob's build of this loop, the newest
    # Seven loops of two builds, the history's eight and the three nightlies: bounded.
    assert len(ids) == 7 * 2 + 8 + 3
