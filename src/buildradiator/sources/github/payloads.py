"""GitHub Actions' answers: only the fields we read; everything a server may null is optional."""

from __future__ import annotations

from buildradiator.sources.payload import Payload, Stamp


class Actor(Payload):
    login: str | None = None


class CommitAuthor(Payload):
    name: str | None = None


class HeadCommit(Payload):
    message: str | None = None
    author: CommitAuthor | None = None


class RunPayload(Payload):
    id: int
    name: str | None = None
    path: str | None = None
    workflow_id: int | None = None
    head_branch: str | None = None
    head_sha: str | None = None
    run_number: int | None = None
    run_attempt: int | None = None
    display_title: str | None = None
    status: str | None = None
    conclusion: str | None = None
    html_url: str | None = None
    created_at: Stamp = None
    updated_at: Stamp = None
    run_started_at: Stamp = None
    actor: Actor | None = None
    head_commit: HeadCommit | None = None


class RunsPage(Payload):
    workflow_runs: list[RunPayload]


class StepPayload(Payload):
    name: str | None = None
    status: str | None = None


class JobPayload(Payload):
    name: str | None = None
    status: str | None = None
    conclusion: str | None = None
    started_at: Stamp = None
    completed_at: Stamp = None
    steps: list[StepPayload] | None = None


class JobsPage(Payload):
    jobs: list[JobPayload]
