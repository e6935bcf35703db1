"""The ``[[sources]]`` table of Bitbucket Pipelines (Bitbucket Cloud)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from buildradiator.config.base import SourceBase, WebUrl, check_each, check_shape

_SLUG = re.compile(r"[\w.-]+")


class BitbucketSource(SourceBase):
    """Bitbucket Pipelines: the pipelines on a branch of repositories of one workspace.

    The token is an access token (repository, project or workspace; scope ``pipeline``, read),
    sent as ``Bearer``; with ``username`` it is an app password (or an API token) sent with
    Basic auth.
    """

    type: Literal["bitbucket"]
    api_url: WebUrl = "https://api.bitbucket.org/2.0"
    """The API base."""
    workspace: str = Field(min_length=1)
    """The workspace slug (``acme`` in ``bitbucket.org/acme/web-portal``)."""
    repositories: list[str] = Field(min_length=1)
    """Repository slugs in the workspace: ``["web-portal", "billing"]``."""
    branch: str = "main"
    pagelen: int = Field(default=20, ge=1, le=100)
    """How many recent pipelines to read per repository."""
    username: str | None = None
    """For an app password or an API token (Basic auth); leave out for an access token."""
    web_url: WebUrl | None = None
    """Where the repositories' pages are: default ``https://bitbucket.org`` for the cloud API."""

    @field_validator("workspace")
    @classmethod
    def _workspace_shape(cls, value: str) -> str:
        return check_shape(value, _SLUG, "must be the workspace slug, e.g. acme")

    @field_validator("repositories")
    @classmethod
    def _repository_shape(cls, value: list[str]) -> list[str]:
        return list(
            dict.fromkeys(check_each(value, _SLUG, "must be a repository slug, e.g. web-portal"))
        )
