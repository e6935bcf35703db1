"""The ``[[sources]]`` table of a Prometheus query with thresholds."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from buildradiator.config.base import WebUrl
from buildradiator.sources.production import ProductionBase


class PrometheusSource(ProductionBase):
    """One Prometheus instant query with thresholds: ``error rate > 0.01`` is down."""

    type: Literal["prometheus"]
    url: WebUrl
    """The Prometheus root, e.g. ``https://prometheus.example.com`` (``/api/v1/query`` appended)."""
    query: str = Field(min_length=1, max_length=10_000)
    warn_above: float | None = None
    down_above: float | None = None
    warn_below: float | None = None
    down_below: float | None = None
    unit: str | None = Field(default=None, max_length=20)
    """Shown after the value: ``%``, ``ms``, ``req/s``."""
    label: str | None = Field(default=None, max_length=80)
    """What the check is called on screen (default: the source's name)."""
    username: str | None = None

    @model_validator(mode="after")
    def _some_threshold(self) -> PrometheusSource:
        if all(
            v is None for v in (self.warn_above, self.down_above, self.warn_below, self.down_below)
        ):
            raise ValueError("give a threshold: down_above, warn_above, down_below or warn_below")
        return self
