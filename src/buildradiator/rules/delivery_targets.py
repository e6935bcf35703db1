"""``[[targets]]`` that name a delivery measure (``lead_time <= 1d``, ``deploy_frequency >= 1/day``):
read from the snapshot's delivery facts (``Snapshot.delivery``, history's, 7 and 30 days).

A target's window reads the 7-day facts up to 7 days, the 30-day ones beyond. Its scope: the
estate by default; ``service = "shop"`` (that service's production) or ``"shop/staging"``; a
``pipeline`` for the measures kept per pipeline (commits per build). A fact that is unknown, or a
scope history has no fact for, is unknown: never met; nor is the oldest commit not live
over services one of which is not known (``partly_known``).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from buildradiator.config.share import TargetConfig
from buildradiator.model import DeliveryFact, Snapshot
from buildradiator.model.facts import UNIT_OF
from buildradiator.rules.delivery import production_service
from buildradiator.rules.delivery_words import show
from buildradiator.rules.dora import ESTATE

FACT_OF = {
    "deploy_frequency": ("deploy_frequency", "value"),
    "lead_time": ("lead_time", "value"),
    "lead_time_p90": ("lead_time", "p90"),
    "change_failure_rate": ("change_failure_rate", "value"),
    "time_to_restore": ("time_to_restore", "value"),
    "restore_main": ("restore_main", "value"),
    "restore_service": ("restore_service", "value"),
    "queue_wait": ("queue_wait", "value"),
    "queue_wait_p90": ("queue_wait", "p90"),
    "builds_queued": ("builds_queued", "value"),
    "commits_per_build": ("commits_per_build", "value"),
    "oldest_undeployed": ("oldest_undeployed", "value"),
    "gate_hold": ("gate_hold", "value"),
    "retry_time": ("retry_time", "value"),
}
"""Each delivery measure a target may name: the fact's key, and which of its numbers."""

WORDS = {
    "deploy_frequency": "deploys",
    "lead_time": "lead time",
    "lead_time_p90": "lead time p90",
    "change_failure_rate": "change failure rate",
    "time_to_restore": "time to restore",
    "restore_main": "main red to green",
    "restore_service": "service down to up",
    "queue_wait": "queue wait",
    "queue_wait_p90": "queue wait p90",
    "builds_queued": "main builds queued",
    "commits_per_build": "commits per build",
    "oldest_undeployed": "oldest commit not live",
    "gate_hold": "gate on HOLD",
    "retry_time": "time lost to retries",
}


def window_of(target: TargetConfig) -> int:
    """The window the facts have: 7 days up to 7, else 30; the oldest commit is now (0)."""
    if target.measure == "oldest_undeployed":
        return 0
    return 7 if target.window_days <= 7 else 30


def _scope_matches(scope: str, pattern: str) -> bool:
    # ``shop`` names its production (however the tool spells it): the scope a team means by a
    # service's delivery.
    service = production_service(scope)
    return fnmatchcase(scope, pattern) or (service is not None and fnmatchcase(service, pattern))


def measure(
    target: TargetConfig, snapshot: Snapshot
) -> tuple[float | None, float | None, str, bool]:
    """(value, previous, scope in words, whether the scope matched) of one delivery target."""
    key, number = FACT_OF[target.measure]
    days = window_of(target)
    facts = [f for f in snapshot.delivery if f.key == key and f.window_days == days]
    pattern = target.service or target.pipeline
    if pattern is None:
        found = [f for f in facts if f.scope == ESTATE]
    else:
        found = [f for f in facts if _scope_matches(f.scope, pattern)]
        if not found:
            if not snapshot.delivery:
                return None, None, pattern, True  # not computed yet: unknown, not unmatched
            return None, None, f"(no delivery measure for '{pattern}')", False
    fact: DeliveryFact | None = found[0] if found else None
    if fact is None:
        return None, None, ESTATE, True
    if number == "p90":
        return fact.p90, None, fact.scope, True
    return fact.value, fact.previous, fact.scope, True


def partly_known(target: TargetConfig, snapshot: Snapshot) -> bool:
    """Whether the value is only the worst of what is known: the oldest commit not live over
    several services, one of which is not known (it could be older). Such a value may miss the
    goal, never meet it."""
    if target.measure != "oldest_undeployed":
        return False
    pattern = target.service or target.pipeline
    return any(
        f.value is None
        for f in snapshot.delivery
        if f.key == "oldest_undeployed"
        and f.scope != ESTATE
        and (pattern is None or _scope_matches(f.scope, pattern))
    )


def value_text(measure_name: str, value: float) -> str:
    return show(value, UNIT_OF[FACT_OF[measure_name][0]])
