"""The ``[[sources]]`` table of Buildkite."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from buildradiator.config.base import SourceBase, WebUrl


class BuildkiteSource(SourceBase):
    """Buildkite pipelines of an organisation (REST v2)."""

    type: Literal["buildkite"]
    api_url: WebUrl = "https://api.buildkite.com"
    organization: str = Field(min_length=1)
    """The organisation slug."""
    pipelines: list[str] = Field(default_factory=list)
    """Pipeline slugs or glob patterns (``payments-*``); default: all of the organisation."""
    branch: str = "main"
    per_page: int = Field(default=20, ge=1, le=100)
    test_suites: dict[str, str] = Field(default_factory=dict)
    """Test Engine suites whose flaky tests count for a pipeline: ``{ suite-slug =
    "pipeline-slug" }`` (needs the ``read_suites`` scope)."""
