"""Idle cost: CPU of the radiator showing 200 pipelines while nothing changes, side by side
with a bare Textual app that only ticks a clock.

    python bench/idle.py [--seconds 60] [--pipelines 200] [--feed engine|still] [--interval 30]

Each app runs in its own child process (headless, 200x60) for the same time; the child reports
the CPU time it used after a warm-up. Two feeds for the radiator:

- ``engine`` (the default): the real ``Engine`` polls a CCTray feed of ``--pipelines`` projects
  served over loopback from another process (``_estate.py``) every ``--interval`` seconds and
  nothing in it changes: the cost of polling, parsing and comparing counts, as on a wall.
- ``still``: no polling; the same estate is republished every ``--publish`` seconds with only the
  sources' freshness changed, as the engine does when polls find nothing new (UI cost alone).

Targets (issue "Proof"): at most 1.5x the bare app, and under 1% of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

WARMUP = 3.0


def estate(pipelines: int, now: datetime):  # type: ignore[no-untyped-def]
    from buildradiator.model import Build, Pipeline, Snapshot, SourceState, Status

    items = []
    for i in range(pipelines):
        builds = tuple(
            Build(
                source="gh",
                pipeline=f"team{i % 10}/service-{i}",
                id=str(n),
                number=n,
                status=Status.PASSED,
                started_at=now - timedelta(minutes=10 + 30 * n),
                finished_at=now - timedelta(minutes=3 + 30 * n),
                commit=f"{i:07x}{n}",
                author=f"Dev {i % 17}",
                message=f"Change {n}",
            )
            for n in range(5)
        )
        items.append(
            Pipeline(
                source="gh",
                key=f"team{i % 10}/service-{i}",
                name=f"team{i % 10}/service-{i}",
                branch="main",
                recent=builds,
            )
        )
    state = SourceState(name="gh", type="github", last_success=now)
    # Steady idle: everything has been green for hours, as on a wall most of the day.
    since = now - timedelta(hours=3)
    return Snapshot(taken_at=now, pipelines=tuple(items), sources=(state,), green_since=since)


class StillFeed:
    """Publishes the same estate again and again; only the freshness moves."""

    def __init__(self, pipelines: int, every: float) -> None:
        self.pipelines, self.every = pipelines, every

    async def run(self, publish: Callable[..., None]) -> None:
        base = estate(self.pipelines, datetime.now(UTC))
        while True:
            now = datetime.now(UTC)
            state = base.sources[0].model_copy(update={"last_success": now})
            publish(base.model_copy(update={"taken_at": now, "sources": (state,)}))
            await asyncio.sleep(self.every)

    def poll_now(self) -> None:
        pass


def child(args: argparse.Namespace) -> None:
    kind, seconds, pipelines, every = args.child, args.seconds, args.pipelines, args.publish
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    class BareClock(App[None]):
        def compose(self) -> ComposeResult:
            yield Label(id="clock")

        def on_mount(self) -> None:
            self.set_interval(1, self.tick)

        def tick(self) -> None:
            self.query_one(Label).update(time.strftime("%H:%M:%S"))

    server = None
    if kind == "bare":
        app: App[object] = BareClock()  # type: ignore[assignment]
    elif args.feed == "still":
        from buildradiator.ui.app import BuildRadiatorApp

        app = BuildRadiatorApp(StillFeed(pipelines, every))  # type: ignore[assignment]
    else:
        from _estate import ChildServer, config_text, load
        from buildradiator.assemble import build_engine
        from buildradiator.ui.app import BuildRadiatorApp

        server = ChildServer(projects=pipelines, feeds=1).__enter__()
        text = config_text(server.base_url, projects=pipelines, interval=args.interval)
        app = BuildRadiatorApp(build_engine(load(text)))  # type: ignore[assignment]

    result: dict[str, float] = {}

    async def measure() -> None:
        await asyncio.sleep(args.warmup)
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        result["cpu"] = time.process_time() - cpu0
        result["wall"] = time.monotonic() - wall0
        app.exit()

    async def main() -> None:
        task = asyncio.create_task(measure())
        await app.run_async(headless=True, size=(200, 60))
        await task

    asyncio.run(main())
    if server is not None:
        server.__exit__(None, None, None)
    print(json.dumps(result))


def run_child(kind: str, args: argparse.Namespace) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--seconds",
            str(args.seconds),
            "--pipelines",
            str(args.pipelines),
            "--publish",
            str(args.publish),
            "--feed",
            args.feed,
            "--warmup",
            str(args.warmup),
            "--interval",
            str(args.interval),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pipelines", type=int, default=200)
    parser.add_argument(
        "--publish",
        type=float,
        default=10.0,
        help="seconds between republished (unchanged) snapshots",
    )
    parser.add_argument("--feed", choices=["engine", "still"], default="engine")
    parser.add_argument("--interval", type=float, default=30.0, help="engine feed: poll interval")
    parser.add_argument("--warmup", type=float, default=WARMUP, help="seconds before measuring")
    parser.add_argument("--child", choices=["bare", "radiator"])
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    feed = (
        f"real engine polling a CCTray feed every {args.interval:g} s"
        if args.feed == "engine"
        else f"snapshot republished every {args.publish:g} s"
    )
    print(
        f"idle CPU over {args.seconds:g} s (after {args.warmup:g} s warm-up), headless 200x60; {feed}"
    )
    bare = run_child("bare", args)
    radiator = run_child("radiator", args)
    for name, r in (
        ("bare textual clock", bare),
        (f"radiator, {args.pipelines} pipelines", radiator),
    ):
        share = 100 * r["cpu"] / r["wall"]
        print(f"  {name:32s} {1000 * r['cpu']:8.0f} ms CPU  {share:5.2f}% of a core")
    ratio = radiator["cpu"] / bare["cpu"] if bare["cpu"] else float("inf")
    share = 100 * radiator["cpu"] / radiator["wall"]
    ok = ratio <= 1.5 and share < 1.0
    print(f"  ratio radiator / bare: {ratio:.2f}x")
    print(f"target: <= 1.5x the bare app and < 1% of a core -> {'MET' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
