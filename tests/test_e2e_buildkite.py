"""End to end: the Buildkite source and the engine against the simulator over loopback HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.catalog import parse_config


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator() as simulator:
        yield simulator


def bk(snapshot: Snapshot, name: str) -> Pipeline:
    matches = [p for p in snapshot.pipelines if p.source == "buildkite" and p.name == name]
    assert matches, [(p.source, p.name) for p in snapshot.pipelines]
    return matches[0]


async def test_the_buildkite_story_reaches_the_snapshot(sim: Simulator) -> None:
    engine = build_engine(parse_config(demo_config_text(sim.base_url)))
    try:
        # Stripe upgrade running: two script jobs at once; the history makes both pipelines green.
        sim.set_time(275)
        snap = await engine.poll_all()
        state = snap.source_state("buildkite")
        assert state is not None and state.error is None, state
        names = {p.name for p in snap.pipelines if p.source == "buildkite"}
        assert names == {"Payments API", "Web Frontend"}  # Docs Site matches no pattern
        payments = bk(snap, "Payments API")
        assert payments.status is Status.PASSED
        (running,) = payments.in_flight
        assert running.stage == ":rspec: Unit, Integration"
        assert running.estimated_seconds  # from the history's durations
        # Both rate-limit sets were read: the tighter (organisation) one is what the engine shows.
        assert state.rate is not None and state.rate.limit == 200

        # Kenji's build is red while e2e still runs: in flight, "failing".
        sim.set_time(325)
        snap = await engine.poll_all()
        (failing,) = bk(snap, "Web Frontend").in_flight
        assert failing.status is Status.RUNNING
        assert failing.provider_status == "failing"
        assert failing.stage == "E2E (Playwright)"

        # Main is red, by Kenji; the Stripe build went green only after its retried job.
        sim.set_time(345)
        snap = await engine.poll_all()
        [window] = [w for w in snap.broken if w.source == "buildkite"]
        assert (window.name, window.author, window.message) == (
            "Web Frontend",
            "Kenji Sato",
            "Switch bundler to Vite",
        )
        assert window.url and "/web/buildkite/acme/web-frontend/builds/" in window.url
        assert bk(snap, "Web Frontend").recent[0].branch == "main"  # the branch build is not here
        last = bk(snap, "Payments API").recent[0]
        assert (last.status, last.attempt, last.author) == (Status.PASSED, 2, "Priya Raman")
        [flaky] = [f for f in snap.flaky if f.name == "Payments API"]
        assert flaky.retried_to_green >= 1

        # Tomás's build waits at the block step: shown, with Buildkite's word for it.
        sim.set_time(415)
        snap = await engine.poll_all()
        blocked = bk(snap, "Payments API").recent[0]
        assert blocked.status is Status.PASSED
        assert blocked.provider_status == "blocked (waiting for unblock)"
        assert blocked.author == "Tomás Ortega"

        # Unblocked: the deploy runs; Priya's fix made main green, a soft failure noted.
        sim.set_time(490)
        snap = await engine.poll_all()
        assert [b.stage for b in bk(snap, "Payments API").in_flight] == ["Deploy"]
        web = bk(snap, "Web Frontend")
        assert web.status is Status.PASSED
        assert web.recent[0].provider_status == "passed with soft failures: Visual diff"
        assert not [w for w in snap.broken if w.source == "buildkite"]
    finally:
        await engine.aclose()


def test_simulator_speaks_buildkite_shapes(sim: Simulator) -> None:
    sim.set_time(305)
    base = sim.base_url + "/buildkite/v2/organizations/acme/pipelines"
    with urllib.request.urlopen(base + "?per_page=2") as answer:
        listed = json.load(answer)
        link = answer.headers["Link"]
        etag = answer.headers["ETag"]
        assert answer.headers["RateLimit-Limit"] == "200"
        assert answer.headers["RateLimit-User-Limit"]
        assert 1 <= int(answer.headers["RateLimit-Reset"]) <= 60
    assert [p["slug"] for p in listed] == ["payments-api", "web-frontend"]
    assert 'rel="next"' in link and "page=2" in link

    again = urllib.request.Request(base + "?per_page=2", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(again)
    assert caught.value.code == 304

    url = base + "/payments-api/builds?branch=main&include_retried_jobs=true"
    with urllib.request.urlopen(url) as answer:
        builds = json.load(answer)
    newest = builds[0]
    integration = [j for j in newest["jobs"] if j.get("step_key") == "integration"]
    assert [(j["state"], j["retried"]) for j in integration] == [
        ("failed", True),
        ("running", False),
    ]
    assert integration[1]["retries_count"] == 1
    assert integration[0]["retried_in_job_id"] == integration[1]["id"]

    with urllib.request.urlopen(url.replace("include_retried_jobs=true", "")) as answer:
        plain = json.load(answer)
    assert len([j for j in plain[0]["jobs"] if j.get("step_key") == "integration"]) == 1

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(base + "/nope/builds")
    assert caught.value.code == 404
    assert json.load(caught.value) == {"message": "No pipeline found"}


async def test_test_engine_flakes_reach_the_poll_and_grow() -> None:
    # One fake clock for the simulator and the engine: moving it moves the story two loops on
    # and past the ten minutes between Test Engine reads.
    clock = FakeClock()
    with Simulator(clock=clock) as simulator:
        config = parse_config(demo_config_text(simulator.base_url))
        config = config.model_copy(
            update={"sources": [s for s in config.sources if s.type == "buildkite"]}
        )
        engine = build_engine(config, clock=clock)
        try:
            simulator.set_time(400)
            snap = await engine.poll_all()
            result = engine.slots["buildkite"].result
            assert result is not None, snap.source_state("buildkite")
            rows = {p.key for p in result.pipelines}
            flakes = {f.name: f for f in result.flaky_reports}
            batcher = flakes["flushes when the batch window closes"]
            assets = flakes["resolves /static in the Vite build"]
            # Each suite's flakes count for its pipeline's row, under the row's own key.
            assert (batcher.pipeline, assets.pipeline) == ("acme/payments-api", "acme/web-frontend")
            assert {batcher.pipeline, assets.pipeline} <= rows
            assert (batcher.classname, batcher.times_flaked) == ("Payouts::Batcher#flush", 3)
            assert assets.times_flaked == 2 and assets.last_seen is not None
            assert batcher.url and "/analytics/suites/payments-api-rspec/tests/" in batcher.url
            # Markup stays literal text; the escapes are gone. The steady test is not listed.
            [webhook] = [f for f in result.flaky_reports if f.classname.startswith("Stripe")]
            assert webhook.classname == "Stripe::Webhook [bold red]verify[/]"
            assert webhook.name == 'rejects <script>alert("x")</script> signatures'
            assert len(result.flaky_reports) == 3
            assert "3 flaky tests (Test Engine)" in result.summary

            clock.advance(1200)
            simulator.set_time(400)
            await engine.poll_all()
            result = engine.slots["buildkite"].result
            assert result is not None
            grown = {f.name: f.times_flaked for f in result.flaky_reports}
            assert grown["flushes when the batch window closes"] == 5
            assert grown["resolves /static in the Vite build"] == 4
            assert not simulator.errors
        finally:
            await engine.aclose()


def test_simulator_speaks_test_engine_shapes(sim: Simulator) -> None:
    sim.set_time(320)
    base = sim.base_url + "/buildkite/v2/analytics/organizations/acme/suites/payments-api-rspec"
    with urllib.request.urlopen(base + "/tests?label=flaky&per_page=1") as answer:
        first = json.load(answer)
        link = answer.headers["Link"]
    assert set(first[0]) >= {"id", "url", "web_url", "scope", "name", "location", "file_name"}
    assert first[0]["labels"] == ["flaky"] and 'rel="next"' in link
    with urllib.request.urlopen(base + "/tests") as answer:
        everything = json.load(answer)
    assert [t["labels"] for t in everything] == [["flaky"], ["flaky"], []]
    with urllib.request.urlopen(base + "/flaky-tests") as answer:
        legacy = json.load(answer)
    assert [t["instances"] for t in legacy] == [3, 2]
    assert all(t["last_resolved_at"] is None for t in legacy)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(base.replace("payments-api-rspec", "nope") + "/tests")
    with caught.value as error:
        assert error.code == 404
        assert json.load(error) == {"message": "No suite found"}
