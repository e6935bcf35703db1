"""Every provider, one line each; all else about providers is derived from these declarations.

A provider declares itself once, as ``PROVIDER`` in ``sources/<provider>/__init__.py``. From the
list below come ``REGISTRY``/``make_source`` (a config entry's source object), ``SOURCE_TYPES``
and ``TYPES`` (the config models, whose discriminated union the config loader validates
``[[sources]]`` tables with: ``parse_config``/``load_config`` here pass it in), ``url_of`` (the
server a config talks to) and, outside this package, the simulator's provider list and the fault
matrix's types. Importing this module imports each provider's config model, never its source
(that waits for ``make_source``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from buildradiator.config import loading
from buildradiator.config.base import SourceBase
from buildradiator.config.loading import Config, SourceTypes
from buildradiator.sources import (
    alertmanager,
    argocd,
    blockers,
    buildbot,
    buildkite,
    cctray,
    circleci,
    github,
    github_deployments,
    gitlab,
    health,
    jenkins,
    junit,
    prometheus,
    radiator,
)
from buildradiator.sources.base import Provider, Source
from buildradiator.sources.http import HttpClient

PROVIDERS: tuple[Provider, ...] = (
    github.PROVIDER,
    cctray.PROVIDER,
    health.PROVIDER,
    gitlab.PROVIDER,
    jenkins.PROVIDER,
    buildkite.PROVIDER,
    circleci.PROVIDER,
    buildbot.PROVIDER,
    junit.PROVIDER,
    alertmanager.PROVIDER,
    prometheus.PROVIDER,
    argocd.PROVIDER,
    github_deployments.PROVIDER,
    blockers.PROVIDER,
    radiator.PROVIDER,
)
"""In the order ``check``, the demo and the docs list them."""

BY_TYPE: dict[str, Provider] = {p.type: p for p in PROVIDERS}
SOURCE_TYPES: dict[str, type[SourceBase]] = {p.type: p.config for p in PROVIDERS}
"""Each ``type`` and its config model."""
PLANNED_TYPES: frozenset[str] = frozenset()
"""Types a later version will read (``check`` says "not supported yet" rather than "unknown")."""
TYPES = SourceTypes(SOURCE_TYPES, PLANNED_TYPES)
"""What the config loader validates ``[[sources]]`` tables against."""
REGISTRY: dict[str, str] = {p.type: p.source for p in PROVIDERS}
"""Each ``type`` and its source class (``module:Class``)."""


def parse_config(text: str, shown: str = "<config>", *, resolve_secrets: bool = True) -> Config:
    """``config.loading.parse_config`` with every declared provider's ``[[sources]]`` type."""
    return loading.parse_config(text, shown, types=TYPES, resolve_secrets=resolve_secrets)


def load_config(path: Path, *, resolve_secrets: bool = True) -> Config:
    """``config.loading.load_config`` with every declared provider's ``[[sources]]`` type."""
    return loading.load_config(path, types=TYPES, resolve_secrets=resolve_secrets)


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
