"""End to end: the Argo CD source and the engine against the simulator's Argo CD over loopback."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.config.loading import Config
from buildradiator.errors import BadPayload, SourceError
from buildradiator.model import Deployment, DeployState, Health, ServiceCheck, Snapshot
from buildradiator.simulator import Simulator, demo_config_text, prodstory
from buildradiator.sources.argocd.config import ArgoCDSource
from buildradiator.sources.argocd.source import ArgoCD
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient


def only(config: Config, kind: str) -> Config:
    # Only this provider's sources: another provider's trouble must not fail this test.
    return config.model_copy(update={"sources": [s for s in config.sources if s.type == kind]})


def whole(sim: Simulator, loop: int, script_t: float) -> datetime:
    # Kubernetes timestamps are whole seconds.
    return sim.scenario.at(loop, script_t).replace(microsecond=0)


def apps(snapshot: Snapshot) -> dict[str, ServiceCheck]:
    return {c.name: c for c in snapshot.services if c.source == "argocd"}


def deploys(snapshot: Snapshot) -> dict[str, Deployment]:
    return {str(d.service): d for d in snapshot.deployments if d.source == "argocd"}


async def test_the_payments_rollout_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(only(parse_config(demo_config_text(sim.base_url)), "argocd"))
        try:
            loop = sim.moment().loop
            new = prodstory.revision("payments", loop)
            before = prodstory.revision("payments-fix", loop - 1)

            # The sync rolls out this loop's revision; last loop's fix is still live.
            sim.set_time(200)
            snap = await engine.poll_all()
            assert snap.source_state("argocd").error is None  # type: ignore[union-attr]
            # projects = ["default"]: the batch project's billing-worker is not asked for.
            assert sorted(apps(snap)) == ["checkout", "payments", "search"]
            payments = deploys(snap)["payments"]
            assert payments.state is DeployState.RUNNING
            assert payments.target_revision == new and payments.revision == before
            assert payments.started_at == whole(sim, loop, 190)
            assert payments.repo == "acme/payments-deploy" and payments.environment == "prod"
            assert payments.url == f"{sim.base_url}/argocd/applications/payments"
            check = apps(snap)["payments"]
            assert check.health is Health.WARN and check.service == "payments"
            assert check.version == before[:7]
            assert (check.detail or "").startswith("Progressing: Waiting for rollout")
            assert apps(snap)["search"].detail == "out of sync"
            assert apps(snap)["checkout"].health is Health.UP

            # Synced at 212; the app is Degraded while its health check fails.
            sim.set_time(245)
            snap = await engine.poll_all()
            payments = deploys(snap)["payments"]
            assert payments.state is DeployState.SUCCEEDED
            assert payments.revision == new and payments.target_revision is None
            assert payments.deployed_at == whole(sim, loop, 212)
            assert payments.finished_at == whole(sim, loop, 212)
            check = apps(snap)["payments"]
            assert check.health is Health.DOWN and check.version == new[:7]
            assert check.detail == 'Degraded: Deployment "payments" exceeded its progress deadline'
            assert check.since == whole(sim, loop, 217)
            assert any(w.source == "argocd" and w.kind == "service" for w in snap.broken)

            # The fix is synced (262-274): recovered.
            sim.set_time(277)
            snap = await engine.poll_all()
            check = apps(snap)["payments"]
            assert check.health is Health.UP and check.detail is None
            assert deploys(snap)["payments"].revision == prodstory.revision("payments-fix", loop)
            assert engine.slots["argocd"].result is not None
            assert engine.slots["argocd"].result.summary == (
                "3 applications: 3 healthy; 1 out of sync"
            )
            assert not sim.errors
        finally:
            await engine.aclose()


async def source_for(sim: Simulator, http: HttpClient, **kw: object) -> ArgoCD:
    config = ArgoCDSource(type="argocd", name="argo", url=f"{sim.base_url}/argocd", **kw)  # type: ignore[arg-type]
    return ArgoCD(config, http)


async def test_the_simulator_honours_projects_selector_and_history() -> None:
    with Simulator() as sim:
        http = HttpClient()
        try:
            sim.set_time(20)
            everything = await (await source_for(sim, http)).poll()
            assert sorted(c.name for c in everything.services) == [
                "billing-worker",
                "checkout",
                "payments",
                "search",
            ]
            worker = next(d for d in everything.deployments if d.service == "billing-worker")
            assert worker.revision == "2.4.1" and worker.repo is None

            batch = await (await source_for(sim, http, projects=["batch"])).poll()
            assert [c.name for c in batch.services] == ["billing-worker"]
            api = await (await source_for(sim, http, selector="tier=api,team!=search")).poll()
            assert [c.name for c in api.services] == ["payments"]
            sets = await (await source_for(sim, http, selector="team in (search, checkout)")).poll()
            assert [c.name for c in sets.services] == ["checkout", "search"]
            none = await (await source_for(sim, http, projects=["nope"])).poll()
            assert none.services == () and none.summary == "no applications in project(s) nope"

            with pytest.raises(SourceError, match=r"rejected selector 'team in \(a'"):
                await (await source_for(sim, http, selector="team in (a")).poll()

            # A wrong url lands on the web UI, which answers HTML for every path.
            wrong = ArgoCDSource(type="argocd", name="w", url=f"{sim.base_url}/argocd/ui")
            with pytest.raises(BadPayload, match="HTML page"):
                await ArgoCD(wrong, http).poll()

            # History: earlier loops' revisions stay, bounded like revisionHistoryLimit.
            loop = sim.moment().loop
            async with httpx.AsyncClient() as client:
                got = await client.get(f"{sim.base_url}/argocd/api/v1/applications/payments")
                page = await client.get(f"{sim.base_url}/argocd/applications/payments")
            history = got.json()["status"]["history"]
            assert len(history) == 10
            assert history[-1]["revision"] == prodstory.revision("payments-fix", loop - 1)
            assert history[-2]["revision"] == prodstory.revision("payments", loop - 1)
            assert [h["id"] for h in history] == sorted(h["id"] for h in history)
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            assert not sim.errors
        finally:
            await http.aclose()
