"""Start-up: from launch to the first frame with the last known state, and with fresh data.

    python bench/startup.py [--runs 5] [--repos 20] [--projects 200] [--server-delay 0]

Each run is a new process doing exactly what ``buildradiator --config FILE`` does
(``cli.main``: parse the config, read the snapshot cache, seed the engine, build the app), except
that the Textual app runs headless at 200x60 (``App.run`` is swapped for a headless run). The
launch moment is taken by the parent just before it spawns the process (``time.monotonic`` is
system-wide), so interpreter start and imports count. A loopback server (``_estate.py``) plays
the CI with ``--repos`` GitHub repositories and a CCTray feed of ``--projects`` projects;
``--server-delay`` makes every answer that much slower, as a distant CI would be.

Reported, median of ``--runs``:
- **first frame**: the first frame sent out at all;
- **last known state**: the first frame after a snapshot with pipelines landed before any poll
  finished, i.e. the cache (a warm start; a cold start, without a cache, has none);
- **fresh data**: the first frame after every source has answered since launch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def child(config_path: str, launched_wall: float) -> None:
    """The radiator, as the CLI starts it, noting when each kind of frame went out."""
    marks: dict[str, float] = {}
    launched = datetime.fromtimestamp(launched_wall, UTC)
    marks["imports"] = time.monotonic()

    from textual._compositor import CompositorUpdate
    from textual.app import App

    from buildradiator import cli
    from buildradiator.ui.app import BuildRadiatorApp

    state = {"cached": False, "fresh": False}

    def headless_run(self: Any, *args: Any, **kwargs: Any) -> Any:
        return App.run(self, headless=True, size=(200, 60))

    original_changed = BuildRadiatorApp.snapshot_changed
    original_display = BuildRadiatorApp._display

    def snapshot_changed(self: Any, previous: Any, snapshot: Any) -> None:
        original_changed(self, previous, snapshot)
        fresh = snapshot.sources and all(
            s.last_success is not None and s.last_success >= launched for s in snapshot.sources
        )
        if snapshot.pipelines and not any(
            s.last_success is not None and s.last_success >= launched for s in snapshot.sources
        ):
            state["cached"] = True
        if fresh:
            state["fresh"] = True

    def display(self: Any, screen: Any, renderable: Any) -> None:
        original_display(self, screen, renderable)
        if not isinstance(renderable, CompositorUpdate) or self._batch_count:
            return
        now = time.monotonic()
        marks.setdefault("first_frame", now)
        if state["cached"]:
            marks.setdefault("cached_frame", now)
        if state["fresh"] and "fresh_frame" not in marks:
            marks["fresh_frame"] = now
            self.exit(0)

    BuildRadiatorApp.run = headless_run  # type: ignore[method-assign]
    BuildRadiatorApp.snapshot_changed = snapshot_changed  # type: ignore[method-assign]
    BuildRadiatorApp._display = display  # type: ignore[method-assign]
    cli.main(["--config", config_path])
    print(json.dumps(marks))


def launch(config: Path, env: dict[str, str]) -> dict[str, float]:
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(config), str(time.time())],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"the radiator failed to start:\n{out.stderr[-3000:]}")
    marks = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: (v - started) * 1000 for k, v in marks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--server-delay", type=float, default=0.0)
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "LAUNCHED"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], float(args.child[1]))
        return

    from _estate import CCTrayEstate, Estate, EstateServer, GitHubEstate, config_text

    class SlowEstate(Estate):
        def answer(self, raw_path: str, if_none_match: str | None) -> Any:
            time.sleep(args.server_delay)
            return super().answer(raw_path, if_none_match)

    estate = SlowEstate(GitHubEstate(args.repos, limit=10**9), CCTrayEstate(args.projects))
    with tempfile.TemporaryDirectory(prefix="brbench-") as home, EstateServer(estate) as server:
        config = Path(home) / "config.toml"
        text = config_text(server.base_url, repos=args.repos, projects=args.projects,
                           repos_per_source=10)  # fmt: skip
        config.write_text(text, encoding="utf-8")
        env = {**os.environ, "BUILDRADIATOR_HOME": home, "BENCH_GITHUB_TOKEN": "ghp_bench_fake"}
        cache_dir = Path(home) / "cache"
        cold = [launch(config, env) for _ in range(args.runs) if not _wipe(cache_dir)]
        warm = [launch(config, env) for _ in range(args.runs)]  # the cache is there now
    print(
        f"start-up, median of {args.runs} launches; {args.repos} GitHub repos + CCTray feed of "
        f"{args.projects} projects; server delay {args.server_delay * 1000:g} ms; headless 200x60"
    )
    print(
        f"  {'':30} {'python up':>9} {'first frame':>12} {'last known state':>17} {'fresh data':>11}"
    )
    for label, runs in (("cold (no cache)", cold), ("warm (cache from last run)", warm)):
        print(
            f"  {label:30} {_med(runs, 'imports'):>9} {_med(runs, 'first_frame'):>12} "
            f"{_med(runs, 'cached_frame'):>17} {_med(runs, 'fresh_frame'):>11}"
        )


def _wipe(cache_dir: Path) -> bool:
    for path in cache_dir.glob("*") if cache_dir.exists() else ():
        path.unlink()
    return False


def _med(runs: list[dict[str, float]], key: str) -> str:
    values = [r[key] for r in runs if key in r]
    if not values:
        return "-"
    return f"{statistics.median(values):.0f} ms"


if __name__ == "__main__":
    main()
