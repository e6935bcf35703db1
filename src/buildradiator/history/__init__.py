"""The history store: every finished build and the test results we were given, in SQLite.

CI APIs say what the last build did; they do not say how long main has been red, which commit
started it, which tests flip on the same commit, or whether retries are hiding trouble. The engine
writes here and asks here; the rules themselves live in ``rules.streaks``, ``rules.trends`` and
``rules.flaky`` (pure functions).

Public surface::

    store = History.open(paths.history_db, retention_days=90, clock=clock)   # never raises
    store.record_builds(builds)          # finished builds only; idempotent; -> rows new/changed
    store.record_tests(source, pipeline, build_id, commit, results, build_attempt=1, at=None)
    store.prune()                        # retention; throttled to once an hour unless force=True
    store.red_streak(source, pipeline)   # -> Streak | None        ("red for 3h 12m", who, range)
    store.durations(source, pipeline)    # -> Durations | None     (p50/p90 for the ETA)
    store.flaky_tests(window_days=7)     # -> list[FlakyTestInfo]   (ranked by impact)
    store.retry_share(source, pipeline, days)  # -> RetryShare     (call with 7 and 30)
    store.trends(source, pipeline, days=30)    # -> Trend          (daily, sparkline-ready)
    store.recent_strip(source, pipeline)       # -> list[Status]   (newest first)
    store.generation                     # bumps on every change: a cheap cache key for callers
    store.close()

Every call is synchronous and short (the benchmark in ``bench/history.py`` measures them on a
year of history for 200 pipelines); calls are serialised by a lock, so the engine may make them
from a worker thread.

Why it is built the way it is:

- **Durability.** WAL journal with ``synchronous=NORMAL`` and one transaction per write call: a
  process killed mid-write (kill -9) loses only the transaction in progress, never one that was
  committed. (A power cut may lose the last few commits; acceptable for a radiator, and it keeps
  each write to one ``write()`` with no ``fsync``.)
- **Never refuses to start.** A file that is not a database, is truncated, or carries a schema we
  do not know is renamed ``<name>.corrupt-<UTC time>`` (with its ``-wal``/``-shm``, which belong
  to it: a stale WAL replayed into a fresh file would corrupt it) and a fresh store is started,
  with a ``logging`` warning. The same happens if SQLite reports corruption later, mid-run. If
  even a fresh file cannot be created, the store lives in memory for this run.
- **Layout.** Pipelines are interned (``pipelines``) so the big table and its index hold an integer,
  not two strings. ``builds`` is keyed on (pipeline, build id, attempt) and indexed on
  (pipeline, finished_at, attempt): every per-pipeline query is one index range scan from the
  newest end. Times are UTC epoch seconds (REAL). ``meta.schema_version`` plus ``_MIGRATIONS``
  take the file from any older version to the current one.
- **Test results are stored selectively.** A big suite passes thousands of tests on every build;
  storing every pass for 90 days would be hundreds of millions of rows. A flake needs a failure,
  so we keep every ``failed``/``flaky`` result, and a ``passed`` one only for a test that failed
  on the same commit before (or earlier in the same run). Each run also keeps its counts, so a
  later clean run (no failure at all) on the same commit proves a failed test passed. Skips are
  not kept: no fact uses them.
- **Renamed or removed sources** keep their rows until retention drops them; they are reachable
  only by their old names and never crash a query. ``flaky_tests(only=...)`` restricts the
  ranking to the pipelines configured now.
- **The clock.** Times of builds come from the providers, not from our clock. Our clock only sets
  the query windows and retention; a clock that goes backwards just makes windows earlier, and
  retention never cuts closer than ``retention_days`` before the newest build recorded, so a clock
  that jumps forward cannot wipe the store.

Where it lives (``History`` is assembled from one class per part, each in its own module):

- ``history_schema``: the tables, the migrations, and the checks that tell a usable file.
- ``history_store``: opening, setting a corrupt file aside, the lock, transactions, interned
  pipelines, retention (``prune``).
- ``history_rollups``: the per-day rollups behind ``retry_share`` and ``trends``.
- ``history_builds``: build rows and the facts read from them.
- ``history_tests``: test results and the flaky ranking.
- ``deliveries`` (writes), ``delivery_queries``, ``queue_rollups`` and ``delivery_report``
  (reads): deploys, service health and gate changes, main's queue; ``delivery_facts``.
- ``stages`` and ``stage_schema``: each finished build's stage times, rolled up per day.
"""

from __future__ import annotations

from buildradiator.history.builds import BuildFacts
from buildradiator.history.flakes import TestFacts
from buildradiator.model import TestResult, TestStatus
from buildradiator.rules.streaks import Durations, Streak
from buildradiator.rules.trends import RetryShare, Trend

__all__ = [
    "Durations",
    "History",
    "RetryShare",
    "Streak",
    "TestResult",
    "TestStatus",
    "Trend",
]


class History(BuildFacts, TestFacts):
    """The store. Make one with ``History.open(path)`` or ``History.memory()``."""
