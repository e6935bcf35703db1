"""Every delivery and congestion fact from one history store: the one call behind
``buildradiator report`` (and, later, the Delivery screen and ``/metrics``).

    facts = delivery_facts(store, now=datetime.now(UTC), windows=(7, 30))   # -> list[Fact]

Synchronous; on a year of history (a million builds, 50,000 deploys) each part takes well
under 50 ms once the day rollups are computed (``bench/delivery.py``). A screen must call it in a
worker thread and show the last result, never wait for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from buildradiator.history import History
from buildradiator.history.delivery_queries import (
    any_deploys,
    commits_per_build,
    deploy_rows,
    gate_changes,
    health_changes,
    main_days,
    main_landings,
    undeployed,
    watched_since,
)
from buildradiator.history.queue_rollups import queue_days
from buildradiator.history.stages import any_stages, stage_buckets
from buildradiator.rules.congestion import (
    commits_per_build_facts,
    gate_facts,
    queue_facts,
    retry_facts,
    undeployed_facts,
)
from buildradiator.rules.delivery import four_keys, restore_facts
from buildradiator.rules.delivery_words import ORDER
from buildradiator.rules.dora import DAY, Fact
from buildradiator.rules.stages import stage_facts


def delivery_facts(
    store: History,
    *,
    now: datetime,
    windows: Sequence[int] = (7, 30),
    tz: tzinfo | None = None,
) -> list[Fact]:
    """The four keys (estate, then each service and environment) and congestion at main, for
    each window with the window before it, in ``ORDER``. ``tz`` sets the busiest hours' clock
    (its offset at ``now``; default UTC)."""
    t = now.timestamp()
    longest = max(windows)
    offset = now.astimezone(tz).utcoffset() if tz is not None else None
    offset_s = int(offset.total_seconds()) if offset is not None else 0
    tz_name = now.astimezone(tz).tzname() or "UTC" if tz is not None else "UTC"
    deploys = deploy_rows(store, t - 2 * longest * DAY, t + 1)
    landings = main_landings(store, deploys)
    facts = four_keys(
        deploys,
        now=t,
        windows=windows,
        any_deploys=any_deploys(store),
        landings=landings,
        watched_since=watched_since(store),
    )
    changes = health_changes(store, t - 2 * longest * DAY, t + 1)
    rollups = {days: main_days(store, days) for days in windows}
    facts += restore_facts([(d, *rollups[d]) for d in windows], changes, now=t)
    staged = any_stages(store)
    for days in windows:
        span = days * DAY
        today = int(t // DAY)
        waits, hours = queue_days(
            store, today - days + 1, today, today=today, offset_seconds=offset_s
        )
        waits_before, _ = queue_days(store, today - 2 * days + 1, today - days, today=today)
        facts += queue_facts(days, waits, waits_before, hours, tz_name)
        facts += commits_per_build_facts(days, commits_per_build(store, t - span, t + 1))
        changes_g, initial = gate_changes(store, t - 2 * span, t + 1)
        in_force = initial
        for c in changes_g:
            if c.at < t - span:
                in_force = c
        facts += gate_facts(days, changes_g, in_force, initial, now=t)
        facts += retry_facts(days, *rollups[days])
        this = stage_buckets(store, today - days + 1, today, today=today) if staged else []
        before = (
            stage_buckets(store, today - 2 * days + 1, today - days, today=today) if staged else []
        )
        retries = {m.pipeline: m.retry_seconds for m in rollups[days][0]}
        facts += stage_facts(days, this, before, known=staged, retries=retries)
    facts += undeployed_facts(undeployed(store), now=t)
    rank = {key: i for i, key in enumerate(ORDER)}
    return sorted(
        facts,
        key=lambda f: (rank.get(f.key, len(ORDER)), f.scope != "estate", f.scope, f.window_days),
    )
