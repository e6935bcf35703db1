"""Each stage of the engine made to raise, under the real app: either the engine keeps running
(a stage of one poll: the next poll is still made and published), or the screen says at once and
in full that the engine stopped, with nothing green (a stage of the snapshot every view reads)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from buildradiator.assemble import build_engine
from buildradiator.engine.engine import Engine
from buildradiator.history import History
from buildradiator.history.facts import HistoryFacts
from buildradiator.rules import derive as derive_module
from buildradiator.rules.deploywatch import DeployWatch
from buildradiator.sources.catalog import parse_config
from buildradiator.ui.app import BuildRadiatorApp
from hostile_server import HostileServer, answer
from screen import green_colours, screen_text

GREEN_WORDS = ("all green", "passed", " GO", "✔")


def green_feed(build: int = 0) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    projects = "".join(
        f'<Project name="svc-{n}" activity="Sleeping" lastBuildStatus="Success" '
        f'lastBuildLabel="{n}.{build}" lastBuildTime="{now}" webUrl="https://ci.example/{n}"/>'
        for n in range(3)
    )
    return f"<Projects>{projects}</Projects>".encode()


# Per pipeline (label, window, sort key, retry summary, green streak) a stage runs when the
# pipeline changed (``rules.memo``): the test's next poll brings a new build of every one.
SNAPSHOT_STAGES = [
    (derive_module.insights, "pipeline_window"),
    (derive_module.insights, "broken_windows"),
    (derive_module.insights, "sort_key"),
    (derive_module.insights, "flaky_summary"),
    (derive_module.insights, "sort_flaky"),
    (derive_module.insights, "green_streak_start"),
    (derive_module.insights, "latest_start"),
    (derive_module.insights, "label"),
    (derive_module, "release_gate"),
    (derive_module, "evaluate"),
    (derive_module, "with_drift"),
    (derive_module, "merge_reported"),
    (DeployWatch, "judge"),
]
POLL_STAGES = [(Engine, "_observe"), (HistoryFacts, "record"), (Engine, "refresh_facts")]


def boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("a bug in a stage")


async def boom_async(*args: object, **kwargs: object) -> None:
    raise RuntimeError("a bug in a stage")


async def run_until(app: BuildRadiatorApp, pilot: object, seen: str, rounds: int = 60) -> str:
    for _ in range(rounds):
        await pilot.pause(0.05)  # type: ignore[attr-defined]
        text = screen_text(app)
        if seen in text:
            return text
    return screen_text(app)


@pytest.mark.parametrize("where,name", SNAPSHOT_STAGES, ids=[name for _, name in SNAPSHOT_STAGES])
async def test_a_failing_snapshot_stage_stops_the_engine_in_plain_sight(
    where: object, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with HostileServer() as server:
        server.route("/cc.xml", answer(200, green_feed(), {"Content-Type": "application/xml"}))
        config = parse_config(
            f'[[sources]]\nname = "feed"\ntype = "cctray"\nurl = "{server.url}/cc.xml"\n'
        )
        engine = build_engine(config, history=History.memory())
        app = BuildRadiatorApp(engine)
        async with app.run_test(size=(120, 35)) as pilot:
            assert "all green" in await run_until(app, pilot, "all green")
            monkeypatch.setattr(where, name, boom)
            server.route("/cc.xml", answer(200, green_feed(1), {"Content-Type": "application/xml"}))
            engine.poll_now()
            text = await run_until(app, pilot, "ENGINE STOPPED")
            assert "ENGINE STOPPED: RuntimeError" in text, text
            for word in GREEN_WORDS:
                assert word not in text, word
            assert not green_colours(app)
            await pilot.press("q")
        assert app.return_value == 4


@pytest.mark.parametrize("where,name", POLL_STAGES, ids=[name for _, name in POLL_STAGES])
async def test_a_failing_poll_stage_never_stops_the_engine(
    where: type, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with HostileServer() as server:
        server.route("/cc.xml", answer(200, green_feed(), {"Content-Type": "application/xml"}))
        config = parse_config(
            f'[radiator]\ninterval = 1\n[[sources]]\nname = "feed"\ntype = "cctray"\n'
            f'url = "{server.url}/cc.xml"\n'
        )
        failing = boom_async if asyncio.iscoroutinefunction(getattr(where, name)) else boom
        monkeypatch.setattr(where, name, failing)
        engine = build_engine(config, history=History.memory())
        app = BuildRadiatorApp(engine)
        async with app.run_test(size=(120, 35)) as pilot:
            text = await run_until(app, pilot, "svc-2")
            requests = len(server.seen)
            engine.poll_now()
            for _ in range(60):
                await pilot.pause(0.05)
                if len(server.seen) > requests:
                    break
            assert len(server.seen) > requests, "the engine stopped polling"
            text = screen_text(app)
            assert "ENGINE STOPPED" not in text and "svc-2" in text
            await pilot.press("q")
        assert app.return_value in (0, None)
