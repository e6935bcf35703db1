"""One module per provider; ``make_source`` builds the right one for a config entry."""

from __future__ import annotations

import importlib
from typing import Any

from buildradiator.config.loading import SourceBase
from buildradiator.sources.base import Source
from buildradiator.sources.http import HttpClient

# type -> (module, class). Modules are imported only when a config uses them.
REGISTRY: dict[str, tuple[str, str]] = {
    "github": ("buildradiator.sources.github", "GitHubActions"),
    "cctray": ("buildradiator.sources.cctray", "CCTray"),
    "health": ("buildradiator.sources.health", "HealthCheck"),
    "gitlab": ("buildradiator.sources.gitlab", "GitLabCI"),
    "jenkins": ("buildradiator.sources.jenkins", "Jenkins"),
    "buildkite": ("buildradiator.sources.buildkite", "Buildkite"),
    "circleci": ("buildradiator.sources.circleci", "CircleCI"),
    "buildbot": ("buildradiator.sources.buildbot", "Buildbot"),
    "junit": ("buildradiator.sources.junit", "JUnitReports"),
    "alertmanager": ("buildradiator.sources.alertmanager", "Alertmanager"),
    "prometheus": ("buildradiator.sources.prometheus", "PrometheusQuery"),
    "argocd": ("buildradiator.sources.argocd", "ArgoCD"),
    "github_deployments": ("buildradiator.sources.github_deployments", "GitHubDeployments"),
    "blockers": ("buildradiator.sources.blockers", "ReleaseBlockers"),
    "radiator": ("buildradiator.sources.radiator", "RadiatorFeed"),
}


def make_source(config: SourceBase, http: HttpClient) -> Source[Any]:
    """The source object for one ``[[sources]]`` entry (imports its module lazily)."""
    kind = getattr(config, "type", None)
    if kind not in REGISTRY:
        raise ValueError(f"no source for type {kind!r}")
    module, name = REGISTRY[kind]
    cls = getattr(importlib.import_module(module), name)
    return cls(config, http)  # type: ignore[no-any-return]
