"""End to end: the real sources and engine against the simulator over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildradiator.assemble import build_engine
from buildradiator.cli import main
from buildradiator.model import Health, Snapshot, Status
from buildradiator.simulator import Simulator, demo_config_text, moments
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import GITHUB_RATE


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator()
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


def pipeline(snapshot: Snapshot, name: str):  # type: ignore[no-untyped-def]
    matches = [p for p in snapshot.pipelines if p.name == name]
    assert matches, [p.name for p in snapshot.pipelines]
    return matches[0]


async def test_the_scenario_reaches_the_snapshot(sim: Simulator) -> None:
    engine = build_engine(parse_config(demo_config_text(sim.base_url)))
    try:
        sim.set_time(moments.CALM)
        snap = await engine.poll_all()
        assert all(s.error is None for s in snap.sources), [s.error for s in snap.sources]
        assert pipeline(snap, "acme/monolith").status is Status.PASSED
        assert {c.name for c in snap.services if c.kind == "health"} == {
            "checkout",
            "payments",
            "search",
        }

        # Main goes red after Mallory's commit: a broken window naming commit and author.
        sim.set_time(moments.MAIN_RED)
        snap = await engine.poll_all()
        monolith = [w for w in snap.broken if w.name == "acme/monolith"]
        assert monolith and monolith[0].author == "Mallory"
        assert monolith[0].commit and monolith[0].commit.startswith("c0ffee0")
        assert monolith[0].message == "Fix login flow"

        # A second red build: the streak grows.
        sim.set_time(moments.MAIN_RED_TWICE)
        snap = await engine.poll_all()
        [window] = [w for w in snap.broken if w.name == "acme/monolith"]
        assert window.streak == 2 and window.author == "Mallory"

        # Builds in flight carry a stage and an estimate from the recent durations.
        running = [b for b in snap.in_flight if b.status is Status.RUNNING and b.stage]
        assert running, snap.in_flight
        assert all(b.estimated_seconds for b in snap.in_flight if b.pipeline.startswith("acme/"))

        # Billing went green only on its second attempt.
        sim.set_time(moments.FLAKY_GREEN)
        snap = await engine.poll_all()
        billing = [f for f in snap.flaky if f.name == "acme/billing"]
        assert billing and billing[0].retried_to_green >= 1
        assert pipeline(snap, "acme/monolith").status is Status.PASSED
        assert not [w for w in snap.broken if w.name == "acme/monolith"]

        # payments answers 500 and is a broken window.
        sim.set_time(moments.DEPLOY_SUSPECT)
        snap = await engine.poll_all()
        payments = next(c for c in snap.services if c.name == "payments")
        assert payments.health is Health.DOWN and payments.http_status == 500
        assert any(w.kind == "service" and w.name == "payments" for w in snap.broken)

        # The CCTray feed drops connections: its error shows, its last data stays, stale.
        sim.set_time(moments.FEED_DOWN)
        snap = await engine.poll_all()
        state = snap.source_state("jenkins")
        assert state is not None and state.error and state.stale
        assert "closed the connection" in state.error
        assert "jenkins" in snap.stale_sources
        assert any(p.source == "jenkins" for p in snap.pipelines)
        assert snap.source_state("github").error is None  # type: ignore[union-attr]

        # It comes back.
        sim.set_time(moments.ACT_TWO)
        snap = await engine.poll_all()
        assert snap.source_state("jenkins").error is None  # type: ignore[union-attr]
        assert "jenkins" not in snap.stale_sources
    finally:
        await engine.aclose()


async def test_unchanged_github_answers_cost_no_quota(sim: Simulator) -> None:
    engine = build_engine(parse_config(demo_config_text(sim.base_url)))
    try:
        sim.set_time(20)
        await engine.poll_all()
        first = engine.slots["github"].rate
        await engine.poll_all()
        second = engine.slots["github"].rate
        assert first is not None and second is not None
        assert second.remaining == first.remaining
        assert engine.http.budget(sim.base_url, GITHUB_RATE).not_modified >= 3
    finally:
        await engine.aclose()


def test_status_json_against_the_simulator(
    sim: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(demo_config_text(sim.base_url))
    monkeypatch.setenv("BUILDRADIATOR_CONFIG", str(config))
    sim.set_time(moments.MAIN_RED)
    code = main(["status", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["overall"] == "failed"
    names = {p["name"]: p for p in doc["pipelines"]}
    assert names["acme/monolith"]["status"] == "failed"
    assert names["acme/monolith"]["author"] == "Mallory"
    assert {s["name"] for s in doc["sources"]} >= {"github", "jenkins"}

    sim.set_time(moments.CALM)
    assert main(["status", "--json"]) == 0
    capsys.readouterr()
    sim.set_time(moments.FEED_DOWN)
    # Nothing red but the feed unreadable: exit 3.
    code = main(["status", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["overall"] in ("unknown", "failed")
    assert code == (1 if doc["broken"] else 3)


def test_check_against_the_simulator(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(demo_config_text(sim.base_url))
    sim.set_time(moments.CALM)
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "is valid" in out and "github" in out and "3 repos" in out
    sim.set_time(moments.FEED_DOWN)
    assert main(["check", "--config", str(config)]) == 3
    out = capsys.readouterr().out
    assert "FAILED" in out and "closed the connection" in out


async def test_a_mixed_estate_polls_every_provider_and_one_failure_stays_local(
    sim: Simulator,
) -> None:
    text = demo_config_text(sim.base_url)
    config = parse_config(text)
    kinds = {s.type for s in config.sources}
    assert len(config.sources) >= 10 and len(kinds - {"health", "cctray"}) >= 6
    engine = build_engine(config)
    try:
        sim.set_time(moments.CALM)
        snap = await engine.poll_all()
        assert all(s.error is None for s in snap.sources), [
            (s.name, s.error) for s in snap.sources if s.error
        ]
        with_pipelines = {p.source for p in snap.pipelines}
        ci = {s.name for s in config.sources if s.type in ("github", "cctray", "gitlab",
              "jenkins", "buildkite", "circleci", "buildbot")}  # fmt: skip
        assert with_pipelines >= ci
        with_production = (
            {c.source for c in snap.services}
            | {d.source for d in snap.deployments}
            | {s.name for s in snap.sources if s.type == "blockers" and s.last_success}
        )
        production = {s.name for s in config.sources if s.name not in ci}
        assert with_production >= production, production - with_production
    finally:
        await engine.aclose()

    # The same estate with one provider's server gone: only that source says so.
    broken = next(s for s in config.sources if s.type == "buildkite")
    dead = text.replace(f"{sim.base_url}/buildkite", "http://127.0.0.1:9/buildkite")
    assert dead != text
    engine = build_engine(parse_config(dead))
    try:
        snap = await engine.poll_all()
        failed = {s.name for s in snap.sources if s.error}
        assert failed == {broken.name}
        assert "connection refused" in (snap.source_state(broken.name).error or "")  # type: ignore[union-attr]
        assert {p.source for p in snap.pipelines} >= with_pipelines - {broken.name}
    finally:
        await engine.aclose()
