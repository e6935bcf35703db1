"""The ``[[sources]]`` table of Jenkins."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from buildradiator.config.base import SourceBase, WebUrl


class JenkinsSource(SourceBase):
    """Jenkins jobs by name, in folders, and branches of multibranch jobs."""

    type: Literal["jenkins"]
    url: WebUrl
    """The Jenkins root, e.g. ``https://jenkins.example.com`` (or ``.../jenkins``)."""
    jobs: list[str] = Field(min_length=1)
    """Job paths: ``monolith``, ``team/folder/job``; a multibranch job's branch:
    ``shop/main`` (the branch is the last part; ``feature%2Fx`` for a slash in it)."""
    username: str | None = None
    """Basic auth user; the API token comes from token_env / token_file / token_command."""
    builds: int = Field(default=10, ge=1, le=100)
    """How many recent builds to read per job (one request per job using ``tree=``)."""
