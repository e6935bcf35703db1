"""The ``[[sources]]`` table of release blockers (GitHub, GitLab or Jira)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from buildradiator.config.base import SourceBase, WebUrl


class BlockersSource(SourceBase):
    """Release blockers: open issues with a label (GitHub, GitLab) or matching a JQL (Jira)."""

    type: Literal["blockers"]
    provider: Literal["github", "gitlab", "jira"]
    url: WebUrl | None = None
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
