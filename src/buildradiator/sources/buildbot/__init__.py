"""Buildbot (REST API v2): builders, their finished and running builds, and the requests waiting.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers, ``builds`` its words
for builds and what a build tells, ``source`` the poll.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.buildbot.config import BuildbotSource

PROVIDER = Provider(
    "buildbot",
    BuildbotSource,
    "buildradiator.sources.buildbot.source:Buildbot",
    simulator="sim_buildbot",
)
