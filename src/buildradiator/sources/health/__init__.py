"""One plain HTTP health check: the answer's code, body and latency say whether a service is up.

``config`` holds its ``[[sources]]`` table, ``source`` the check and its verdict.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.health.config import HealthSource

PROVIDER = Provider("health", HealthSource, "buildradiator.sources.health.source:HealthCheck")
