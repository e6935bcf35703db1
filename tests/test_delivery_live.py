"""The delivery measures live: computed from history by the engine's recorder in a worker thread
(at most every 5 minutes while history changes, at least every 15 minutes), carried by every
snapshot, and judged by ``[[targets]]`` that name them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from buildradiator.clock import FakeClock
from buildradiator.config.share import TargetConfig
from buildradiator.history import History
from buildradiator.history import facts as history_facts
from buildradiator.history.facts import HistoryFacts
from buildradiator.model import Build, DeliveryFact, Pipeline, Snapshot, Status
from buildradiator.rules.targets import change, default_name, evaluate_one, value_text
from buildradiator.simulator.backfill import backfill

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PIPELINES = [
    Pipeline(source="github", key="acme/shop:ci.yml", name="shop", branch="main"),
    Pipeline(source="jenkins", key="monolith", name="monolith", branch="main"),
]


@pytest.fixture
def store() -> History:
    history = History.memory(clock=FakeClock(NOW))
    backfill(history, PIPELINES, now=NOW, days=30)
    return history


def keys(store: History) -> list[tuple[str, str]]:
    return [(p.source, p.key) for p in PIPELINES]


def test_the_recorder_computes_the_delivery_facts_with_the_rest(store: History) -> None:
    recorder = HistoryFacts(store)
    assert recorder.current().delivery == ()
    assert recorder.refresh(keys(store))
    facts = recorder.current()
    assert facts.delivery_at == NOW
    by = {(f.key, f.scope, f.window_days): f for f in facts.delivery}
    frequency = by[("deploy_frequency", "estate", 7)]
    assert frequency.value and frequency.value > 1 and frequency.band == "elite"
    assert by[("lead_time", "shop/production", 30)].p90 is not None
    assert ("change_failure_rate", "estate", 30) in by and ("queue_wait", "estate", 7) in by
    # The report's order: the four keys first.
    assert facts.delivery[0].key == "deploy_frequency"


def test_it_is_recomputed_when_history_changes_at_most_once_a_minute(store: History) -> None:
    clock = store.clock
    assert isinstance(clock, FakeClock)
    recorder = HistoryFacts(store)
    recorder.refresh(keys(store))
    first = recorder.current().delivery_at

    def new_build(n: int) -> None:
        at = clock.now()
        build = Build(
            source="jenkins",
            pipeline="monolith",
            id=f"new-{n}",
            status=Status.PASSED,
            branch="main",
            started_at=at,
            finished_at=at,
        )
        store.record_builds([build])

    clock.advance(10)
    new_build(1)
    recorder.refresh(keys(store))
    assert recorder.current().delivery_at == first  # history changed, but 10 s ago
    clock.advance(history_facts.DELIVERY_GAP)
    recorder.refresh(keys(store))
    second = recorder.current().delivery_at
    assert second is not None and first is not None and second > first
    # Nothing changed: kept until the windows have slid far enough to matter.
    clock.advance(history_facts.DELIVERY_GAP * 2)
    assert not recorder.refresh(keys(store))
    assert recorder.current().delivery_at == second
    clock.advance(history_facts.DELIVERY_EVERY)
    assert recorder.refresh(keys(store))
    assert recorder.current().delivery_at == clock.now()


def test_a_failing_store_keeps_the_last_delivery_facts(
    store: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = HistoryFacts(store)
    recorder.refresh(keys(store))
    kept = recorder.current().delivery
    assert kept

    def broken(*_a: object, **_k: object) -> list[object]:
        raise RuntimeError("database disk image is malformed")

    monkeypatch.setattr(history_facts, "delivery_facts", broken)
    store.clock.advance(history_facts.DELIVERY_EVERY)  # type: ignore[attr-defined]
    recorder.refresh(keys(store))  # logs, never raises
    assert recorder.current().delivery == kept


# --- targets naming a delivery measure ------------------------------------------------------


def target(measure: str, goal: str, **kwargs: object) -> TargetConfig:
    return TargetConfig.model_validate({"measure": measure, "goal": goal, **kwargs})


def snapshot(*facts: DeliveryFact) -> Snapshot:
    return Snapshot(taken_at=NOW, delivery=facts)


def fact(
    key: str, scope: str, days: int, value: float | None, unit: str, **kw: object
) -> DeliveryFact:
    return DeliveryFact(key=key, scope=scope, window_days=days, value=value, unit=unit, **kw)  # type: ignore[arg-type]


SNAP = snapshot(
    fact("deploy_frequency", "estate", 7, 4.9, "per_day", previous=5.0),
    fact("deploy_frequency", "estate", 30, 4.4, "per_day"),
    fact("deploy_frequency", "shop/production", 7, 0.1, "per_day"),
    fact("deploy_frequency", "shop/staging", 7, 7.0, "per_day"),
    fact("lead_time", "estate", 7, 20 * 3600, "seconds", p90=34 * 3600, previous=22 * 3600),
    fact("change_failure_rate", "estate", 30, 0.15, "share"),
    fact("time_to_restore", "estate", 7, None, "seconds", note="no failed deploy resolved"),
    fact("commits_per_build", "github:acme/shop:ci.yml", 7, 2.3, "commits"),
    fact("oldest_undeployed", "estate", 0, 3600.0, "seconds"),
)


def test_each_delivery_measure_reads_its_fact_window_and_scope() -> None:
    t = evaluate_one(target("deploy_frequency", ">= 1/day"), SNAP)
    assert (t.value, t.previous, t.met, t.scope, t.window_days) == (4.9, 5.0, True, "estate", 7)
    month = evaluate_one(target("deploy_frequency", ">= 5/day", window_days=30), SNAP)
    assert (month.value, month.met, month.window_days) == (4.4, False, 30)
    shop = evaluate_one(target("deploy_frequency", ">= 1/week", service="shop"), SNAP)
    assert shop.scope == "shop/production" and shop.value == 0.1 and shop.met is False
    staging = evaluate_one(target("deploy_frequency", ">= 1/day", service="shop/staging"), SNAP)
    assert staging.value == 7.0 and staging.met is True
    p90 = evaluate_one(target("lead_time_p90", "<= 1d"), SNAP)
    assert p90.value == 34 * 3600 and p90.met is False
    lead = evaluate_one(target("lead_time", "<= 1d"), SNAP)
    assert lead.met is True and change(lead) == ("▼ 2h 00m", 1)
    failure = evaluate_one(target("change_failure_rate", "<= 10%", window_days=14), SNAP)
    assert failure.window_days == 30 and failure.met is False
    assert value_text("change_failure_rate", failure.value) == "15%"
    per = evaluate_one(target("commits_per_build", "<= 3", pipeline="*shop*"), SNAP)
    assert per.value == 2.3 and per.met is True
    oldest = evaluate_one(target("oldest_undeployed", "<= 2h"), SNAP)
    assert oldest.met is True and oldest.window_days == 0
    assert default_name(target("oldest_undeployed", "<= 2h"), "estate").endswith("for estate")


def test_unknown_is_never_met() -> None:
    restore = evaluate_one(target("time_to_restore", "<= 1h"), SNAP)
    assert restore.value is None and restore.met is None
    nothing_yet = evaluate_one(target("lead_time", "<= 1d", service="shop"), Snapshot(taken_at=NOW))
    assert nothing_yet.met is None and nothing_yet.scope == "shop"
    wrong = evaluate_one(target("lead_time", "<= 1d", service="nosuch"), SNAP)
    assert wrong.met is None and "no delivery measure for 'nosuch'" in wrong.scope


@pytest.mark.parametrize(
    ("measure", "goal"),
    [
        ("deploy_frequency", "<= 5m"),
        ("deploy_frequency", ">= 50%"),
        ("lead_time", ">= 1/day"),
        ("change_failure_rate", "<= 0.1"),
        ("commits_per_build", "<= 3h"),
    ],
)
def test_a_goal_in_the_wrong_unit_is_refused_in_words(measure: str, goal: str) -> None:
    with pytest.raises(ValidationError, match=measure):
        target(measure, goal)


def test_a_weekly_rate_is_read_per_day() -> None:
    assert target("deploy_frequency", ">= 2/week").threshold == pytest.approx(2 / 7)
    assert target("deploy_frequency", ">= 2").threshold == 2.0


async def test_through_the_engine_every_snapshot_carries_them_and_targets_judge_them() -> None:
    from buildradiator.assemble import build_engine
    from buildradiator.simulator.demo_config import demo_config_text
    from buildradiator.simulator.server import Simulator
    from buildradiator.sources.catalog import parse_config

    clock = FakeClock()
    history = History.memory(clock=clock)
    with Simulator(clock=clock) as sim:
        text = demo_config_text(sim.base_url)
        text += '\n[[targets]]\nmeasure = "lead_time"\nservice = "monolith"\ngoal = "<= 1d"\n'
        config = parse_config(text)
        engine = build_engine(config, clock=clock, history=history)
        try:
            first = await engine.poll_all()
            backfill(
                history, first.pipelines, now=clock.now(), days=30, deployments=first.deployments
            )
            clock.advance(history_facts.DELIVERY_GAP + 1)
            snap = await engine.poll_all()
        finally:
            await engine.aclose()
    assert snap.delivery and snap.delivery_at is not None
    assert any(f.key == "lead_time" and f.scope == "monolith/production" for f in snap.delivery)
    lead = next(t for t in snap.targets if t.measure == "lead_time")
    assert lead.scope == "monolith/production" and lead.value is not None and lead.met is not None


def test_metrics_expose_every_known_delivery_measure_once(store: History) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from buildradiator.export.metrics import metrics_text

    recorder = HistoryFacts(store)
    recorder.refresh(keys(store))
    facts = recorder.current()
    snap = Snapshot(taken_at=NOW, delivery=facts.delivery, delivery_at=facts.delivery_at)
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(metrics_text(snap, NOW).decode()):
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in samples, f"duplicate series {key}"  # Prometheus would reject it
            samples[key] = s.value
    lead = samples[
        ("buildradiator_delivery_lead_time_seconds", (("scope", "estate"), ("window_days", "7")))
    ]
    known = next(f for f in facts.delivery if f.key == "lead_time" and f.scope == "estate")
    assert lead == known.value and known.window_days == 7
    rate = ("scope", "estate"), ("window_days", "30")
    assert ("buildradiator_delivery_change_failure_rate_ratio", rate) in samples
    bands = {
        labels: v for (name, labels), v in samples.items() if name == "buildradiator_delivery_band"
    }
    frequency = [
        dict(labels)["band"]
        for labels, v in bands.items()
        if v == 1
        and dict(labels)["measure"] == "deploy_frequency"
        and dict(labels)["scope"] == "estate"
        and dict(labels)["window_days"] == "7"
    ]
    assert frequency == ["elite"]
    assert samples[("buildradiator_delivery_computed_timestamp_seconds", ())] == NOW.timestamp()
    # An unknown value is left out, never exported as 0.
    unknown = [f for f in facts.delivery if f.value is None and f.key == "time_to_restore"]
    for f in unknown:
        labels = (("scope", f.scope), ("window_days", str(f.window_days)))
        assert ("buildradiator_delivery_time_to_restore_seconds", labels) not in samples


def test_the_json_document_and_the_cache_carry_them(store: History) -> None:
    import json

    from buildradiator.document import cache_bytes, from_cache_bytes, to_json

    recorder = HistoryFacts(store)
    recorder.refresh(keys(store))
    facts = recorder.current()
    snap = Snapshot(taken_at=NOW, delivery=facts.delivery, delivery_at=facts.delivery_at)
    doc = json.loads(to_json(snap, overall="green"))
    assert doc["delivery"]["computed_at"] == NOW.isoformat()
    first = doc["delivery"]["facts"][0]
    assert first["key"] == "deploy_frequency" and first["scope"] == "estate"
    assert set(first) >= {"window_days", "value", "unit", "p90", "previous", "trend", "band"}
    assert len(doc["delivery"]["facts"]) == len(facts.delivery)
    # The cache keeps them: a restart shows the last measures until history computes anew.
    again = from_cache_bytes(cache_bytes(snap))
    assert again.delivery == snap.delivery and again.delivery_at == snap.delivery_at


async def test_a_slow_computation_never_blocks_the_event_loop(
    store: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen never waits: history computes the measures in a worker thread while the loop
    (the app's ticks, its keys) goes on."""
    import asyncio
    import threading

    from buildradiator.assemble import build_engine
    from buildradiator.sources.catalog import parse_config

    real = history_facts.delivery_facts
    # The computation waits for the loop to tick five times. On the loop's own thread it would
    # wait in vain: the loop cannot tick while it waits.
    ticked = threading.Event()
    waited: list[bool] = []

    def slow(*args: object, **kwargs: object) -> object:
        waited.append(ticked.wait(timeout=5.0))  # a year of history on a slow disk
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(history_facts, "delivery_facts", slow)
    config = parse_config('[[sources]]\ntype = "health"\nname = "h"\nurl = "http://127.0.0.1:9/"\n')
    engine = build_engine(config, clock=store.clock, history=store)  # type: ignore[arg-type]

    async def ticker() -> None:
        for _ in range(5):
            await asyncio.sleep(0.01)
        ticked.set()

    task = asyncio.create_task(ticker())
    try:
        snap = await engine.poll_all()
    finally:
        task.cancel()
        await engine.aclose()
    assert snap.delivery  # computed during the poll...
    assert waited == [True]  # ...while the loop kept ticking


def test_a_window_longer_than_the_watching_is_a_lower_bound_and_not_banded() -> None:
    """A radiator started a minute ago that saw one deploy has not seen a team deploying
    0.14 times a day: it says "at least" and gives no band until it has watched the window."""
    from buildradiator.rules.delivery import DeployRow, four_keys
    from buildradiator.rules.dora import DAY

    now = NOW.timestamp()
    deploy = DeployRow(
        service="shop", environment="production", commit="abc", state="succeeded",
        suspect=False, at=now - 30,
    )  # fmt: skip

    def frequency(watched_for: float, days: int) -> DeliveryFact:
        facts = four_keys([deploy], now=now, windows=(7, 30), watched_since=now - watched_for)
        return next(
            f
            for f in facts
            if f.key == "deploy_frequency" and f.scope == "estate" and f.window_days == days
        )

    fresh = frequency(60, 7)
    assert fresh.value == pytest.approx(1 / 7)  # still what was seen, per day of the window
    assert fresh.band is None and fresh.trend is None
    assert fresh.note.startswith("at least") and "less than an hour" in fresh.note
    week = frequency(8 * DAY, 7)
    assert week.band == "high" and week.note == "" and week.value == pytest.approx(1 / 7)
    # Eight days of thirty: the rate over the eight days watched, banded, and said so.
    month = frequency(8 * DAY, 30)
    assert month.value == pytest.approx(1 / 8) and month.band == "medium"
    assert month.note == "over the 8.0 d watched of the 30" and month.trend is None


def test_refreshes_after_two_polls_at_once_compute_the_measures_once(
    store: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    real = history_facts.delivery_facts
    calls: list[float] = []

    def slow(*args: object, **kwargs: object) -> object:
        calls.append(time.perf_counter())
        time.sleep(0.2)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(history_facts, "delivery_facts", slow)
    recorder = HistoryFacts(store)
    threads = [threading.Thread(target=recorder.refresh, args=(keys(store),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and recorder.current().delivery


def test_a_service_names_its_production_however_the_tool_spells_it() -> None:
    """Argo CD says ``prod``, GitHub ``production``: ``service = "checkout"`` means either."""
    snap = snapshot(
        fact("lead_time", "checkout/prod", 7, 3600.0, "seconds"),
        fact("lead_time", "checkout/staging", 7, 60.0, "seconds"),
    )
    t = evaluate_one(target("lead_time", "<= 2h", service="checkout"), snap)
    assert (t.scope, t.value, t.met) == ("checkout/prod", 3600.0, True)
