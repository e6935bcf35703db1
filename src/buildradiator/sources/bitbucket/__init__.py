"""Bitbucket Pipelines (Bitbucket Cloud): the pipelines on a branch of one or more repositories.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers, ``parse`` the pure
reading of them into builds, ``source`` the poll on the shared request path.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.bitbucket.config import BitbucketSource

PROVIDER = Provider(
    "bitbucket",
    BitbucketSource,
    "buildradiator.sources.bitbucket.source:BitbucketPipelines",
    url_field="api_url",
    simulator="sim_bitbucket",
)
