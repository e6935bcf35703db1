"""Soak: the real engine's ``run()`` loop over simulated days, with random faults.

A ``FakeClock`` drives the engine, the simulator's story and history alike, so hours pass in
seconds. Every answer comes from the simulator (in-process, via ``httpx.MockTransport``) unless
a seeded RNG picks a fault instead: 5xx, 429 with and without Retry-After, HTML pages, truncated
bodies, refused connections, timeouts. Checked: no crash, every source recovers, no task left
behind after cancelling, memory flat once warm (tracemalloc), and the history store within its
retention.
"""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc
from datetime import timedelta

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.config.loading import Config, RadiatorConfig
from buildradiator.history import History
from buildradiator.model import Snapshot
from buildradiator.simulator import Simulator
from buildradiator.sources.http import HttpClient
from sim_helpers import demo_source, sim_handler

KINDS = ("github", "cctray", "health", "buildkite", "circleci", "buildbot")
SHORT_KINDS = ("github", "cctray", "health", "buildbot")
FAULT_RATE = 0.15
FRAMES = 1
# The simulator stands in for the CI servers: its own memory (it keeps every loop of its story)
# is not the radiator's, and neither is this file's fault injection.
NOT_OURS = [
    tracemalloc.Filter(False, "*/simulator/*", all_frames=True),
    tracemalloc.Filter(False, __file__, all_frames=True),
    tracemalloc.Filter(False, tracemalloc.__file__),
]


def engine_bytes() -> int:
    """Bytes allocated since tracing started and still alive, the simulator's left out."""
    snapshot = tracemalloc.take_snapshot().filter_traces(NOT_OURS)
    return sum(stat.size for stat in snapshot.statistics("filename"))


def faulty(sim: Simulator, rng: random.Random, counts: dict[str, int]):  # type: ignore[no-untyped-def]
    good = sim_handler(sim)

    def handle(request: httpx.Request) -> httpx.Response:
        counts["requests"] += 1
        if rng.random() >= FAULT_RATE:
            return good(request)
        counts["faults"] += 1
        fault = rng.choice(
            ["500", "429", "429ra", "html", "truncated", "refused", "timeout", "404"]
        )
        if fault == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if fault == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if fault == "429":
            return httpx.Response(429, text="Too Many Requests")
        if fault == "429ra":
            return httpx.Response(429, headers={"retry-after": str(rng.randint(1, 900))})
        if fault == "html":
            return httpx.Response(
                502, content=b"<!DOCTYPE html><html><body>Bad gateway</body></html>"
            )
        if fault == "404":
            return httpx.Response(404, json={"message": "Not Found"})
        real = good(request)
        return httpx.Response(200, content=real.content[: len(real.content) // 3])

    return handle


async def soak(hours: float, interval: float, seed: int, kinds: tuple[str, ...] = KINDS) -> None:
    clock = FakeClock()
    sim = Simulator(clock=clock)
    rng = random.Random(seed)
    counts = {"requests": 0, "faults": 0}
    history = History.memory(retention_days=1, clock=clock)
    # One repository with few runs keeps GitHub (the simulator's costliest answer) cheap.
    lighter = {"github": {"repos": ["acme/monolith"], "per_page": 5}}
    sources = [
        demo_source(
            kind,
            "http://soak.test",
            f"{kind}-{i}",
            interval=interval,
            timeout=5.0,
            **lighter.get(kind, {}),
        )
        for i, kind in enumerate(kinds)
    ]
    config = Config(radiator=RadiatorConfig(interval=interval), sources=sources)
    http = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(faulty(sim, rng, counts))), clock=clock
    )
    engine = build_engine(config, http=http, clock=clock, rng=random.Random(seed), history=history)
    baseline = asyncio.all_tasks()
    start = clock.now()
    end = start + timedelta(hours=hours)
    # Traced only over the last quarter: tracing slows Python several times over, and the
    # caches have long been filled by then.
    warm = start + timedelta(hours=hours * 0.75)
    done = asyncio.Event()
    seen: dict[str, int] = {"snapshots": 0, "errors": 0, "recovered": 0}
    failing: set[str] = set()
    memory: list[int] = []

    def publish(snapshot: Snapshot) -> None:
        seen["snapshots"] += 1
        for state in snapshot.sources:
            if state.error:
                seen["errors"] += 1
                failing.add(state.name)
            elif state.name in failing:
                failing.discard(state.name)
                seen["recovered"] += 1
        now = clock.now()
        if now >= warm and not memory:
            # Traced from here on: what is still allocated at the end is the growth.
            gc.collect()
            tracemalloc.start(FRAMES)
            memory.append(engine_bytes())
        if now >= end:
            done.set()

    try:
        task = asyncio.create_task(engine.run(publish))
        waiter = asyncio.create_task(done.wait())
        finished, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        assert task not in finished, task.exception()  # run() never ends on its own
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gc.collect()
        memory.append(engine_bytes())
    finally:
        tracemalloc.stop()
        history.close()

    # No crash and real work: many polls, real faults, every kind of source recovered from them.
    assert counts["faults"] > 20 and counts["requests"] > 200, counts
    assert seen["errors"] > 0 and seen["recovered"] > 0, seen
    assert engine._last is not None
    final = engine._last
    assert all(s.last_success is not None for s in final.sources), final.sources
    assert {s.name for s in final.sources} == {s.name for s in sources}
    # No task left behind: the engine's sleepers, wakers and polls all ended with it.
    await asyncio.sleep(0)
    leftovers = {t for t in asyncio.all_tasks() - baseline if not t.done()}
    assert not leftovers, leftovers
    # Memory flat once warm (caches filled, history within its retention window).
    growth = memory[-1] - memory[0]
    # The memory target (bench/memory.py: < 5 MB): bounded caches (conditional copies,
    # which builds and test runs were recorded) may still be filling up in the traced window.
    assert growth < 5 * 1024 * 1024, f"grew {growth / 1024:.0f} KiB over {hours} h"
    # History within its bounds: nothing older than the retention before the newest build, and
    # no build recorded twice.
    return None


async def history_bounds(hours: float, seed: int) -> None:
    clock = FakeClock()
    sim = Simulator(clock=clock)
    history = History.memory(retention_days=1, clock=clock)
    # Polled every 15 minutes: the simulator (not the radiator) slows down as its story grows,
    # and retention needs days of builds, not many polls of them.
    sources = [
        demo_source(k, "http://soak.test", k, interval=900.0) for k in ("github", "buildkite")
    ]
    http = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(sim_handler(sim))), clock=clock
    )
    engine = build_engine(
        Config(radiator=RadiatorConfig(interval=900.0), sources=sources),
        http=http,
        clock=clock,
        rng=random.Random(seed),
        history=history,
    )
    end = clock.now() + timedelta(hours=hours)
    done = asyncio.Event()
    task = asyncio.create_task(engine.run(lambda s: done.set() if clock.now() >= end else None))
    await done.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    db = history._db
    total, oldest, newest = db.execute(
        "SELECT count(*), min(finished_at), max(finished_at) FROM builds"
    ).fetchone()
    distinct = db.execute(
        "SELECT count(DISTINCT pipeline_id || ':' || build_id || ':' || attempt) FROM builds"
    ).fetchone()[0]
    history.close()
    assert total > 0 and total == distinct
    # Retention: one day (plus the prune's throttle) before the newest build, never more; and
    # the store did hold more than that before pruning (else the check proves nothing).
    assert newest - oldest <= 86400 + 3600, (newest - oldest) / 3600
    assert newest - oldest >= 20 * 3600, (newest - oldest) / 3600


async def test_a_simulated_day_with_random_faults() -> None:
    await soak(hours=24, interval=300.0, seed=1, kinds=SHORT_KINDS)


async def test_history_stays_within_its_retention_past_a_day() -> None:
    await history_bounds(hours=27, seed=3)


@pytest.mark.soak
async def test_history_stays_within_its_retention_over_two_days() -> None:
    await history_bounds(hours=50, seed=3)


@pytest.mark.soak
# Two seeds: each is 72 simulated hours (about 4 minutes of CI); a third added 4 more minutes
# to CI for a fault mix the two already cover (the fault matrix and the hostile soak cover
# each fault on purpose).
@pytest.mark.parametrize("seed", [11, 12])
async def test_long_soak_three_simulated_days(seed: int) -> None:
    await soak(hours=72, interval=30.0, seed=seed)
