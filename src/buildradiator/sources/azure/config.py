"""The ``[[sources]]`` table of Azure Pipelines."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from buildradiator.config.base import SourceBase, check_http_url


class AzureSource(SourceBase):
    """Azure Pipelines (Azure DevOps Services or Server): builds of chosen definitions on a
    branch of one project. The token is a personal access token with the Build (Read) scope,
    sent over Basic auth with an empty user name."""

    type: Literal["azure"]
    url: str
    """The organisation, ``https://dev.azure.com/ORG`` (or ``https://ORG.visualstudio.com``);
    on Azure DevOps Server the collection, ``https://HOST/tfs/DefaultCollection``."""
    project: str = Field(min_length=1, max_length=64)
    """The project's name (or id)."""
    definitions: list[int] = Field(min_length=1, max_length=50)
    """Ids of the pipeline definitions to watch (``definitionId=`` in a pipeline's URL)."""
    branch: str = Field(default="main", min_length=1)
    """A branch name (``main``), a full ref (``refs/heads/main``) or a TFVC path (``$/P/Main``)."""
    builds: int = Field(default=10, ge=1, le=50)
    """How many recent builds to read per definition."""
    api_version: str = Field(default="7.1", pattern=r"^\d{1,2}\.\d{1,2}(-preview(\.\d{1,2})?)?$")
    """The REST API version asked for. Azure DevOps Services and Server 2022.1 speak 7.1; an
    older Server answers 400 to it: Server 2022 wants ``7.0``, 2020 ``6.0``, 2019 ``5.0``."""

    @field_validator("url")
    @classmethod
    def _organisation_url(cls, value: str) -> str:
        value = check_http_url(value)
        split = urlsplit(value)
        if split.hostname == "dev.azure.com" and not split.path.strip("/"):
            raise ValueError("name the organisation: https://dev.azure.com/ORG")
        return value

    @field_validator("definitions")
    @classmethod
    def _definition_ids(cls, value: list[int]) -> list[int]:
        for definition in value:
            if definition < 1:
                raise ValueError(f"{definition} is no definition id (they start at 1)")
        return list(dict.fromkeys(value))
