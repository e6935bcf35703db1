"""Quota: requests sent and GitHub quota spent in one simulated hour.

    python bench/quota.py [--hours 1] [--layout both|per-repo|grouped]

The real ``Engine.run`` loop, driven by a ``FakeClock`` (an hour passes in seconds), talks to
``httpx.MockTransport`` speaking GitHub's shapes (``_estate.GitHubEstate``): strong ETags,
``If-None-Match`` -> 304 free of quota, the ``x-ratelimit-*`` headers, a 5,000/h quota that resets
an hour after it began, and a 403 "API rate limit exceeded" once it is spent. "Without
conditional requests" is the same engine behind a transport that strips ``If-None-Match``
(a poller that never sends it).

Scenarios: 50 repositories at a 30 s interval with (a) nothing changing and (b) one repository
changing every minute; then 500 repositories at 10 s, where only stretching the intervals keeps
the quota alive. Layouts: ``per-repo`` is one source per repository; ``grouped`` is sources of 50
repositories each (``repos = [...]``), so one poll costs 50 requests.

Targets (issue "Proof"): with conditional requests the quota spent is under 5% of a poller
without them, and no configuration ever runs into the rate limit (no 403, quota never at 0).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
from dataclasses import dataclass
from datetime import timedelta

import httpx

from _estate import GitHubEstate, config_text, load, verdict
from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.sources.http import HttpClient

BASE = "http://api.github.test"


@dataclass
class Outcome:
    requests: int
    spent: int
    not_modified: int
    limited: int
    min_remaining: int
    polls: int
    mean_interval: float
    errors: int
    """Polls that ended in an error (a 403, for instance)."""


async def simulate(
    repos: int,
    interval: float,
    *,
    change_every: float | None,
    conditional: bool,
    per_source: int,
    hours: float,
    seed: int = 1,
) -> Outcome:
    clock = FakeClock()
    estate = GitHubEstate(repos)
    next_change = [clock.now().timestamp() + (change_every or 0)]
    lowest = [estate.budget.limit]

    def handler(request: httpx.Request) -> httpx.Response:
        now = clock.now().timestamp()
        while change_every and now >= next_change[0]:
            estate.change(1)
            next_change[0] += change_every
        etag = request.headers.get("If-None-Match") if conditional else None
        status, headers, body = estate.answer(request.url.path, etag, now)
        lowest[0] = min(lowest[0], estate.budget.remaining)
        return httpx.Response(status, headers=headers, content=body)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    http = HttpClient(client, clock=clock)
    config = load(config_text(BASE, repos=repos, repos_per_source=per_source, interval=interval))
    engine = build_engine(config, http=http, clock=clock, rng=random.Random(seed))
    polls: dict[str, list[float]] = {name: [] for name in engine.slots}
    errors = 0
    poll_source = engine.poll_source

    async def counted(name: str) -> None:
        nonlocal errors
        polls[name].append(clock.monotonic())
        await poll_source(name)
        errors += engine.slots[name].error is not None

    engine.poll_source = counted  # type: ignore[method-assign]

    def publish(_snapshot: object) -> None:
        pass

    start = clock.now()
    task = asyncio.create_task(engine.run(publish))
    while clock.now() - start < timedelta(hours=hours):
        await asyncio.sleep(0)
        if task.done():
            break
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    gaps = [b - a for times in polls.values() for a, b in itertools.pairwise(times)]
    return Outcome(
        requests=estate.requests,
        spent=estate.quota_spent,
        not_modified=estate.not_modified,
        limited=estate.limited,
        min_remaining=lowest[0],
        polls=sum(len(t) for t in polls.values()),
        mean_interval=statistics.fmean(gaps) if gaps else float("nan"),
        errors=errors,
    )


def row(label: str, o: Outcome) -> None:
    print(
        f"  {label:50} {o.requests:>8,} {o.spent:>7,} {o.not_modified:>7,} {o.limited:>5} "
        f"{o.min_remaining:>7,} {o.mean_interval:>7.1f}s {o.errors:>6}",
        flush=True,
    )


HEAD = f"  {'':50} {'requests':>8} {'quota':>7} {'304s':>7} {'403s':>5} {'lowest':>7} {'mean gap':>8} {'errors':>6}"


async def main_async(args: argparse.Namespace) -> None:
    layouts = {"per-repo": 1, "grouped": 50}
    chosen = list(layouts) if args.layout == "both" else [args.layout]
    ok_ratio = True
    ok_limit = True
    print(f"GitHub quota in {args.hours:g} simulated hour(s); quota 5,000/h, 304s free")
    for layout in chosen:
        per = layouts[layout]
        print(f"\nlayout {layout} ({per} repositor{'y' if per == 1 else 'ies'} per source)")
        print(HEAD)
        for label, change in (("(a) nothing changes", None), ("(b) one repo changes/min", 60.0)):
            with_c = await simulate(
                args.repos, args.interval, change_every=change, conditional=True,
                per_source=per, hours=args.hours,
            )  # fmt: skip
            without = await simulate(
                args.repos, args.interval, change_every=change, conditional=False,
                per_source=per, hours=args.hours,
            )  # fmt: skip
            row(f"{args.repos} repos/{args.interval:g}s {label}, ETags", with_c)
            row(f"{args.repos} repos/{args.interval:g}s {label}, no ETags", without)
            # Without ETags the poller may itself be stretched by the quota: compare with what it
            # would have spent, requests sent (each a 200 or a 403 counted against the limit).
            share = 100 * with_c.spent / max(1, without.requests)
            ok_ratio &= share < 5
            ok_limit &= with_c.limited == 0 and with_c.min_remaining > 0
            ok_limit &= without.limited == 0 and without.min_remaining > 0
            print(f"  -> quota with ETags = {share:.2f}% of the poller without them")
        if layout not in args.big_layouts.split(","):
            print(
                f"  ({args.big_repos} repos/{args.big_interval:g}s skipped for this layout: "
                "--big-layouts per-repo,grouped runs it; per-repo takes minutes)"
            )
            continue
        for conditional in (True, False):
            o = await simulate(
                args.big_repos, args.big_interval, change_every=60.0, conditional=conditional,
                per_source=per, hours=args.hours,
            )  # fmt: skip
            naive = int(args.big_repos * 3600 * args.hours / args.big_interval)
            tag = "ETags" if conditional else "no ETags"
            row(f"{args.big_repos} repos/{args.big_interval:g}s 1 change/min, {tag}", o)
            print(
                f"  -> unstretched it would send {naive:,} requests; "
                f"ran into the limit: {'YES' if o.limited or o.min_remaining <= 0 else 'no'}"
            )
            ok_limit &= o.limited == 0 and o.min_remaining > 0
    print(
        f"\ntarget: quota with conditional requests < 5% of a poller without -> {verdict(ok_ratio)}"
    )
    print(f"target: the engine never runs into the rate limit -> {verdict(ok_limit)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--big-repos", type=int, default=500)
    parser.add_argument("--big-interval", type=float, default=10.0)
    parser.add_argument(
        "--big-layouts",
        default="grouped",
        help="layouts that also run the big estate (comma-separated)",
    )
    parser.add_argument("--layout", choices=["both", "per-repo", "grouped"], default="both")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
