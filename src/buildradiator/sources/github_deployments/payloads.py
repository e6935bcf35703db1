"""GitHub's deployments, their statuses and the compare API: only the fields we read; everything
a server may null is optional."""

from __future__ import annotations

from pydantic import RootModel

from buildradiator.sources.base import Stamp
from buildradiator.sources.github.payloads import Actor, GitCommit
from buildradiator.sources.payload import Payload


class DeploymentPayload(Payload):
    id: int
    sha: str | None = None
    ref: str | None = None
    created_at: Stamp = None
    creator: Actor | None = None


class DeploymentList(RootModel[list[DeploymentPayload]]):
    pass


class StatusPayload(Payload):
    id: int | None = None
    state: str | None = None
    description: str | None = None
    environment_url: str | None = None
    log_url: str | None = None
    target_url: str | None = None
    created_at: Stamp = None


class StatusList(RootModel[list[StatusPayload]]):
    pass


class CompareCommit(Payload):
    commit: GitCommit | None = None


class ComparePayload(Payload):
    status: str | None = None
    ahead_by: int | None = None
    commits: list[CompareCommit] | None = None
