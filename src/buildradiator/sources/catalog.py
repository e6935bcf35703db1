"""Every provider, one line each; all else about providers is derived from these declarations.

A provider declares itself once, as ``PROVIDER`` in ``sources/<provider>/__init__.py``. From the
list below come ``REGISTRY``/``make_source`` (a config entry's source object), ``SOURCE_TYPES``
and ``SourceConfig`` (the config models and their discriminated union, which the config loader
validates ``[[sources]]`` tables with), ``url_of`` (the server a config talks to) and, outside
this package, the simulator's provider list and the fault matrix's types. Importing this module
imports each provider's config model, never its source (that waits for ``make_source``).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field

from buildradiator.config.base import SourceBase
from buildradiator.sources import azure, cctray, github, health
from buildradiator.sources.base import Provider, Source
from buildradiator.sources.configs import (
    BuildbotSource,
    BuildkiteSource,
    CircleCISource,
    GitLabSource,
    JenkinsSource,
    JUnitSource,
    RadiatorFeedSource,
)
from buildradiator.sources.http import HttpClient
from buildradiator.sources.prodconfigs import (
    AlertmanagerSource,
    ArgoCDSource,
    BlockersSource,
    GitHubDeploymentsSource,
    PrometheusSource,
)

_S = "buildradiator.sources."

PROVIDERS: tuple[Provider, ...] = (
    github.PROVIDER,
    cctray.PROVIDER,
    health.PROVIDER,
    Provider("gitlab", GitLabSource, _S + "gitlab:GitLabCI", "api_url", "sim_gitlab"),
    Provider("jenkins", JenkinsSource, _S + "jenkins:Jenkins", simulator="sim_jenkins"),
    Provider("buildkite", BuildkiteSource, _S + "buildkite:Buildkite", "api_url", "sim_buildkite"),
    Provider("circleci", CircleCISource, _S + "circleci:CircleCI", "api_url", "sim_circleci"),
    Provider("buildbot", BuildbotSource, _S + "buildbot:Buildbot", simulator="sim_buildbot"),
    Provider("junit", JUnitSource, _S + "junit:JUnitReports", url_field=None),
    Provider(
        "alertmanager",
        AlertmanagerSource,
        _S + "alertmanager:Alertmanager",
        simulator="sim_alertmanager",
    ),
    Provider(
        "prometheus",
        PrometheusSource,
        _S + "prometheus:PrometheusQuery",
        simulator="sim_prometheus",
    ),
    Provider("argocd", ArgoCDSource, _S + "argocd:ArgoCD", simulator="sim_argocd"),
    Provider(
        "github_deployments",
        GitHubDeploymentsSource,
        _S + "github_deployments:GitHubDeployments",
        "api_url",
        "sim_github_deploy",
    ),
    Provider(
        "blockers", BlockersSource, _S + "blockers:ReleaseBlockers", "api_base", "sim_tracker"
    ),
    Provider("radiator", RadiatorFeedSource, _S + "radiator:RadiatorFeed"),
    azure.PROVIDER,
)
"""In the order ``check``, the demo and the docs list them."""

BY_TYPE: dict[str, Provider] = {p.type: p for p in PROVIDERS}
SOURCE_TYPES: dict[str, type[SourceBase]] = {p.type: p.config for p in PROVIDERS}
"""Each ``type`` and its config model."""
PLANNED_TYPES: frozenset[str] = frozenset()
"""Types a later version will read (``check`` says "not supported yet" rather than "unknown")."""
REGISTRY: dict[str, str] = {p.type: p.source for p in PROVIDERS}
"""Each ``type`` and its source class (``module:Class``)."""

# The discriminated union of every config model: built from the declarations, so no list of
# models is written twice. (A run-time type: mypy sees ``Any``.)
SourceConfig: Any = Annotated[
    Union[tuple(p.config for p in PROVIDERS)],  # noqa: UP007
    Field(discriminator="type"),
]


def provider_of(config: SourceBase) -> Provider | None:
    """The declaration of a config's type (``None`` for a type no provider declares)."""
    return BY_TYPE.get(str(getattr(config, "type", "")))


def url_of(config: SourceBase) -> str:
    """The server a source config talks to (its provider's ``url_field``), ``""`` if none."""
    provider = provider_of(config)
    return provider.url_of(config) if provider else ""


def make_source(config: SourceBase, http: HttpClient) -> Source[Any]:
    """The source object for one ``[[sources]]`` entry (imports its module lazily)."""
    provider = provider_of(config)
    if provider is None:
        raise ValueError(f"no source for type {getattr(config, 'type', None)!r}")
    return provider.load()(config, http)
