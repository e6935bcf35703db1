"""The ``[[sources]]`` table of CircleCI."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from buildradiator.config.base import SourceBase, WebUrl, check_each

_VCS_ORG_REPO = re.compile(r"[\w.-]+/[\w.-]+/[\w.-]+")


class CircleCISource(SourceBase):
    """CircleCI (API v2) projects: pipelines on a branch, their workflows and jobs."""

    type: Literal["circleci"]
    api_url: WebUrl = "https://circleci.com"
    """The server root (``/api/v2`` is appended); a CircleCI server install's URL."""
    projects: list[str] = Field(min_length=1)
    """Project slugs: ``gh/org/repo``, ``bb/org/repo`` or ``circleci/ORG-ID/PROJECT-ID``."""
    branch: str = "main"
    flaky_tests: bool = True
    """Also read each project's flaky-tests insight (at most every ``flaky_every`` seconds)."""
    flaky_every: float = Field(default=600.0, ge=60.0, le=86400.0)
    stage_times: bool = False
    """Read the jobs of each workflow once it has finished (one request per workflow, once)
    for the build time per stage of ``buildradiator report``."""

    @field_validator("projects")
    @classmethod
    def _slugs(cls, value: list[str]) -> list[str]:
        return check_each(value, _VCS_ORG_REPO, "must look like vcs/org/repo, e.g. gh/acme/api")
