"""From a signed webhook delivery to every attached screen: how long, and what polling costs.

    python bench/webhook_latency.py [--screens 30] [--rounds 12] [--quiet-repos 50]

One ``serve`` (in this process) runs the engine over the simulated GitHub API with a webhook on
its source and ``interval = 3600``, so only the webhook can bring news in time. ``--screens``
radiators read that serve the way terminals and browser sessions do (a ``radiator`` source each,
``interval = 60``, pushed by ``Prefer: wait``). Each round flips ``acme/monolith`` between green
and red in the simulator, posts a signed ``workflow_run`` delivery and times, for every screen,
the moment its engine publishes the new status: the snapshot its app then draws (drawing a frame
is measured by ``bench/poll_cycle.py``: a few ms).

Then the quiet estate: the API requests of 50 repositories in one simulated hour (the real
engine loop on a fake clock, as ``bench/quota.py`` runs it), polling every 30 s alone against
webhooks with polling every 900 s to repair missed deliveries, nothing changing.

Targets (issue "Seconds, not intervals"): median under 300 ms, worst under 1 s, for 30 screens;
a quiet estate's requests with webhooks under 5% of polling alone.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import statistics
import time
from typing import Any

import httpx

from buildradiator.assemble import build_engine
from buildradiator.serve.limits import Limits
from buildradiator.serve.server import RadiatorServer, serve
from buildradiator.serve.webhooks import attach_webhooks
from buildradiator.simulator import Simulator, moments
from buildradiator.sources.catalog import parse_config
from quota import simulate

SECRET = "bench-webhook-secret"
MEDIAN_MS, WORST_MS, QUIET_SHARE = 300.0, 1000.0, 0.05


def central_config(base: str, *, interval: float, webhook: bool, reconcile: float = 900) -> str:
    hook = f'webhook = {{ secret_env = "BENCH_HOOK_SECRET", reconcile = {reconcile:g} }}\n'
    return (
        '[[sources]]\ntype = "github"\nname = "gh"\n'
        f'api_url = "{base}/github"\nrepos = ["acme/monolith", "acme/billing", "acme/ledger"]\n'
        f"interval = {interval:g}\n" + (hook if webhook else "")
    )


def signed(body: bytes, delivery: str) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": "workflow_run",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
    }


def monolith(snapshot: object) -> str | None:
    for pipeline in getattr(snapshot, "pipelines", ()):
        if "acme/monolith" in pipeline.key:
            return str(pipeline.status)
    return None


def screens_child(url: str, screens: int, conn: Any) -> None:
    """Another process, as screens are: ``screens`` radiators reading ``url``; each change of
    ``acme/monolith`` it sees goes to the parent as (screen, status, perf_counter)."""

    async def run() -> None:
        engines, tasks = [], []
        for i in range(screens):
            text = (
                f'[[sources]]\ntype = "radiator"\nname = "central"\nurl = "{url}"\ninterval = 60\n'
            )
            screen = build_engine(parse_config(text))
            last: list[str | None] = [None]

            def publish(snapshot: object, i: int = i, last: list[str | None] = last) -> None:
                now_status = monolith(snapshot)
                if now_status is not None and now_status != last[0]:
                    last[0] = now_status
                    conn.send((i, now_status, time.perf_counter()))

            engines.append(screen)
            tasks.append(asyncio.create_task(screen.run(publish)))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for screen in engines:
            await screen.aclose()

    asyncio.run(run())


async def latency(screens: int, rounds: int) -> list[float]:
    os.environ["BENCH_HOOK_SECRET"] = SECRET
    with Simulator() as sim:
        sim.set_time(moments.CALM)
        config = parse_config(central_config(sim.base_url, interval=3600, webhook=True))
        engine = build_engine(config)
        hooks = attach_webhooks(config, engine, "bench")
        ready: asyncio.Future[RadiatorServer] = asyncio.get_running_loop().create_future()
        central = asyncio.create_task(
            serve(
                engine,
                host="127.0.0.1",
                port=0,
                token=None,
                ready=ready.set_result,
                hooks=hooks,
                # Every screen here comes from 127.0.0.1, as browser sessions on the serve host
                # do: one address holding 30 waiting requests, 60 requests per change.
                limits=Limits(max_clients_per_address=100, rate=200, burst=400),
            )
        )
        server = await ready
        ctx = multiprocessing.get_context("spawn")
        conn, child_conn = ctx.Pipe()
        child = ctx.Process(target=screens_child, args=(server.url, screens, child_conn))
        child.start()
        seen: list[dict[str, float]] = [{} for _ in range(screens)]
        loop = asyncio.get_running_loop()

        def drain() -> None:
            while conn.poll():
                i, status, at = conn.recv()
                seen[i][status] = at

        samples: list[float] = []
        try:
            while not all(seen):
                drain()
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # every screen now waits at the server
            async with httpx.AsyncClient() as client:
                for n in range(rounds):
                    red = n % 2 == 0
                    sim.set_time(moments.MAIN_RED if red else moments.MAIN_FIXED)
                    want = "failed" if red else "passed"
                    drain()
                    for marks in seen:
                        marks.pop(want, None)
                    body = json.dumps({"action": "completed", "workflow_run": {"id": n}}).encode()
                    sent = time.perf_counter()
                    answer = await client.post(
                        f"{server.url}/hooks/gh", content=body, headers=signed(body, f"d-{n}")
                    )
                    assert answer.status_code == 202, answer.text
                    deadline = sent + 10
                    while not all(want in m for m in seen) and time.perf_counter() < deadline:
                        await loop.run_in_executor(None, conn.poll, 0.05)
                        drain()
                    samples += [(m.get(want, deadline) - sent) * 1000 for m in seen]
                    await asyncio.sleep(0.5)
        finally:
            conn.send("stop")
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
            central.cancel()
            await asyncio.gather(central, return_exceptions=True)
    return samples


async def quiet_requests(repos: int, interval: float, reconcile: float) -> tuple[int, int]:
    """API requests in one simulated hour of a quiet estate (``quota.simulate``: the real
    engine loop on a fake clock): polling every ``interval`` seconds alone, then with webhooks
    and polling every ``reconcile`` seconds."""
    kinds = {"change_every": None, "conditional": True, "per_source": 50, "hours": 1.0}
    alone = await simulate(repos, interval, **kinds)  # type: ignore[arg-type]
    hooked = await simulate(repos, interval, reconcile=reconcile, **kinds)  # type: ignore[arg-type]
    return alone.requests, hooked.requests


async def main_async(args: argparse.Namespace) -> None:
    samples = await latency(args.screens, args.rounds)
    median, worst = statistics.median(samples), max(samples)
    print(
        f"webhook -> {args.screens} screens, {args.rounds} rounds: median {median:.0f} ms, "
        f"p90 {statistics.quantiles(samples, n=10)[-1]:.0f} ms, worst {worst:.0f} ms "
        f"-> {'MET' if median < MEDIAN_MS and worst < WORST_MS else 'MISSED'} "
        f"(median < {MEDIAN_MS:g} ms, worst < {WORST_MS:g} ms)"
    )
    polling, hooked = await quiet_requests(args.quiet_repos, 30.0, 900.0)
    share = hooked / max(1, polling)
    print(
        f"quiet estate, {args.quiet_repos} repositories, one simulated hour: {polling:,} API requests polling "
        f"every 30 s, {hooked:,} with webhooks (reconcile every 900 s) = {share:.1%} -> "
        f"{'MET' if share < QUIET_SHARE else 'MISSED'} (< {QUIET_SHARE:.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--quiet-repos", type=int, default=50)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
