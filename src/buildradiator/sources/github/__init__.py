"""GitHub Actions: workflow runs on branches of one or more repositories.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers, ``source`` the poll.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.github.config import GitHubSource

PROVIDER = Provider(
    "github", GitHubSource, "buildradiator.sources.github.source:GitHubActions", url_field="api_url"
)
