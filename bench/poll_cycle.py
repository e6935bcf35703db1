"""Poll cycle: CPU and wall time to poll, ingest, derive insights and render one cycle.

    python bench/poll_cycle.py [--sizes 50,500,2000] [--cycles 15] [--kinds cctray,github,mixed]
                               [--history] [--profile]

The estate is served over loopback by ``_estate.py`` from another process (so its CPU is not
counted): CCTray feeds of up to 500 projects each, and/or GitHub repositories (one workflow each,
sources of 50 repositories, ETags and 304s as GitHub does). Before each cycle 1% of the pipelines
change (at least one), so every cycle has something new to show.

One cycle, as the radiator does it:
- **engine**: ``Engine.poll_all()`` (every source polled once: HTTP, parse, domain objects) and
  the ``Snapshot`` with its insights (labels, estimates, broken windows, sorting, flaky counts).
  With ``--history`` every poll's builds are also recorded in a SQLite history store (temp dir).
- **render**: the snapshot posted to the real ``BuildRadiatorApp`` (headless, 200x60) as the
  engine's feed does, until the next frame is composed: the app's handler, every widget's
  ``show`` (row builders, diffing), layout and the compositor's update, plus encoding that update
  into the terminal bytes (headless Textual skips only this last step; the bench does it).

Target (issue "Proof"): 2,000 pipelines under 100 ms of CPU per cycle (engine + render).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from _estate import ChildServer, config_text, load, median_ms, verdict
from buildradiator.model import Snapshot

TARGET_MS = 100.0
FEED_SIZE = 500


class IdleFeed:
    """The app's feed, idle: the bench posts the snapshots itself, between measurements."""

    async def run(self, publish: Any) -> None:
        await asyncio.Event().wait()

    def poll_now(self) -> None:
        pass


def make_app() -> Any:
    from textual._compositor import CompositorUpdate

    from buildradiator.ui import app as app_module
    from buildradiator.ui.app import BuildRadiatorApp

    class BenchApp(BuildRadiatorApp):
        """The real app; it only notes when a snapshot landed and when a frame went out."""

        # Relative CSS paths resolve against the subclass's module: point at the app's own.
        CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))

        def __init__(self) -> None:
            super().__init__(IdleFeed())
            self.landed = 0
            self.frames = 0
            self.frame_bytes = 0

        def snapshot_changed(self, previous: Snapshot | None, snapshot: Snapshot) -> None:
            super().snapshot_changed(previous, snapshot)
            self.landed += 1

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if isinstance(renderable, CompositorUpdate) and not self._batch_count:
                # What a real terminal would be sent (headless Textual stops just before this).
                self.frame_bytes += len(renderable.render_segments(self.console))
                self.frames += 1

    return BenchApp()


async def render(app: Any, snapshot: Snapshot) -> None:
    """Post the snapshot as the feed does and wait for the frame that shows it."""
    from buildradiator.ui.feed import SnapshotUpdated

    landed = app.landed
    app.post_message(SnapshotUpdated(snapshot))
    while app.landed == landed:
        await asyncio.sleep(0)
    frames = app.frames
    deadline = time.perf_counter() + 1.0
    while app.frames == frames and time.perf_counter() < deadline:
        await asyncio.sleep(0.0005)


def estate_of(kind: str, size: int) -> tuple[int, int]:
    """(GitHub repositories, CCTray projects) for ``size`` pipelines."""
    if kind == "cctray":
        return 0, size
    if kind == "github":
        return size, 0
    return size // 2, size - size // 2


async def run_size(
    kind: str, size: int, cycles: int, history: bool, profile: bool
) -> dict[str, float]:
    from buildradiator.assemble import build_engine
    from buildradiator.history import History

    repos, projects = estate_of(kind, size)
    feeds = max(1, -(-projects // FEED_SIZE)) if projects else 0
    with ChildServer(repos=repos, projects=projects, feeds=max(1, feeds)) as server:
        config = load(config_text(server.base_url, repos=repos, projects=projects, feeds=feeds))
        tmp = tempfile.TemporaryDirectory(prefix="brbench-") if history else None
        store = History.open(Path(tmp.name) / "h.sqlite3") if tmp else None
        engine = build_engine(config, history=store)
        app = make_app()
        change = max(1, size // 100)
        samples: dict[str, list[float]] = {k: [] for k in ("cpu_e", "wall_e", "cpu_r", "wall_r")}
        profiler = cProfile.Profile() if profile else None
        shown = 0
        async with app.run_test(headless=True, size=(200, 60)) as pilot:
            await pilot.pause()
            with httpx.Client() as control:
                for cycle in range(cycles + 2):  # the first two fill caches: not counted
                    control.get(f"{server.base_url}/control/change", params={"n": change})
                    cpu0, wall0 = time.process_time(), time.perf_counter()
                    if profiler and cycle >= 2:
                        profiler.enable()
                    snapshot = await engine.poll_all()
                    cpu1, wall1 = time.process_time(), time.perf_counter()
                    await render(app, snapshot)
                    if profiler and cycle >= 2:
                        profiler.disable()
                    cpu2, wall2 = time.process_time(), time.perf_counter()
                    shown = len(snapshot.pipelines)
                    errors = [s.error for s in snapshot.sources if s.error]
                    if errors:
                        raise SystemExit(f"a source failed during the bench: {errors[0]}")
                    if cycle >= 2:
                        samples["cpu_e"].append(cpu1 - cpu0)
                        samples["wall_e"].append(wall1 - wall0)
                        samples["cpu_r"].append(cpu2 - cpu1)
                        samples["wall_r"].append(wall2 - wall1)
            frame_kb = app.frame_bytes / max(1, app.frames) / 1024
        await engine.aclose()
        if store is not None:
            store.close()
        if tmp is not None:
            tmp.cleanup()
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(f"--- profile, {kind} {size} ---\n{out.getvalue()}", file=sys.stderr)
    result = {k: median_ms(v) for k, v in samples.items()}
    result["shown"] = shown
    result["frame_kb"] = frame_kb
    total_cpu = [a + b for a, b in zip(samples["cpu_e"], samples["cpu_r"], strict=True)]
    result["cpu"] = median_ms(total_cpu)
    return result


async def main_async(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = args.kinds.split(",")
    print(
        f"poll cycle, median of {args.cycles} cycles; 1% of pipelines change per cycle"
        f"{'; history store on' if args.history else ''}"
    )
    print(
        f"{'estate':10} {'pipelines':>9} {'engine CPU':>11} {'engine wall':>12} "
        f"{'render CPU':>11} {'render wall':>12} {'total CPU':>10}"
    )
    worst = 0.0
    biggest = max(sizes)
    for kind in kinds:
        for size in sizes:
            r = await run_size(
                kind, size, args.cycles, args.history, args.profile and size == biggest
            )
            print(
                f"{kind:10} {int(r['shown']):>9} {r['cpu_e']:9.1f}ms {r['wall_e']:10.1f}ms "
                f"{r['cpu_r']:9.1f}ms {r['wall_r']:10.1f}ms {r['cpu']:8.1f}ms",
                flush=True,
            )
            if size == biggest:
                worst = max(worst, r["cpu"])
    print(
        f"target: {biggest:,} pipelines under {TARGET_MS:g} ms CPU per cycle -> "
        f"{verdict(worst < TARGET_MS)} (worst estate: {worst:.1f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,500,2000")
    parser.add_argument("--cycles", type=int, default=15)
    parser.add_argument("--kinds", default="cctray,github,mixed")
    parser.add_argument("--history", action="store_true", help="record builds in a history store")
    parser.add_argument("--profile", action="store_true", help="cProfile the biggest size (stderr)")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
