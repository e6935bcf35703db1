"""Side by side with BuildNotify: time per poll of the same 500-project CCTray feed.

    pip install -e '.[interop]'    # BuildNotify, bench- and interop-only; not a dependency
    python bench/buildnotify_compare.py [--projects 500] [--polls 50]

Both read one CCTray feed of ``--projects`` projects (Jenkins' ccxml shape, from ``_estate.py``)
served over loopback from another process, in one run, polls interleaved (A, B, A, B...) so that
both see the same machine state. BuildNotify runs headless, no Qt: its own poll path,
``ProjectLoader(ServerSettings(url), timeout, HttpConnection()).get_data()`` (requests +
defusedxml minidom + its ``Project`` objects) and then ``OverallIntegrationStatus`` (what its tray
icon shows). The radiator is timed twice: its ``CCTray`` source alone (``HttpClient`` over httpx,
ElementTree via ``xmlsafe``, pydantic ``Pipeline``/``Build`` objects, untrusted-text cleaning), and
the whole engine cycle (``Engine.poll_all()``: the same plus the ``Snapshot`` with its insights).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _estate import ChildServer, config_text, load, median_ms


def buildnotify_poller(url: str) -> Any:
    try:
        from buildnotifylib.adapters.http import HttpConnection
        from buildnotifylib.core.aggregate import OverallIntegrationStatus
        from buildnotifylib.core.projects import ProjectLoader
        from buildnotifylib.core.settings import ServerSettings
    except ImportError:
        raise SystemExit("BuildNotify is not installed: pip install buildnotify") from None
    loader = ProjectLoader(ServerSettings(url=url), 10.0, HttpConnection())

    def poll() -> int:
        snapshot = loader.get_data()
        if snapshot.error is not None:
            raise SystemExit(f"BuildNotify could not read the feed: {snapshot.error}")
        status = OverallIntegrationStatus([snapshot])
        status.get_build_status()
        return len(status.get_projects())

    return poll


async def main_async(args: argparse.Namespace) -> None:
    from buildradiator.assemble import build_engine

    with ChildServer(projects=args.projects, feeds=1) as server:
        url = f"{server.base_url}/cctray/0/cc.xml"
        bn_poll = buildnotify_poller(url)
        engine = build_engine(load(config_text(server.base_url, projects=args.projects, feeds=1)))
        source = engine.slots["cc-0"].source
        samples: dict[str, list[tuple[float, float]]] = {"bn": [], "src": [], "eng": []}
        counts: dict[str, int] = {}

        async def timed(key: str, call: Any) -> None:
            cpu, wall = time.process_time(), time.perf_counter()
            result = call()
            if asyncio.iscoroutine(result):
                result = await result
            samples[key].append((time.process_time() - cpu, time.perf_counter() - wall))
            counts[key] = result if isinstance(result, int) else len(result.pipelines)

        for i in range(args.polls + 3):  # three warm-up rounds (connections, imports)
            await timed("bn", bn_poll)
            await timed("src", source.poll)
            await timed("eng", engine.poll_all)
            if i < 3:
                for values in samples.values():
                    values.clear()
        await engine.aclose()
    names = {
        "bn": "BuildNotify (get_data + status)",
        "src": "buildradiator CCTray source",
        "eng": "buildradiator engine poll_all",
    }
    print(
        f"CCTray feed of {args.projects} projects over loopback, median of {args.polls} polls each"
    )
    print(f"  {'':34} {'projects':>8} {'wall/poll':>10} {'CPU/poll':>9}")
    for key, label in names.items():
        wall = median_ms([w for _c, w in samples[key]])
        cpu = median_ms([c for c, _w in samples[key]])
        print(f"  {label:34} {counts[key]:>8} {wall:8.1f}ms {cpu:7.1f}ms")
    bn = median_ms([w for _c, w in samples["bn"]])
    for key in ("src", "eng"):
        mine = median_ms([w for _c, w in samples[key]])
        print(f"  ratio {names[key]} / BuildNotify (wall): {mine / bn:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--polls", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
