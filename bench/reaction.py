"""Reaction: from a status changing on the CI server to the change on screen.

    python bench/reaction.py [--changes 12] [--interval 4] [--repos 20] [--projects 50]

A loopback server (``_estate.py``: GitHub runs with ETags and a CCTray feed, real shapes) plays
the CI; the real ``Engine`` polls it at ``--interval`` seconds and feeds the real
``BuildRadiatorApp`` (headless, 200x60), wired as ``buildradiator run`` wires them. At random
moments one pipeline gets a new build with a new result (alternately a GitHub repository and a
CCTray project). Two times are taken for each change:

- **landed**: the snapshot carrying it reaches the app's handler (``snapshot_changed``);
- **on screen**: the next frame the compositor sends out after that (what a terminal would get).

Both as a fraction of the poll interval: a poller can only see a change at its next poll, so the
expectation is about half an interval on average and one interval (plus jitter) at worst.
Target (issue "The radiator end to end"): each event reaches the screen within one poll interval.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from pathlib import Path
from typing import Any

from _estate import (
    CCTrayEstate,
    Estate,
    EstateServer,
    GitHubEstate,
    config_text,
    load,
    verdict,
)
from buildradiator.model import Snapshot


def make_app(engine: Any, pending: dict[tuple[str, str], list[float]]) -> Any:
    from textual._compositor import CompositorUpdate

    from buildradiator.ui import app as app_module
    from buildradiator.ui.app import BuildRadiatorApp

    class WatchedApp(BuildRadiatorApp):
        # Relative CSS paths resolve against the subclass's module: point at the app's own.
        CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))

        def snapshot_changed(self, previous: Snapshot | None, snapshot: Snapshot) -> None:
            super().snapshot_changed(previous, snapshot)
            now = time.perf_counter()
            for (key, build_id), times in pending.items():
                if len(times) == 1 and any(
                    p.key == key and any(b.id == build_id for b in p.recent)
                    for p in snapshot.pipelines
                ):
                    times.append(now)

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if isinstance(renderable, CompositorUpdate) and not self._batch_count:
                now = time.perf_counter()
                for times in pending.values():
                    if len(times) == 2:
                        times.append(now)

    return WatchedApp(engine)


async def main_async(args: argparse.Namespace) -> None:
    from buildradiator.assemble import build_engine

    rng = random.Random(args.seed)
    estate = Estate(GitHubEstate(args.repos, limit=10**9), CCTrayEstate(args.projects))
    with EstateServer(estate) as server:
        config = load(
            config_text(
                server.base_url,
                repos=args.repos,
                projects=args.projects,
                interval=args.interval,
                repos_per_source=10,
            )
        )
        engine = build_engine(config)
        pending: dict[tuple[str, str], list[float]] = {}
        app = make_app(engine, pending)
        async with app.run_test(headless=True, size=(200, 60)) as pilot:
            await asyncio.sleep(args.interval * 1.5)  # first polls done, caches warm
            for n in range(args.changes):
                await asyncio.sleep(rng.uniform(0, args.interval))
                with server._server.lock:
                    if n % 2 == 0 or not args.projects:
                        index = estate.github.change(1)[0]
                        number = 1000 + estate.github.version[index]
                        key = f"acme/service-{index}:{160_000 + index}"
                        build_id = str(9_000_000_000 + index * 100_000 + number)
                    else:
                        index = estate.cctray.change(1)[0]
                        key = f"team-{index % 12}/job-{index}"
                        build_id = str(estate.cctray.label[index])
                    times = pending[(key, build_id)] = [time.perf_counter()]
                deadline = time.perf_counter() + 3 * args.interval + 5
                while len(times) < 3 and time.perf_counter() < deadline:
                    await asyncio.sleep(0.01)
                if len(times) < 3:
                    print(f"  change {n + 1}: {key} not on screen after {deadline:.0f} s!")
                else:
                    print(
                        f"  change {n + 1:2}: {key:28} landed {times[1] - times[0]:6.2f} s, "
                        f"on screen {times[2] - times[0]:6.2f} s",
                        flush=True,
                    )
            await pilot.pause()
        await engine.aclose()
    done = [t for t in pending.values() if len(t) == 3]
    landed = [(t[1] - t[0]) / args.interval for t in done]
    shown = [(t[2] - t[0]) / args.interval for t in done]
    frame_ms = [(t[2] - t[1]) * 1000 for t in done]
    print(f"reaction over {len(done)}/{len(pending)} changes, poll interval {args.interval:g} s "
          f"(+-10% jitter), {args.repos} GitHub repos + {args.projects} CCTray projects")  # fmt: skip
    if not done:
        print("target: within one poll interval -> MISSED (nothing reached the screen)")
        return
    print(f"  landed in the app:  median {statistics.median(landed):.2f}, worst {max(landed):.2f} "
          "of an interval")  # fmt: skip
    print(f"  on screen:          median {statistics.median(shown):.2f}, worst {max(shown):.2f} "
          f"of an interval (handler to frame: median {statistics.median(frame_ms):.1f} ms)")  # fmt: skip
    ok = len(done) == len(pending) and max(shown) <= 1.1 + 0.5 / args.interval
    print("target: every change on screen within one poll interval (+10% jitter) -> " + verdict(ok))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=12)
    parser.add_argument("--interval", type=float, default=4.0)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
