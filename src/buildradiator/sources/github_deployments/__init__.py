"""GitHub Deployments: per environment the latest deployment, its state, commit and drift.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers, ``source`` the poll.
It shares the API's version and web address with ``github``.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.github_deployments.config import GitHubDeploymentsSource

PROVIDER = Provider(
    "github_deployments",
    GitHubDeploymentsSource,
    "buildradiator.sources.github_deployments.source:GitHubDeployments",
    url_field="api_url",
    simulator="sim_github_deploy",
)
