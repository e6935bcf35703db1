"""A signed webhook delivery reaches what ``serve`` answers in the time one poll takes, while
polling alone would wait an hour: the whole path, real sockets, the simulated GitHub API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.engine.engine import Engine
from buildradiator.serve.server import RadiatorServer, serve
from buildradiator.serve.webhooks import attach_webhooks
from buildradiator.simulator import Simulator, moments
from buildradiator.sources.catalog import parse_config

SECRET = "e2e-webhook-secret"


def config_text(base_url: str) -> str:
    return (
        "[[sources]]\n"
        'type = "github"\n'
        'name = "gh"\n'
        f'api_url = "{base_url}/github"\n'
        'repo = "acme/monolith"\n'
        "interval = 3600\n"
        'webhook = { secret_env = "E2E_HOOK_SECRET", reconcile = 900 }\n'
    )


@pytest.fixture
async def served(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Simulator, RadiatorServer, Engine]]:
    monkeypatch.setenv("E2E_HOOK_SECRET", SECRET)
    with Simulator() as sim:
        sim.set_time(moments.CALM)
        config = parse_config(config_text(sim.base_url))
        engine = build_engine(config)
        hooks = attach_webhooks(config, engine, "e2e.toml")
        assert hooks is not None
        ready: asyncio.Future[RadiatorServer] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            serve(
                engine,
                host="127.0.0.1",
                port=0,
                token="screens-token",
                ready=ready.set_result,
                hooks=hooks,
            )
        )
        try:
            server = await ready
            yield sim, server, engine
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def monolith_status(server: RadiatorServer, client: httpx.AsyncClient) -> str | None:
    answer = await client.get(
        f"{server.url}/snapshot.json", headers={"Authorization": "Bearer screens-token"}
    )
    if answer.status_code != 200:
        return None
    for pipeline in answer.json()["pipelines"]:
        if pipeline["key"].startswith("acme/monolith"):
            return str(pipeline["status"])
    return None


async def until(predicate: object, deadline: float = 20.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        if await predicate():  # type: ignore[operator]
            return time.monotonic() - start
        await asyncio.sleep(0.02)
    raise AssertionError("not within the deadline")


async def test_a_signed_event_reaches_the_snapshot_in_one_poll(
    served: tuple[Simulator, RadiatorServer, Engine],
) -> None:
    sim, server, engine = served
    async with httpx.AsyncClient() as client:
        await until(lambda: _is(server, client, "passed"))
        assert engine.slots["gh"].interval == 3600  # reconcile never shortens an interval
        sim.set_time(moments.MAIN_RED)  # Mallory's commit has turned acme/monolith red
        body = json.dumps(
            {"action": "completed", "workflow_run": {"id": 1, "conclusion": "failure"}}
        ).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        sent = await client.post(
            f"{server.url}/hooks/gh",
            content=body,
            headers={
                "X-GitHub-Event": "workflow_run",
                "X-GitHub-Delivery": "d-1",
                "X-Hub-Signature-256": signature,
            },
        )
        assert (sent.status_code, sent.text) == (202, "accepted\n")  # no screens' token needed
        took = await until(lambda: _is(server, client, "failed"))
        assert took < 10  # polling alone: an hour
        state = (
            await client.get(
                f"{server.url}/snapshot.json", headers={"Authorization": "Bearer screens-token"}
            )
        ).json()
        metrics = (
            await client.get(
                f"{server.url}/metrics", headers={"Authorization": "Bearer screens-token"}
            )
        ).text
    assert (
        'buildradiator_webhook_deliveries_total{reason="",result="accepted",source="gh"} 1.0'
        in metrics
    )
    assert any(s["name"] == "gh" for s in state["sources"])


async def test_a_forged_event_changes_nothing_and_is_counted(
    served: tuple[Simulator, RadiatorServer, Engine],
) -> None:
    sim, server, engine = served
    async with httpx.AsyncClient() as client:
        await until(lambda: _is(server, client, "passed"))
        polls = sum(sim.requests.values())
        sim.set_time(moments.MAIN_RED)
        forged = await client.post(
            f"{server.url}/hooks/gh",
            content=b"{}",
            headers={"X-GitHub-Event": "workflow_run", "X-Hub-Signature-256": "sha256=" + "0" * 64},
        )
        assert (forged.status_code, forged.text) == (403, "refused\n")
        await asyncio.sleep(0.5)
        # Counted where everyone sees it: the source's state, hence the document and check.
        [state] = [s for s in engine.snapshot().sources if s.name == "gh"]
        assert state.webhook_refused == 1
        assert await monolith_status(server, client) == "passed"
        assert sum(sim.requests.values()) == polls  # no poll was made for it
        metrics = (
            await client.get(
                f"{server.url}/metrics", headers={"Authorization": "Bearer screens-token"}
            )
        ).text
    assert 'result="refused",source="gh"} 1.0' in metrics and 'reason="bad signature"' in metrics


async def _is(server: RadiatorServer, client: httpx.AsyncClient, status: str) -> bool:
    return await monolith_status(server, client) == status


def test_serve_refuses_to_start_on_an_unreadable_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from buildradiator.errors import ConfigError

    monkeypatch.delenv("E2E_HOOK_SECRET", raising=False)
    config = parse_config(config_text("http://127.0.0.1:9"))
    engine = build_engine(config)
    with pytest.raises(ConfigError, match=r"source gh webhook\.secret_env"):
        attach_webhooks(config, engine, "e2e.toml")


async def _poll_times(webhook: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[list[float], float]:
    """Fake-clock times of the engine's polls over ten simulated minutes of a GitHub source
    with ``interval = 30``, and when it first showed acme/monolith red: the simulated CI turns
    it red right after the first poll, and no webhook delivery ever says so (a missed one)."""
    from buildradiator.clock import FakeClock

    monkeypatch.setenv("E2E_HOOK_SECRET", SECRET)
    with Simulator() as sim:
        sim.set_time(moments.CALM)
        text = config_text(sim.base_url).replace("interval = 3600", "interval = 30")
        text = text.replace("reconcile = 900", "reconcile = 120")
        config = parse_config(text)
        clock = FakeClock()
        engine = build_engine(config, clock=clock)
        if webhook:
            attach_webhooks(config, engine, "e2e.toml")
        times: list[float] = []
        red_at: list[float] = []
        poll = engine.poll_source

        async def counted(name: str) -> None:
            times.append(clock.monotonic())
            await poll(name)
            if len(times) == 1:
                sim.set_time(moments.MAIN_RED)
            result = engine.slots[name].result
            if not red_at and result is not None:
                if any(
                    p.key.startswith("acme/monolith") and p.status == "failed"
                    for p in result.pipelines
                ):
                    red_at.append(clock.monotonic())

        engine.poll_source = counted  # type: ignore[method-assign]
        start = clock.monotonic()
        task = asyncio.create_task(engine.run(lambda _s: None))
        while clock.monotonic() - start < 600 and not task.done():
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.aclose()
    return [t - start for t in times], (red_at[0] - start if red_at else float("inf"))


async def test_a_missed_delivery_is_repaired_by_the_next_reconciling_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone, red_alone = await _poll_times(False, monkeypatch)
    hooked, red_hooked = await _poll_times(True, monkeypatch)
    gaps = [b - a for a, b in itertools.pairwise(hooked)]
    assert gaps and min(gaps) >= 120 * 0.9  # reconcile, never faster (nor the in-flight pace)
    assert len(alone) > 2 * len(hooked)  # polling alone: every 30 s or faster
    assert red_hooked <= 120 * 1.1 + 1  # the change nobody announced, shown by reconciling
    assert red_alone < red_hooked
