"""CircleCI (API v2): the pipelines of projects on a branch, their workflows and jobs, and each
project's flaky-tests insight.

A CircleCI pipeline's ``state`` says whether its config was processed, not whether it passed: the
result lives in its workflows. So a row is one (project, workflow name): a project usually runs
several workflows (``build-test``, ``deploy``, ``nightly``) that pass and fail on their own, and the
web UI shows them apart; one row per project would hide which one is red and mix their durations
into one ETA. A pipeline whose config did not even compile (``state: errored``) has no workflow: it
counts as a failed build in every row of its project, since none of them ran on that commit.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers, ``builds`` its words
for workflows and jobs, ``source`` the poll, ``flaky`` the insight.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.circleci.config import CircleCISource

PROVIDER = Provider(
    "circleci",
    CircleCISource,
    "buildradiator.sources.circleci.source:CircleCI",
    url_field="api_url",
    simulator="sim_circleci",
)
