"""What every family of ``/metrics`` shares: the name prefix, and a gauge that cleans its label
values (text from CI) and keeps the first of repeated label sets (Prometheus would reject the
whole scrape for a repeat)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from prometheus_client.metrics_core import GaugeMetricFamily

from buildradiator.text import clean_text

PREFIX = "buildradiator_"
MAX_LABEL = 200


class Gauge:
    """A gauge family that cleans its label values and drops repeated label sets."""

    def __init__(self, name: str, doc: str, labels: Sequence[str] = ()) -> None:
        self.metric = GaugeMetricFamily(PREFIX + name, doc, labels=labels)
        self._seen: set[tuple[str, ...]] = set()

    def add(self, labels: Sequence[str | None], value: float | None) -> None:
        if value is None:
            return
        clean = tuple(label(v) for v in labels)
        if clean not in self._seen:
            self._seen.add(clean)
            self.metric.add_metric(clean, float(value))


def label(value: str | None) -> str:
    return clean_text(value or "", MAX_LABEL)


def flag(value: bool) -> float:
    return 1.0 if value else 0.0


def timestamp(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None
