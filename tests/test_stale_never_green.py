"""Stale is never green, checked where a view, an export or a script could still say so: each
test sets up one source that is not current and reads the whole screen or the whole export."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app_helpers import make_app
from buildradiator.clock import FakeClock
from buildradiator.export.cctray import cc_xml
from buildradiator.export.lines import status_line
from buildradiator.export.text import status_text
from buildradiator.model import (
    Deployment,
    DeployState,
    Freshness,
    Health,
    Snapshot,
    SourceState,
    Status,
)
from cctray_helpers import read_back
from health_helpers import answer, check_of
from screen import box_titled, screen_text
from snapshot_fixtures import NOW, ago, build, green_estate, pipeline, red_estate


def health_stale_deploys_fresh() -> Snapshot:
    """The health checks stopped answering 10 minutes ago; the deploy tool of the same services
    answers fine (it says what is live, nothing about health)."""
    snap = green_estate()
    deploys = tuple(
        Deployment(
            source="deploys",
            service=name,
            environment="prod",
            state=DeployState.SUCCEEDED,
            revision="9f3c2ab1d4e5f6a7b8c9",
            deployed_at=ago(7200),
            behind_by=0,
        )
        for name in ("checkout", "payments")
    )
    health = SourceState(
        name="health",
        type="health",
        last_success=ago(600),
        last_attempt=ago(5),
        error="checkout.example.com refused the connection",
        error_kind="unreachable",
        stale=True,
        freshness=Freshness.STALE,
    )
    deploy_state = SourceState(
        name="deploys", type="github_deployments", last_success=ago(5), last_attempt=ago(5)
    )
    return snap.model_copy(
        update={
            "deployments": deploys,
            "sources": (snap.sources[0], health, deploy_state),
            "stale_sources": frozenset({"health"}),
            "green_since": None,
        }
    )


async def test_a_service_with_stale_checks_is_not_up_because_its_deploy_tool_answers() -> None:
    """The Production panel said '✔ up' for checkout and payments for as long as their health
    URL was unreachable, because the deploy tool (which says nothing about health) was fresh."""
    snap = health_stale_deploys_fresh()
    app = make_app(snap, clock=FakeClock(NOW))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        screen = screen_text(app)
    for name in ("checkout", "payments"):
        row = next(line for line in screen.splitlines() if f"{name} prod" in line)
        assert "up" not in row.split(name)[0], row
        assert "stale 10m" in row, row
    wall = make_app(snap, clock=FakeClock(NOW), mode="wall")
    async with wall.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        screen = screen_text(wall)
    lines = screen.splitlines()
    for name in ("checkout", "payments"):
        at = next(i for i, line in enumerate(lines) if f"{name} (prod)" in line)
        tile = lines[at].split(f"{name} (prod)")[0][-3:] + lines[at + 1]
        assert "?" in tile and "STALE 10m" in tile and "UP" not in tile, tile


def reports_stale_too() -> Snapshot:
    """A red main; the buildkite source stopped answering, its last word on acme/reports was a
    pass, and a health source is stale with its last word 'up'."""
    snap = red_estate()
    health = SourceState(
        name="health",
        type="health",
        last_success=ago(600),
        error="refused",
        stale=True,
        freshness=Freshness.STALE,
    )
    sources = (*(s for s in snap.sources if s.name != "health"), health)
    return snap.model_copy(
        update={"sources": sources, "stale_sources": frozenset({"buildkite", "health"})}
    )


def test_status_counts_never_count_stale_data_green_nor_up() -> None:
    """``buildradiator status`` said 'pipelines: 4 green' and 'services: 1 up' with buildkite
    and the health checks not answering: their last word was counted as current."""
    snap = reports_stale_too()
    counts = status_text(snap, NOW).splitlines()[-1]
    assert counts == (
        "  pipelines: 3 green, 1 red, 3 running, 1 other, 1 stale"
        " · services: 0 up, 0 warn, 0 down, 3 unknown"
    )


def test_the_prompt_line_never_counts_stale_pipelines_green() -> None:
    """``status --format line`` beside a red main: '✔ 4' counted buildkite's stale pass."""
    line = status_line(reports_stale_too(), NOW)
    assert "✔ 3 " in line + " " and "✔ 4" not in line, line


async def test_cc_xml_never_says_success_for_a_stale_pipeline() -> None:
    """CCMenu, nevergreen and BuildNotify read ``lastBuildStatus`` and nothing else: a stale
    'Success' (with a ``stale`` attribute they ignore) was a green light in the menu bar for as
    long as buildkite was down, and a radiator reading the feed showed it passed."""
    snap = reports_stale_too()
    reports = snap.pipelines[-1]
    assert reports.name == "acme/reports" and reports.status is Status.PASSED
    running = reports.model_copy(update={"in_flight": (build("acme/reports", 13, Status.RUNNING,
                                 started=900, source="buildkite"),)})  # fmt: skip
    red = pipeline(
        "acme/red", (build("acme/red", 4, Status.FAILED, finished=60, source="buildkite"),)
    ).model_copy(update={"source": "buildkite"})
    snap = snap.model_copy(update={"pipelines": (*snap.pipelines[:-1], running, red)})
    attrs = {p.attrib["name"]: p.attrib for p in ET.fromstring(cc_xml(snap))}
    assert attrs["acme/reports"]["lastBuildStatus"] == "Unknown"
    assert attrs["acme/reports"]["activity"] == "Sleeping"  # stale data is never building
    assert attrs["acme/reports"]["stale"] == "true"
    assert attrs["acme/red"]["lastBuildStatus"] == "Failure"  # a broken window stays red
    assert attrs["acme/billing"]["lastBuildStatus"] == "Success"  # fresh data as it is
    assert attrs["acme/monolith"]["activity"] == "Building"
    # Another radiator reading this feed (a cctray source) never shows it green either.
    result = await read_back(cc_xml(snap))
    mine = {p.name: p for p in result.pipelines}
    assert mine["acme/reports"].status is Status.UNKNOWN and not mine["acme/reports"].in_flight


DRIFT_CONFIG = """
[[sources]]
name = "ci"
type = "cctray"
url = "http://ci.example/cc.xml"

[[sources]]
name = "deploys"
type = "cctray"
url = "http://deploys.example/cc.xml"

[[targets]]
measure = "deploy_drift"
goal = "<= 5"
"""


def drift_raw(stale: frozenset[str]) -> Snapshot:
    """The shop's pipeline (its newest build is the commit live in production) and a deploy
    tool that names the live commit but counts no drift: the radiator counts it from the
    builds; ``stale`` names the sources not answering."""
    live = "c0ffee0123456789"
    shop = pipeline("acme/shop", (build("acme/shop", 7, Status.PASSED, finished=3600,
                                        commit=live),)).model_copy(update={"source": "ci"})  # fmt: skip
    deploy = Deployment(source="deploys", service="shop", environment="prod",
                        state=DeployState.SUCCEEDED, revision=live, pipeline="acme/shop",
                        deployed_at=ago(3000))  # fmt: skip
    states = tuple(
        SourceState(name=name, type="cctray", last_success=ago(3600 if name in stale else 5),
                    stale=name in stale,
                    freshness=Freshness.STALE if name in stale else Freshness.FRESH)
        for name in ("ci", "deploys")
    )  # fmt: skip
    return Snapshot(taken_at=NOW, pipelines=(shop,), deployments=(deploy,), sources=states,
                    stale_sources=stale)  # fmt: skip


def test_drift_is_not_counted_from_builds_nobody_has_seen_for_an_hour() -> None:
    """The CI source stopped answering an hour ago; main may have run far ahead since. The
    drift counted from the builds it last sent was '0 behind' and the target 'met'."""
    from buildradiator.rules.derive import Derivation
    from buildradiator.sources.catalog import parse_config

    derivation = Derivation(parse_config(DRIFT_CONFIG))
    fresh = derivation.derive(drift_raw(frozenset()), ())
    assert fresh.deployments[0].behind_by == 0 and fresh.targets[0].met is True  # as before
    snap = derivation.derive(drift_raw(frozenset({"ci"})), ())
    assert snap.deployments[0].behind_by is None  # unknown, not guessed from old builds
    assert snap.targets[0].met is None and snap.targets[0].value is None


def test_a_drift_target_is_not_met_on_a_stale_deploy_tool_nor_on_part_of_its_scope() -> None:
    """The deploy tool of checkout stopped answering with '0 behind' on its last word, and
    search's drift is not known at all: 'deploy drift <= 5' cannot be met on what is known."""
    from buildradiator.config.share import TargetConfig
    from buildradiator.rules.targets import evaluate_one

    def deploy(service: str, source: str, behind: int | None) -> Deployment:
        return Deployment(source=source, service=service, environment="prod",
                          state=DeployState.SUCCEEDED, behind_by=behind)  # fmt: skip

    drift = TargetConfig(measure="deploy_drift", goal="<= 5")
    snap = Snapshot(taken_at=NOW, deployments=(deploy("checkout", "old", 0),),
                    stale_sources=frozenset({"old"}))  # fmt: skip
    t = evaluate_one(drift, snap)
    assert t.met is None and t.value is None  # its last word is not current
    snap = Snapshot(
        taken_at=NOW, deployments=(deploy("shop", "gh", 2), deploy("search", "gh", None))
    )
    t = evaluate_one(drift, snap)
    assert t.value == 2 and t.met is None  # search may be 40 behind: not known to be met
    snap = snap.model_copy(update={"deployments": (*snap.deployments, deploy("pay", "gh", 9))})
    t = evaluate_one(drift, snap)
    assert t.value == 9 and t.met is False  # what is known already misses the goal


async def test_a_red_main_whose_next_build_says_nothing_is_not_announced_green() -> None:
    """Jenkins answered NOT_BUILT (unknown) for the build after the red one: the window closed
    (the streak ended), and the radiator rang, said 'acme/monolith is green again' on screen
    and sent it to the desktop, though nothing on main had passed."""
    from alert_helpers import SOURCES, red
    from alert_helpers import make_app as alerting_app
    from screen import screen_lines

    broken = red()
    failed = broken.pipelines[0].recent
    unknown = build("acme/monolith", 9102, Status.UNKNOWN, finished=0, author="Dana")
    monolith = pipeline("acme/monolith", (unknown, *failed))
    after = Snapshot(taken_at=NOW, pipelines=(monolith, broken.pipelines[1]), sources=SOURCES)
    clock = FakeClock(NOW)
    app, feed, rec = alerting_app(broken, clock=clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(after)
        await pilot.pause()
        bottom = screen_lines(app)[-1]
    assert "green" not in bottom, bottom
    assert "acme/monolith is no longer red (now unknown)" in bottom, bottom
    assert not rec.toasted("green again") and b"green again" not in rec.written


def test_green_since_is_not_claimed_while_a_source_is_not_fresh() -> None:
    """``/snapshot.json`` and ``status --json`` said ``"green_since": "<3h ago>"`` beside
    ``"overall": "unknown"`` while the CI source was down: a script showing 'green for 3h'
    believed it. Only what is all known is green since anything."""
    import json

    from buildradiator.export.document import to_json
    from buildradiator.rules.derive import Derivation
    from buildradiator.sources.catalog import parse_config

    derivation = Derivation(parse_config(DRIFT_CONFIG))
    fresh = derivation.derive(drift_raw(frozenset()), ())
    assert fresh.green_since is not None  # as before
    doc = json.loads(to_json(derivation.derive(drift_raw(frozenset({"ci"})), ())))
    assert doc["overall"] == "unknown" and doc["green_since"] is None


def with_unknown_mains() -> Snapshot:
    """Everything fresh and passing, but for two mains whose verdict is not known: the last
    build ended NOT_BUILT (unknown), and a pipeline whose first build never finished."""
    snap = green_estate()
    odd = pipeline("acme/odd", (build("acme/odd", 3, Status.UNKNOWN, finished=120),))
    new = pipeline("acme/new", ())
    return snap.model_copy(update={"pipelines": (*snap.pipelines, odd, new)})


async def test_all_green_is_not_claimed_beside_mains_whose_verdict_is_unknown() -> None:
    """The list showed '? unknown acme/odd' under a top line '✔ all green since 08:48'; the
    wall said ALL GREEN over an 'UNKNOWN' tile, the prompt line 'all green' and exit code 0."""
    from buildradiator.rules.verdict import exit_code

    snap = with_unknown_mains()
    app = make_app(snap, clock=FakeClock(NOW))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        screen = screen_text(app)
    assert "? unknown" in screen and "all green" not in screen.lower(), screen
    assert screen.splitlines()[0].startswith(" ? not all known"), screen
    wall = make_app(snap, clock=FakeClock(NOW), mode="wall")
    async with wall.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        screen = screen_text(wall)
    assert "ALL GREEN" not in screen and "UNKNOWN" in screen, screen
    assert "all green" not in status_line(snap, NOW)
    assert exit_code(snap) == 3
    # A canceled build says nothing: the verdict before it stands (green here).
    canceled = build("acme/odd", 4, Status.CANCELED, finished=60)
    passed = build("acme/odd", 2, Status.PASSED, finished=600)
    calm = snap.model_copy(
        update={"pipelines": (*snap.pipelines[:3], pipeline("acme/odd", (canceled, passed)))}
    )
    assert exit_code(calm) == 0
    only_canceled = calm.model_copy(
        update={"pipelines": (*snap.pipelines[:3], pipeline("acme/odd", (canceled,)))}
    )
    assert exit_code(only_canceled) == 3


@pytest.mark.parametrize(
    ("body", "health", "detail"),
    [
        # Elasticsearch / OpenSearch _cluster/health: 200 whatever the colour.
        ({"status": "red", "cluster_name": "logs"}, Health.DOWN, "body says red"),
        ({"status": "yellow"}, Health.WARN, "body says yellow"),
        ({"status": "green"}, Health.UP, None),
        # What endpoints commonly say for alive stays up, as before.
        ({"status": "success"}, Health.UP, None),
        ({"status": "SERVING"}, Health.UP, None),
        ({"status": "alive"}, Health.UP, None),
        # A word no convention the radiator knows: not vouched for as up.
        ({"status": "CRITICAL"}, Health.UNKNOWN, "body says CRITICAL (a word not known here)"),
        ({"status": {"code": "MAINTENANCE"}}, Health.UNKNOWN,
         "body says MAINTENANCE (a word not known here)"),
    ],
)  # fmt: skip
async def test_a_200_whose_body_says_a_word_not_known_is_not_up(
    body: dict[str, object], health: Health, detail: str | None
) -> None:
    """A health URL answering 200 {"status": "red"} (an Elasticsearch cluster down to red)
    was '✔ up': the code said alive and a status word the radiator did not know was ignored."""
    check = await check_of(answer(200, body), FakeClock(NOW))
    assert (check.health, check.detail) == (health, detail)


async def test_a_body_rule_vouches_where_the_word_is_not_known() -> None:
    """With a body rule configured, the rule says what up is: it holds, so up."""
    body = {"status": "success", "ready": True}
    check = await check_of(answer(200, body), FakeClock(NOW), body_field="ready",
                           body_value="true")  # fmt: skip
    assert check.health is Health.UP


def reports_running_when_buildkite_stopped() -> Snapshot:
    """Nothing broken; buildkite stopped answering 5 minutes ago while acme/reports #13 ran."""
    snap = red_estate()
    running = build("acme/reports", 13, Status.RUNNING, started=900, source="buildkite",
                    estimate=1200)  # fmt: skip
    pipelines = tuple(
        p.model_copy(update={"in_flight": (running,)}) if p.name == "acme/reports" else p
        for p in snap.pipelines
    )
    return snap.model_copy(update={"pipelines": pipelines, "broken": ()})


async def test_a_build_last_seen_running_on_a_stale_source_is_not_shown_running() -> None:
    """In flight led with '▶ acme/reports #13 75% ETA 12:05' (its gauge ticking on) though
    buildkite had said nothing for 5 minutes: it may have ended long ago. The wall counted it
    '▶ 3 running' beside '1 source stale, not counted'."""
    snap = reports_running_when_buildkite_stopped()
    app = make_app(snap, clock=FakeClock(NOW))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
    box = box_titled(lines, "In flight")
    assert box is not None
    panel = box.inside(lines)
    at = next(i for i, line in enumerate(panel) if "acme/reports #13" in line)
    row = panel[at] + panel[at + 1]
    assert "last seen running" in row and "5m ago" in row, row
    assert "▶" not in row and "ETA" not in row and "%" not in row, row
    first = next(i for i, line in enumerate(panel) if "#" in line)
    assert first < at  # the builds known to run now come first
    wall = make_app(snap, clock=FakeClock(NOW), mode="wall")
    async with wall.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        screen = screen_text(wall)
    assert "▶ 2 running" in screen and "▶ 3 running" not in screen, screen


def test_metrics_say_a_source_read_only_from_the_last_runs_cache_is_not_up() -> None:
    """At start-up every source showed the last run's cache and nothing of this run had
    answered: /metrics said source_up 1 ('its last poll succeeded') for each of them."""
    from prometheus_client.parser import text_string_to_metric_families

    from buildradiator.export.metrics import metrics_text

    cached = SourceState(name="gh", type="github", last_success=ago(7200), stale=True,
                         freshness=Freshness.CACHED)  # fmt: skip
    fresh = SourceState(name="health", type="health", last_success=ago(5))
    snap = Snapshot(taken_at=NOW, sources=(cached, fresh), stale_sources=frozenset({"gh"}))
    text = metrics_text(snap, NOW).decode()
    up = {
        s.labels["source"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "buildradiator_source_up"
    }
    assert up == {"gh": 0.0, "health": 1.0}


def test_the_oldest_commit_not_live_is_not_met_while_a_service_of_it_is_unknown() -> None:
    """The estate's 'oldest commit not live' is the oldest of those known: with search's not
    known (its pipeline not watched), 'oldest commit not live <= 1d' read met at 2h."""
    from buildradiator.config.share import TargetConfig
    from buildradiator.model import DeliveryFact
    from buildradiator.rules.targets import evaluate_one

    def fact(scope: str, value: float | None) -> DeliveryFact:
        return DeliveryFact("oldest_undeployed", scope, 0, value, "seconds")

    known = (fact("estate", 7200.0), fact("shop/production", 7200.0))
    snap = Snapshot(taken_at=NOW, delivery=known)
    target = TargetConfig(measure="oldest_undeployed", goal="<= 1d")
    assert evaluate_one(target, snap).met is True  # all known: met
    partial = snap.model_copy(update={"delivery": (*known, fact("search/production", None))})
    t = evaluate_one(target, partial)
    assert t.value == 7200.0 and t.met is None
    assert evaluate_one(target.model_copy(update={"service": "shop"}), partial).met is True
    late = (fact("estate", 3 * 86400.0), fact("shop/production", 3 * 86400.0))
    missed = snap.model_copy(update={"delivery": (*late, fact("search/production", None))})
    assert evaluate_one(target, missed).met is False  # already missed on what is known


async def test_what_a_stale_deploy_tool_last_said_is_not_shown_as_live_now() -> None:
    """The health checks answer; the deploy tool stopped 10 minutes ago. The row said
    'up  checkout prod  9f3c2ab 2h' as if that were what runs now (a deploy may have gone
    out since), and its drift with it."""
    snap = health_stale_deploys_fresh()
    health = snap.sources[1].model_copy(
        update={"error": None, "error_kind": None, "stale": False,
                "freshness": Freshness.FRESH, "last_success": ago(5)}
    )  # fmt: skip
    deploys = snap.sources[2].model_copy(
        update={"stale": True, "freshness": Freshness.STALE, "last_success": ago(600),
                "error": "refused", "error_kind": "unreachable"}
    )  # fmt: skip
    snap = snap.model_copy(
        update={"sources": (snap.sources[0], health, deploys),
                "stale_sources": frozenset({"deploys"})}
    )  # fmt: skip
    app = make_app(snap, clock=FakeClock(NOW))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        screen = screen_text(app)
    row = next(line for line in screen.splitlines() if "checkout prod" in line)
    assert "✔ up" in row  # the checks are current
    assert "9f3c2ab 2h" not in row and "? 9f3c2ab stale 10m" in row, row


async def test_items_another_radiator_sent_without_their_sources_state_are_not_fresh() -> None:
    """A central radiator's document listed gh's pipelines but no state for gh (its config
    lost gh, a proxy trimmed the list, an older or buggy build): each of its parts is as fresh
    as it says, and with nothing said, this screen took them as fresh and green."""
    import json
    import random

    import httpx

    from buildradiator.assemble import build_engine
    from buildradiator.export.document import to_json
    from buildradiator.rules import verdict
    from buildradiator.sources.catalog import parse_config
    from buildradiator.sources.http import HttpClient

    doc = json.loads(to_json(green_estate()))
    doc["instance"] = "c0ffee" * 5 + "ab"
    doc["via"] = [doc["instance"]]
    doc["sources"] = [s for s in doc["sources"] if s["name"] != "gh"]
    body = json.dumps(doc).encode()

    def central(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    clock = FakeClock(NOW)
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(central)), clock=clock)
    text = '[[sources]]\ntype = "radiator"\nname = "central"\nurl = "http://central.example"\n'
    engine = build_engine(parse_config(text), http=http, clock=clock, rng=random.Random(1))
    try:
        snap = await engine.poll_all()
    finally:
        await engine.aclose()
    gh = [p for p in snap.pipelines if p.source == "central/gh"]
    assert gh and "central/gh" in snap.stale_sources
    assert verdict.overall(snap) == "unknown" and not verdict.all_green(snap)
    health = snap.source_state("central/health")
    assert health is not None and not health.stale  # what it vouches for stays fresh
