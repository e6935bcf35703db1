"""The ``[[sources]]`` tables of production: alerts, queries, Argo CD, deployments, blockers.

They share ``service`` / ``environment`` (what the Production panel groups by) and ``pipeline``
(the key of the pipeline whose main branch this service ships, for drift and the release gate).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from buildradiator.config.base import SourceBase, check_http_url
from buildradiator.sources.production import ProductionBase

# Alertmanager's matcher syntax (as amtool and the v2 API's ``filter`` take it):
# ``label="value"``, ``label!="value"``, ``label=~"regex"``, ``label!~"regex"``; quotes optional.
MATCHER = re.compile(
    r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^"\s]*)\s*$'
)


class AlertmanagerSource(ProductionBase):
    """Prometheus Alertmanager (API v2): firing alerts, each tied to a service by a label."""

    type: Literal["alertmanager"]
    url: str
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

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))

    @field_validator("matchers")
    @classmethod
    def _matchers_shape(cls, value: list[str]) -> list[str]:
        for matcher in value:
            if not MATCHER.match(matcher):
                raise ValueError(f'{matcher!r} must look like label="value" (or !=, =~, !~)')
        return value


class PrometheusSource(ProductionBase):
    """One Prometheus instant query with thresholds: ``error rate > 0.01`` is down."""

    type: Literal["prometheus"]
    url: str
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

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))

    @model_validator(mode="after")
    def _some_threshold(self) -> PrometheusSource:
        if all(
            v is None for v in (self.warn_above, self.down_above, self.warn_below, self.down_below)
        ):
            raise ValueError("give a threshold: down_above, warn_above, down_below or warn_below")
        return self


class ArgoCDSource(ProductionBase):
    """Argo CD applications: health, sync, the revision deployed, a sync in progress or failed."""

    type: Literal["argocd"]
    url: str
    """The Argo CD server, e.g. ``https://argocd.example.com`` (``/api/v1`` appended)."""
    applications: list[str] = Field(default_factory=list)
    """Application names or glob patterns; default: all (of ``projects`` / ``selector``)."""
    projects: list[str] = Field(default_factory=list)
    selector: str | None = None
    """A label selector, e.g. ``team=checkout,tier!=batch``."""

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))


class GitHubDeploymentsSource(ProductionBase):
    """GitHub Deployments: per environment the latest deployment, its state, commit and drift."""

    type: Literal["github_deployments"]
    api_url: str = "https://api.github.com"
    repo: str
    """``owner/name``."""
    environments: list[str] = Field(default_factory=lambda: ["production"], min_length=1)
    branch: str = "main"
    """Drift is counted from the deployed commit to the head of this branch (compare API)."""

    _check_api = field_validator("api_url")(classmethod(lambda cls, v: check_http_url(v)))

    @field_validator("repo")
    @classmethod
    def _repo_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
            raise ValueError("must look like owner/name")
        return value


class BlockersSource(SourceBase):
    """Release blockers: open issues with a label (GitHub, GitLab) or matching a JQL (Jira)."""

    type: Literal["blockers"]
    provider: Literal["github", "gitlab", "jira"]
    url: str | None = None
    """The API base: ``https://api.github.com`` (default for github), ``https://gitlab.com/api/v4``
    (default for gitlab), or the Jira site ``https://acme.atlassian.net`` (required)."""
    repo: str | None = None
    """GitHub: ``owner/name``."""
    project: str | None = None
    """GitLab: a project id or path."""
    labels: list[str] = Field(default_factory=lambda: ["release-blocker"])
    """GitHub/GitLab: issues carrying all of these labels block the release."""
    jql: str | None = None
    """Jira: the query, e.g. ``project = SHOP AND labels = release-blocker AND statusCategory != Done``."""
    username: str | None = None
    """Jira Cloud: the account e-mail (Basic auth with the API token)."""

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    @model_validator(mode="after")
    def _what_to_ask(self) -> BlockersSource:
        if self.provider == "github" and not self.repo:
            raise ValueError('provider "github" needs repo = "owner/name"')
        if self.provider == "gitlab" and not self.project:
            raise ValueError('provider "gitlab" needs project = "group/name" (or an id)')
        if self.provider == "jira" and not (self.url and self.jql):
            raise ValueError('provider "jira" needs url = "https://SITE" and jql = "..."')
        return self

    @property
    def api_base(self) -> str:
        if self.url:
            return self.url
        return (
            "https://gitlab.com/api/v4" if self.provider == "gitlab" else "https://api.github.com"
        )
