"""What every production source's ``[[sources]]`` table shares (health, alerts, queries, Argo CD,
deployments): ``service`` / ``environment`` (what the Production panel groups by) and
``pipeline`` (the key of the pipeline whose main branch this service ships, for drift and the
release gate).
"""

from __future__ import annotations

from pydantic import Field

from buildradiator.config.base import SourceBase


class ProductionBase(SourceBase):
    """Keys every production source has besides the common ones."""

    service: str | None = Field(default=None, min_length=1, max_length=80)
    """The service its checks belong to on the Production panel (default: per source, below)."""
    environment: str | None = Field(default=None, min_length=1, max_length=40)
    """The environment (``prod``, ``staging``); default: ``prod``, or what the source says."""
    pipeline: str | None = Field(default=None, min_length=1, max_length=200)
    """The key of the pipeline that builds this service's main (``acme/shop``), so drift can be
    counted from history and a red main holds this service's release."""
