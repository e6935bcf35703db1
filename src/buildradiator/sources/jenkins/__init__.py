"""Jenkins: jobs by name, jobs in folders, and the branches of multibranch jobs.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers, ``builds`` how one
build is read (causes, rebuilds, times), ``source`` the poll and its test reports.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.jenkins.config import JenkinsSource

PROVIDER = Provider(
    "jenkins",
    JenkinsSource,
    "buildradiator.sources.jenkins.source:Jenkins",
    simulator="sim_jenkins",
)
