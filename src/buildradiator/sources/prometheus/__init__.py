"""One Prometheus instant query with thresholds: ``error rate > 0.01`` is down.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answer, ``judge`` the
thresholds, ``source`` the poll.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.prometheus.config import PrometheusSource

PROVIDER = Provider(
    "prometheus",
    PrometheusSource,
    "buildradiator.sources.prometheus.source:PrometheusQuery",
    simulator="sim_prometheus",
)
