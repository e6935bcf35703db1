"""``serve`` end to end: the real engine polling the simulator over loopback, the real server,
real clients. Thirty screens cost the CI APIs what one engine costs; the CCTray export, read back
by the radiator's own CCTray source, agrees with the snapshot; the command starts and stops."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.export.cctray import project_names
from buildradiator.instance import ID, INSTANCE_HEADER
from buildradiator.model import Snapshot, Status
from buildradiator.serve.server import RadiatorServer, serve
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.catalog import parse_config

INTERVAL = 1.0
MIN_REQUESTS = 40
"""CI API requests the engine alone makes before both engines stop: three to four cycles of
every source. The test waits for them (and for the screens' rounds) rather than for a fixed time,
so a machine busy with other work makes it slower, never wrong."""
ROUNDS = 3
"""Reads of both feeds each screen makes, at least."""
DEADLINE = 60.0
SCREENS = 30
TOKEN = "e2e-t0ken-not-for-logs"


@pytest.fixture
def sims() -> Iterator[tuple[Simulator, Simulator]]:
    """Two identical simulated CIs, pinned to the same moment: one engine alone polls one,
    the served engine the other, at the same time, so each counter is one engine's alone."""
    first, second = Simulator(), Simulator()
    with first, second:
        for sim in (first, second):
            sim.set_time(20)
        yield first, second


def requests(sim: Simulator) -> int:
    return sum(sim.requests.values())


async def alone(sim: Simulator, stop: asyncio.Event) -> None:
    config = parse_config(demo_config_text(sim.base_url, interval=INTERVAL))
    engine = build_engine(config, rng=random.Random(7))
    task = asyncio.create_task(engine.run(lambda _snapshot: None))
    await stop.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def screen(
    server: RadiatorServer, n: int, stop: asyncio.Event, codes: list[int], rounds: list[int]
) -> None:
    """One wall screen: its own address, polling both feeds with If-None-Match."""
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{10 + n}")
    etags: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=server.url, transport=transport, timeout=5) as http:
        while not stop.is_set():
            for path in ("/snapshot.json", "/cc.xml"):
                if stop.is_set():
                    break
                headers = {"If-None-Match": etags[path]} if path in etags else {}
                answer = await http.get(path, headers=headers)
                codes.append(answer.status_code)
                if answer.status_code == 200:
                    etags[path] = answer.headers["ETag"]
            else:
                rounds[n] += 1
            await asyncio.sleep(0.25)


async def served(sim: Simulator, stop: asyncio.Event, codes: list[int], rounds: list[int]) -> None:
    config = parse_config(demo_config_text(sim.base_url, interval=INTERVAL))
    engine = build_engine(config, rng=random.Random(7))
    ready: asyncio.Future[RadiatorServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(engine, host="127.0.0.1", port=0, token=None, ready=ready.set_result)
    )
    server = await ready
    screens = [asyncio.create_task(screen(server, n, stop, codes, rounds)) for n in range(SCREENS)]
    await stop.wait()
    # Engine and screens stop together: the screens' last round must not lengthen the run.
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.gather(*screens)


async def test_thirty_screens_cost_the_ci_apis_what_one_engine_costs(
    sims: tuple[Simulator, Simulator],
) -> None:
    sim_alone, sim_served = sims
    stop = asyncio.Event()
    codes: list[int] = []
    rounds = [0] * SCREENS
    both = asyncio.gather(alone(sim_alone, stop), served(sim_served, stop, codes, rounds))
    deadline = time.monotonic() + DEADLINE
    while requests(sim_alone) < MIN_REQUESTS or min(rounds) < ROUNDS or 304 not in codes:
        if time.monotonic() > deadline:
            break  # the assertions below say which of the three never came
        await asyncio.sleep(0.05)
    stop.set()  # both engines at the same moment
    await both
    one, thirty = requests(sim_alone), requests(sim_served)
    assert one >= MIN_REQUESTS, one  # a few cycles of a dozen sources really ran
    # Every screen was answered, and mostly for free once it had the document.
    assert set(codes) <= {200, 304}, sorted(set(codes))
    assert min(rounds) >= ROUNDS, rounds
    assert codes.count(304) > 0
    # The same CI API requests, within the engines' jitter (two engines in one loop drift apart
    # by a poll or two per source on a busy machine): thirty pollers would be 30x.
    print(f"CI API requests: engine alone {one}, served to {SCREENS} screens {thirty}")
    assert abs(thirty - one) <= max(6, one // 5), (one, thirty, sim_served.requests)
    for path, count in sim_served.requests.items():
        assert count <= 2 * sim_alone.requests[path] + 2, (path, count, sim_alone.requests[path])


async def test_the_cctray_export_read_back_by_our_cctray_source_agrees(
    sims: tuple[Simulator, Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = sims[0]
    sim.set_time(120)  # monolith red, builds in flight, a service down
    monkeypatch.setenv("E2E_RADIATOR_TOKEN", TOKEN)
    engine = build_engine(parse_config(demo_config_text(sim.base_url, interval=INTERVAL)))
    ready: asyncio.Future[RadiatorServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(engine, host="127.0.0.1", port=0, token=TOKEN, ready=ready.set_result)
    )
    try:
        server = await ready
        await _until_every_source_answered(server)
        reader = build_engine(
            parse_config(
                "[[sources]]\n"
                'name = "central"\n'
                'type = "cctray"\n'
                f'url = "{server.url}/cc.xml"\n'
                'token_env = "E2E_RADIATOR_TOKEN"\n'
            )
        )
        try:
            for _ in range(10):
                published = server.board.published
                read = await reader.poll_all()
                assert server.board.current is not None
                shown = server.board.current.snapshot
                if server.board.published == published:
                    break  # no new snapshot while we read: compare with this one
        finally:
            await reader.aclose()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    [state] = read.sources
    assert state.error is None, state.error
    _agree(shown, read)


async def _until_every_source_answered(server: RadiatorServer) -> None:
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        current = server.board.current
        if current is not None and all(s.last_success or s.error for s in current.snapshot.sources):
            return
        await asyncio.sleep(0.05)
    pytest.fail("the engine never polled every source")


def _agree(shown: Snapshot, read: Snapshot) -> None:
    names = project_names(shown.pipelines)
    by_name = {p.name: p for p in read.pipelines}
    assert set(by_name) == set(names)
    assert any(p.status is Status.FAILED for p in shown.pipelines)  # a red one is in the test
    for pipeline, name in zip(shown.pipelines, names, strict=True):
        back = by_name[name]
        if pipeline.status in (Status.PASSED, Status.FAILED):
            assert back.status is pipeline.status, name
        else:
            assert back.status not in (Status.PASSED, Status.FAILED), name
        assert bool(back.in_flight) == bool(pipeline.in_flight), name
        if pipeline.last is not None and pipeline.last.number is not None:
            assert back.last is not None and back.last.number == pipeline.last.number, name
        if pipeline.last is not None and pipeline.last.url:
            assert back.url == pipeline.last.url or (
                back.last is not None and back.last.url == pipeline.last.url
            ), name


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_the_serve_command_serves_and_stops_on_a_signal(
    tmp_path: Path, stop: signal.Signals, code: int
) -> None:
    with Simulator() as sim:
        config = tmp_path / "config.toml"
        config.write_text(
            demo_config_text(sim.base_url, interval=INTERVAL) + "\n[serve]\nbrowser = false\n"
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "buildradiator", "serve", "-c", str(config), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("buildradiator serve: http://127.0.0.1:"), line
            url = line.split()[2].rstrip("/")
            with httpx.Client(base_url=url, timeout=5) as http:
                deadline = time.monotonic() + 10
                while (health := http.get("/healthz")).status_code != 200:
                    assert time.monotonic() < deadline, health.text
                    time.sleep(0.1)
                answer = http.get("/snapshot.json")
                assert answer.status_code == 200
                assert answer.json()["title"] == "buildradiator demo"
                assert answer.headers[INSTANCE_HEADER] != ID  # another process, another id
                assert http.get("/cc.xml").text.count("<Project ") >= 3
        finally:
            process.send_signal(stop)
            try:
                returned = process.wait(10)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            stderr = process.stderr.read() if process.stderr else ""
            for pipe in (process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()
        assert returned == code, stderr
        assert "Traceback" not in stderr, stderr
