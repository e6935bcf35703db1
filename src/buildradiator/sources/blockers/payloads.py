"""The trackers' answers: GitHub and GitLab issues, Jira searches (Cloud and Data Center); only
the fields we read."""

from __future__ import annotations

from typing import Any

from pydantic import RootModel

from buildradiator.sources.base import Stamp
from buildradiator.sources.payload import Payload


class GitHubUser(Payload):
    login: str | None = None


class GitHubIssue(Payload):
    number: int
    title: str | None = None
    html_url: str | None = None
    created_at: Stamp = None
    user: GitHubUser | None = None
    pull_request: dict[str, Any] | None = None
    """Only pull requests carry this key (its value may in theory be null: the key decides)."""


class GitHubIssues(RootModel[list[GitHubIssue]]):
    pass


class GitLabUser(Payload):
    username: str | None = None


class GitLabIssue(Payload):
    iid: int
    title: str | None = None
    web_url: str | None = None
    created_at: Stamp = None
    author: GitLabUser | None = None


class GitLabIssues(RootModel[list[GitLabIssue]]):
    pass


class JiraUser(Payload):
    displayName: str | None = None


class JiraFields(Payload):
    summary: str | None = None
    created: Stamp = None
    reporter: JiraUser | None = None


class JiraIssue(Payload):
    key: str
    fields: JiraFields | None = None


class JiraCloudPage(Payload):
    """``/rest/api/3/search/jql``: ``nextPageToken`` is absent (not null) on the last page."""

    issues: list[JiraIssue] = []
    nextPageToken: str | None = None
    isLast: bool | None = None


class JiraServerPage(Payload):
    """``/rest/api/2/search`` (Data Center, Server): offset paging."""

    issues: list[JiraIssue] = []
    startAt: int | None = None
    total: int | None = None


class JiraErrors(Payload):
    errorMessages: list[Any] | None = None
    errors: dict[str, Any] | None = None

    def words(self) -> list[str]:
        """Jira's own words on what is wrong (a 400's body), each message once."""
        said = [m for m in self.errorMessages or [] if isinstance(m, str)]
        said += [f"{k}: {m}" for k, m in (self.errors or {}).items() if isinstance(m, str)]
        return said
