"""Issue trackers, as the simulator speaks them, under ``/tracker``: where release blockers live.

- ``/tracker/github`` works like ``https://api.github.com`` for
  ``GET /repos/acme/monolith/issues`` (``state``, ``labels`` (all must match), ``per_page``,
  ``page``, a ``Link`` header, ``x-ratelimit-*``, a strong ETag and 304).
- ``/tracker/gitlab/api/v4`` works like ``https://gitlab.com/api/v4`` for
  ``GET /projects/{acme%2Fmonolith or 4242}/issues`` (``state=opened``, ``labels``,
  ``x-next-page`` paging, ``RateLimit-*``).
- ``/tracker/jira`` works like a Jira Cloud site for ``GET /rest/api/3/search/jql`` (``jql``,
  ``fields``, ``maxResults``, ``nextPageToken``); it has no v2 search, like Cloud today. An
  unbounded (empty) JQL or a project other than ``SHOP`` gets Jira's 400 with ``errorMessages``.

Tokens are not checked: any or none works (the demo runs without secrets).

The story, in script seconds of each loop (see ``prodstory.py``; numbers grow with the loop):

- GitHub ``acme/monolith``: the issue ``BLOCKER_TITLE`` labelled ``BLOCKER_LABEL`` is open during
  ``BLOCKER_OPEN`` (and closed after); the pull request that fixes it carries the same label and
  is open from 247 until it closes the issue (the issues API lists pull requests too: a source
  must skip them); an old issue labelled ``bug`` only stays open all along (the ``labels`` filter
  must leave it out). GitLab's project ``acme/monolith`` tells the same blocker.
- Jira: ``SHOP-142`` "Refund webhook drops events" (``release-blocker``) is open from 460 to 520;
  the search is empty otherwise. Jira sends ``created`` in the site's zone without a colon in
  the offset (``...000-0800``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from html import escape
from typing import Any

from buildradiator.simulator.answer import (
    Answer,
    etag_matches,
    gitlab_paging,
    int_param,
    iso_z,
    json_answer,
    link_paged,
    page_of,
    param,
    strong_etag,
    text_answer,
)
from buildradiator.simulator.prodstory import BLOCKER_LABEL, BLOCKER_OPEN, BLOCKER_TITLE, within
from buildradiator.simulator.scenario import DANA, GRACE, Moment, Scenario
from buildradiator.simulator.sourceblock import TomlValue, source_block

PREFIX = "tracker"
REPO = "acme/monolith"
GITLAB_PROJECT_ID = 4242
JIRA_PROJECT = "SHOP"
JIRA_KEY_BASE = 142
JIRA_TITLE = "Refund webhook drops events"
JIRA_OPEN = (460.0, 520.0)
"""Act 2: a second blocker, from Jira, while the providers' stories play."""
JIRA_JQL = "project = SHOP AND labels = release-blocker AND statusCategory != Done"
FIX_PR_OPEN = (247.0, BLOCKER_OPEN[1])
FIX_PR_TITLE = "Round EUR cart totals before charging"
NUMBER_BASE = 4200
"""Issue numbers: ``NUMBER_BASE + 10 * loop + k``, so every loop files new ones."""
OLD_BUG_NUMBER = 4123
OLD_BUG_TITLE = "Search autocomplete flickers on Safari"
LOOPS_KEPT = 3
"""Loops whose (closed) issues are still listed with ``state=closed|all``."""
JIRA_ZONE = timezone(timedelta(hours=-8))
_BUG_COLOR = "d73a4a"
_BLOCKER_COLOR = "b60205"


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    labels: tuple[str, ...]
    author: str
    opened: datetime
    closed: datetime | None
    pull: bool = False
    body: str = ""

    def open_at(self, now: datetime) -> bool:
        return self.opened <= now and (self.closed is None or now < self.closed)


class TrackerSim:
    prefix = PREFIX

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    def demo_sources(self, base_url: str) -> str:
        base = base_url.rstrip("/") + "/" + PREFIX

        def blockers(name: str, provider: str, **query: TomlValue) -> str:
            return source_block(
                name=name, type="blockers", provider=provider, url=f"{base}/{provider}", **query
            )

        github = blockers("blockers", "github", repo=REPO, labels=[BLOCKER_LABEL])
        jira = blockers("jira-blockers", "jira", jql=JIRA_JQL, username="radiator@example.com")
        return github + "\n" + jira

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        site = web.removesuffix("/web") + "/" + PREFIX
        if path.startswith("/github/"):
            return self._github(path.removeprefix("/github"), query, headers, moment, site, web)
        if path.startswith("/gitlab/"):
            return self._gitlab(path.removeprefix("/gitlab"), query, moment, site, web)
        if path.startswith("/jira/"):
            return self._jira(path.removeprefix("/jira"), query, headers, moment, site)
        return text_answer(404, "not found\n")

    # -- the story -------------------------------------------------------------------------

    def issues(self, moment: Moment) -> list[Issue]:
        """Every issue and pull request of ``acme/monolith`` that exists, newest first."""
        found = [
            Issue(
                OLD_BUG_NUMBER,
                OLD_BUG_TITLE,
                ("bug",),
                GRACE.login,
                self.scenario.start - timedelta(days=3),
                None,
            )
        ]
        for loop in range(max(0, moment.loop - LOOPS_KEPT), moment.loop + 1):
            at = self.scenario.at
            found.append(
                Issue(
                    NUMBER_BASE + 10 * loop + 1,
                    BLOCKER_TITLE,
                    (BLOCKER_LABEL, "bug"),
                    DANA.login,
                    at(loop, BLOCKER_OPEN[0]),
                    at(loop, BLOCKER_OPEN[1]),
                    body="Orders with EUR carts fail at payment with HTTP 500.",
                )
            )
            found.append(
                Issue(
                    NUMBER_BASE + 10 * loop + 2,
                    FIX_PR_TITLE,
                    (BLOCKER_LABEL,),
                    GRACE.login,
                    at(loop, FIX_PR_OPEN[0]),
                    at(loop, FIX_PR_OPEN[1]),
                    pull=True,
                    body=f"Fixes #{NUMBER_BASE + 10 * loop + 1}",
                )
            )
        existing = [i for i in found if i.opened <= moment.now]
        existing.sort(key=lambda i: (i.opened, i.number), reverse=True)
        return existing

    def jira_issues(self, moment: Moment) -> list[tuple[str, str, datetime]]:
        """The open issues of the Jira project that match the demo's JQL: (key, id, created)."""
        if not within(moment.script_t, JIRA_OPEN):
            return []
        created = self.scenario.at(moment.loop, JIRA_OPEN[0])
        return [
            (f"{JIRA_PROJECT}-{JIRA_KEY_BASE + moment.loop}", str(10_042 + moment.loop), created)
        ]

    # -- GitHub ----------------------------------------------------------------------------

    def _github(
        self,
        path: str,
        query: dict[str, list[str]],
        headers: Message,
        moment: Moment,
        site: str,
        web: str,
    ) -> Answer:
        if path != f"/repos/{REPO}/issues":
            return json_answer(
                404,
                {
                    "message": "Not Found",
                    "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues",
                    "status": "404",
                },
            )
        state = param(query, "state") or "open"
        wanted = {label.strip() for label in (param(query, "labels") or "").split(",") if label}
        now = moment.now
        items = [
            github_issue(issue, now, web, site)
            for issue in self.issues(moment)
            if wanted <= set(issue.labels)
            and (state == "all" or (state == "open") == issue.open_at(now))
        ]
        answer = link_paged(items, query, f"{site}/github{path}")
        etag = strong_etag(answer.body)
        reset = int(now.timestamp()) // 3600 * 3600 + 3600
        rate = [
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4990"),
            ("x-ratelimit-used", "10"),
            ("x-ratelimit-reset", str(reset)),
            ("x-ratelimit-resource", "core"),
            ("x-github-api-version-selected", "2022-11-28"),
            ("ETag", etag),
        ]
        if etag_matches(headers.get("If-None-Match"), etag):
            return Answer(304, b"", rate)
        answer.headers += rate
        return answer

    # -- GitLab ----------------------------------------------------------------------------

    def _gitlab(
        self, path: str, query: dict[str, list[str]], moment: Moment, site: str, web: str
    ) -> Answer:
        # The server hands us the path decoded: ``acme%2Fmonolith`` arrives as ``acme/monolith``.
        match = re.fullmatch(r"/api/v4/projects/(.+)/issues", path)
        if not match or match.group(1) not in (REPO, str(GITLAB_PROJECT_ID)):
            return json_answer(404, {"message": "404 Project Not Found"})
        state = param(query, "state") or "all"
        wanted = {label.strip() for label in (param(query, "labels") or "").split(",") if label}
        now = moment.now
        items = [
            gitlab_issue(issue, now, web)
            for issue in self.issues(moment)
            if not issue.pull
            and wanted <= set(issue.labels)
            and (state == "all" or (state == "opened") == issue.open_at(now))
        ]
        page = page_of(items, query, 20)
        answer = json_answer(200, page.shown)
        answer.headers += [
            *gitlab_paging(page),
            ("RateLimit-Limit", "2000"),
            ("RateLimit-Remaining", "1990"),
            ("RateLimit-Reset", str(int(now.timestamp()) // 60 * 60 + 60)),
        ]
        return answer

    # -- Jira ------------------------------------------------------------------------------

    def _jira(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, site: str
    ) -> Answer:
        jira = f"{site}/jira"
        if path.startswith("/browse/"):
            key = escape(path.removeprefix("/browse/"))
            page = f"<!doctype html><title>[{key}] - Jira</title><h1>Simulated Jira: {key}</h1>\n"
            return text_answer(200, page, "text/html")
        if path != "/rest/api/3/search/jql":
            # Cloud has retired its v2 search too; a Data Center would answer /rest/api/2/search.
            return _jira_json(404, {"errorMessages": ["Not Found"], "errors": {}}, headers)
        jql = (param(query, "jql") or "").strip()
        if not jql:
            return _jira_json(
                400,
                {
                    "errorMessages": [
                        "Unbounded JQL queries are not allowed here. "
                        "Please add a search restriction to your query."
                    ],
                    "errors": {},
                },
                headers,
            )
        project = re.search(r'\bproject\s*=\s*"?([\w-]+)"?', jql, re.IGNORECASE)
        if project and project.group(1).upper() != JIRA_PROJECT:
            return _jira_json(
                400,
                {
                    "errorMessages": [
                        f"The value '{project.group(1)}' does not exist for the field 'project'."
                    ],
                    "errors": {},
                },
                headers,
            )
        wanted = {f.strip() for f in (param(query, "fields") or "*navigable").split(",")}
        everything = bool(wanted & {"*all", "*navigable"})
        size = int_param(query, "maxResults", 50, 1, 5000)
        start = int_param(query, "nextPageToken", 0, 0, 10**6)
        issues = [
            jira_issue(key, issue_id, created, jira, wanted, everything)
            for key, issue_id, created in self.jira_issues(moment)
        ]
        payload: dict[str, Any] = {"issues": issues[start : start + size]}
        # Like Cloud: the token is left out (not null) on the last page (JRACLOUD-92184).
        if start + size < len(issues):
            payload["nextPageToken"] = str(start + size)
            payload["isLast"] = False
        else:
            payload["isLast"] = True
        return _jira_json(200, payload, headers)


# -- payloads ------------------------------------------------------------------------------------


def _user(login: str, number: int) -> dict[str, Any]:
    return {
        "login": login,
        "id": 583_000 + number,
        "node_id": f"MDQ6VXNlcj{number}",
        "avatar_url": f"https://avatars.githubusercontent.com/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
    }


def github_issue(issue: Issue, now: datetime, web: str, site: str) -> dict[str, Any]:
    api = f"{site}/github/repos/{REPO}"
    is_open = issue.open_at(now)
    kind = "pull" if issue.pull else "issues"
    closed = iso_z(issue.closed) if issue.closed and not is_open else None
    item: dict[str, Any] = {
        "url": f"{api}/issues/{issue.number}",
        "repository_url": api,
        "labels_url": f"{api}/issues/{issue.number}/labels{{/name}}",
        "comments_url": f"{api}/issues/{issue.number}/comments",
        "events_url": f"{api}/issues/{issue.number}/events",
        "html_url": f"{web}/{REPO}/{kind}/{issue.number}",
        "id": 2_100_000_000 + issue.number,
        "node_id": f"I_kwDOBsim{issue.number}",
        "number": issue.number,
        "title": issue.title,
        "user": _user(issue.author, len(issue.author)),
        "labels": [
            {
                "id": 5_000_000 + len(name),
                "node_id": f"LA_kwDOsim{len(name)}",
                "url": f"{api}/labels/{name}",
                "name": name,
                "color": _BLOCKER_COLOR if name == BLOCKER_LABEL else _BUG_COLOR,
                "default": name == "bug",
                "description": None,
            }
            for name in issue.labels
        ],
        "state": "open" if is_open else "closed",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": 2 if BLOCKER_LABEL in issue.labels else 0,
        "created_at": iso_z(issue.opened),
        "updated_at": iso_z(issue.closed if issue.closed and closed else issue.opened),
        "closed_at": closed,
        "author_association": "MEMBER",
        "active_lock_reason": None,
        "body": issue.body or None,
        "reactions": {"url": f"{api}/issues/{issue.number}/reactions", "total_count": 0},
        "timeline_url": f"{api}/issues/{issue.number}/timeline",
        "performed_via_github_app": None,
        "state_reason": ("completed" if closed else None) if not issue.pull else None,
    }
    if issue.pull:
        item["draft"] = False
        item["pull_request"] = {
            "url": f"{api}/pulls/{issue.number}",
            "html_url": f"{web}/{REPO}/pull/{issue.number}",
            "diff_url": f"{web}/{REPO}/pull/{issue.number}.diff",
            "patch_url": f"{web}/{REPO}/pull/{issue.number}.patch",
            "merged_at": closed,
        }
    return item


def _gitlab_time(moment: datetime) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    return text + f"{moment.microsecond // 1000:03d}Z"


def gitlab_issue(issue: Issue, now: datetime, web: str) -> dict[str, Any]:
    is_open = issue.open_at(now)
    iid = issue.number - NUMBER_BASE + 100 if issue.number >= NUMBER_BASE else issue.number
    closed = _gitlab_time(issue.closed) if issue.closed and not is_open else None
    return {
        "id": 150_000_000 + issue.number,
        "iid": iid,
        "project_id": GITLAB_PROJECT_ID,
        "title": issue.title,
        "description": issue.body or None,
        "state": "opened" if is_open else "closed",
        "created_at": _gitlab_time(issue.opened),
        "updated_at": closed or _gitlab_time(issue.opened),
        "closed_at": closed,
        "closed_by": None,
        "labels": list(issue.labels),
        "milestone": None,
        "assignees": [],
        "author": {
            "id": 9000 + len(issue.author),
            "username": issue.author,
            "name": issue.author.title(),
            "state": "active",
            "locked": False,
            "avatar_url": None,
            "web_url": f"{web}/{issue.author}",
        },
        "type": "ISSUE",
        "assignee": None,
        "user_notes_count": 1,
        "merge_requests_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "due_date": None,
        "confidential": False,
        "discussion_locked": None,
        "issue_type": "issue",
        "web_url": f"{web}/{REPO}/-/issues/{iid}",
        "time_stats": {"time_estimate": 0, "total_time_spent": 0},
        "task_completion_status": {"count": 0, "completed_count": 0},
        "has_tasks": False,
        "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{REPO}#{iid}"},
        "severity": "UNKNOWN",
        "moved_to_id": None,
    }


def _jira_time(moment: datetime) -> str:
    local = moment.astimezone(JIRA_ZONE)
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + (local.strftime("%z"))
    )


def jira_issue(
    key: str, issue_id: str, created: datetime, jira: str, wanted: set[str], everything: bool
) -> dict[str, Any]:
    known: dict[str, Any] = {
        "summary": JIRA_TITLE,
        "created": _jira_time(created),
        "reporter": {
            "self": f"{jira}/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5",
            "accountId": "5b10ac8d82e05b22cc7d4ef5",
            "avatarUrls": {"48x48": "https://avatar-management.example/5b10.png"},
            "displayName": "Priya Raman",
            "active": True,
            "timeZone": "America/Los_Angeles",
            "accountType": "atlassian",
        },
        "status": {
            "self": f"{jira}/rest/api/3/status/3",
            "description": "",
            "name": "In Progress",
            "id": "3",
            "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"},
        },
    }
    fields = {k: v for k, v in known.items() if everything or k in wanted}
    return {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": issue_id,
        "self": f"{jira}/rest/api/3/issue/{issue_id}",
        "key": key,
        "fields": fields,
    }


def _jira_json(status: int, payload: Any, headers: Message) -> Answer:
    answer = json_answer(status, payload, "application/json")
    authenticated = bool(headers.get("Authorization"))
    answer.headers += [
        ("x-arequestid", "a1b2c3d4-sim"),
        ("x-ausername", "radiator%40example.com" if authenticated else "anonymous"),
    ]
    if authenticated:
        answer.headers.append(("X-Seraph-LoginReason", "OK"))
    return answer


def make(scenario: Scenario) -> TrackerSim:
    return TrackerSim(scenario)
