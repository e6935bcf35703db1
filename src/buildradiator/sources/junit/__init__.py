"""JUnit XML reports (files on disk, or CI artifacts by URL), fed to the flaky-test ranking: each
distinct report is one test run of a pipeline; the source shows no pipeline of its own.

``config`` holds its ``[[sources]]`` table, ``parse`` the hardened XML reader, ``source`` the poll.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.junit.config import JUnitSource

PROVIDER = Provider(
    "junit", JUnitSource, "buildradiator.sources.junit.source:JUnitReports", url_field=None
)
