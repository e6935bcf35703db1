"""The delivery measures on crafted histories: bands, rollbacks and hotfixes, gaps, a service
with no deploy source, an empty history, time zones for the busiest hours."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.history.delivery_report import delivery_facts
from buildradiator.model import Build, Status
from buildradiator.rules.congestion import GateChange, hold_time
from buildradiator.rules.delivery import (
    NO_DEPLOY_SOURCE,
    DeployRow,
    HealthChange,
    deploy_restores,
    four_keys,
    mark_failures,
    service_restores,
)
from buildradiator.rules.dora import (
    DAY,
    HOUR,
    Fact,
    band_failure_rate,
    band_frequency,
    band_lead_time,
    band_restore,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
T = NOW.timestamp()


def fact(facts: list[Fact], key: str, scope: str = "estate", days: int = 7) -> Fact:
    return next(f for f in facts if f.key == key and f.scope == scope and f.window_days == days)


def row(at: float, commit: str, landed: float | None = None, **extra: object) -> DeployRow:
    values: dict[str, object] = {
        "service": "shop",
        "environment": "production",
        "commit": commit,
        "state": "succeeded",
        "suspect": False,
        "at": at,
        "landed_at": landed,
    }
    values.update(extra)
    return DeployRow(**values)  # type: ignore[arg-type]


def test_bands_follow_the_dora_2023_thresholds() -> None:
    assert [band_frequency(x) for x in (3, 1, 0.5, 1 / 7, 0.1, 1 / 30, 0.01)] == [
        "elite", "elite", "high", "high", "medium", "medium", "low",
    ]  # fmt: skip
    assert [band_lead_time(x * HOUR) for x in (1, 23.9, 24, 167, 168, 719, 720)] == [
        "elite", "elite", "high", "high", "medium", "medium", "low",
    ]  # fmt: skip
    assert [band_failure_rate(x) for x in (0, 0.05, 0.06, 0.10, 0.15, 0.16)] == [
        "elite", "elite", "high", "high", "medium", "low",
    ]  # fmt: skip
    assert [band_restore(x * HOUR) for x in (0.5, 1, 23, 24, 24 * 7)] == [
        "elite", "high", "high", "medium", "low",
    ]  # fmt: skip


def test_a_rollback_a_hotfix_and_a_revert_each_mark_the_deploy_before_failed() -> None:
    rows = [
        row(T - 10 * HOUR, "a", T - 20 * HOUR),
        row(T - 9 * HOUR, "b", T - 15 * HOUR),
        row(T - 8 * HOUR, "a", T - 20 * HOUR),  # back to a: b was rolled back
        row(T - 7 * HOUR, "c", T - 7.5 * HOUR),
        row(T - 6 * HOUR, "d", T - 6.5 * HOUR, version="v2-hotfix"),  # c needed a hotfix
        row(T - 5 * HOUR, "e", T - 5.5 * HOUR, message='Revert "Speed up cart"'),  # d reverted
        row(T - 1 * HOUR, "f", T - 2 * HOUR),
        row(T + 2 * DAY, "g", T + DAY),  # too late to count as a follow-up
    ]
    assert mark_failures(rows[:-1]) == [False, True, False, True, True, False, False]
    assert mark_failures([rows[-2], rows[-1]]) == [False, False]


def test_four_keys_with_lead_time_from_the_first_main_build() -> None:
    rows = [
        row(T - 3 * DAY, "a", T - 3 * DAY - 2 * HOUR),
        row(T - 2 * DAY, "b", T - 2 * DAY - 4 * HOUR, state="failed"),
        row(T - 1 * DAY, "b", T - 2 * DAY - 4 * HOUR),
        row(T - 1 * DAY + HOUR, "x", None),  # never built on a watched main: no lead time
    ]
    facts = four_keys(rows, now=T, windows=(7,))
    frequency = fact(facts, "deploy_frequency")
    assert frequency.value == pytest.approx(3 / 7) and frequency.band == "high"
    lead = fact(facts, "lead_time")
    assert lead.samples == 2 and lead.value == pytest.approx((2 * HOUR + 28 * HOUR) / 2)
    failure = fact(facts, "change_failure_rate")
    assert failure.value == pytest.approx(1 / 4) and failure.band == "low"
    restore = fact(facts, "time_to_restore")
    assert restore.value == pytest.approx(DAY) and restore.band == "medium"
    # Per service and environment too, and nothing before the window: no trend.
    assert fact(facts, "deploy_frequency", "shop/production").samples == 3
    assert frequency.previous is None and frequency.trend is None


def test_a_gap_says_so_instead_of_a_zero_band() -> None:
    # Deploys a month ago, none this week: frequency is a measured zero, the rest unknown.
    rows = [row(T - 12 * DAY, "a", T - 13 * DAY), row(T - 10 * DAY, "b", T - 11 * DAY)]
    facts = four_keys(rows, now=T, windows=(7,))
    frequency = fact(facts, "deploy_frequency")
    assert frequency.value == 0.0 and frequency.band == "low"
    assert frequency.previous == pytest.approx(2 / 7) and frequency.trend == "worse"
    assert "no deploys to production in the last 7 d" in frequency.note
    lead = fact(facts, "lead_time")
    assert lead.value is None and lead.band is None and lead.note


def test_no_deploy_source_says_what_to_add() -> None:
    facts = four_keys([], now=T, windows=(7, 30))
    for key in ("deploy_frequency", "lead_time", "change_failure_rate", "time_to_restore"):
        f = fact(facts, key, days=30)
        assert f.value is None and f.band is None and f.note == NO_DEPLOY_SOURCE


def test_staging_is_not_production_and_gets_no_band() -> None:
    facts = four_keys([row(T - HOUR, "a", T - 2 * HOUR, environment="staging")], now=T)
    assert fact(facts, "deploy_frequency", "shop/staging").band is None
    assert fact(facts, "deploy_frequency").value == 0.0  # the estate counts production only


def test_restores_end_at_the_watch_or_the_next_good_deploy() -> None:
    rows = [
        row(T - 5 * HOUR, "a", suspect=True, resolved_at=T - 4 * HOUR),
        row(T - 3 * HOUR, "b", state="failed"),
        row(T - 1 * HOUR, "c"),
    ]
    assert deploy_restores(rows) == [(T - 4 * HOUR, HOUR), (T - HOUR, 2 * HOUR)]
    changes = [
        HealthChange("shop", "prod", "up", T - 10 * HOUR),
        HealthChange("shop", "prod", "down", T - 9 * HOUR),
        HealthChange("shop", "prod", "warn", T - 8.5 * HOUR),
        HealthChange("shop", "prod", "up", T - 8 * HOUR),
        HealthChange("cart", "prod", "down", T - HOUR),  # still down: no restore yet
    ]
    assert service_restores(changes) == {("shop", "prod"): [(T - 8 * HOUR, HOUR)]}


def test_hold_time_counts_only_inside_the_window_and_ranks_reasons() -> None:
    red = (("main_red", "main red"),)
    both = (("main_red", "main red"), ("service_down", "shop down"))
    changes = [
        GateChange(False, both, T - 3 * HOUR),
        GateChange(False, red, T - 2 * HOUR),
        GateChange(True, (), T - HOUR),
    ]
    initial = GateChange(False, red, T - 2 * DAY)  # on hold since before the window
    held, kinds = hold_time(changes, T - 5 * HOUR, T, initial)
    assert held == pytest.approx(4 * HOUR)
    assert kinds == {"main_red": pytest.approx(4 * HOUR), "service_down": pytest.approx(HOUR)}


def _history_with_queue() -> History:
    history = History.memory(clock=FakeClock(NOW))
    # Queued at 08:30 UTC, waited 100 s; a build on main so the queries see its pipeline.
    queued = NOW.replace(hour=8, minute=30) - timedelta(days=1)
    history.record_builds(
        [
            Build(
                source="gh",
                pipeline="acme/shop",
                id="1",
                status=Status.PASSED,
                created_at=queued,
                started_at=queued + timedelta(seconds=100),
                finished_at=queued + timedelta(minutes=10),
                commit="abc",
            )
        ]
    )
    db: sqlite3.Connection = history._db
    db.execute(
        "INSERT INTO queue_waits VALUES (1, '1', 1, ?, ?)",
        (queued.timestamp(), queued.timestamp() + 100),
    )
    return history


@pytest.mark.parametrize(
    ("zone", "hour"),
    [(None, "08:00-09:00"), ("Asia/Kolkata", "14:00-15:00"), ("America/New_York", "03:00-04:00")],
)
def test_busiest_hours_in_the_teams_time_zone(zone: str | None, hour: str) -> None:
    history = _history_with_queue()
    tz = ZoneInfo(zone) if zone else None
    facts = delivery_facts(history, now=NOW, windows=(7,), tz=tz)
    busiest = fact(facts, "busiest_hours")
    assert busiest.note.split(": ", 1)[1].startswith(hour)
    wait = fact(facts, "queue_wait")
    assert wait.value == pytest.approx(100, abs=10) and wait.samples == 1


def test_an_empty_history_answers_every_fact_in_words() -> None:
    facts = delivery_facts(History.memory(clock=FakeClock(NOW)), now=NOW, windows=(7, 30))
    assert {f.key for f in facts} >= {
        "deploy_frequency", "lead_time", "change_failure_rate", "time_to_restore",
        "restore_main", "restore_service", "queue_wait", "commits_per_build",
        "oldest_undeployed", "gate_hold", "retry_time", "stage_time",
    }  # fmt: skip
    for f in facts:
        assert f.value is None and f.note, f


def test_lead_time_falls_back_to_the_commit_time_and_a_service_without_deploys() -> None:
    from buildradiator.history.deliveries import record_commits

    history = _history_with_queue()
    record_commits(history, "gh", "acme/other", [("zzz", NOW - timedelta(hours=5))])
    history._db.execute(
        "INSERT INTO deploys (source, service, environment, deploy_key, commit_sha, state, at)"
        " VALUES ('gh', 'other', 'production', '1', 'zzz', 'succeeded', ?)",
        (T - HOUR,),
    )
    # A service whose health is watched but which no deploy source covers.
    history._db.execute(
        "INSERT INTO service_changes (service, environment, health, at) VALUES"
        " ('search', 'prod', 'down', ?), ('search', 'prod', 'up', ?)",
        (T - 3 * HOUR, T - 2 * HOUR),
    )
    facts = delivery_facts(history, now=NOW, windows=(7,))
    assert fact(facts, "lead_time", "other/production").value == pytest.approx(4 * HOUR)
    assert not [f for f in facts if f.scope.startswith("search/")]
    assert fact(facts, "restore_service").value == pytest.approx(HOUR)
    # The live commit was never built on a watched main: not knowable, said in words.
    undeployed = fact(facts, "oldest_undeployed", "other/production", 0)
    assert undeployed.value is None and "pipeline" in undeployed.note


def test_prod_and_production_are_one_target_however_the_tools_spell_it() -> None:
    rows = [
        row(T - 3 * HOUR, "a", T - 9 * HOUR, environment="production"),  # GitHub
        row(T - 2 * HOUR, "b", T - 8 * HOUR, environment="prod"),  # Argo CD
        row(T - 1 * HOUR, "a", T - 9 * HOUR, environment="prod"),  # back to a: b rolled back
    ]
    facts = four_keys(rows, now=T, windows=(7,))
    assert not [f for f in facts if f.scope == "shop/prod"]
    failure = fact(facts, "change_failure_rate", "shop/production")
    assert failure.samples == 3 and failure.value == pytest.approx(1 / 3)
    assert failure.band == "low"


def test_a_resync_of_the_live_commit_is_no_change_and_no_rollback() -> None:
    rows = [
        row(T - 3 * HOUR, "a", T - 9 * HOUR),
        row(T - 2 * HOUR, "a", T - 9 * HOUR),  # Argo CD synced the same revision again
        row(T - 1 * HOUR, "a", T - 9 * HOUR),
    ]
    assert mark_failures(rows) == [False, False, False]
    facts = four_keys(rows, now=T, windows=(7,))
    assert fact(facts, "deploy_frequency").samples == 1
    assert fact(facts, "change_failure_rate").value == 0.0


def test_every_commit_a_deploy_shipped_gets_its_lead_time() -> None:
    from buildradiator.rules.delivery import shipped_leads

    marks = {1: [T - 10 * HOUR, T - 8 * HOUR, T - 6 * HOUR, T - 4 * HOUR]}
    rows = [
        row(T - 9 * HOUR, "c1", T - 10 * HOUR, pipeline_id=1),
        row(T - 3 * HOUR, "c4", T - 4 * HOUR, pipeline_id=1),  # ships c2, c3 and c4
        row(T - 2 * HOUR, "c1", T - 10 * HOUR, pipeline_id=1),  # a rollback: nothing new
    ]
    assert shipped_leads(rows, marks) == [(HOUR,), (5 * HOUR, 3 * HOUR, HOUR), ()]
    assert shipped_leads(rows) == [(HOUR,), (HOUR,), ()]  # landings unknown: own commit only


def test_lead_time_end_to_end_counts_the_batch() -> None:
    history = History.memory(clock=FakeClock(NOW))
    builds = [
        Build(
            source="gh",
            pipeline="acme/shop",
            id=str(n),
            status=Status.PASSED,
            commit=f"c{n}",
            started_at=NOW - timedelta(hours=10 - 2 * n),
            finished_at=NOW - timedelta(hours=10 - 2 * n, minutes=-10),
        )
        for n in range(4)  # c0..c3 landed 10, 8, 6 and 4 hours ago
    ]
    history.record_builds(builds)
    for key, sha, hours in (("1", "c0", 9), ("2", "c3", 3)):
        history._db.execute(
            "INSERT INTO deploys (source, service, environment, deploy_key, commit_sha, state, at)"
            " VALUES ('gh', 'shop', 'production', ?, ?, 'succeeded', ?)",
            (key, sha, T - hours * HOUR),
        )
    lead = fact(delivery_facts(history, now=NOW, windows=(7,)), "lead_time")
    assert lead.samples == 4  # c0 by the first deploy; c1, c2 and c3 by the second
    assert lead.value == pytest.approx(2 * HOUR) and lead.p90 == pytest.approx(4.4 * HOUR)
