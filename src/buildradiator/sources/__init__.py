"""One module per provider; ``make_source`` builds the right one for a config entry."""

from __future__ import annotations

from typing import Any

from buildradiator.config import SourceBase
from buildradiator.http import HttpClient
from buildradiator.sources.base import Source


def make_source(config: SourceBase, http: HttpClient) -> Source[Any]:
    """The source object for one ``[[sources]]`` entry (imports its module lazily)."""
    kind = getattr(config, "type", None)
    if kind == "github":
        from buildradiator.sources.github import GitHubActions

        return GitHubActions(config, http)  # type: ignore[arg-type]
    if kind == "cctray":
        from buildradiator.sources.cctray import CCTray

        return CCTray(config, http)  # type: ignore[arg-type]
    if kind == "health":
        from buildradiator.sources.health import HealthCheck

        return HealthCheck(config, http)  # type: ignore[arg-type]
    raise ValueError(f"no source for type {kind!r}")
