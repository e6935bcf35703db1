"""The engine's production half: deployments, blockers and provider flakes reach the snapshot,
a deploy followed by an outage turns suspect (a broken window, HOLD), the gate holds on stale
data, and a cached snapshot brings deployments and blockers back."""

from __future__ import annotations

from datetime import timedelta

from buildradiator.clock import FakeClock
from buildradiator.errors import Unreachable
from buildradiator.model import (
    Blocker,
    Deployment,
    DeployState,
    Health,
    ReportedFlake,
    ServiceCheck,
    SourceResult,
    Status,
)
from engine_helpers import pipeline, source

CONFIG = """
[radiator]
interval = 30

[release]
verify_minutes = 10

[[sources]]
name = "one"
type = "health"
url = "http://one.example/health"
service = "payments"

[[sources]]
name = "two"
type = "health"
url = "http://two.example/health"
"""


def up(clock: FakeClock, health: Health = Health.UP) -> SourceResult:
    check = ServiceCheck(source="one", name="payments", service="payments", environment="prod",
                         health=health, checked_at=clock.now(), detail="HTTP 500")  # fmt: skip
    return SourceResult(services=(check,))


def deployed(clock: FakeClock) -> SourceResult:
    d = Deployment(source="two", service="payments", environment="production", revision="abcdef123456",
                   state=DeployState.SUCCEEDED, deployed_at=clock.now())  # fmt: skip
    b = Blocker(source="two", id="#7", title="EUR carts fail")
    flake = ReportedFlake(source="two", pipeline="p", classname="c", name="t", times_flaked=5)
    return SourceResult(
        pipelines=(pipeline("two", Status.PASSED),),
        deployments=(d,),
        blockers=(b,),
        flaky_reports=(flake,),
    )


async def test_deploy_then_outage_is_suspect_and_holds(make_engine, clock: FakeClock) -> None:
    eng = make_engine(CONFIG)
    source(eng, "one").script = [up(clock)]
    source(eng, "two").script = [deployed(clock)]
    snap = await eng.poll_all()
    assert snap.gate is not None and snap.gate.word == "HOLD"
    assert [r.kind for r in snap.gate.reasons] == ["blockers"]
    assert snap.blockers[0].title == "EUR carts fail"
    assert [(t.name, t.times_flaked) for t in snap.flaky_tests] == [("t", 5)]
    assert snap.deployments[0].suspect is None and not snap.broken

    clock.advance(90)
    source(eng, "one").script = [up(clock, Health.DOWN)]
    await eng.poll_source("one")
    snap = eng.snapshot()
    (d,) = snap.deployments
    assert d.suspect == "HTTP 500 1m after abcdef1 went live"
    assert {w.kind for w in snap.broken} == {"service", "deploy"}
    assert snap.gate is not None
    assert {r.kind for r in snap.gate.reasons} >= {"service_down", "deploy_suspect", "blockers"}

    # The service recovers: the doubt stays for the window, then clears.
    clock.advance(60)
    source(eng, "one").script = [up(clock)]
    await eng.poll_source("one")
    assert eng.snapshot().deployments[0].suspect
    clock.advance(15 * 60)
    await eng.poll_source("one")
    assert eng.snapshot().deployments[0].suspect is None
    await eng.aclose()


async def test_stale_source_holds_and_its_data_stays(make_engine, clock: FakeClock) -> None:
    eng = make_engine(CONFIG)
    source(eng, "one").script = [up(clock), Unreachable("cannot reach one.example")]
    source(eng, "two").script = [SourceResult()]
    await eng.poll_all()
    assert eng.snapshot().gate.go  # type: ignore[union-attr]
    clock.advance(31)
    await eng.poll_source("one")
    snap = eng.snapshot()
    assert snap.services[0].health is Health.UP  # the last good data stays
    assert snap.gate is not None and [r.text for r in snap.gate.reasons] == [
        "no fresh data from one"
    ]
    await eng.aclose()


async def test_seed_brings_back_deployments_and_blockers(make_engine, clock: FakeClock) -> None:
    eng = make_engine(CONFIG)
    source(eng, "two").script = [deployed(clock)]
    source(eng, "one").script = [up(clock)]
    cached = await eng.poll_all()
    await eng.aclose()
    fresh = make_engine(CONFIG)
    fresh.seed(cached)
    snap = fresh.snapshot()
    assert [d.revision for d in snap.deployments] == ["abcdef123456"]
    assert [b.id for b in snap.blockers] == ["#7"]
    clock.advance(timedelta(hours=1).total_seconds())
    assert fresh.snapshot().gate is not None
    await fresh.aclose()


async def test_privacy_hides_deploy_and_blocker_authors(make_engine, clock: FakeClock) -> None:
    eng = make_engine(CONFIG.replace("interval = 30", "interval = 30\nprivacy = true"))
    result = deployed(clock)
    result = result.model_copy(update={
        "deployments": (result.deployments[0].model_copy(update={"author": "mallory"}),),
        "blockers": (result.blockers[0].model_copy(update={"author": "mallory"}),),
    })  # fmt: skip
    source(eng, "two").script = [result]
    source(eng, "one").script = [up(clock)]
    snap = await eng.poll_all()
    assert snap.deployments[0].author is None and snap.blockers[0].author is None
    await eng.aclose()
