"""Buildkite pipelines of an organisation (REST v2), and the flaky tests of its Test Engine suites.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers, ``builds`` its words
for builds and jobs, ``source`` the poll and its rate limits, ``testengine`` the suites' flakes.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.buildkite.config import BuildkiteSource

PROVIDER = Provider(
    "buildkite",
    BuildkiteSource,
    "buildradiator.sources.buildkite.source:Buildkite",
    url_field="api_url",
    simulator="sim_buildkite",
)
