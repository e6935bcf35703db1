"""The delivery measures on ``/metrics`` (``Snapshot.delivery``, history's), so Prometheus keeps
their long history and Grafana draws them:

- one family per measure, its unit in its name: ``buildradiator_delivery_deploy_frequency_per_day``,
  ``..._lead_time_seconds`` (the median) and ``..._lead_time_p90_seconds``,
  ``..._change_failure_rate_ratio``, ``..._time_to_restore_seconds``, ``..._queue_wait_seconds``,
  ``..._gate_hold_seconds_per_week``, ``..._commits_per_build``..., labelled ``scope``
  (``estate``, ``service/environment`` or a pipeline) and ``window_days`` (7, 30; 0 for now);
- ``buildradiator_delivery_band{measure,scope,window_days,band}``: 1 for the DORA band the value
  is in and 0 for the three others (enum-style, as every state here);
- ``buildradiator_delivery_computed_timestamp_seconds``: when history last computed them.

An unknown value is left out, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from buildradiator.export.gauges import Gauge, timestamp
from buildradiator.model import Snapshot
from buildradiator.model.facts import BAND_RANK
from buildradiator.rules.delivery_words import LABELS

SUFFIX = {
    "per_day": "_per_day",
    "seconds": "_seconds",
    "seconds_per_week": "_seconds_per_week",
    "share": "_ratio",
    "builds_per_hour": "_builds_per_hour",
}
"""The unit in a family's name; a count (builds, commits) needs none."""
_IDS = ("scope", "window_days")


def family_name(key: str, unit: str, p90: bool = False) -> str:
    suffix = SUFFIX.get(unit, "")
    if key.endswith(suffix.lstrip("_")):  # commits_per_build is already its unit
        suffix = ""
    return f"delivery_{key}{'_p90' if p90 else ''}{suffix}"


def delivery_metrics(snapshot: Snapshot) -> Iterable[Metric]:
    families: dict[str, Gauge] = {}

    def gauge(name: str, doc: str, labels: tuple[str, ...] = _IDS) -> Gauge:
        if name not in families:
            families[name] = Gauge(name, doc, labels)
        return families[name]

    band = gauge(
        "delivery_band",
        "1 for the DORA band a delivery measure is in, 0 for the others.",
        ("measure", "scope", "window_days", "band"),
    )
    for f in snapshot.delivery:
        words = LABELS.get(f.key, f.key)
        ids = (f.scope, str(f.window_days))
        gauge(family_name(f.key, f.unit), f"{words} ({f.unit}).").add(ids, f.value)
        if f.p90 is not None:
            doc = f"{words}, 90th percentile ({f.unit})."
            gauge(family_name(f.key, f.unit, p90=True), doc).add(ids, f.p90)
        if f.band is not None:
            for name in BAND_RANK:
                band.add((f.key, *ids, name), 1.0 if name == f.band else 0.0)
    computed = gauge(
        "delivery_computed_timestamp_seconds",
        "When history last computed the delivery measures.",
        (),
    )
    computed.add((), timestamp(snapshot.delivery_at))
    return [g.metric for g in families.values()]
