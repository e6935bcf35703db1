"""The ``[[sources]]`` table of a CCTray feed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from buildradiator.config.base import SourceBase, check_http_url


class CCTraySource(SourceBase):
    """A CCTray XML feed (Jenkins ccxml, GoCD, TeamCity, Buildkite's cc feed...)."""

    type: Literal["cctray"]
    url: str
    """The feed's URL, e.g. ``https://gocd.example.com/go/cctray.xml``."""
    username: str | None = None
    """For Basic auth; the password comes from token_env / token_file / token_command."""
    projects: list[str] = Field(default_factory=list)
    """Only these projects (glob patterns such as ``monolith*``); default: all."""

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))
