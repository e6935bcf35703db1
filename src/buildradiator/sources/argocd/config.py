"""The ``[[sources]]`` table of Argo CD."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from buildradiator.config.base import WebUrl
from buildradiator.sources.production import ProductionBase


class ArgoCDSource(ProductionBase):
    """Argo CD applications: health, sync, the revision deployed, a sync in progress or failed."""

    type: Literal["argocd"]
    url: WebUrl
    """The Argo CD server, e.g. ``https://argocd.example.com`` (``/api/v1`` appended)."""
    applications: list[str] = Field(default_factory=list)
    """Application names or glob patterns; default: all (of ``projects`` / ``selector``)."""
    projects: list[str] = Field(default_factory=list)
    selector: str | None = None
    """A label selector, e.g. ``team=checkout,tier!=batch``."""
