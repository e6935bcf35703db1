"""Prometheus Alertmanager (API v2): the firing alerts, each tied to a service by a label.

``config`` holds its ``[[sources]]`` table and the matcher syntax, ``payloads`` the API's
answers, ``source`` the poll.
"""

from __future__ import annotations

from buildradiator.sources.alertmanager.config import AlertmanagerSource
from buildradiator.sources.base import Provider

PROVIDER = Provider(
    "alertmanager",
    AlertmanagerSource,
    "buildradiator.sources.alertmanager.source:Alertmanager",
    simulator="sim_alertmanager",
)
