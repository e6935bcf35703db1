"""The ``[[sources]]`` table of an HTTP health check."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from buildradiator.config.base import WebUrl
from buildradiator.sources.production import ProductionBase


class HealthSource(ProductionBase):
    """One plain HTTP health check."""

    type: Literal["health"]
    url: WebUrl
    environment: str = Field(default="prod", min_length=1, max_length=40)
    expected_status: list[int] = Field(default_factory=list)
    """HTTP codes that mean alive; default any 2xx or 3xx."""
    warn_latency_ms: float | None = Field(default=None, gt=0)
    """Answers slower than this are ``warn``."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers (the token, if any, goes in ``Authorization: Bearer``)."""
    body_field: str | None = Field(default=None, min_length=1, max_length=200)
    """A JSON field (dotted path, ``status`` or ``checks.db.status``) that must equal
    ``body_value`` for the service to be up."""
    body_value: str | None = None
    """What ``body_field`` must say (compared as text, case-insensitive)."""
    body_contains: str | None = Field(default=None, min_length=1, max_length=200)
    """A substring the body must contain for the service to be up."""

    @model_validator(mode="after")
    def _body_rule_whole(self) -> HealthSource:
        if (self.body_field is None) != (self.body_value is None):
            raise ValueError("give body_field and body_value together")
        return self
