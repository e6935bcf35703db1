"""GitHub Actions' answers: only the fields we read; everything a server may null is optional.
``Actor`` and ``GitCommit`` are GitHub's user and commit, read by GitHub Deployments too."""

from __future__ import annotations

from buildradiator.sources.payload import Payload, Stamp, Text


class Actor(Payload):
    login: str | None = None


class GitUser(Payload):
    """A commit's author or committer (``git-user``); ``date`` where the answer has one."""

    name: Text = None
    date: Stamp = None


class GitCommit(Payload):
    """A commit as GitHub writes it in a run's ``head_commit`` and in a comparison's
    ``commits[].commit`` (GitHub Deployments reads the dates)."""

    message: Text = None
    author: GitUser | None = None
    committer: GitUser | None = None


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
    head_commit: GitCommit | None = None


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
