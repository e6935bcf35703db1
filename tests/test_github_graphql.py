"""Large GitHub estates: one GraphQL query per hundred repositories says which changed, and only
those are read over REST. The screen must show exactly what the REST path shows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import SecretStr

from buildradiator.model import Pipeline, Status
from buildradiator.simulator import Simulator, moments
from buildradiator.sources.github import graphql
from buildradiator.sources.github.config import GitHubSource
from buildradiator.sources.github.source import GitHubActions
from buildradiator.sources.http import HttpClient

REPOS = ["acme/monolith", "acme/billing", "acme/ledger"]


def test_names_travel_as_variables_and_batches_hold_a_hundred() -> None:
    repos = [f"acme/service-{i}" for i in range(250)] + ['evil/x") { y }']
    found = graphql.batches(repos, "main")
    assert [len(b.repos) for b in found] == [100, 100, 51]
    doc = json.loads(found[2].body)
    assert "evil" not in doc["query"] and "service" not in doc["query"]
    assert doc["variables"]["ref"] == "refs/heads/main"
    assert doc["variables"]["o50"] == "evil" and doc["variables"]["n50"] == 'x") { y }'
    assert doc["query"].count("repository(owner:") == 51


def _suite(ident: int, status: str, conclusion: str | None) -> dict[str, Any]:
    return {
        "databaseId": ident,
        "status": status,
        "conclusion": conclusion,
        "updatedAt": "2026-12-06T07:00:00Z",
    }


def test_fingerprints_from_documented_and_odd_answers() -> None:
    batch = graphql.batches(["a/one", "a/two", "a/three", "a/four", "a/five"], "main")[0]
    doc = {
        "data": {
            "rateLimit": {
                "cost": 1,
                "limit": 5000,
                "remaining": 4999,
                "resetAt": "2026-12-06T08:00:00Z",
            },
            "r0": {
                "ref": {
                    "target": {
                        "oid": "abc",
                        "checkSuites": {
                            "nodes": [
                                _suite(2, "COMPLETED", "FAILURE"),
                                _suite(1, "COMPLETED", "SUCCESS"),
                            ]
                        },
                    }
                }
            },
            "r1": None,  # not found: its error is in "errors"
            "r2": {"ref": None},  # an empty repository, or no such branch
            "r3": {"ref": {"target": {"oid": "def"}}},  # a tag pointing at a tree: no suites
            "r4": {
                "ref": {
                    "target": {
                        "oid": "0f0",
                        "checkSuites": {"nodes": [None, "junk", _suite(3, "QUEUED", None)]},
                    }
                }
            },
        },
        "errors": [
            {"type": "NOT_FOUND", "path": ["r1"], "message": "Could not resolve to a Repository"}
        ],
    }
    reading = graphql.read(batch, doc)
    one = reading.fingerprints["a/one"]
    assert one is not None and one[0] == "abc" and len(one[1]) == 2
    assert reading.fingerprints["a/two"] is None
    assert reading.fingerprints["a/three"] is None
    assert reading.fingerprints["a/four"] is None
    assert reading.fingerprints["a/five"] == (
        "0f0",
        (("3", "QUEUED", "None", "2026-12-06T07:00:00Z"),),
    )
    assert (reading.cost, reading.remaining, reading.limit) == (1, 4999, 5000)
    # The order GitHub lists suites in does not make a change.
    doc["data"]["r0"]["ref"]["target"]["checkSuites"]["nodes"].reverse()
    assert graphql.read(batch, doc).fingerprints["a/one"] == one
    for garbage in (None, [], "x", {"data": None}, {"data": {"r0": []}}, {"errors": [{}]}):
        assert set(graphql.read(batch, garbage).fingerprints.values()) == {None}


def _pipeline(key: str, *, running: bool = False) -> Pipeline:
    from datetime import UTC, datetime

    from buildradiator.model import Build

    build = Build(
        source="gh", pipeline=key, id="1", status=Status.RUNNING if running else Status.PASSED,
        created_at=datetime(2026, 12, 6, tzinfo=UTC),
    )  # fmt: skip
    return Pipeline(
        source="gh", key=key, name=key,
        recent=() if running else (build,), in_flight=(build,) if running else (),
    )  # fmt: skip


def test_the_watch_reads_what_moved_what_runs_and_everything_now_and_then() -> None:
    watch = graphql.HeadWatch()
    quiet, busy = ("abc", ()), ("def", ())
    first = {"a/quiet": quiet, "a/busy": busy, "a/lost": None}
    assert watch.unchanged(first, now=0.0) == {}  # nothing seen yet; and a first sweep
    watch.remember("a/quiet", [_pipeline("a/quiet")])
    watch.remember("a/busy", [_pipeline("a/busy", running=True)])
    watch.remember("a/lost", [])
    same = watch.unchanged(first, now=10.0)
    assert list(same) == ["a/quiet"]  # busy has a run in flight; lost cannot be told
    moved = {**first, "a/quiet": ("abd", ())}
    assert watch.unchanged(moved, now=20.0) == {}
    assert watch.unchanged(first, now=graphql.FULL_SWEEP + 1) == {}  # the sweep reads all


def _rest(sim: Simulator) -> dict[str, int]:
    return {r: sum(n for p, n in sim.requests.items() if f"/repos/{r}/" in p) for r in REPOS}


async def _poll(sim: Simulator, batch: str) -> tuple[list[Pipeline], set[str], int]:
    """Two polls by a fresh source: the second's pipelines, the repositories it read over REST
    and its GraphQL queries."""
    config = GitHubSource(
        type="github", name="gh", api_url=f"{sim.base_url}/github", repos=REPOS, batch=batch,
        token=SecretStr("ghp_simulated"),
    )  # fmt: skip
    http = HttpClient()
    source = GitHubActions(config, http)
    try:
        await source.poll()
        rest_before = _rest(sim)
        graph_before = sim.requests["/github/graphql"]
        result = await source.poll()
        rest = {r for r, n in _rest(sim).items() if n > rest_before[r]}
        graph = sim.requests["/github/graphql"] - graph_before
    finally:
        await http.aclose()
    return list(result.pipelines), rest, graph


@pytest.mark.parametrize(
    "moment", [moments.CALM, moments.MAIN_RED, moments.FLAKY_RED, moments.QUIET_END]
)
async def test_graphql_and_rest_show_the_same_pipelines(moment: float) -> None:
    with Simulator() as sim:
        sim.set_time(moment)
        by_rest, read_all, no_graph = await _poll(sim, "rest")
        by_graph, reread, graph = await _poll(sim, "graphql")
    assert (
        read_all == set(REPOS) and no_graph == 0 and graph == 1
    )  # one query a poll for up to a hundred repositories
    assert by_graph == by_rest
    in_flight = {p.key.split(":")[0] for p in by_rest if p.in_flight}
    # The second poll read only the repositories with a run in flight (their runs and jobs).
    assert reread == in_flight and len(in_flight) < len(REPOS)


async def test_a_change_is_read_at_once() -> None:
    config = GitHubSource(
        type="github", name="gh", repos=REPOS, batch="graphql", token=SecretStr("ghp_simulated"),
        api_url="http://127.0.0.1:1/github",
    )  # fmt: skip
    with Simulator() as sim:
        sim.set_time(moments.CALM)
        config = config.model_copy(update={"api_url": f"{sim.base_url}/github"})
        http = HttpClient()
        source = GitHubActions(config, http)
        try:
            await source.poll()
            sim.set_time(moments.MAIN_RED)
            result = await source.poll()
        finally:
            await http.aclose()
    monolith = next(p for p in result.pipelines if p.key.startswith("acme/monolith"))
    assert monolith.recent[0].status is Status.FAILED


async def test_without_a_token_it_stays_on_rest() -> None:
    with Simulator() as sim:
        sim.set_time(moments.CALM)
        config = GitHubSource(
            type="github", name="gh", api_url=f"{sim.base_url}/github", repos=REPOS, batch="auto"
        )
        http = HttpClient()
        try:
            await GitHubActions(config, http).poll()
        finally:
            await http.aclose()
        assert sim.requests["/github/graphql"] == 0
