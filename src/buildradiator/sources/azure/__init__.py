"""Azure Pipelines (Azure DevOps Services and Server): builds of chosen definitions on a branch.

``config`` holds its ``[[sources]]`` table, ``payloads`` the Build REST API's answers, ``parse``
the pure functions that turn them into the model, ``source`` the poll.
"""

from __future__ import annotations

from buildradiator.sources.azure.config import AzureSource
from buildradiator.sources.base import Provider

PROVIDER = Provider(
    "azure", AzureSource, "buildradiator.sources.azure.source:AzurePipelines", simulator="sim_azure"
)
