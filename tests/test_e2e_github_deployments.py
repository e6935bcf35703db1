"""End to end: the GitHub Deployments source and the engine against the simulator's GitHub
Deployments and compare API over loopback."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.config.loading import Config
from buildradiator.errors import NotFound
from buildradiator.model import Deployment, DeployState, Snapshot
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.simulator.scenario import MALLORY_SHA_PREFIX
from buildradiator.simulator.sim_github_deploy import STAGING_FAILURE
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.github_deployments.config import GitHubDeploymentsSource
from buildradiator.sources.github_deployments.source import GitHubDeployments
from buildradiator.sources.http import HttpClient


def only(config: Config, kind: str) -> Config:
    # Only this provider's sources: another provider's trouble must not fail this test.
    return config.model_copy(update={"sources": [s for s in config.sources if s.type == kind]})


def whole(sim: Simulator, loop: int, script_t: float) -> datetime:
    # GitHub's timestamps are whole seconds.
    return sim.scenario.at(loop, script_t).replace(microsecond=0)


def deploys(snapshot: Snapshot) -> dict[str, Deployment]:
    return {str(d.environment): d for d in snapshot.deployments if d.source == "deploys"}


def main_commits(sim: Simulator, loop: int) -> dict[str, str]:
    """This loop's commits on main, by first line of message."""
    plans = sim.scenario.plans(loop)["acme/monolith"]
    return {p.commit.message.splitlines()[0]: p.commit.sha for p in plans if p.branch == "main"}


async def test_the_deploy_story_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(
            only(parse_config(demo_config_text(sim.base_url)), "github_deployments")
        )
        try:
            loop = sim.moment().loop
            commits = main_commits(sim, loop)
            mallory = commits["Fix login flow"]
            assert mallory.startswith(MALLORY_SHA_PREFIX)

            # Production rolls out the newest green commit; the previous one is still live.
            sim.set_time(30)
            snap = await engine.poll_all()
            assert snap.source_state("deploys").error is None  # type: ignore[union-attr]
            assert sorted(deploys(snap)) == ["production", "staging"]
            production = deploys(snap)["production"]
            assert production.state is DeployState.RUNNING
            assert production.provider_state == "in_progress"
            assert production.service == "monolith" and production.pipeline == "acme/monolith"
            assert production.started_at == whole(sim, loop, 20)
            rolling_out = production.target_revision
            assert rolling_out and production.revision and rolling_out != production.revision
            # Mallory's commit is still being built at 20: what ships is the commit before it.
            assert rolling_out != mallory
            assert production.author == "github-actions[bot]"
            assert (production.url or "").startswith(f"{sim.base_url}/web/acme/monolith/")

            # Live at 40; main has run ahead of it by Mallory's commit.
            sim.set_time(50)
            snap = await engine.poll_all()
            production = deploys(snap)["production"]
            assert production.state is DeployState.SUCCEEDED
            assert production.revision == rolling_out and production.target_revision is None
            assert production.deployed_at == production.finished_at == whole(sim, loop, 40)
            assert production.behind_by is not None and production.behind_by >= 1
            assert production.oldest_undeployed_at == whole(sim, loop, 8)  # Mallory's push
            assert not [w for w in snap.broken if w.source == "deploys"]

            # Chen's and Dana's commits land too: drift grows, still only from compare.
            sim.set_time(170)
            snap = await engine.poll_all()
            assert deploys(snap)["production"].behind_by == 3

            # Staging gets Dana's revert at 540 (act 2), and the helm upgrade fails at 555.
            sim.set_time(560)
            snap = await engine.poll_all()
            staging = deploys(snap)["staging"]
            assert staging.state is DeployState.FAILED
            assert staging.provider_state == "failure"
            assert staging.detail == STAGING_FAILURE
            assert staging.target_revision == commits["Revert login flow change"]
            assert staging.revision == rolling_out  # what went to staging at 10 stays live
            assert staging.finished_at == whole(sim, loop, 555)
            result = engine.slots["deploys"].result
            assert result is not None
            assert result.summary.startswith(f"production: {rolling_out[:7]} live ")
            assert result.summary.endswith("3 commits behind, deploy failed")
            assert not sim.errors
        finally:
            await engine.aclose()


async def test_unchanged_answers_are_304s_and_cost_no_quota() -> None:
    with Simulator() as sim:
        http = HttpClient()
        config = GitHubDeploymentsSource(
            type="github_deployments",
            name="deploys",
            api_url=f"{sim.base_url}/github-deploy",
            repo="acme/monolith",
            environments=["production", "staging"],
        )
        source = GitHubDeployments(config, http)
        try:
            sim.set_time(60)
            first = await source.poll()
            budget = next(iter(http.budgets.values()))
            sent, spared = budget.requests, budget.not_modified
            assert budget.rate is not None and budget.rate.limit == 5000
            remaining = budget.rate.remaining

            again = await source.poll()

            assert again.deployments == first.deployments
            assert budget.requests - sent == sent  # the same requests again...
            assert budget.not_modified - spared == sent  # ...every one answered 304
            assert budget.rate.remaining == remaining
        finally:
            await http.aclose()


async def test_the_simulator_speaks_github_where_clients_can_tell() -> None:
    with Simulator() as sim:
        sim.set_time(50)  # Mallory's commit is main's newest (Chen's comes at 55)
        api = f"{sim.base_url}/github-deploy/repos/acme/monolith"
        async with httpx.AsyncClient() as client:
            listing = await client.get(f"{api}/deployments", params={"environment": "production"})
            newest = listing.json()[0]
            statuses = (await client.get(newest["statuses_url"])).json()
            compare = (await client.get(f"{api}/compare/{newest['sha']}...main")).json()
            unknown = await client.get(f"{api}/compare/{'0' * 40}...main")
            same = await client.get(
                f"{api}/deployments",
                params={"environment": "production"},
                headers={"If-None-Match": listing.headers["etag"]},
            )
            elsewhere = await client.get(
                f"{sim.base_url}/github-deploy/repos/acme/nope/deployments"
            )
        assert listing.headers["content-type"].startswith("application/json")
        assert {d["environment"] for d in listing.json()} == {"production"}
        assert newest["production_environment"] is True and newest["task"] == "deploy"
        assert [s["state"] for s in statuses] == ["success", "in_progress", "queued"]
        assert compare["status"] == "ahead" and compare["behind_by"] == 0
        assert compare["ahead_by"] == compare["total_commits"] == len(compare["commits"]) == 1
        (ahead,) = compare["commits"]
        assert ahead["sha"].startswith(MALLORY_SHA_PREFIX)
        assert ahead["commit"]["message"] == "Fix login flow"
        assert ahead["author"]["login"] == "mallory"
        assert unknown.status_code == 404 and unknown.json()["message"] == "Not Found"
        assert same.status_code == 304 and same.content == b""
        assert "x-ratelimit-remaining" in same.headers
        assert elsewhere.status_code == 404
        assert not sim.errors

        # The previous loop's production deployment turns inactive once this one succeeds.
        older = listing.json()[1]
        async with httpx.AsyncClient() as client:
            older_statuses = (await client.get(older["statuses_url"])).json()
        assert older_statuses[0]["state"] == "inactive"


async def test_an_unknown_repository_on_the_simulator_is_named() -> None:
    with Simulator() as sim:
        http = HttpClient()
        config = GitHubDeploymentsSource(
            type="github_deployments",
            name="deploys",
            api_url=f"{sim.base_url}/github-deploy",
            repo="acme/nope",
        )
        try:
            with pytest.raises(NotFound, match="repository acme/nope not found"):
                await GitHubDeployments(config, http).poll()
        finally:
            await http.aclose()
