"""The ``[[sources]]`` table of Alertmanager, and the matcher syntax it accepts."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from buildradiator.config.base import WebUrl, check_each
from buildradiator.sources.production import ProductionBase

# Alertmanager's matcher syntax (as amtool and the v2 API's ``filter`` take it):
# ``label="value"``, ``label!="value"``, ``label=~"regex"``, ``label!~"regex"``; quotes optional.
MATCHER = re.compile(
    r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^"\s]*)\s*$'
)


class AlertmanagerSource(ProductionBase):
    """Prometheus Alertmanager (API v2): firing alerts, each tied to a service by a label."""

    type: Literal["alertmanager"]
    url: WebUrl
    """The Alertmanager root, e.g. ``https://alertmanager.example.com`` (``/api/v2`` appended)."""
    matchers: list[str] = Field(default_factory=list)
    """Label matchers, all of which an alert must match: ``severity="critical"``,
    ``team=~"checkout|payments"``."""
    service_label: str = "service"
    """The label that names an alert's service; an alert without it is shown under ``service``
    (or "no service label")."""
    environment_label: str = "env"
    """The label that names an alert's environment, if present."""
    down_severities: list[str] = Field(default_factory=lambda: ["critical", "page"])
    """Severities that mean the service is down (and hold the release); others are ``warn``."""
    muted: Literal["show", "hide"] = "show"
    """Silenced and inhibited alerts: ``show`` them apart (dim, never counted), or ``hide``."""
    username: str | None = None
    """Basic auth user (a proxy in front); the password is the token. Without it, a token
    goes as ``Authorization: Bearer``."""

    @field_validator("matchers")
    @classmethod
    def _matchers_shape(cls, value: list[str]) -> list[str]:
        return check_each(value, MATCHER, 'must look like label="value" (or !=, =~, !~)')
