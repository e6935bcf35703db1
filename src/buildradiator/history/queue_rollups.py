"""Per-day rollups of main's queue: what the queue-wait quantiles and the busiest hours are read
from, so a month of a busy estate (80,000 queued builds) is a few thousand rows, not a scan.

A past UTC day is computed once from ``queue_waits`` and stored: its wait histogram
(``queue_day_waits``, the buckets of ``rules.congestion.wait_bucket``) and its load per quarter
hour (``queue_day_slots``: quarter hours, so a zone with a :30 or :45 offset still gets its own
hours right). ``queue_days_done`` says which days are computed (a quiet day has no rows).
Today is always computed live. A queue row written for a past day drops that day's rollup
(``forget_days``), so a build seen late, after a restart, is still counted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from buildradiator.history.store import Store, guarded
from buildradiator.rules.congestion import QUEUED_AFTER, HourLoad, WaitBucket

DAY = 86400
SLOT = 900

_BUCKET = """CASE WHEN w < 60 THEN CAST(w AS INTEGER)
                  WHEN w < 3600 THEN CAST(w / 10 AS INTEGER) * 10
                  ELSE CAST(w / 60 AS INTEGER) * 60 END"""

_WAITS = f"""
SELECT CAST(queued_at / {DAY} AS INTEGER) AS d, {_BUCKET} AS b, count(*)
FROM (SELECT queued_at, started_at - queued_at AS w FROM queue_waits
      WHERE queued_at >= ? AND queued_at < ?)
GROUP BY d, b
"""  # noqa: S608 - constants only

_SLOTS = f"""
SELECT CAST(queued_at / {DAY} AS INTEGER) AS d,
       CAST((CAST(queued_at AS INTEGER) % {DAY}) / {SLOT} AS INTEGER) AS s,
       count(*), sum(started_at - queued_at >= {QUEUED_AFTER}), sum(started_at - queued_at)
FROM queue_waits WHERE queued_at >= ? AND queued_at < ?
GROUP BY d, s
"""  # noqa: S608 - constants only


def forget_days(db: sqlite3.Connection, queued_at: Iterable[float]) -> None:
    """Queue rows were written for these times: their days' rollups are out of date."""
    days = sorted({int(t // DAY) for t in queued_at})
    for table in ("queue_days_done", "queue_day_waits", "queue_day_slots"):
        db.executemany(f"DELETE FROM {table} WHERE day = ?", [(d,) for d in days])  # noqa: S608


def _compute(db: sqlite3.Connection, first: int, last: int) -> None:
    """Roll up the days first..last (inclusive) into the tables."""
    span = (first * DAY, (last + 1) * DAY)
    db.executemany(
        "INSERT OR REPLACE INTO queue_day_waits (day, wait, builds) VALUES (?, ?, ?)",
        db.execute(_WAITS, span).fetchall(),
    )
    db.executemany(
        "INSERT OR REPLACE INTO queue_day_slots (day, slot, builds, queued, wait_sum)"
        " VALUES (?, ?, ?, ?, ?)",
        db.execute(_SLOTS, span).fetchall(),
    )
    db.executemany(
        "INSERT OR REPLACE INTO queue_days_done (day) VALUES (?)",
        [(d,) for d in range(first, last + 1)],
    )


@guarded
def queue_days(
    store: Store, first_day: int, last_day: int, *, today: int, offset_seconds: int = 0
) -> tuple[list[WaitBucket], list[HourLoad]]:
    """The wait histogram and the load per local hour (``offset_seconds`` east of UTC) of main
    builds queued on UTC days first_day..last_day; days before ``today`` from the rollups."""
    waits: dict[float, int] = {}
    hours: dict[int, list[float]] = {}

    def add_waits(rows: Iterable[tuple[Any, ...]]) -> None:
        for _, wait, builds in rows:
            waits[float(wait)] = waits.get(float(wait), 0) + int(builds)

    def add_slots(rows: Iterable[tuple[Any, ...]]) -> None:
        for _, slot, builds, queued, wait_sum in rows:
            hour = ((int(slot) * SLOT + offset_seconds) % DAY) // 3600
            load = hours.setdefault(hour, [0, 0, 0.0])
            load[0] += int(builds)
            load[1] += int(queued or 0)
            load[2] += float(wait_sum or 0.0)

    with store._lock:
        db = store._db
        past_last = min(last_day, today - 1)
        if first_day <= past_last:
            done = {
                int(r[0])
                for r in db.execute(
                    "SELECT day FROM queue_days_done WHERE day >= ? AND day <= ?",
                    (first_day, past_last),
                )
            }
            missing = [d for d in range(first_day, past_last + 1) if d not in done]
            if missing:
                with store._transaction() as tx:
                    _compute(tx, missing[0], missing[-1])
            span = (first_day, past_last)
            add_waits(
                db.execute(
                    "SELECT day, wait, builds FROM queue_day_waits WHERE day >= ? AND day <= ?",
                    span,
                )
            )
            add_slots(
                db.execute(
                    "SELECT day, slot, builds, queued, wait_sum FROM queue_day_slots"
                    " WHERE day >= ? AND day <= ?",
                    span,
                )
            )
        if first_day <= today <= last_day:
            live = (today * DAY, (today + 1) * DAY)
            add_waits(db.execute(_WAITS, live))
            add_slots(db.execute(_SLOTS, live))
    return (
        [WaitBucket(wait, builds) for wait, builds in sorted(waits.items())],
        [HourLoad(h, int(v[0]), int(v[1]), v[2]) for h, v in sorted(hours.items())],
    )
