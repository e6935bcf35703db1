"""GitLab CI: the pipelines on one ref of one or more projects, gitlab.com or self-managed.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers, ``source`` the poll
(pipelines, their lookups and test reports).
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.gitlab.config import GitLabSource

PROVIDER = Provider(
    "gitlab",
    GitLabSource,
    "buildradiator.sources.gitlab.source:GitLabCI",
    url_field="api_url",
    simulator="sim_gitlab",
)
