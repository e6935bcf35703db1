"""CCTray XML feeds (Jenkins ccxml, GoCD, TeamCity, Buildkite's cc feed...): one pipeline per
project, its last build and whether one is running.

``config`` holds its ``[[sources]]`` table, ``source`` the forgiving parser and the poll.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.cctray.config import CCTraySource

PROVIDER = Provider("cctray", CCTraySource, "buildradiator.sources.cctray.source:CCTray")
