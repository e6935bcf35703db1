"""The ``[[sources]]`` table of Buildbot."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from buildradiator.config.base import SourceBase, WebUrl


class BuildbotSource(SourceBase):
    """Buildbot (REST API v2) builders and their builds."""

    type: Literal["buildbot"]
    url: WebUrl
    """The Buildbot root, e.g. ``https://buildbot.example.com`` (``/api/v2`` is appended)."""
    builders: list[str] = Field(default_factory=list)
    """Builder names or glob patterns; default: all builders (or those with ``tags``)."""
    tags: list[str] = Field(default_factory=list)
    """Only builders carrying one of these tags."""
    branch: str | None = None
    """Only builds whose ``branch`` property is this; default: any branch."""
    builds: int = Field(default=10, ge=1, le=100)
