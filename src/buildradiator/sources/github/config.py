"""The ``[[sources]]`` table of GitHub Actions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from buildradiator.config.base import (
    OWNER_NAME,
    SourceBase,
    WebUrl,
    check_each,
    check_shape,
)


class GitHubSource(SourceBase):
    """GitHub Actions: workflow runs on a branch of one or more repositories."""

    type: Literal["github"]
    api_url: WebUrl = "https://api.github.com"
    """The API base; GitHub Enterprise Server: ``https://HOST/api/v3``."""
    repo: str | None = None
    """``owner/name``."""
    repos: list[str] = Field(default_factory=list)
    """Several repositories at once, each ``owner/name``."""
    branch: str = "main"
    branches: list[str] = Field(default_factory=list)
    """More branches to watch besides ``branch``, as glob patterns (``release/*``)."""
    workflow: str | None = None
    """A workflow file name (``ci.yml``) or id; default: all workflows of the repository."""
    workflows: list[str] = Field(default_factory=list)
    """Several workflows (file names or ids); default: all. ``workflow`` adds one more."""
    per_page: int = Field(default=20, ge=1, le=100)
    """How many recent runs to read per repository."""
    stage_times: bool = False
    """Read the jobs of each run once it has finished (one request per run, once) for the
    build time per stage of ``buildradiator report``. Off by default: it spends REST quota."""
    batch: Literal["auto", "graphql", "rest"] = "auto"
    """How to learn which repositories changed: ``graphql`` asks about a hundred at once and
    reads only the changed ones over REST (it needs a token); ``rest`` reads every repository
    every poll; ``auto`` (default) takes GraphQL from ``BATCH_FROM`` repositories up, when a
    token is set and no ``branches`` patterns are watched."""

    @field_validator("repo")
    @classmethod
    def _repo_shape(cls, value: str | None) -> str | None:
        return (
            None if value is None else check_shape(value, OWNER_NAME, "must look like owner/name")
        )

    @field_validator("repos")
    @classmethod
    def _repos_shape(cls, value: list[str]) -> list[str]:
        return check_each(value, OWNER_NAME, "must look like owner/name")

    @model_validator(mode="after")
    def _some_repo(self) -> GitHubSource:
        if not self.repo and not self.repos:
            raise ValueError('name a repository with repo = "owner/name" (or repos = [...])')
        return self

    @property
    def all_repos(self) -> list[str]:
        return ([self.repo] if self.repo else []) + [r for r in self.repos if r != self.repo]
