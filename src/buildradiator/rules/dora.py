"""What every delivery measure shares: the shape of one result (``Fact``), the trend against
the window before, and the bands industry uses to compare.

Bands: DORA, *Accelerate State of DevOps Report 2023*, chapter "How do you compare?"
(https://research.google/pubs/accelerate-state-of-devops-2023/; README, "Delivery measures"):
elite deploys on demand, leads in under a day, fails 5% of changes and recovers in under an
hour; high daily to weekly, a day to a week, 10%, under a day; medium weekly to monthly, a week
to a month, 15%, under a week. The report's low cluster shares medium's frequency and lead time;
anything slower than medium is low here.
"""

from __future__ import annotations

from buildradiator.model.facts import DeliveryFact

DAY = 86400.0
HOUR = 3600.0
ESTATE = "estate"
"""The scope of a fact about the whole estate (production only for the four keys)."""


Fact = DeliveryFact
"""One measure over one window for one scope: what every format prints (``model``)."""


HIGHER_IS_BETTER = {"deploy_frequency": True}


def band_frequency(per_day: float) -> str:
    """On demand (daily or more) / daily to weekly / weekly to monthly / less."""
    if per_day >= 1.0:
        return "elite"
    if per_day >= 1 / 7:
        return "high"
    if per_day >= 1 / 30:
        return "medium"
    return "low"


def band_lead_time(seconds: float) -> str:
    """Under a day / a day to a week / a week to a month / longer."""
    if seconds < DAY:
        return "elite"
    if seconds < 7 * DAY:
        return "high"
    if seconds < 30 * DAY:
        return "medium"
    return "low"


def band_failure_rate(share: float) -> str:
    """5% / 10% / 15% / more."""
    if share <= 0.05:
        return "elite"
    if share <= 0.10:
        return "high"
    if share <= 0.15:
        return "medium"
    return "low"


def band_restore(seconds: float) -> str:
    """Under an hour / under a day / under a week / longer."""
    if seconds < HOUR:
        return "elite"
    if seconds < DAY:
        return "high"
    if seconds < 7 * DAY:
        return "medium"
    return "low"


def trend_of(key: str, value: float | None, previous: float | None) -> str | None:
    if value is None or previous is None:
        return None
    if abs(value - previous) <= 1e-9 * max(1.0, abs(previous)):
        return "same"
    higher = value > previous
    return "better" if higher == HIGHER_IS_BETTER.get(key, False) else "worse"


BANDS = {
    "deploy_frequency": band_frequency,
    "lead_time": band_lead_time,
    "change_failure_rate": band_failure_rate,
    "time_to_restore": band_restore,
}
