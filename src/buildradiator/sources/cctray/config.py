"""The ``[[sources]]`` table of a CCTray feed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from buildradiator.config.base import SourceBase, WebUrl


class CCTraySource(SourceBase):
    """A CCTray XML feed (Jenkins ccxml, GoCD, TeamCity, Buildkite's cc feed...)."""

    type: Literal["cctray"]
    url: WebUrl
    """The feed's URL, e.g. ``https://gocd.example.com/go/cctray.xml``."""
    username: str | None = None
    """For Basic auth; the password comes from token_env / token_file / token_command."""
    projects: list[str] = Field(default_factory=list)
    """Only these projects (glob patterns such as ``monolith*``); default: all."""
