"""The delivery measures in words, one spelling for every place that shows them: the Delivery
screen, the wall's calm rotation, ``[[targets]]`` and ``buildradiator report``."""

from __future__ import annotations

LABELS = {
    "deploy_frequency": "Deployment frequency",
    "lead_time": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "time_to_restore": "Time to restore (failed deploy)",
    "restore_main": "Main red to green",
    "restore_service": "Service down to up",
    "queue_wait": "Queue wait on main",
    "builds_queued": "Main builds queued",
    "busiest_hours": "Busiest hours on main",
    "commits_per_build": "Commits per main build",
    "oldest_undeployed": "Oldest main commit not live",
    "gate_hold": "Release gate on HOLD",
    "retry_time": "Build time lost to retries",
    "stage_time": "Build time per stage",
}
"""Each fact's key in words (``ORDER`` gives the order)."""

SHORT = {
    "deploy_frequency": "deploys",
    "lead_time": "lead",
    "change_failure_rate": "fail",
    "time_to_restore": "restore",
}
"""The four keys in a word, where a line holds all four."""
KEY_LABELS = {
    "deploy_frequency": "Deployment frequency",
    "lead_time": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "time_to_restore": "Time to restore",
}
"""The four keys as DORA names them, for a table of the four."""

ORDER = (
    "deploy_frequency",
    "lead_time",
    "change_failure_rate",
    "time_to_restore",
    "restore_main",
    "restore_service",
    "queue_wait",
    "builds_queued",
    "busiest_hours",
    "commits_per_build",
    "oldest_undeployed",
    "gate_hold",
    "retry_time",
    "stage_time",
)
"""The keys, in the order every format prints them."""

FOUR_KEYS = ("deploy_frequency", "lead_time", "change_failure_rate", "time_to_restore")


def show(value: float | None, unit: str) -> str:
    """A value in words for a person: ``2.3/day``, ``4h 10m``, ``12%``."""
    if value is None:
        return "unknown"
    if unit == "per_day":
        return f"{value:.2f}/day" if value >= 1 / 7 else f"{value * 7:.2f}/week"
    if unit == "share":
        return f"{value * 100:.0f}%"
    if unit in ("seconds", "seconds_per_week"):
        suffix = "/week" if unit == "seconds_per_week" else ""
        return duration(value) + suffix
    if unit == "builds_per_hour":
        return f"{value:.1f} builds/hour"
    if unit in ("builds", "commits"):
        return f"{value:.1f}" if unit != "builds" else f"{value:.0f}"
    return f"{value:g}"


def duration(seconds: float) -> str:
    """``45s``, ``12m 05s``, ``4h 10m``, ``2d 03h``: two units at most."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"
