"""Memory: resident memory over 10,000 poll cycles with faults injected.

    python bench/memory.py [--cycles 10000] [--repos 5] [--projects 100] [--trace]

The real ``Engine`` (GitHub source of ``--repos`` repositories, a CCTray feed of ``--projects``
projects, a health check) polls through ``httpx.MockTransport``; a ``FakeClock`` moves 30 s per
cycle, so 10,000 cycles are about 3.5 simulated days. Each cycle is one of: a good answer (with
something changed, so caches churn), HTTP 500, a timeout, an HTML error page, truncated JSON/XML
-- in turn. Every cycle also builds the snapshot and its JSON export, as the radiator does.

Reports RSS (``/proc/self/statm``) at start, after the warm-up (the first 10% of the cycles) and
at the end, and with ``--trace`` the tracemalloc allocations that grew most between warm-up and
end. Target (issue "Proof"): growth after warm-up under 5 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import time
import tracemalloc

import httpx

from _estate import CCTrayEstate, GitHubEstate, config_text, load, verdict
from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.export.document import to_json
from buildradiator.sources.http import HttpClient

BASE = "http://ci.bench.test"
FAULTS = ("good", "500", "good", "timeout", "good", "html", "good", "truncated")
HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
TARGET_MB = 5.0


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


async def main_async(args: argparse.Namespace) -> None:
    clock = FakeClock()
    github = GitHubEstate(args.repos, limit=10**9)
    cctray = CCTrayEstate(args.projects)
    fault = ["good"]
    counts: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        mode = fault[0]
        counts[mode] = counts.get(mode, 0) + 1
        if mode == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if mode == "500":
            return httpx.Response(500, json={"message": "Server Error"})
        if mode == "html":
            return httpx.Response(502, headers={"Content-Type": "text/html"}, content=HTML)
        path = request.url.path
        if path.startswith("/health"):
            body = json.dumps({"status": "UP", "components": {"db": {"status": "UP"}},
                               "build": {"version": f"1.{clock.monotonic():.0f}"}}).encode()  # fmt: skip
            status, headers = 200, [("Content-Type", "application/json")]
        elif path.startswith("/github/"):
            status, headers, body = github.answer(
                path.removeprefix("/github"),
                request.headers.get("If-None-Match"),
                clock.now().timestamp(),
            )
        else:
            status, headers, body = cctray.answer(path)
        if mode == "truncated" and body:
            body = body[: len(body) // 2]
            headers = [(k, v) for k, v in headers if k.lower() != "etag"]
        return httpx.Response(status, headers=headers, content=body)

    text = config_text(BASE, repos=args.repos, repos_per_source=args.repos, projects=args.projects)
    text += f'\n[[sources]]\nname = "health"\ntype = "health"\nurl = "{BASE}/health/app"\n'
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    engine = build_engine(load(text), http=HttpClient(client, clock=clock), clock=clock,
                    rng=random.Random(1))  # fmt: skip
    warmup = max(1, args.cycles // 10)
    start = rss_mb()
    warm = start
    snap_warm = None
    errors = 0
    t0 = time.perf_counter()
    for cycle in range(args.cycles):
        fault[0] = FAULTS[cycle % len(FAULTS)]
        if fault[0] == "good":
            github.change(1)
            cctray.change(1)
        snapshot = await engine.poll_all()
        to_json(snapshot)
        errors += sum(1 for s in snapshot.sources if s.error)
        clock.advance(30)
        if cycle + 1 == warmup:
            gc.collect()
            warm = rss_mb()
            if args.trace:
                tracemalloc.start(10)
                snap_warm = tracemalloc.take_snapshot()
        if (cycle + 1) % (args.cycles // 10 or 1) == 0:
            print(f"  cycle {cycle + 1:>6}: RSS {rss_mb():6.1f} MB", file=sys.stderr, flush=True)
    gc.collect()
    end = rss_mb()
    elapsed = time.perf_counter() - t0
    await engine.aclose()
    growth = end - warm
    answers = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
    print(f"memory over {args.cycles:,} poll cycles ({elapsed:.0f} s), "
          f"{len(engine.slots)} sources, faults in turn: {', '.join(sorted(set(FAULTS)))}")  # fmt: skip
    print(f"  answers: {answers}; source errors seen: {errors:,}")
    print(f"  RSS at start {start:.1f} MB, after warm-up ({warmup:,} cycles) {warm:.1f} MB, "
          f"at end {end:.1f} MB")  # fmt: skip
    print(f"  growth after warm-up: {growth:+.2f} MB")
    if snap_warm is not None:
        top = tracemalloc.take_snapshot().compare_to(snap_warm, "lineno")[:10]
        print("  tracemalloc, largest growth since warm-up:")
        for stat in top:
            print(f"    {stat}")
    print(f"target: growth under {TARGET_MB:g} MB -> {verdict(growth < TARGET_MB)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--repos", type=int, default=5)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--trace", action="store_true", help="tracemalloc the growth (slower)")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
