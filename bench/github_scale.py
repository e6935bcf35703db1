"""GitHub estates of 50 to 2,000 repositories: CPU per poll cycle and requests per hour, every
repository read over REST each cycle (with ETags) against one GraphQL query per hundred
repositories that says which changed (``sources/github/graphql.py``).

    python bench/github_scale.py [--sizes 50,500,2000] [--cycles 12] [--per-source 100]

The estate is served from another process (``_estate.py``), so its CPU is not counted. Before
each cycle 1% of the repositories get a new finished run. "Engine CPU" is ``Engine.poll_all()``:
every source polled once, parsed, and the snapshot derived (no rendering: ``poll_cycle.py``
measures that). Requests per hour are at a 60 s interval; GitHub's REST quota counts answers
other than 304, GraphQL's counts points (about one per hundred repositories a query).

Targets (issue "Seconds, not intervals"): 2,000 repositories under 100 ms of CPU per cycle, and
inside 5,000 requests (and 5,000 points) an hour at a 60 s interval.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from _estate import ChildServer, config_text, load, median_ms, verdict

TARGET_MS = 100.0
QUOTA = 5000
CYCLES_PER_HOUR = 60  # at a 60 s interval


async def run(size: int, batch: str, cycles: int, per_source: int) -> dict[str, float]:
    from buildradiator.engine.engine import Engine

    with ChildServer(repos=size) as server:
        config = load(
            config_text(server.base_url, repos=size, repos_per_source=per_source, batch=batch)
        )
        engine = Engine(config)
        change = max(1, size // 100)
        cpu: list[float] = []
        wall: list[float] = []
        with httpx.Client() as control:
            for cycle in range(cycles + 2):  # the first two fill caches: not counted
                if cycle == 2:
                    before = control.get(f"{server.base_url}/control/stats").json()
                control.get(
                    f"{server.base_url}/control/change", params={"n": change, "what": "github"}
                )
                cpu0, wall0 = time.process_time(), time.perf_counter()
                snapshot = await engine.poll_all()
                if cycle >= 2:
                    cpu.append(time.process_time() - cpu0)
                    wall.append(time.perf_counter() - wall0)
                errors = [s.error for s in snapshot.sources if s.error]
                if errors:
                    raise SystemExit(f"a source failed during the bench: {errors[0]}")
            after = control.get(f"{server.base_url}/control/stats").json()
        await engine.aclose()
    per_cycle = {k: (after[k] - before[k]) / cycles for k in after}
    return {
        "cpu": median_ms(cpu),
        "wall": median_ms(wall),
        "requests": per_cycle["github_requests"],
        "quota_hour": per_cycle["github_quota"] * CYCLES_PER_HOUR,
        "points_hour": per_cycle["graphql_points"] * CYCLES_PER_HOUR,
        "pipelines": len(snapshot.pipelines),
    }


async def main_async(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"GitHub estate, median of {args.cycles} cycles, 1% of repositories change per cycle, "
        f"{args.per_source} repositories per source"
    )
    print(
        f"{'repos':>6} {'path':8} {'engine CPU':>11} {'wall':>9} {'requests':>9} "
        f"{'REST quota/h':>13} {'GraphQL pts/h':>14}"
    )
    met = True
    for size in sizes:
        for batch in ("rest", "graphql"):
            r = await run(size, batch, args.cycles, args.per_source)
            print(
                f"{size:>6} {batch:8} {r['cpu']:9.1f}ms {r['wall']:7.1f}ms {r['requests']:9.1f} "
                f"{r['quota_hour']:13.0f} {r['points_hour']:14.0f}",
                flush=True,
            )
            if size == max(sizes) and batch == "graphql":
                met = (
                    r["cpu"] < TARGET_MS and r["quota_hour"] <= QUOTA and r["points_hour"] <= QUOTA
                )
                print(
                    f"target: {size:,} repositories under {TARGET_MS:g} ms CPU per cycle and "
                    f"within {QUOTA:,} requests and points an hour -> {verdict(met)}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,500,2000")
    parser.add_argument("--cycles", type=int, default=12)
    parser.add_argument("--per-source", type=int, default=100)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
