"""The demo's made-up delivery history, written after ``backfill`` wrote the builds: the commits
each main build carried, how long each waited in the queue, deploys of green commits to staging
and then production (a few failing, suspect or rolled back), services going down and up, and
the release gate holding while any of that lasts. Every delivery number and band then has a
real shape from the first minute. Deterministic (its own seeded generator, so the builds
``backfill`` writes are the same as before).
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from buildradiator.history import History
from buildradiator.history.queue_rollups import forget_days
from buildradiator.model import Deployment, Pipeline

MINUTE = 60.0
HOUR = 3600.0


def backfill_deliveries(
    history: History,
    pipelines: Sequence[Pipeline],
    deployments: Sequence[Deployment] = (),
    *,
    now: datetime,
    seed: int = 7,
) -> int:
    """Write the delivery rows for the builds already in ``history``; returns rows written."""
    rng = random.Random(seed * 31 + 1)  # noqa: S311 - made-up demo data
    services = _services(pipelines, deployments)
    end = now.timestamp()
    events: list[tuple[float, float, str, str]] = []  # (start, end, kind, text) holding the gate
    with history._lock, history._transaction() as db:
        before = db.total_changes
        for pipeline in pipelines:
            pid = history._pid(db, (pipeline.source, pipeline.key))
            builds = db.execute(
                "SELECT build_id, attempt, commit_sha, started_at, finished_at, status"
                " FROM builds WHERE pipeline_id = ? AND build_id LIKE 'history-%'"
                " ORDER BY finished_at, attempt",
                (pid,),
            ).fetchall()
            red_from: float | None = None
            waits, commits = [], []
            for build_id, attempt, sha, started, finished, status in builds:
                if attempt == 1 and started is not None:
                    hour = int(started // HOUR) % 24
                    busy = 3.0 if 8 <= hour <= 11 or 13 <= hour <= 16 else 1.0
                    wait = rng.lognormvariate(3.0, 1.0) * busy
                    waits.append((pid, build_id, attempt, started - wait, started))
                    commits += [
                        (pid, sha if n == 0 else f"{sha}-{n}", started - (n + 1) * 7 * MINUTE)
                        for n in range(rng.choice((1, 1, 2, 2, 3, 4)))
                    ]
                if status == "failed" and red_from is None:
                    red_from = finished
                elif status == "passed" and red_from is not None:
                    events.append((red_from, finished, "main_red", f"main red: {pipeline.name}"))
                    red_from = None
            db.executemany("INSERT OR IGNORE INTO queue_waits VALUES (?, ?, ?, ?, ?)", waits)
            db.executemany("INSERT OR IGNORE INTO commits VALUES (?, ?, ?)", commits)
            greens = [
                (sha, finished) for _, _, sha, _, finished, status in builds if status == "passed"
            ]
            for service, environment, source in services.get(pipeline.key, ()):
                events += _deploys(db, rng, greens, service, environment, source, pipeline.key, end)
        for service in sorted({s for group in services.values() for s, _, _ in group}):
            events += _outages(db, rng, service, end, first=end - 20 * 86400)
        _gate(db, events)
        forget_days(db, [r[0] for r in db.execute("SELECT queued_at FROM queue_waits")])
        written = db.total_changes - before
    history.generation += 1
    return written


def _services(
    pipelines: Sequence[Pipeline], deployments: Sequence[Deployment]
) -> dict[str, list[tuple[str, str, str]]]:
    """Per pipeline key: (service, environment, source) it ships, from the live deployments where
    they name the pipeline, else one made-up service per pipeline, to staging and production."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for d in deployments:
        if d.pipeline:
            out.setdefault(d.pipeline, []).append(
                (d.service, d.environment or "production", d.source)
            )
    for p in pipelines:
        # Only mains ship: a feature branch or a nightly builder deploys nothing.
        if p.key in out or p.branch not in ("main", "master"):
            continue
        name = p.key.rsplit("/", 1)[-1].split(":")[0]
        if not name or name.isdigit():  # a project or definition id: the name reads better
            name = p.name.split()[0].rsplit("/", 1)[-1]
        out[p.key] = [(name, "staging", "backfill"), (name, "production", "backfill")]
    return out


def _deploys(
    db: sqlite3.Connection,
    rng: random.Random,
    greens: list[tuple[str, float]],
    service: str,
    environment: str,
    source: str,
    pipeline: str,
    end: float,
) -> list[tuple[float, float, str, str]]:
    prod = environment.lower() in ("production", "prod", "prd", "live")
    every = 3 if prod else 1
    shipped: list[str] = []
    events = []
    last = 0.0
    for i, (sha, landed) in enumerate(greens):
        if i % every:
            continue
        at = landed + (rng.uniform(2, 30) * HOUR if prod else rng.uniform(10, 40) * MINUTE)
        at = last = max(at, last + 10 * MINUTE)  # deploys go out in the order commits landed
        if at >= end - HOUR:
            break
        roll = rng.random()
        state, suspect, resolved = "succeeded", None, None
        if prod and roll < 0.06:
            state = "failed"
            events.append(
                (at, at + rng.uniform(0.5, 3) * HOUR, "deploy_failed", f"deploy failed: {service}")
            )
        elif prod and roll < 0.12:
            suspect = "5xx share 0.04 > 0.01 after it went live"
            resolved = at + rng.uniform(15, 120) * MINUTE
            events.append((at, resolved, "deploy_suspect", f"deploy suspect: {service}"))
        _insert(
            db,
            source,
            service,
            environment,
            f"backfill-{i}",
            sha,
            state,
            suspect,
            resolved,
            at,
            pipeline,
        )
        if state == "succeeded":
            shipped.append(sha)
        if prod and 0.12 <= roll < 0.15 and len(shipped) > 1:  # a rollback to the previous commit
            back = at + rng.uniform(20, 90) * MINUTE
            _insert(
                db,
                source,
                service,
                environment,
                f"backfill-{i}-rollback",
                shipped[-2],
                "succeeded",
                None,
                None,
                back,
                pipeline,
            )
    return events


def _insert(
    db: sqlite3.Connection, source: str, service: str, environment: str, key: str, sha: str, state: str,
    suspect: str | None, resolved: float | None, at: float, pipeline: str,
) -> None:  # fmt: skip
    db.execute(
        "INSERT OR IGNORE INTO deploys (source, service, environment, deploy_key, commit_sha,"
        " version, state, suspect, resolved_at, started_at, finished_at, at, pipeline)"
        " VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
        (
            source,
            service,
            environment,
            key,
            sha,
            state,
            suspect,
            resolved,
            at - 4 * MINUTE,
            at,
            at,
            pipeline,
        ),
    )


def _outages(
    db: sqlite3.Connection, rng: random.Random, service: str, end: float, first: float
) -> list[tuple[float, float, str, str]]:
    db.execute(
        "INSERT INTO service_changes (service, environment, health, at) VALUES (?, ?, 'up', ?)",
        (service, "production", first),
    )
    events = []
    t = first
    while True:
        t += rng.uniform(2, 6) * 86400
        if t >= end - 2 * HOUR:
            break
        up = t + rng.uniform(4, 90) * MINUTE
        for health, at in (("down", t), ("up", up)):
            db.execute(
                "INSERT INTO service_changes (service, environment, health, at) VALUES (?, ?, ?, ?)",
                (service, "production", health, at),
            )
        events.append((t, up, "service_down", f"{service} down"))
    return events


def _gate(db: sqlite3.Connection, events: list[tuple[float, float, str, str]]) -> None:
    """One gate change wherever the set of reasons holding it changes (a sweep over the starts
    and ends of every event)."""
    edges = sorted(
        [(start, 1, (kind, text)) for start, stop, kind, text in events if stop > start]
        + [(stop, -1, (kind, text)) for start, stop, kind, text in events if stop > start]
    )
    holding: Counter[tuple[str, str]] = Counter()
    last: tuple[tuple[str, str], ...] | None = None
    i = 0
    while i < len(edges):
        t = edges[i][0]
        while i < len(edges) and edges[i][0] == t:
            holding[edges[i][2]] += edges[i][1]
            i += 1
        active = tuple(sorted(r for r, n in holding.items() if n > 0))
        if active == last:
            continue
        db.execute(
            "INSERT INTO gate_changes (go, reasons, at) VALUES (?, ?, ?)",
            (int(not active), json.dumps([list(r) for r in active]), t),
        )
        last = active
