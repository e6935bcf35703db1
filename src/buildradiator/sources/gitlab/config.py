"""The ``[[sources]]`` table of GitLab CI."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from buildradiator.config.base import SourceBase, WebUrl


class GitLabSource(SourceBase):
    """GitLab CI pipelines on a ref, gitlab.com or self-managed."""

    type: Literal["gitlab"]
    api_url: WebUrl = "https://gitlab.com/api/v4"
    """The API base of a self-managed server: ``https://gitlab.example.com/api/v4``."""
    project: str | None = None
    """A project id (``1234``) or path (``group/subgroup/project``)."""
    projects: list[str] = Field(default_factory=list)
    branch: str = "main"
    """The ref whose pipelines are watched."""
    per_page: int = Field(default=20, ge=1, le=100)

    @model_validator(mode="after")
    def _some_project(self) -> GitLabSource:
        if not self.project and not self.projects:
            raise ValueError('name a project with project = "group/name" (or projects = [...])')
        return self

    @property
    def all_projects(self) -> list[str]:
        head = [self.project] if self.project else []
        return head + [p for p in self.projects if p != self.project]
