"""Recording deploys, service health, gate changes and queue waits from snapshots; the schema
migration from version 1."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.history.deliveries import record_commits, record_snapshot
from buildradiator.history.schema import MIGRATIONS, SCHEMA_VERSION
from buildradiator.model import (
    Build,
    Deployment,
    DeployState,
    GateReason,
    Health,
    Pipeline,
    ReleaseGate,
    ServiceCheck,
    Snapshot,
    Status,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def snap(minutes: float = 0, **parts: object) -> Snapshot:
    return Snapshot(taken_at=NOW + timedelta(minutes=minutes), **parts)  # type: ignore[arg-type]


def deploy(state: DeployState = DeployState.SUCCEEDED, **extra: object) -> Deployment:
    values: dict[str, object] = {
        "source": "gh",
        "service": "shop",
        "environment": "production",
        "id": "d1",
        "state": state,
        "revision": "abc",
        "started_at": NOW - timedelta(minutes=5),
        "finished_at": NOW,
    }
    values.update(extra)
    return Deployment(**values)  # type: ignore[arg-type]


def rows(history: History, sql: str) -> list[tuple[object, ...]]:
    return list(history._db.execute(sql))


def test_a_deploy_is_written_once_and_updated_when_it_changes() -> None:
    history = History.memory()
    running = deploy(DeployState.RUNNING, finished_at=None, target_revision="def", revision="abc")
    assert record_snapshot(history, snap(deployments=(running,))) == 1
    assert record_snapshot(history, snap(1, deployments=(running,))) == 0
    done = deploy(revision="def")
    assert record_snapshot(history, snap(2, deployments=(done,))) == 1
    assert rows(history, "SELECT deploy_key, commit_sha, state FROM deploys") == [
        ("d1", "def", "succeeded")
    ]


def test_a_suspect_deploy_stays_suspect_and_gets_resolved() -> None:
    history = History.memory()
    record_snapshot(history, snap(deployments=(deploy(suspect="5xx share 0.2"),)))
    record_snapshot(history, snap(30, deployments=(deploy(),)))
    assert rows(history, "SELECT suspect, resolved_at FROM deploys") == [
        ("5xx share 0.2", (NOW + timedelta(minutes=30)).timestamp())
    ]


def test_service_health_changes_only_and_stale_sources_say_nothing() -> None:
    history = History.memory()

    def check(health: Health, source: str = "health") -> ServiceCheck:
        return ServiceCheck(source=source, name="shop", environment="prod", health=health)

    assert record_snapshot(history, snap(services=(check(Health.UP),))) == 1
    assert record_snapshot(history, snap(1, services=(check(Health.UP),))) == 0
    # A second check that is down makes the service down.
    both = (check(Health.UP), check(Health.DOWN, "alerts"))
    assert record_snapshot(history, snap(2, services=both)) == 1
    stale = snap(3, services=(check(Health.UP, "alerts"),), stale_sources=frozenset({"alerts"}))
    assert record_snapshot(history, stale) == 0
    assert record_snapshot(history, snap(4, services=(check(Health.UP),))) == 1
    assert [r[0] for r in rows(history, "SELECT health FROM service_changes ORDER BY at")] == [
        "up",
        "down",
        "up",
    ]


def test_gate_holds_are_recorded_when_the_kinds_change(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    history = History.open(path, clock=FakeClock(NOW))
    red = GateReason(kind="main_red", text="main red: shop (since 11:00)")
    assert record_snapshot(history, snap(gate=ReleaseGate(go=True))) == 1
    assert record_snapshot(history, snap(1, gate=ReleaseGate(go=False, reasons=(red,)))) == 1
    later = GateReason(kind="main_red", text="main red: shop (since 11:00, 3 builds)")
    assert record_snapshot(history, snap(2, gate=ReleaseGate(go=False, reasons=(later,)))) == 0
    history.close()
    # A restart remembers the state in force: no duplicate change.
    again = History.open(path, clock=FakeClock(NOW))
    assert record_snapshot(again, snap(3, gate=ReleaseGate(go=False, reasons=(later,)))) == 0
    assert record_snapshot(again, snap(4, gate=ReleaseGate(go=True))) == 1
    assert [r[0] for r in rows(again, "SELECT go FROM gate_changes ORDER BY at")] == [1, 0, 1]


def test_queue_waits_of_main_builds_are_recorded_once() -> None:
    history = History.memory()

    def build(id: str, branch: str, waited: float) -> Build:
        return Build(
            source="gh",
            pipeline="acme/shop",
            id=id,
            branch=branch,
            status=Status.PASSED,
            created_at=NOW,
            started_at=NOW + timedelta(seconds=waited),
            finished_at=NOW + timedelta(minutes=10),
        )

    pipeline = Pipeline(
        source="gh",
        key="acme/shop",
        name="shop",
        branch="main",
        recent=(build("1", "main", 30), build("2", "feature", 5)),
    )
    assert record_snapshot(history, snap(pipelines=(pipeline,))) == 1
    assert record_snapshot(history, snap(1, pipelines=(pipeline,), title="x")) == 0
    assert rows(history, "SELECT build_id, started_at - queued_at FROM queue_waits") == [
        ("1", 30.0)
    ]


def test_commits_are_recorded_once() -> None:
    history = History.memory()
    commits = [("a1", NOW), ("b2", NOW + timedelta(minutes=1))]
    assert record_commits(history, "gh", "acme/shop", commits) == 2
    assert record_commits(history, "gh", "acme/shop", commits) == 0


def test_a_version_1_file_is_migrated_with_its_builds(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0][1])
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.execute("INSERT INTO pipelines (id, source, key) VALUES (1, 'gh', 'acme/shop')")
    db.execute(
        "INSERT INTO builds (pipeline_id, build_id, attempt, commit_sha, status, finished_at)"
        " VALUES (1, '7', 1, 'abc', 'passed', ?)",
        (NOW.timestamp(),),
    )
    db.commit()
    db.close()
    history = History.open(path, clock=FakeClock(NOW))
    assert not history.notices  # migrated, not set aside
    assert history.recent_strip("gh", "acme/shop") == [Status.PASSED]
    version = rows(history, "SELECT value FROM meta WHERE key = 'schema_version'")
    assert version == [(str(SCHEMA_VERSION),)] and SCHEMA_VERSION == 3
    assert record_snapshot(history, snap(deployments=(deploy(),))) == 1


def test_a_queue_row_seen_late_still_counts_in_its_days_rollup() -> None:
    from buildradiator.history.queue_rollups import queue_days

    history = History.memory(clock=FakeClock(NOW))
    today = int(NOW.timestamp() // 86400)

    def pipeline(key: str, waited: float) -> Pipeline:
        queued = NOW - timedelta(days=1)
        build = Build(
            source="gh",
            pipeline=key,
            id="1",
            status=Status.PASSED,
            created_at=queued,
            started_at=queued + timedelta(seconds=waited),
            finished_at=queued + timedelta(minutes=9),
        )
        return Pipeline(source="gh", key=key, name=key, recent=(build,))

    record_snapshot(history, snap(pipelines=(pipeline("a", 20),)))
    waits, hours = queue_days(history, today - 1, today, today=today)
    assert sum(w.builds for w in waits) == 1  # yesterday is rolled up now
    # After a restart, a build queued yesterday shows up for the first time.
    record_snapshot(history, snap(1, pipelines=(pipeline("a", 20), pipeline("b", 300))))
    waits, hours = queue_days(history, today - 1, today, today=today)
    assert sorted((w.wait, w.builds) for w in waits) == [(20.0, 1), (300.0, 1)]
    assert [(h.hour, h.builds, h.queued) for h in hours] == [(12, 2, 2)]


def test_prune_drops_old_deliveries_but_keeps_the_state_in_force() -> None:
    from buildradiator.history.deliveries import prune_deliveries

    history = History.memory(retention_days=30, clock=FakeClock(NOW))
    old = NOW - timedelta(days=40)
    record_snapshot(history, Snapshot(taken_at=old, deployments=(deploy(finished_at=old),)))
    check = ServiceCheck(source="h", name="shop", health=Health.UP)
    record_snapshot(history, Snapshot(taken_at=old, services=(check,)))
    record_snapshot(history, snap(deployments=(deploy(id="d2"),)))
    assert prune_deliveries(history) == 1
    assert prune_deliveries(history) == 0  # throttled: at most once an hour
    assert rows(history, "SELECT deploy_key FROM deploys") == [("d2",)]
    assert rows(history, "SELECT health FROM service_changes") == [("up",)]


def test_a_health_check_in_prod_and_an_alert_in_production_are_one_service() -> None:
    history = History.memory()
    up = ServiceCheck(source="health", name="shop", environment="prod", health=Health.UP)
    alert = ServiceCheck(
        source="alerts", name="HighErrors", service="shop", environment="production",
        health=Health.DOWN, kind="alert",
    )  # fmt: skip
    assert record_snapshot(history, snap(services=(up, alert))) == 1
    assert rows(history, "SELECT service, environment, health FROM service_changes") == [
        ("shop", "prod", "down")
    ]


def test_a_queued_deploy_without_times_is_written_once() -> None:
    history = History.memory()
    queued = deploy(DeployState.QUEUED, started_at=None, finished_at=None, target_revision="d")
    assert record_snapshot(history, snap(deployments=(queued,))) == 1
    assert record_snapshot(history, snap(1, deployments=(queued,))) == 0
    assert rows(history, "SELECT at FROM deploys") == [(NOW.timestamp(),)]


def test_a_file_found_corrupt_mid_run_answers_from_a_fresh_store(tmp_path: Path) -> None:
    from buildradiator.history.delivery_report import delivery_facts

    path = tmp_path / "history.sqlite"
    clock = FakeClock(NOW)
    with History.open(path, clock=clock) as history:
        history.record_builds(
            Build(
                source="gh",
                pipeline="acme/shop",
                id=str(i),
                status=Status.PASSED,
                commit=f"c{i}",
                message="x" * 500,
                finished_at=NOW - timedelta(minutes=i),
            )
            for i in range(3000)
        )
    with History.open(path, clock=clock) as history:
        with path.open("r+b") as f:  # another program scribbles over the pages while we run
            f.seek(4096 * 2)
            f.write(b"\xa5" * 4096 * 20)
        facts = delivery_facts(history, now=NOW, windows=(7,))
        assert facts and all(f.value is None for f in facts if f.key == "deploy_frequency")
        assert history.notices  # said in words, not raised


def test_the_recorder_records_published_snapshots_off_the_callers_thread() -> None:
    import threading

    from buildradiator.history.delivery_recorder import DeliveryRecorder

    history = History.memory()
    recorder = DeliveryRecorder(history)
    callers = set()
    original = history._transaction

    def spy():  # type: ignore[no-untyped-def]
        callers.add(threading.get_ident())
        return original()

    history._transaction = spy  # type: ignore[method-assign]
    recorder(snap(deployments=(deploy(id="d1"),)))
    recorder(snap(1, deployments=(deploy(id="d2"),)))
    assert recorder.flush()
    assert [r[0] for r in rows(history, "SELECT deploy_key FROM deploys ORDER BY id")] == [
        "d1",
        "d2",
    ]
    assert callers and threading.get_ident() not in callers
    recorder.close()
    recorder(snap(2, deployments=(deploy(id="d3"),)))  # closed: ignored, never raises
    assert len(rows(history, "SELECT 1 FROM deploys")) == 2
