"""Serve quota: the engine's CI API requests per minute with 1 and with 30 attached screens.

    python bench/serve_quota.py [--seconds 20] [--screens 30] [--interval 3]

Two identical built-in simulators, pinned to the same moment of their script, run side by side
for ``--seconds``: one is polled by an engine alone, the other by the engine of ``serve`` while
``--screens`` clients (each from its own loopback address, as wall screens on a network would be)
read ``/snapshot.json`` and ``/cc.xml`` once a second with ``If-None-Match``. The simulators count
every request they answer; the figures are scaled to one minute. Thirty radiators polling for
themselves would cost thirty times the first line: ``serve`` costs the same as one.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

import httpx

from buildradiator.assemble import build_engine
from buildradiator.engine.engine import Engine
from buildradiator.serve.limits import Limits
from buildradiator.serve.server import RadiatorServer, serve
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.catalog import parse_config

PINNED = 20.0
"""Seconds into the simulator's script: both runs see the same builds."""


def engine_for(sim: Simulator, interval: float) -> Engine:
    config = parse_config(demo_config_text(sim.base_url, interval=interval))
    return build_engine(config, rng=random.Random(7))  # the same jitter for both engines


def github_spent(sim: Simulator) -> int:
    return int(sim.github.budget.limit - sim.github.budget.remaining)


async def alone(sim: Simulator, seconds: float, interval: float) -> None:
    task = asyncio.create_task(engine_for(sim, interval).run(lambda _snapshot: None))
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def screen(
    url: str, n: int, stop: asyncio.Event, codes: list[int], waits: list[float]
) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.{1 + n // 250}.{1 + n % 250}")
    etags: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=10) as http:
        while not stop.is_set():
            for path in ("/snapshot.json", "/cc.xml"):
                if stop.is_set():
                    break
                headers = {"If-None-Match": etags[path]} if path in etags else {}
                started = time.perf_counter()
                answer = await http.get(path, headers=headers)
                waits.append(time.perf_counter() - started)
                codes.append(answer.status_code)
                if answer.status_code == 200:
                    etags[path] = answer.headers["ETag"]
            await asyncio.sleep(1.0)


async def served(
    sim: Simulator, seconds: float, interval: float, screens: int
) -> tuple[list[int], list[float]]:
    ready: asyncio.Future[RadiatorServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            engine_for(sim, interval),
            host="127.0.0.1",
            port=0,
            token=None,
            limits=Limits(),
            ready=ready.set_result,
        )
    )
    server = await ready
    stop = asyncio.Event()
    codes: list[int] = []
    waits: list[float] = []
    clients = [
        asyncio.create_task(screen(server.url, n, stop, codes, waits)) for n in range(screens)
    ]
    await asyncio.sleep(seconds)
    # Engine and screens stop together: the screens' last round must not lengthen the window.
    task.cancel()
    stop.set()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.gather(*clients)
    return codes, waits


async def main_async(args: argparse.Namespace) -> None:
    one, many = Simulator(), Simulator()
    with one, many:
        for sim in (one, many):
            sim.set_time(PINNED)
        _, (codes, waits) = await asyncio.gather(
            alone(one, args.seconds, args.interval),
            served(many, args.seconds, args.interval, args.screens),
        )
        per_minute = 60.0 / args.seconds
        print(
            f"CI API requests per minute (demo estate, {args.interval:g} s interval, "
            f"{args.seconds:g} s measured, scaled to a minute)"
        )
        print(f"  {'':34} {'requests/min':>12} {'GitHub quota/min':>16}")
        for label, sim in (
            ("1 screen (the engine alone)", one),
            (f"{args.screens} screens on `serve`", many),
        ):
            total = sum(sim.requests.values())
            print(
                f"  {label:34} {total * per_minute:>12.0f} {github_spent(sim) * per_minute:>16.0f}"
            )
        alone_total = sum(one.requests.values())
        print(
            f"  {f'{args.screens} radiators polling each':34} "
            f"{alone_total * per_minute * args.screens:>12.0f}   (what serve saves: estimate)"
        )
        if waits:
            ordered = sorted(waits)
            p95 = ordered[int(0.95 * (len(ordered) - 1))]
            print(
                f"\nscreens: {len(codes)} answers ({codes.count(304)} x 304, "
                f"{codes.count(200)} x 200, {len(codes) - codes.count(200) - codes.count(304)} "
                f"other); answer time median {statistics.median(waits) * 1000:.1f} ms, "
                f"p95 {p95 * 1000:.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured per run")
    parser.add_argument("--screens", type=int, default=30)
    parser.add_argument("--interval", type=float, default=3.0, help="the engine's poll interval")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
