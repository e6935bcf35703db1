"""Reading the delivery rows back: small, indexed queries whose results feed the pure rules in
``rules.delivery`` and ``rules.congestion``. Big tables are aggregated in SQL (build counts;
the queue's histogram is read from its day rollups, ``history.queue_rollups``) so no call
reads more than a few thousand rows.

Every function takes the store's lock (``guarded``: a file found corrupt is set aside and the
question asked again of a fresh one); none writes, except ``main_days`` which lets the day
rollups fill the days they have not computed yet (as ``History.trends`` does).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from buildradiator.history import History
from buildradiator.history.store import guarded
from buildradiator.rules.congestion import CommitsPerBuild, GateChange, Undeployed
from buildradiator.rules.delivery import DeployRow, HealthChange, MainDays, is_production
from buildradiator.rules.production import env_key

_DEPLOYS = """
SELECT d.service, d.environment, d.commit_sha, d.state, d.suspect IS NOT NULL, d.at,
       d.resolved_at,
       coalesce((SELECT min(coalesce(b.started_at, b.finished_at)) FROM builds b
                 WHERE b.commit_sha = d.commit_sha),
                (SELECT min(c.committed_at) FROM commits c WHERE c.sha = d.commit_sha)),
       (SELECT b.message FROM builds b WHERE b.commit_sha = d.commit_sha LIMIT 1),
       d.version,
       (SELECT b.pipeline_id FROM builds b WHERE b.commit_sha = d.commit_sha
        ORDER BY coalesce(b.started_at, b.finished_at) LIMIT 1)
FROM deploys d WHERE d.at >= ? AND d.at < ? AND d.state IN ('succeeded', 'failed')
ORDER BY d.service, d.environment, d.at
"""


@guarded
def deploy_rows(store: History, since: float, until: float) -> list[DeployRow]:
    """Finished deploys in [since, until), per service and environment, oldest first."""
    with store._lock:
        return [
            DeployRow(
                service=r[0],
                environment=r[1],
                commit=r[2],
                state=r[3],
                suspect=bool(r[4]),
                at=r[5],
                resolved_at=r[6],
                landed_at=r[7],
                message=r[8],
                version=r[9],
                pipeline_id=r[10],
            )
            for r in store._db.execute(_DEPLOYS, (since, until))
        ]


@guarded
def main_landings(store: History, deploys: Sequence[DeployRow]) -> dict[int, list[float]]:
    """Per pipeline that built a deployed commit: when each commit whose first
    main build falls between the oldest and the newest landing of those deploys' commits,
    oldest first. What ``rules.delivery`` needs to give every shipped commit its lead time."""
    spans: dict[int, tuple[float, float]] = {}
    for d in deploys:
        if d.pipeline_id is None or d.landed_at is None:
            continue
        lo, hi = spans.get(d.pipeline_id, (d.landed_at, d.landed_at))
        spans[d.pipeline_id] = (min(lo, d.landed_at), max(hi, d.landed_at))
    out: dict[int, list[float]] = {}
    with store._lock:
        for pid, (lo, hi) in spans.items():
            first: dict[str, float] = {}
            # finished_at bounds the index range; a build started before ``lo`` that finished
            # after it is kept (its landing is its start), one finishing a day late too.
            for sha, landed in store._db.execute(
                "SELECT commit_sha, coalesce(started_at, finished_at) FROM builds"
                " WHERE pipeline_id = ? AND finished_at >= ? AND finished_at < ? AND attempt = 1"
                " AND commit_sha IS NOT NULL",
                (pid, lo, hi + 86400.0),
            ):
                if landed < first.get(sha, float("inf")):
                    first[sha] = landed
            out[pid] = sorted(at for at in first.values() if lo <= at <= hi)
    return out


@guarded
def any_deploys(store: History) -> bool:
    with store._lock:
        return store._db.execute("SELECT 1 FROM deploys LIMIT 1").fetchone() is not None


@guarded
def watched_since(store: History) -> float | None:
    """The first build or deploy history holds (``None``: neither): how long it has watched."""
    with store._lock:
        db = store._db
        firsts = [
            db.execute("SELECT MIN(at) FROM deploys").fetchone()[0],
            # Per pipeline, so each MIN is one step down its index (not a scan of every build).
            db.execute(
                "SELECT MIN((SELECT MIN(finished_at) FROM builds WHERE pipeline_id = p.id))"
                " FROM pipelines p"
            ).fetchone()[0],
        ]
    known = [float(t) for t in firsts if t is not None]
    return min(known) if known else None


@guarded
def health_changes(store: History, since: float, until: float) -> list[HealthChange]:
    """Changes in [since, until), with the state each service was in at ``since``."""
    with store._lock:
        db = store._db
        before = db.execute(
            "SELECT service, environment, health, max(at) FROM service_changes WHERE at < ?"
            " GROUP BY service, environment",
            (since,),
        ).fetchall()
        inside = db.execute(
            "SELECT service, environment, health, at FROM service_changes"
            " WHERE at >= ? AND at < ? ORDER BY at, id",
            (since, until),
        ).fetchall()
    return [HealthChange(*r) for r in before + inside]


@guarded
def main_days(store: History, days: int) -> tuple[list[MainDays], list[MainDays]]:
    """Per pipeline, sums of the day rollups over the last ``days`` UTC days and the ``days``
    before them (red-to-green restores, time lost to retries)."""
    this: list[MainDays] = []
    before: list[MainDays] = []
    with store._lock:
        pids = [int(r[0]) for r in store._db.execute("SELECT id FROM pipelines")]
        for pid in pids:
            if (
                store._db.execute(
                    "SELECT 1 FROM builds WHERE pipeline_id = ? LIMIT 1", (pid,)
                ).fetchone()
                is None
            ):
                continue  # test results only (a junit source): no builds, no rollups
            stats = store._days(pid, 2 * days)
            name = ":".join(store._name_of(pid))
            for out, part in ((before, stats[:days]), (this, stats[days:])):
                out.append(
                    MainDays(
                        pipeline=name,
                        restore_sum=sum(s.mttr_sum for s in part),
                        restore_n=sum(s.mttr_n for s in part),
                        retry_seconds=sum(s.retry_seconds for s in part),
                    )
                )
    return this, before


@guarded
def commits_per_build(store: History, since: float, until: float) -> list[CommitsPerBuild]:
    """Per pipeline with builds in the window: commits landed (if history knows its commits)
    and builds (first attempts) in [since, until)."""
    out: list[CommitsPerBuild] = []
    with store._lock:
        db = store._db
        for pid, source, key in db.execute("SELECT id, source, key FROM pipelines").fetchall():
            builds = db.execute(
                "SELECT count(*) FROM builds WHERE pipeline_id = ? AND finished_at >= ?"
                " AND finished_at < ? AND attempt = 1",
                (pid, since, until),
            ).fetchone()[0]
            if not builds:
                continue
            commits: int | None = None
            if db.execute("SELECT 1 FROM commits WHERE pipeline_id = ? LIMIT 1", (pid,)).fetchone():
                commits = db.execute(
                    "SELECT count(*) FROM commits WHERE pipeline_id = ? AND committed_at >= ?"
                    " AND committed_at < ?",
                    (pid, since, until),
                ).fetchone()[0]
            out.append(CommitsPerBuild(f"{source}:{key}", commits, int(builds)))
    return out


@guarded
def undeployed(store: History, production: Sequence[str] | None = None) -> list[Undeployed]:
    """Per production service: when the oldest main commit not live yet landed (its first main
    build after the live commit's), ``None`` when main is live."""
    out: list[Undeployed] = []
    with store._lock:
        db = store._db
        live = db.execute(
            "SELECT service, environment, commit_sha, pipeline, max(at) FROM deploys"
            " WHERE state = 'succeeded' AND suspect IS NULL GROUP BY service, environment"
        ).fetchall()
        # One row per service and environment however the tools spell it (prod, production).
        latest: dict[tuple[str, str], tuple[str, str, str | None, str | None, float]] = {}
        for service, environment, commit, pipeline, at in live:
            key = (service, env_key(environment))
            if key not in latest or at > latest[key][4]:
                latest[key] = (service, environment, commit, pipeline, at)
        for service, environment, commit, pipeline, _ in latest.values():
            prod = (
                environment in production if production is not None else is_production(environment)
            )
            if not prod:
                continue
            landing = db.execute(
                "SELECT pipeline_id, min(coalesce(started_at, finished_at)) FROM builds"
                " WHERE commit_sha = ?",
                (commit,),
            ).fetchone()
            if commit is None or landing is None or landing[1] is None:
                out.append(Undeployed(service, environment, None, known=False))
                continue
            pids = [landing[0]]
            if pipeline:
                named = [
                    r[0] for r in db.execute("SELECT id FROM pipelines WHERE key = ?", (pipeline,))
                ]
                pids = named or pids
            oldest: float | None = None
            for pid in pids:
                row = db.execute(
                    "SELECT coalesce(started_at, finished_at) FROM builds WHERE pipeline_id = ?"
                    " AND finished_at > ? AND commit_sha IS NOT ? ORDER BY finished_at LIMIT 1",
                    (pid, landing[1], commit),
                ).fetchone()
                if row is not None and (oldest is None or row[0] < oldest):
                    oldest = row[0]
            out.append(Undeployed(service, environment, oldest, known=True))
    return out


@guarded
def gate_changes(
    store: History, since: float, until: float
) -> tuple[list[GateChange], GateChange | None]:
    """Gate changes in [since, until), and the one in force at ``since``."""
    with store._lock:
        db = store._db
        first = db.execute(
            "SELECT go, reasons, at FROM gate_changes WHERE at < ? ORDER BY at DESC, id DESC"
            " LIMIT 1",
            (since,),
        ).fetchone()
        rows = db.execute(
            "SELECT go, reasons, at FROM gate_changes WHERE at >= ? AND at < ? ORDER BY at, id",
            (since, until),
        ).fetchall()
    initial = _gate(first) if first is not None else None
    return [_gate(r) for r in rows], initial


def _gate(row: tuple[int, str, float]) -> GateChange:
    try:
        reasons = tuple((str(k), str(t)) for k, t in json.loads(row[1]))
    except (ValueError, TypeError):
        reasons = ()
    return GateChange(go=bool(row[0]), reasons=reasons, at=float(row[2]))
