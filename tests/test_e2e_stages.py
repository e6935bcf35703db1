"""Build time per stage end to end: the demo's simulated providers (GitLab, Buildkite, Azure
Pipelines, CircleCI, GitHub Actions) through the real engine into history, out as stage facts;
then the demo's backfill on top, and ``buildradiator report`` in every format."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest

from buildradiator.assemble import build_engine
from buildradiator.cli import report
from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.history.delivery_report import delivery_facts
from buildradiator.model import Snapshot
from buildradiator.rules.dora import Fact
from buildradiator.rules.stages import SEPARATOR
from buildradiator.simulator.backfill import backfill
from buildradiator.simulator.demo_config import demo_config_text
from buildradiator.simulator.server import Simulator
from buildradiator.sources.catalog import parse_config


async def poll_the_demo(history: History, clock: FakeClock) -> Snapshot:
    with Simulator(clock=clock) as sim:
        engine = build_engine(parse_config(demo_config_text(sim.base_url)), clock=clock,
                              history=history)  # fmt: skip
        at = 0.0
        try:
            for t in (30, 200, 400, 560, 800):
                clock.advance(t - at)
                at = t
                snap = await engine.poll_all()
        finally:
            await engine.aclose()
    return snap


def stage_facts(facts: list[Fact], days: int) -> dict[str, Fact]:
    return {f.scope: f for f in facts if f.key == "stage_time" and f.window_days == days}


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FakeClock, Snapshot]:
    import asyncio

    clock = FakeClock()
    path = tmp_path_factory.mktemp("stages") / "history.sqlite"
    with History.open(path, clock=clock) as history:
        snap = asyncio.run(poll_the_demo(history, clock))
    return path, clock, snap


def test_every_provider_that_names_stages_gives_stage_times(
    polled: tuple[Path, FakeClock, Snapshot],
) -> None:
    path, clock, _ = polled
    with History.open(path, clock=clock) as history:
        facts = stage_facts(delivery_facts(history, now=clock.now(), windows=(7,)), 7)
    sources = {scope.split(":", 1)[0] for scope in facts if scope != "estate"}
    assert {"gitlab", "buildkite", "azure", "circleci", "github"} <= sources
    assert not any(scope.startswith("jenkins:") for scope in facts)  # CCTray names no stages
    test = facts[f"gitlab:acme/storefront{SEPARATOR}test"]
    assert test.value and test.p90 and test.p90 >= test.value and test.samples >= 2
    assert test.note.startswith("test dominates:")
    estate = facts["estate"]
    assert estate.value and "slowest:" in estate.note and "dominant stage:" in estate.note


def test_the_report_shows_stage_times_over_the_backfilled_history(
    polled: tuple[Path, FakeClock, Snapshot],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, clock, snap = polled
    with History.open(path, clock=clock) as history:
        backfill(history, snap.pipelines, now=clock.now(), days=30)

    def run(fmt: str) -> str:
        args = argparse.Namespace(since="30d", report_format=fmt, history=path, tz="UTC")
        assert report.run(args, now=clock.now()) == 0
        return capsys.readouterr().out

    doc = json.loads(run("json"))
    stages = {(f["scope"], f["window_days"]): f for f in doc["facts"] if f["key"] == "stage_time"}
    monolith = stages[(f"github:acme/monolith:61001{SEPARATOR}integration", 30)]
    assert monolith["samples"] > 50  # weeks of backfilled builds, not just the live ones
    assert monolith["previous"] is None or monolith["trend"]
    assert stages[("estate", 30)]["value"] and stages[("estate", 7)]["value"]
    text = run("text")
    assert "Build time per stage" in text and f"gitlab:acme/storefront{SEPARATOR}test" in text
    assert "dominates" in text
    section = text.split("Build time per stage\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert (
        len({line.index(" 7d ") if " 7d " in line else line.index("30d") for line in section}) == 1
    )
    rows = [r for r in csv.DictReader(io.StringIO(run("csv"))) if r["key"] == "stage_time"]
    assert len(rows) == len(stages) and all(r["unit"] == "seconds" for r in rows)
    markdown = run("markdown")
    assert f"| Build time per stage | azure:Platform/42{SEPARATOR}Test |" in markdown
