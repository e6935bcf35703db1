"""The ``radiator`` source against a fake central radiator serving the real document.

Every document here is ``export.to_json`` of a real ``Snapshot`` (the fixtures of the UI tests,
plus a production estate built with the model), answered the way ``serve`` answers: an ETag,
If-None-Match -> 304, the instance header, a bearer token when one is set. Tests that need a
broken document take the real one apart.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator import document, instance
from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.engine.engine import Engine
from buildradiator.errors import (
    AuthFailed,
    BadPayload,
    NotFound,
    ServerError,
    SourceError,
    Unreachable,
)
from buildradiator.export import document as export
from buildradiator.history import History
from buildradiator.model import (
    Blocker,
    DeliveryFact,
    Deployment,
    DeployState,
    Health,
    Pipeline,
    ServiceCheck,
    Snapshot,
    SourceResult,
    SourceState,
    Status,
)
from buildradiator.rules import insights
from buildradiator.sources.catalog import make_source, parse_config
from buildradiator.sources.http import HttpClient
from buildradiator.sources.radiator.config import RadiatorFeedSource
from buildradiator.sources.radiator.source import RadiatorFeed, snapshot_url
from snapshot_fixtures import (
    MARKUP_MESSAGE,
    ago,
    green_estate,
    red_estate,
    red_estate_with_history,
)

CENTRAL = "http://central.example:8686"
THEIR_ID = "c0ffee" * 5 + "ab"
TOKEN = "rad_s3cr3t_T0KEN_value_0123456789"
ESC = "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x1b[31m"


def production_estate() -> Snapshot:
    """The red estate with history, plus alerts, a query, deployments, a blocker and more
    sources (two of them stale)."""
    snap = red_estate_with_history()
    services = (
        *snap.services,
        ServiceCheck(
            source="alerts",
            name="HighErrorRate",
            environment="prod",
            health=Health.DOWN,
            service="checkout",
            kind="alert",
            severity="critical",
            since=ago(600),
            detail="5xx above 2% for 10m",
            url="https://alertmanager.example/#/alerts?filter=HighErrorRate",
        ),
        ServiceCheck(
            source="alerts",
            name="DiskFilling",
            health=Health.WARN,
            kind="alert",
            severity="warning",
            muted="silenced",
        ),
        ServiceCheck(
            source="prom",
            name="checkout error rate",
            environment="prod",
            health=Health.UP,
            service="checkout",
            kind="query",
            value=0.4,
            unit="%",
            detail="0.4 % (< 2 %)",
            checked_at=ago(30),
        ),
    )
    deployments = (
        Deployment(
            source="argocd",
            service="checkout",
            environment="prod",
            id="42",
            state=DeployState.SUCCEEDED,
            provider_state="Synced",
            revision="abc1234",
            version="v2026.11.3",
            deployed_at=ago(3600),
            author="Dana",
            url="https://argocd.example/applications/checkout",
            repo="acme/monolith",
            pipeline="acme/monolith",
            behind_by=3,
            oldest_undeployed_at=ago(5000),
        ),
        Deployment(
            source="gh-deploy",
            service="payments",
            environment="prod",
            id="991",
            state=DeployState.FAILED,
            provider_state="failure",
            revision="def5678",
            target_revision="0ddba11",
            started_at=ago(900),
            finished_at=ago(600),
            detail="rollout timed out",
            suspect="payments down 2m after it went live",
        ),
    )
    blockers = (
        Blocker(
            source="blockers",
            id="#123",
            title="Payments double-charge on retry",
            url="https://github.com/acme/monolith/issues/123",
            opened_at=ago(86400),
            author="Olga",
        ),
    )
    sources = (
        *snap.sources,
        SourceState(name="alerts", type="alertmanager", last_success=ago(5)),
        SourceState(name="prom", type="prometheus", last_success=ago(5)),
        SourceState(
            name="argocd", type="argocd", last_success=ago(900), error="HTTP 502", stale=True
        ),
        SourceState(name="gh-deploy", type="github_deployments", last_success=ago(5)),
        SourceState(name="blockers", type="blockers", last_success=ago(5)),
    )
    return snap.model_copy(
        update={
            "services": services,
            "deployments": deployments,
            "blockers": blockers,
            "sources": sources,
            "stale_sources": frozenset({"buildkite", "argocd"}),
        }
    )


def another_radiators(snapshot: Snapshot, via: tuple[str, ...] = ()) -> bytes:
    """``snapshot``'s document as another radiator process writes it: its own instance id."""
    doc = json.loads(export.to_json(snapshot))
    doc["instance"] = THEIR_ID
    doc["via"] = [THEIR_ID, *via]
    return json.dumps(doc).encode()


class Central:
    """A central radiator's ``/snapshot.json`` as ``serve`` answers it."""

    def __init__(
        self,
        snapshot: Snapshot | None = None,
        *,
        body: bytes | None = None,
        token: str | None = None,
        instance_id: str = THEIR_ID,
        status: int = 200,
    ) -> None:
        self.body = body if body is not None else another_radiators(snapshot or red_estate())
        self.token = token
        self.instance_id = instance_id
        self.status = status
        self.requests: list[httpx.Request] = []
        self.answers: list[int] = []

    def doc(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    def serve_doc(self, doc: Any) -> None:
        self.body = json.dumps(doc).encode()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self._answer(request)
        self.answers.append(answer.status_code)
        return answer

    def _answer(self, request: httpx.Request) -> httpx.Response:
        headers = {instance.INSTANCE_HEADER: self.instance_id}
        if request.url.path != "/snapshot.json":
            return httpx.Response(404, text="not found", headers=headers)
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(
                401,
                json={"error": "a token is required"},
                headers={**headers, "WWW-Authenticate": 'Bearer realm="buildradiator"'},
            )
        if self.status != 200:
            return httpx.Response(self.status, text="oops", headers=headers)
        etag = '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'
        headers |= {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers=headers)
        return httpx.Response(
            200,
            content=self.body,
            headers={**headers, "Content-Type": "application/json; charset=utf-8"},
        )


def config(url: str = CENTRAL, **kw: Any) -> RadiatorFeedSource:
    return RadiatorFeedSource(type="radiator", name="central", url=url, **kw)


@asynccontextmanager
async def feed_for(
    handler: Callable[[httpx.Request], httpx.Response], **kw: Any
) -> AsyncIterator[RadiatorFeed]:
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=FakeClock())
    try:
        source = make_source(config(**kw), http)
        assert isinstance(source, RadiatorFeed)
        yield source
    finally:
        await http.aclose()


async def poll(central: Central, **kw: Any) -> SourceResult:
    async with feed_for(central.handler, **kw) as feed:
        return await feed.guarded_poll()


async def poll_error(central: Central, **kw: Any) -> SourceError:
    with pytest.raises(SourceError) as caught:
        await poll(central, **kw)
    return caught.value


def engine_reading(
    central: Central, clock: FakeClock, *, extra: str = "", history: Any = None
) -> Engine:
    """The real engine with one radiator source, ``central``, reading ``central``."""
    text = f'[[sources]]\ntype = "radiator"\nname = "central"\nurl = "{CENTRAL}"\n{extra}'
    http = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(central.handler)), clock=clock
    )
    config = parse_config(text)
    return build_engine(config, http=http, clock=clock, rng=random.Random(1), history=history)


def by_key(result: SourceResult) -> dict[str, Pipeline]:
    return {p.key: p for p in result.pipelines}


# --- round trip -------------------------------------------------------------------------------


async def test_round_trip_keeps_every_build_the_screens_read() -> None:
    snap = red_estate()
    result = await poll(Central(snap))
    mine = by_key(result)
    assert sorted(mine) == sorted(f"{p.source}:{p.key}" for p in snap.pipelines)
    for theirs in snap.pipelines:
        ours = mine[f"{theirs.source}:{theirs.key}"]
        # Each of the central radiator's sources is a part of this one: ``central/<theirs>``.
        assert ours.source == f"central/{theirs.source}"
        # The document's pipeline ``url`` is its last build's page (document.pipeline_doc).
        last_url = theirs.last.url if theirs.last and theirs.last.url else theirs.url
        assert (ours.name, ours.branch, ours.url, ours.status) == (
            theirs.name,
            theirs.branch,
            last_url,
            theirs.status,
        )
        for got, want in ((ours.recent, theirs.recent), (ours.in_flight, theirs.in_flight)):
            assert [b.model_dump(exclude={"source", "pipeline"}) for b in got] == [
                b.model_dump(exclude={"source", "pipeline"}) for b in want
            ]
            assert all(b.source == ours.source and b.pipeline == ours.key for b in got)


async def test_round_trip_broken_window_and_in_flight_inputs() -> None:
    snap = red_estate()
    result = await poll(Central(snap))
    monolith = by_key(result)["gh:acme/monolith"]
    window = insights.pipeline_window(monolith, stale=False)
    expected = insights.pipeline_window(snap.pipelines[0], stale=False)
    assert window is not None and expected is not None
    # The whole red streak came across: since its first failure, by its author, 3 long.
    assert (window.streak, window.author, window.commit, window.since) == (
        3,
        "Frank",
        "a1b2c3d4e5f60718",
        ago(3600),
    )
    assert window.model_dump(exclude={"source", "key"}) == expected.model_dump(
        exclude={"source", "key"}
    )
    assert [b.author for b in insights.red_streak(monolith)] == ["Mallory", "Mallory", "Frank"]
    running = monolith.in_flight[0]
    assert (running.status, running.stage, running.estimated_seconds, running.started_at) == (
        Status.RUNNING,
        "integration",
        600,
        ago(372),
    )
    ledger = by_key(result)["gh:acme/ledger"]
    assert ledger.in_flight[0].status is Status.QUEUED
    assert ledger.in_flight[0].stage == "waiting for agent"


async def test_round_trip_services_deployments_blockers_and_flaky_tests() -> None:
    snap = production_estate()
    result = await poll(Central(snap))
    assert [s.model_dump(exclude={"source"}) for s in result.services] == [
        s.model_dump(exclude={"source"}) for s in snap.services
    ]
    assert [s.source for s in result.services] == [f"central/{s.source}" for s in snap.services]
    payments = next(s for s in result.services if s.name == "payments")
    assert (payments.health, payments.detail, payments.http_status) == (
        Health.DOWN,
        "body status DOWN",
        503,
    )
    alert = next(s for s in result.services if s.name == "HighErrorRate")
    assert (alert.service_name, alert.severity, alert.since) == ("checkout", "critical", ago(600))

    assert [d.model_dump(exclude={"source", "pipeline"}) for d in result.deployments] == [
        d.model_dump(exclude={"source", "pipeline"}) for d in snap.deployments
    ]
    # The deployment's pipeline now names our key for it, so drift finds the builds here.
    assert [d.pipeline for d in result.deployments] == ["gh:acme/monolith", None]
    assert result.deployments[1].suspect == "payments down 2m after it went live"

    assert [b.model_dump(exclude={"source"}) for b in result.blockers] == [
        b.model_dump(exclude={"source"}) for b in snap.blockers
    ]

    flakes = {f.name: f for f in result.flaky_reports}
    assert set(flakes) == {t.name for t in snap.flaky_tests}
    login = flakes["testRedirect"]
    assert (login.pipeline, login.classname, login.times_flaked) == (
        "gh:acme/billing",
        "com.acme.billing.LoginTest",
        12,
    )
    assert (login.first_seen, login.last_seen) == (ago(6 * 86400), ago(2 * 3600))
    # Markup in a test name is text, kept as it was (the views never render it as markup).
    assert flakes[MARKUP_MESSAGE].pipeline == "gh:acme/monolith"


async def test_summary_counts_and_names_the_remote_stale_sources() -> None:
    result = await poll(Central(production_estate()))
    assert result.summary.startswith("6 pipelines (3 in flight), 6 service checks, ")
    assert "2 deployments, 1 blocker, 3 flaky tests" in result.summary
    assert "2 of its 9 sources stale: buildkite, argocd" in result.summary
    green = await poll(Central(green_estate()))
    assert green.summary == "3 pipelines, 2 service checks; polled (the server does not push)"


# --- only ----------------------------------------------------------------------------------


async def test_only_keeps_the_named_remote_sources() -> None:
    result = await poll(Central(production_estate()), only=["jenkins", "h*"])
    assert [p.key for p in result.pipelines] == ["jenkins:platform/core"]
    assert {s.name for s in result.services} == {"checkout", "payments", "search"}
    assert result.deployments == () and result.blockers == ()
    # Every flaky test flaked on gh pipelines, which are not wanted.
    assert result.flaky_reports == ()
    assert "from 2 sources matching only" in result.summary
    assert "stale" not in result.summary

    gh = await poll(Central(production_estate()), only=["gh", "buildkite"])
    assert {p.key for p in gh.pipelines} == {
        "gh:acme/monolith",
        "gh:acme/billing",
        "gh:acme/ledger",
        "gh:docs-site",
        "buildkite:acme/reports",
    }
    assert len(gh.flaky_reports) == 3
    assert "1 of its 2 sources stale: buildkite" in gh.summary


DELIVERED_AT = ago(240)


def with_delivery(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with the delivery measures a central radiator computes from its history."""
    facts = (
        DeliveryFact(
            key="deploy_frequency", scope="estate", window_days=7, value=2.5, unit="per_day",
            previous=1.5, trend="better", band="elite", samples=18,
        ),
        DeliveryFact(
            key="lead_time", scope="checkout/prod", window_days=30, value=5400.0,
            unit="seconds", p90=20_000.0, trend="worse", band="elite", samples=40,
        ),
        DeliveryFact(
            key="change_failure_rate", scope="estate", window_days=30, value=None, unit="share",
            note="add a deploy source ([[sources]] type github_deployments or argocd)",
        ),
        DeliveryFact(
            key="oldest_undeployed", scope="acme/monolith", window_days=0, value=3000.0,
            unit="seconds",
        ),
    )  # fmt: skip
    return snapshot.model_copy(update={"delivery": facts, "delivery_at": DELIVERED_AT})


async def test_the_remote_delivery_measures_are_read_as_they_were_written() -> None:
    snap = with_delivery(production_estate())
    result = await poll(Central(snap))
    assert result.delivery == snap.delivery
    assert result.delivery_at == DELIVERED_AT
    # An older radiator's document has no measures: nothing, not an error.
    older = Central(production_estate())
    doc = older.doc()
    del doc["delivery"]
    older.serve_doc(doc)
    assert (await poll(older)).delivery == ()


async def test_a_hostile_measure_costs_its_field_or_itself_never_a_metric_name() -> None:
    central = Central(with_delivery(production_estate()))
    doc = central.doc()
    facts = doc["delivery"]["facts"]
    facts[0]["band"] = "legendary"  # not a band: no band
    facts[0]["trend"] = "sideways"  # not a trend: no trend
    facts[1]["value"] = float("inf")  # not a value: unknown
    facts[1]["scope"] = "[b]pwn[/b]" + ESC
    facts[2]["unit"] = "fortnights"  # a unit the screen cannot say: the measure is left out
    facts.append({**facts[3], "key": 'evil{x="1"} 1\nbuildradiator_up'})  # a key we do not know
    facts.append({**facts[3], "window_days": "a week"})
    facts.append("not a measure")
    central.serve_doc(doc)
    result = await poll(central)
    by = {f.key: f for f in result.delivery}
    assert set(by) == {"deploy_frequency", "lead_time", "oldest_undeployed"}
    assert (by["deploy_frequency"].band, by["deploy_frequency"].trend) == (None, None)
    assert by["deploy_frequency"].value == 2.5
    assert by["lead_time"].value is None and by["lead_time"].p90 == 20_000.0
    assert by["lead_time"].scope == "[b]pwn[/b]click"  # literal text, no escapes
    assert "4 unreadable entries skipped" in result.summary


async def test_only_part_of_the_remote_carries_none_of_its_estate_wide_measures() -> None:
    result = await poll(Central(with_delivery(production_estate())), only=["gh"])
    assert result.pipelines and result.delivery == () and result.delivery_at is None


async def test_a_radiator_fed_by_another_shows_the_remote_delivery_measures(
    tmp_path: Any,
) -> None:
    """A wall screen reading ``serve`` has watched nothing itself: the central radiator's
    measures, computed over its long history, are the ones to show (the Delivery screen, the
    wall's calm rotation, /metrics, [[targets]])."""
    central = Central(with_delivery(production_estate()))
    clock = FakeClock()
    history = History.open(tmp_path / "history.db", clock=clock)
    engine = engine_reading(central, clock, history=history)
    try:
        snap = await engine.poll_all()
        assert snap.delivery == with_delivery(production_estate()).delivery
        assert snap.delivery_at == DELIVERED_AT
        # The central radiator goes down: its last measures stay, with when they were computed.
        central.status = 502
        clock.advance(120)
        snap = await engine.poll_all()
        assert snap.source_state("central").stale  # type: ignore[union-attr]
        assert snap.delivery_at == DELIVERED_AT and len(snap.delivery) == 4
    finally:
        await engine.aclose()


def with_gh_stale_on_central(snapshot: Snapshot) -> bytes:
    """The document of a central radiator whose ``gh`` source stopped answering 15 minutes
    ago: it keeps gh's pipelines, stale (never green on its own screen)."""
    doc = json.loads(another_radiators(snapshot))
    for source in doc["sources"]:
        if source["name"] == "gh":
            source.update(
                ok=False,
                stale=True,
                freshness="stale",
                error="api.github.com answered HTTP 502",
                error_kind="server",
                last_success=ago(900).isoformat(),
            )
    for pipeline in doc["pipelines"]:
        pipeline["stale"] = pipeline["source"] == "gh"
    return json.dumps(doc).encode()


async def test_what_the_central_radiator_holds_stale_is_never_green_here() -> None:
    """A wall TV reading ``serve``: the central radiator's gh source is down, so its own screen
    greys gh's pipelines. This one must not show them green either, nor call the estate ALL
    GREEN: each of the central's sources is a source here too, as fresh as it is there."""
    from app_helpers import make_app
    from buildradiator.rules import ordering, verdict
    from screen import screen_text

    central = Central(body=with_gh_stale_on_central(green_estate()))
    clock = FakeClock(green_estate().taken_at)
    engine = engine_reading(central, clock)
    try:
        snap = await engine.poll_all()
    finally:
        await engine.aclose()
    gh = [p for p in snap.pipelines if p.key.startswith("gh:")]
    assert gh and not any(ordering.is_green(p, snap.stale_sources) for p in gh)
    assert not verdict.all_green(snap) and verdict.overall(snap) == "unknown"
    state = snap.source_state("central/gh")
    assert state is not None and state.stale and "HTTP 502" in (state.error or "")
    assert state.last_success == ago(900)
    fresh = snap.source_state("central/health")
    assert fresh is not None and not fresh.stale
    assert any(s.health is Health.UP for s in snap.services)  # health is current: shown as is

    app = make_app(snap, clock=clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        screen = screen_text(app)
    assert "ALL GREEN" not in screen
    monolith = next(line for line in screen.splitlines() if "acme/monolith" in line)
    assert "stale 15m" in monolith and "passed" not in monolith


async def test_when_the_central_radiator_is_down_everything_it_sent_is_stale() -> None:
    central = Central(green_estate())
    clock = FakeClock()
    engine = engine_reading(central, clock)
    try:
        snap = await engine.poll_all()
        assert verdict_overall(snap) == "passed"
        central.status = 502
        clock.advance(600)
        snap = await engine.poll_all()
    finally:
        await engine.aclose()
    assert snap.pipelines and snap.services
    assert {p.source for p in snap.pipelines} | {s.source for s in snap.services} <= set(
        snap.stale_sources
    )
    assert verdict_overall(snap) == "unknown"


def verdict_overall(snap: Snapshot) -> str:
    from buildradiator.rules import verdict

    return verdict.overall(snap)


# --- conditional requests, the loop, auth ---------------------------------------------------


async def test_304_reuses_the_last_result_and_a_change_is_read() -> None:
    central = Central(red_estate())
    async with feed_for(central.handler) as feed:
        first = await feed.poll()
        second = await feed.poll()
        assert central.answers == [200, 304]
        assert central.requests[1].headers["if-none-match"].startswith('"')
        assert second is first
        central.body = another_radiators(green_estate())
        third = await feed.poll()
    assert central.answers == [200, 304, 200]
    assert {p.status for p in third.pipelines} == {Status.PASSED}
    assert str(central.requests[0].url) == CENTRAL + "/snapshot.json"


async def test_a_304_for_a_broken_answer_is_not_the_old_result() -> None:
    central = Central(red_estate())
    async with feed_for(central.handler) as feed:
        await feed.poll()
        central.body = b'{"schema": 1, "pipelines": "oops"}'
        for _ in range(2):
            with pytest.raises(BadPayload):
                await feed.poll()
    assert central.answers == [200, 200, 304]


async def test_pointing_at_itself_is_a_loop_error() -> None:
    error = await poll_error(Central(red_estate(), instance_id=instance.ID))
    assert type(error) is SourceError
    assert "this radiator itself" in str(error) and "loop" in str(error)
    # Another radiator's id is fine.
    assert (await poll(Central(red_estate(), instance_id=THEIR_ID))).pipelines


async def test_our_own_data_coming_back_through_another_radiator_is_a_loop() -> None:
    # A -> B -> A: B's document says its data passed through us.
    error = await poll_error(Central(body=another_radiators(red_estate(), (instance.ID,))))
    assert type(error) is SourceError and "own data back" in str(error)
    # What we read from B is remembered, so the snapshot we export names B as upstream.
    instance.UPSTREAM.discard(THEIR_ID)
    await poll(Central(red_estate()))
    assert THEIR_ID in json.loads(export.to_json(red_estate()))["via"]


async def test_the_token_is_sent_as_bearer_and_never_shown() -> None:
    central = Central(red_estate(), token=TOKEN)
    result = await poll(central, token=SecretStr(TOKEN), token_env="CENTRAL_TOKEN")
    assert central.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert result.pipelines

    wrong = await poll_error(
        Central(red_estate(), token="other"), token=SecretStr(TOKEN), token_env="CENTRAL_TOKEN"
    )
    assert isinstance(wrong, AuthFailed)
    assert str(wrong) == (
        "the radiator at central.example:8686 refused the token from $CENTRAL_TOKEN "
        "(HTTP 401): wrong or changed"
    )
    missing = await poll_error(Central(red_estate(), token=TOKEN))
    assert isinstance(missing, AuthFailed)
    assert str(missing).startswith("the radiator at central.example:8686 wants a token")
    assert TOKEN not in str(wrong) + str(missing)


async def test_the_other_radiator_down_or_missing() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    async with feed_for(refused) as feed:
        with pytest.raises(Unreachable) as caught:
            await feed.guarded_poll()
    assert str(caught.value) == "cannot reach central.example: connection refused"

    assert isinstance(await poll_error(Central(red_estate(), status=503)), ServerError)
    lost = await poll_error(Central(red_estate()), url=CENTRAL + "/radiator")
    assert isinstance(lost, NotFound)
    assert str(lost).startswith(
        "snapshot not found (HTTP 404) at http://central.example:8686/radiator/snapshot.json"
    )


# --- documents that are not (quite) a snapshot ----------------------------------------------


async def test_html_truncated_and_wrong_types_name_the_url_without_its_token() -> None:
    url = CENTRAL + "/snapshot.json?token=" + TOKEN
    shown = CENTRAL + "/snapshot.json?token=***"
    html = Central(body=b"<!DOCTYPE html><html><body>Sign in</body></html>")
    body = export.to_json(red_estate()).encode()
    cases = {
        "HTML page": html,
        "invalid JSON": Central(body=body[: len(body) // 2]),
        "a JSON list": Central(body=b"[1, 2]"),
        "no schema number": Central(body=b'{"pipelines": []}'),
        "pipelines is a JSON object": Central(body=b'{"schema": 1, "pipelines": {"a": 1}}'),
    }
    for words, central in cases.items():
        error = await poll_error(central, url=url)
        assert isinstance(error, BadPayload), words
        assert words in str(error), str(error)
        assert shown in str(error) and TOKEN not in str(error)


async def test_unknown_words_are_read_as_unknown_with_the_word_kept() -> None:
    central = Central(production_estate())
    doc = central.doc()
    monolith = doc["pipelines"][0]
    assert monolith["key"] == "acme/monolith"
    monolith["recent"][0]["status"] = "exploded"
    monolith["in_flight"][0]["status"] = "paused"
    monolith["in_flight"][0]["provider_status"] = None
    doc["services"][1]["health"] = "degraded"
    doc["deployments"][0]["state"] = "rolling"
    central.serve_doc(doc)
    result = await poll(central)
    ours = by_key(result)["gh:acme/monolith"]
    assert (ours.recent[0].status, ours.recent[0].provider_status) == (Status.UNKNOWN, "exploded")
    assert (ours.in_flight[0].status, ours.in_flight[0].provider_status) == (
        Status.QUEUED,
        "paused",
    )
    assert result.services[1].health is Health.UNKNOWN
    assert result.deployments[0].state is DeployState.UNKNOWN
    assert "skipped" not in result.summary


async def test_one_bad_entry_is_skipped_and_counted_not_the_document() -> None:
    central = Central(production_estate())
    doc = central.doc()
    doc["pipelines"].insert(0, "not a pipeline")
    doc["pipelines"][1]["recent"][1]["number"] = "nine thousand"
    doc["pipelines"][2]["recent"] = "none"
    del doc["services"][0]["name"]
    doc["blockers"].append({"source": "blockers", "id": None, "title": 5})
    doc["flaky_tests"][0]["times_flaked"] = {"many": True}
    doc["pipelines"][3]["recent"][0]["started_at"] = "yesterday-ish"
    central.serve_doc(doc)
    result = await poll(central)
    mine = by_key(result)
    assert len(result.pipelines) == 5  # the one with ``recent = "none"`` is gone
    assert "gh:acme/billing" not in mine
    assert [b.number for b in mine["gh:acme/monolith"].recent] == [9103, 9101]
    assert mine["gh:acme/ledger"].recent[0].started_at is None  # garbage time: unknown
    assert len(result.services) == 5 and len(result.blockers) == 1
    assert len(result.flaky_reports) == 2
    assert "6 unreadable entries skipped" in result.summary


async def test_a_garbage_time_or_number_costs_its_field_not_the_entry() -> None:
    central = Central(production_estate())
    doc = central.doc()
    doc["services"][0]["checked_at"] = "yesterday-ish"
    doc["services"][0]["latency_ms"] = float("inf")
    doc["services"][1]["since"] = 12
    doc["deployments"][0]["deployed_at"] = "0001-01-01T00:00:00Z"
    doc["deployments"][0]["started_at"] = ["not", "a", "time"]
    doc["blockers"][0]["opened_at"] = "soon"
    doc["services"][2]["unknown_key"] = "from a newer radiator"
    central.serve_doc(doc)
    result = await poll(central)
    assert len(result.services) == len(doc["services"])
    assert result.services[0].checked_at is None and result.services[0].latency_ms is None
    assert result.services[1].since is None
    assert len(result.deployments) == len(doc["deployments"])
    assert result.deployments[0].deployed_at is None and result.deployments[0].started_at is None
    assert result.deployments[0].service == doc["deployments"][0]["service"]
    assert len(result.blockers) == 1 and result.blockers[0].opened_at is None
    assert "skipped" not in result.summary


async def test_a_newer_schema_is_read_as_far_as_it_goes() -> None:
    central = Central(red_estate())
    doc = central.doc()
    doc["schema"] = document.SCHEMA_VERSION + 1
    doc["pipelines"][0]["owners"] = ["team-a"]
    doc["pipelines"][0]["recent"][0]["queue_seconds"] = 12
    doc["releases"] = [{"whatever": True}]
    central.serve_doc(doc)
    result = await poll(central)
    assert by_key(result)["gh:acme/monolith"].status is Status.FAILED
    assert f"schema {document.SCHEMA_VERSION + 1} is newer than this radiator's" in result.summary


async def test_a_document_without_builds_still_shows_the_last_result() -> None:
    central = Central(red_estate())
    doc = central.doc()
    for entry in doc["pipelines"]:
        del entry["recent"], entry["in_flight"]
    central.serve_doc(doc)
    monolith = by_key(await poll(central))["gh:acme/monolith"]
    assert monolith.status is Status.FAILED
    assert (monolith.last.author, monolith.last.commit) == ("Mallory", "c0ffee0123456789")  # type: ignore[union-attr]
    assert [b.status for b in monolith.in_flight] == [Status.RUNNING]


async def test_untrusted_text_stays_clean() -> None:
    central = Central(production_estate())
    doc = central.doc()
    entry = doc["pipelines"][0]
    entry["source"] = "gh" + ESC
    entry["key"] = "acme/monolith\x1b[2J"
    entry["name"] = "[bold]Mono[/bold]" + ESC
    entry["url"] = "javascript:alert(1)"
    build = entry["recent"][0]
    build["author"] = "Mallory" + ESC
    build["message"] = "Fix\x07 login\u202e flow\nsecond line"
    build["url"] = "https://ci.example/x\x1b]0;pwned\x07"
    entry["in_flight"][0]["stage"] = "unit\x1b[31m"
    doc["services"][1]["detail"] = "down\x1b[5m" + ESC
    doc["blockers"][0]["title"] = "Blocker\x9b31m!"
    doc["sources"][3]["name"] = "buildkite\x1b[1m"
    central.serve_doc(doc)
    result = await poll(central)
    ours = result.pipelines[0]
    assert ours.key == "gh" + "click:acme/monolith"
    assert ours.name == "[bold]Mono[/bold]click" and ours.url is None
    assert ours.recent[0].author == "Malloryclick"
    assert ours.recent[0].message == "Fix login flow second line"
    assert ours.recent[0].url is None
    assert ours.in_flight[0].stage == "unit"
    assert result.services[1].detail == "downclick"
    assert result.blockers[0].title == "Blocker!"
    everything = result.model_dump_json()
    assert "\\u001b" not in everything and "\\u009b" not in everything
    assert "\\u202e" not in everything and "\\u0007" not in everything
    assert "stale: buildkite, argocd" in result.summary


def test_snapshot_url() -> None:
    assert snapshot_url("http://c:8686") == "http://c:8686/snapshot.json"
    assert snapshot_url("http://c:8686/radiator/") == "http://c:8686/radiator/snapshot.json"
    assert snapshot_url("http://c/feeds/main.json") == "http://c/feeds/main.json"
    assert snapshot_url("http://c/r?token=x") == "http://c/r/snapshot.json?token=x"


# --- through the engine -------------------------------------------------------------------


async def test_engine_shows_the_remote_red_main_as_a_broken_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CENTRAL_TOKEN", TOKEN)
    central = Central(production_estate(), token=TOKEN)
    clock = FakeClock()
    engine = engine_reading(central, clock, extra='token_env = "CENTRAL_TOKEN"\n')
    try:
        snap = await engine.poll_all()
        state = snap.source_state("central")
        assert state is not None and state.error is None
        red = next(w for w in snap.broken if w.kind == "pipeline")
        assert (red.source, red.key, red.author, red.streak, red.since) == (
            "central/gh",
            "gh:acme/monolith",
            "Frank",
            3,
            ago(3600),
        )
        assert {w.name for w in snap.broken if w.kind == "service"} >= {"payments"}
        running = {b.pipeline: b for b in snap.in_flight}
        assert running["gh:acme/monolith"].stage == "integration"
        assert running["gh:acme/monolith"].estimated_seconds == 600
        assert any(d.service == "checkout" and d.behind_by == 3 for d in snap.deployments)
        assert snap.blockers[0].title == "Payments double-charge on retry"
        assert any(t.name == "testRedirect" for t in snap.flaky_tests)

        # The central radiator goes down: the source says so, its last data stays (stale).
        central.status = 502
        clock.advance(120)
        snap = await engine.poll_all()
        state = snap.source_state("central")
        assert state is not None and state.error_kind == "server" and state.stale
        assert TOKEN not in (state.error or "")
        assert any(w.key == "gh:acme/monolith" for w in snap.broken)
    finally:
        await engine.aclose()


async def test_a_central_radiator_whose_engine_stopped_is_not_read_as_current() -> None:
    """Its /snapshot.json keeps the last document with "engine": {"running": false}: what it
    says is no longer current, so the screens fed by it say so instead of showing it."""
    doc = json.loads(another_radiators(red_estate()))
    doc["overall"] = "unknown"
    doc["engine"] = {"running": False, "error": "OverflowError: date value out of range"}
    error = await poll_error(Central(body=json.dumps(doc).encode()))
    assert "engine stopped" in str(error) and "OverflowError" in str(error)
