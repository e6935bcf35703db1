"""The tables behind the delivery measures (schema version 2): deploys, service health changes,
release gate changes, queue waits of main builds, and the commits that landed on main.

Kept apart from ``history.schema`` so the migration reads as one piece. Every table is written
by ``history.deliveries`` (from the published snapshots) and read by ``history.delivery_queries``.

Why these shapes:

- ``deploys`` holds one row per deploy the radiator saw (a snapshot shows only the latest deploy
  of each service and environment, so a row is keyed on the provider's deploy id, or on the
  commit and start time when the tool gives no id). ``at`` is when it ended (or started, or was
  first seen): every window query is one range scan of ``deploys_by_time``.
- ``service_changes`` and ``gate_changes`` keep only changes, never samples: a service that is up
  for a month is one row.
- ``queue_waits`` keeps when a main build was queued and when it started (the ``builds`` table
  has no queue time); ``history.queue_rollups`` rolls it up per day (``queue_day_*``).
- ``commits`` is filled only where a source knows the commits between two builds (a compare
  API, the demo); without it, commits per build is reported unknown.
- ``builds_by_commit`` finds the first main build of a commit (lead time) with one index seek.
"""

from __future__ import annotations

DELIVERY_MIGRATION = """
CREATE TABLE deploys (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    deploy_key TEXT NOT NULL,
    commit_sha TEXT,
    version TEXT,
    state TEXT NOT NULL,
    suspect TEXT,
    resolved_at REAL,
    started_at REAL,
    finished_at REAL,
    at REAL NOT NULL,
    pipeline TEXT,
    UNIQUE (source, service, environment, deploy_key)
);
CREATE INDEX deploys_by_time ON deploys (at);
CREATE INDEX deploys_by_service ON deploys (service, environment, at);
CREATE TABLE service_changes (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    health TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX service_changes_by_service ON service_changes (service, environment, at);
CREATE INDEX service_changes_by_time ON service_changes (at);
CREATE TABLE gate_changes (
    id INTEGER PRIMARY KEY,
    go INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX gate_changes_by_time ON gate_changes (at);
CREATE TABLE queue_waits (
    pipeline_id INTEGER NOT NULL,
    build_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    queued_at REAL NOT NULL,
    started_at REAL NOT NULL,
    PRIMARY KEY (pipeline_id, build_id, attempt)
) WITHOUT ROWID;
CREATE INDEX queue_waits_by_time ON queue_waits (queued_at, started_at);
CREATE TABLE queue_days_done (day INTEGER PRIMARY KEY);
CREATE TABLE queue_day_waits (
    day INTEGER NOT NULL,
    wait REAL NOT NULL,
    builds INTEGER NOT NULL,
    PRIMARY KEY (day, wait)
) WITHOUT ROWID;
CREATE TABLE queue_day_slots (
    day INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    builds INTEGER NOT NULL,
    queued INTEGER NOT NULL,
    wait_sum REAL NOT NULL,
    PRIMARY KEY (day, slot)
) WITHOUT ROWID;
CREATE TABLE commits (
    pipeline_id INTEGER NOT NULL,
    sha TEXT NOT NULL,
    committed_at REAL NOT NULL,
    PRIMARY KEY (pipeline_id, sha)
) WITHOUT ROWID;
CREATE INDEX commits_by_time ON commits (pipeline_id, committed_at);
CREATE INDEX commits_by_sha ON commits (sha, committed_at);
CREATE INDEX builds_by_commit ON builds (commit_sha, started_at, finished_at)
"""

DELIVERY_COLUMNS: dict[str, set[str]] = {
    "deploys": {
        "id", "source", "service", "environment", "deploy_key", "commit_sha", "version", "state",
        "suspect", "resolved_at", "started_at", "finished_at", "at", "pipeline",
    },
    "service_changes": {"id", "service", "environment", "health", "at"},
    "gate_changes": {"id", "go", "reasons", "at"},
    "queue_waits": {"pipeline_id", "build_id", "attempt", "queued_at", "started_at"},
    "commits": {"pipeline_id", "sha", "committed_at"},
    "queue_days_done": {"day"},
    "queue_day_waits": {"day", "wait", "builds"},
    "queue_day_slots": {"day", "slot", "builds", "queued", "wait_sum"},
}  # fmt: skip
