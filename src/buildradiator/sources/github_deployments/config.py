"""The ``[[sources]]`` table of GitHub Deployments."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from buildradiator.config.base import OWNER_NAME, WebUrl, check_shape
from buildradiator.sources.production import ProductionBase


class GitHubDeploymentsSource(ProductionBase):
    """GitHub Deployments: per environment the latest deployment, its state, commit and drift."""

    type: Literal["github_deployments"]
    api_url: WebUrl = "https://api.github.com"
    repo: str
    """``owner/name``."""
    environments: list[str] = Field(default_factory=lambda: ["production"], min_length=1)
    branch: str = "main"
    """Drift is counted from the deployed commit to the head of this branch (compare API)."""

    @field_validator("repo")
    @classmethod
    def _repo_shape(cls, value: str) -> str:
        return check_shape(value, OWNER_NAME, "must look like owner/name")
