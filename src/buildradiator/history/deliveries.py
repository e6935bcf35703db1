"""Recording what a snapshot says about delivery: deploys, service health changes, release gate
changes and the queue wait of main builds. The measures are read back by
``history.delivery_queries`` and computed by ``rules.delivery``.

Public surface::

    record_snapshot(store, snapshot)   # -> rows written; idempotent, no SQL when nothing changed
    record_commits(store, source, pipeline, [(sha, committed_at), ...])  # -> rows new
    prune_deliveries(store)            # retention, throttled, as ``History.prune`` for builds

Why it works the way it does:

- **Changes, not samples.** The engine publishes a snapshot on every change; a service that stays
  up, a gate that stays GO and a deploy that stays live write nothing. The last state written is
  kept in memory per store (and read back from the file after a restart, so a restart writes no
  duplicate change); a snapshot whose delivery parts match the last one costs one tuple compare.
- **Stale data is no change.** Checks of a source whose data is stale are left out: a source that
  cannot be read says nothing about the service.
- **A suspect deploy stays suspect.** The post-deploy watch clears ``suspect`` once the service
  recovers; the row keeps why it was suspect and gets ``resolved_at`` (time to restore).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from buildradiator.history.queue_rollups import forget_days
from buildradiator.history.store import PRUNE_EVERY, Store, guarded
from buildradiator.model import DeployState, Health, Pipeline, Snapshot
from buildradiator.rules.production import env_key

_WORST = {Health.DOWN: 3, Health.WARN: 2, Health.UP: 1}

_UPSERT_DEPLOY = """
INSERT INTO deploys (source, service, environment, deploy_key, commit_sha, version, state,
                     suspect, started_at, finished_at, at, pipeline)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source, service, environment, deploy_key) DO UPDATE SET
    commit_sha = excluded.commit_sha, version = excluded.version, state = excluded.state,
    suspect = coalesce(excluded.suspect, deploys.suspect),
    resolved_at = CASE WHEN deploys.suspect IS NOT NULL AND excluded.suspect IS NULL
                       THEN coalesce(deploys.resolved_at, ?) ELSE deploys.resolved_at END,
    started_at = excluded.started_at, finished_at = excluded.finished_at, at = excluded.at,
    pipeline = excluded.pipeline
WHERE (deploys.commit_sha, deploys.version, deploys.state, deploys.started_at,
       deploys.finished_at, deploys.at, deploys.pipeline)
      IS NOT
      (excluded.commit_sha, excluded.version, excluded.state, excluded.started_at,
       excluded.finished_at, excluded.at, excluded.pipeline)
   OR (excluded.suspect IS NOT NULL AND deploys.suspect IS NULL)
   OR (excluded.suspect IS NULL AND deploys.suspect IS NOT NULL AND deploys.resolved_at IS NULL)
"""

DeployValues = tuple[
    str, str, str, str, str | None, str | None, str, str | None, float | None, float | None,
    float, str | None,
]  # fmt: skip


@dataclass
class _Last:
    """What was last written for one open file of one store."""

    db: int
    fingerprint: object = None
    deploys: dict[tuple[str, str, str, str], DeployValues] = field(default_factory=dict)
    health: dict[tuple[str, str], str] = field(default_factory=dict)
    gate: tuple[bool, tuple[str, ...]] | None = None
    recent: dict[tuple[str, str], tuple[object, ...]] = field(default_factory=dict)
    pruned_at: float | None = None
    """Per pipeline: the newest build and count of ``recent`` whose queue waits were written."""


_LAST: weakref.WeakKeyDictionary[Store, _Last] = weakref.WeakKeyDictionary()


def _ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def deploy_values(snapshot: Snapshot) -> list[DeployValues]:
    """One row per deployment the snapshot shows (its latest deploy)."""
    now = snapshot.taken_at.timestamp()
    rows: list[DeployValues] = []
    for d in snapshot.deployments:
        commit = d.target_revision or d.revision
        started = _ts(d.started_at)
        finished = _ts(d.finished_at)
        if finished is None and d.target_revision is None and d.state is DeployState.SUCCEEDED:
            finished = _ts(d.deployed_at)
        if started is None and finished is None and commit is None and d.id is None:
            continue  # nothing that tells one deploy from the next
        key = d.id or f"{commit or '?'}@{started if started is not None else finished}"
        at = finished if finished is not None else started if started is not None else now
        rows.append(
            (
                d.source,
                d.service,
                d.environment or "",
                key,
                commit,
                d.version,
                d.state.value,
                d.suspect,
                started,
                finished,
                at,
                d.pipeline,
            )
        )
    return rows


def service_health(snapshot: Snapshot) -> dict[tuple[str, str], tuple[str, float]]:
    """Per (service, environment): the worst health of its fresh, unmuted checks, and since when
    (the check's own ``since`` when it gives one)."""
    now = snapshot.taken_at.timestamp()
    out: dict[tuple[str, str], tuple[Health, float]] = {}
    for check in snapshot.services:
        if check.muted or check.source in snapshot.stale_sources or check.health not in _WORST:
            continue
        key = (check.service_name, env_key(check.environment))  # prod and production: one
        at = _ts(check.since) or _ts(check.checked_at) or now
        known = out.get(key)
        if known is None or _WORST[check.health] > _WORST[known[0]]:
            out[key] = (check.health, min(at, now))
    return {key: (health.value, at) for key, (health, at) in out.items()}


def _recent_key(p: Pipeline) -> tuple[object, ...]:
    newest = p.recent[0] if p.recent else None
    return (len(p.recent), newest.id if newest else None, newest.attempt if newest else None)


def _queue_values(
    snapshot: Snapshot, last: _Last
) -> tuple[
    dict[tuple[str, str, str, int], tuple[float, float]], dict[tuple[str, str], tuple[object, ...]]
]:
    """Queue waits of the main builds of pipelines whose recent builds changed (a finished
    build shows up first): a snapshot of 2,000 unchanged pipelines costs a key compare each."""
    out: dict[tuple[str, str, str, int], tuple[float, float]] = {}
    seen: dict[tuple[str, str], tuple[object, ...]] = {}
    for p in snapshot.pipelines:
        key = _recent_key(p)
        seen[(p.source, p.key)] = key
        if last.recent.get((p.source, p.key)) == key:
            continue
        for b in p.recent:
            if b.created_at is None or b.started_at is None or b.started_at < b.created_at:
                continue
            if b.branch is not None and p.branch is not None and b.branch != p.branch:
                continue
            out[(p.source, p.key, b.id, b.attempt)] = (
                b.created_at.timestamp(),
                b.started_at.timestamp(),
            )
    return out, seen


def _last(store: Store) -> _Last:
    last = _LAST.get(store)
    if last is not None and last.db == id(store._db):
        return last
    last = _Last(db=id(store._db))
    db = store._db
    # SQLite returns the bare columns of the row holding max(at).
    for service, environment, health, _ in db.execute(
        "SELECT service, environment, health, max(at) FROM service_changes"
        " GROUP BY service, environment"
    ):
        last.health[(service, environment)] = health
    row = db.execute("SELECT go, reasons FROM gate_changes ORDER BY at DESC, id DESC LIMIT 1")
    found = row.fetchone()
    if found is not None:
        last.gate = (bool(found[0]), _kinds(found[1]))
    _LAST[store] = last
    return last


def _kinds(reasons_json: str) -> tuple[str, ...]:
    try:
        reasons = json.loads(reasons_json)
        return tuple(sorted({str(r[0]) for r in reasons}))
    except (ValueError, TypeError, IndexError, KeyError):
        return ()


def _first_seen(row: DeployValues, last: _Last) -> DeployValues:
    """A deploy with neither start nor end time is dated when first seen, not every snapshot."""
    if row[8] is not None or row[9] is not None:
        return row
    known = last.deploys.get((row[0], row[1], row[2], row[3]))
    return row if known is None else (*row[:10], known[10], row[11])


@guarded
def record_snapshot(store: Store, snapshot: Snapshot) -> int:
    """Write what changed in deploys, service health, the gate and main's queue since the last
    snapshot recorded in this store. Returns the rows written (0 when nothing changed)."""
    deploys = deploy_values(snapshot)
    health = service_health(snapshot)
    gate = snapshot.gate
    gate_state = (
        None
        if gate is None
        else (
            gate.go,
            tuple(sorted({r.kind for r in gate.reasons})),
            tuple(r.text for r in gate.reasons),
        )
    )
    last = _last(store)
    deploys = [_first_seen(row, last) for row in deploys]
    queue, recent = _queue_values(snapshot, last)
    fingerprint = (deploys, sorted((k, v[0]) for k, v in health.items()), gate_state)
    if fingerprint == last.fingerprint and not queue:
        last.recent = recent
        return 0
    now = snapshot.taken_at.timestamp()
    new_deploys = [
        row for row in deploys if last.deploys.get((row[0], row[1], row[2], row[3])) != row
    ]
    changes = [
        (service, env, state, at)
        for (service, env), (state, at) in sorted(health.items())
        if last.health.get((service, env)) != state
    ]
    gate_row = None
    if gate is not None:
        kinds = tuple(sorted({r.kind for r in gate.reasons}))
        if last.gate != (gate.go, kinds):
            gate_row = (
                int(gate.go),
                json.dumps([[r.kind, r.text] for r in gate.reasons]),
                now,
            )
    new_queue = list(queue.items())
    written = 0
    if new_deploys or changes or gate_row or new_queue:
        with store._transaction() as db:
            queue_rows = [
                (store._pid(db, (source, key)), build, attempt, queued, started)
                for (source, key, build, attempt), (queued, started) in new_queue
            ]
            before = db.total_changes
            for row in new_deploys:
                db.execute(_UPSERT_DEPLOY, (*row, now))
                if row[6] in ("succeeded", "failed") and row[4] is not None:
                    # A tool that names a deploy only once it ended (Argo CD's sync) left a
                    # row for it while it ran: that row is this deploy.
                    db.execute(
                        "DELETE FROM deploys WHERE source = ? AND service = ? AND environment = ?"
                        " AND commit_sha = ? AND state IN ('running', 'queued')"
                        " AND deploy_key != ?",
                        (row[0], row[1], row[2], row[4], row[3]),
                    )
            db.executemany(
                "INSERT INTO service_changes (service, environment, health, at)"
                " VALUES (?, ?, ?, ?)",
                changes,
            )
            if gate_row is not None:
                db.execute("INSERT INTO gate_changes (go, reasons, at) VALUES (?, ?, ?)", gate_row)
            added = [
                row[3]
                for row in queue_rows
                if db.execute(
                    "INSERT OR IGNORE INTO queue_waits (pipeline_id, build_id, attempt,"
                    " queued_at, started_at) VALUES (?, ?, ?, ?, ?)",
                    row,
                ).rowcount
            ]
            forget_days(db, added)
            written = db.total_changes - before
    # Only after the transaction committed: a failed write is tried again next time.
    # What this snapshot shows, no more: the memory stays as small as a snapshot.
    last.deploys = {(r[0], r[1], r[2], r[3]): r for r in deploys}
    last.health.update((key, value[0]) for key, value in health.items())
    if gate is not None:
        last.gate = (gate.go, tuple(sorted({r.kind for r in gate.reasons})))
    last.recent = recent
    last.fingerprint = fingerprint
    if written:
        store.generation += 1
    return written


@guarded
def record_commits(
    store: Store, source: str, pipeline: str, commits: Iterable[tuple[str, datetime]]
) -> int:
    """Remember commits that landed on a pipeline's main (sha, commit time): what makes commits
    per build and the commit end of lead time known. Idempotent; returns rows new."""
    rows = [(sha, at.timestamp()) for sha, at in commits if sha]
    if not rows:
        return 0
    with store._transaction() as db:
        pid = store._pid(db, (source, pipeline))
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO commits (pipeline_id, sha, committed_at) VALUES (?, ?, ?)",
            [(pid, sha, at) for sha, at in rows],
        )
        written = db.total_changes - before
    if written:
        store.generation += 1
    return written


@guarded
def prune_deliveries(store: Store, *, force: bool = False) -> int:
    """Drop delivery rows older than the store's retention (never closer than the retention
    before the newest deploy, as ``prune`` does for builds). Throttled like ``prune``, to once
    per ``PRUNE_EVERY`` unless ``force``. Returns rows deleted."""
    last = _last(store)
    mono = store.clock.monotonic()
    if not force and last.pruned_at is not None and 0 <= mono - last.pruned_at < PRUNE_EVERY:
        return 0
    last.pruned_at = mono
    db = store._db
    newest = db.execute("SELECT max(at) FROM deploys").fetchone()[0]
    now = store.clock.now().timestamp()
    cutoff = min(now, newest if newest is not None else now) - store.retention_days * 86400.0
    with store._transaction() as db:
        before = db.total_changes
        db.execute("DELETE FROM deploys WHERE at < ?", (cutoff,))
        db.execute("DELETE FROM queue_waits WHERE queued_at < ?", (cutoff,))
        for table in ("queue_days_done", "queue_day_waits", "queue_day_slots"):
            db.execute(f"DELETE FROM {table} WHERE day < ?", (int(cutoff // 86400),))  # noqa: S608
        db.execute(
            "DELETE FROM commits WHERE pipeline_id IN (SELECT id FROM pipelines)"
            " AND committed_at < ?",
            (cutoff,),
        )
        # The state in force at the cutoff is kept: the first window still knows where it began.
        for table, keep in (
            ("service_changes", "SELECT max(id) FROM service_changes WHERE at < ?"
             " GROUP BY service, environment"),
            ("gate_changes", "SELECT max(id) FROM gate_changes WHERE at < ?"),
        ):  # fmt: skip
            db.execute(
                f"DELETE FROM {table} WHERE at < ? AND id NOT IN ({keep})",  # noqa: S608
                (cutoff, cutoff),
            )
        deleted = db.total_changes - before
    return deleted
