"""The release-blockers source against fake GitHub, GitLab and Jira servers.

Payloads follow the documented shapes (GitHub's list-repository-issues items, GitLab's project
issues, Jira Cloud's ``search/jql`` and Data Center's ``api/2/search``), with the extra fields
real servers send, and then the odd answers: nulls, pull requests among issues, HTML login
pages, colon-less Jira offsets, hostile titles, paging that never ends.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import (
    AuthFailed,
    BadPayload,
    NotFound,
    RateLimited,
    SourceError,
)
from buildradiator.sources.blockers.config import BlockersSource
from buildradiator.sources.blockers.source import MAX_PAGES, ReleaseBlockers
from buildradiator.sources.http import HttpClient

TOKEN = "ghp_bl0ck3rT0kenValue0123456789abcdef"
GH = "https://api.github.com"
GH_ISSUES = "/repos/acme/monolith/issues"
GL = "https://gitlab.example.com/api/v4"
GL_ISSUES = "/api/v4/projects/acme/monolith/issues"
"""As httpx decodes ``request.url.path``; the raw path keeps ``acme%2Fmonolith`` (asserted)."""
JIRA = "https://acme.atlassian.net"
V3 = "/rest/api/3/search/jql"
V2 = "/rest/api/2/search"
JQL = "project = SHOP AND labels = release-blocker AND statusCategory != Done"
HOSTILE = "Checkout [bold red]500[/] \x1b[31mfor EUR\x1b[0m \x1b]8;;http://evil\x07carts"
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Log in - Jira</title></head><body></body></html>"


# --- documented payloads -------------------------------------------------------------------


def gh_issue(
    number: int, title: str = "Checkout returns 500 for EUR carts", **fields: Any
) -> dict[str, Any]:
    api = f"{GH}/repos/acme/monolith"
    item: dict[str, Any] = {
        "url": f"{api}/issues/{number}",
        "repository_url": api,
        "html_url": f"https://github.com/acme/monolith/issues/{number}",
        "id": 1_800_000_000 + number,
        "node_id": f"I_kwDOA{number}",
        "number": number,
        "title": title,
        "user": {"login": "dana", "id": 77, "type": "User", "site_admin": False},
        "labels": [{"id": 1, "name": "release-blocker", "color": "b60205", "default": False}],
        "state": "open",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": 3,
        "created_at": "2026-11-26T09:15:00Z",
        "updated_at": "2026-11-26T10:00:00Z",
        "closed_at": None,
        "author_association": "MEMBER",
        "body": "Orders fail at payment.",
        "reactions": {"total_count": 0},
        "state_reason": None,
    }
    item.update(fields)
    return item


def gh_pull(number: int) -> dict[str, Any]:
    return gh_issue(
        number,
        "Round EUR cart totals",
        draft=False,
        pull_request={
            "url": f"{GH}/repos/acme/monolith/pulls/{number}",
            "html_url": f"https://github.com/acme/monolith/pull/{number}",
            "merged_at": None,
        },
    )


def gl_issue(
    iid: int, title: str = "Checkout returns 500 for EUR carts", **fields: Any
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": 150_000_000 + iid,
        "iid": iid,
        "project_id": 4242,
        "title": title,
        "description": "Orders fail.",
        "state": "opened",
        "created_at": "2026-11-26T09:15:00.123+01:00",
        "updated_at": "2026-11-26T10:00:00.000Z",
        "closed_at": None,
        "labels": ["release-blocker", "bug"],
        "author": {"id": 9, "username": "dana", "name": "Dana Smith", "state": "active"},
        "type": "ISSUE",
        "web_url": f"https://gitlab.example.com/acme/monolith/-/issues/{iid}",
        "references": {"short": f"#{iid}", "full": f"acme/monolith#{iid}"},
        "severity": "UNKNOWN",
    }
    item.update(fields)
    return item


def jira_issue(
    key: str, summary: Any = "Refund webhook drops events", **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": summary,
        "created": "2024-01-15T10:30:00.000+0000",
        "reporter": {
            "accountId": "5b10ac8d82e05b22cc7d4ef5",
            "displayName": "Priya Raman",
            "active": True,
            "timeZone": "Europe/Berlin",
        },
        "status": {"name": "In Progress", "id": "3"},
    }
    body.update(fields)
    return {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": "10042",
        "self": f"{JIRA}/rest/api/3/issue/10042",
        "key": key,
        "fields": body,
    }


def answer(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    kind = "text/html" if isinstance(payload, bytes) else "application/json; charset=utf-8"
    return httpx.Response(status, content=raw, headers={"content-type": kind, **headers})


# --- the fake tracker ----------------------------------------------------------------------


Handler = Callable[[httpx.Request], httpx.Response]


class FakeTracker:
    """Routes by path; an unrouted path is a 404. Records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[httpx.Request] = []

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def serve(self, path: str, payload: Any, status: int = 200, **headers: str) -> None:
        self.routes[path] = lambda _request: answer(payload, status, **headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        if handler is None:
            return answer({"errorMessages": ["Not Found"], "message": "Not Found"}, 404)
        return handler(request)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


@pytest.fixture
def fake() -> FakeTracker:
    return FakeTracker()


@pytest.fixture
async def http(fake: FakeTracker, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    yield client
    await client.aclose()


def make(
    http: HttpClient, provider: str, *, token: str | None = TOKEN, **fields: Any
) -> ReleaseBlockers:
    config: dict[str, Any] = {"type": "blockers", "name": "blockers", "provider": provider}
    if provider == "github":
        config["repo"] = "acme/monolith"
    elif provider == "gitlab":
        config.update(url=GL, project="acme/monolith")
    else:
        config.update(url=JIRA, jql=JQL)
    config.update(fields)
    if token is not None:
        config.setdefault("token_env", "TRACKER_TOKEN")
        config["token"] = SecretStr(token)
    return ReleaseBlockers(BlockersSource.model_validate(config), http)


async def fails(source: ReleaseBlockers, kind: type[SourceError]) -> str:
    with pytest.raises(kind) as info:
        await source.poll()
    message = str(info.value)
    assert TOKEN not in message
    assert "0123456789abcdef" not in message
    return message


# --- GitHub --------------------------------------------------------------------------------


async def test_github_issues_become_blockers_and_pull_requests_are_skipped(
    fake: FakeTracker, http: HttpClient
) -> None:
    fake.serve(
        GH_ISSUES,
        [
            gh_issue(4213, "Search returns stale prices", created_at="2026-11-26T09:15:00.5-08:00"),
            gh_pull(4212),
            gh_issue(4201),
        ],
        **{
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4990",
            "x-ratelimit-reset": "1795705200",
        },
    )
    source = make(http, "github", labels=["release-blocker", "p0"])
    result = await source.poll()

    assert [b.id for b in result.blockers] == ["#4213", "#4201"]
    first, second = result.blockers
    assert first.title == "Search returns stale prices"
    assert first.source == "blockers"
    assert first.url == "https://github.com/acme/monolith/issues/4213"
    assert first.opened_at == datetime(2026, 11, 26, 17, 15, 0, 500000, tzinfo=UTC)
    assert first.author == "dana"
    assert second.opened_at == datetime(2026, 11, 26, 9, 15, tzinfo=UTC)
    assert (
        result.summary
        == "2 open release blockers (GitHub acme/monolith, labels release-blocker, p0)"
    )

    (request,) = fake.requests
    assert request.url.params["state"] == "open"
    assert request.url.params["labels"] == "release-blocker,p0"
    assert request.url.params["per_page"] == "100"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    # The quota headers reach the GitHub rate budget the engine schedules by.
    budget = http.budget(GH, source.rate_headers)
    assert budget.rate is not None and budget.rate.remaining == 4990


async def test_no_open_issue_is_no_blockers(fake: FakeTracker, http: HttpClient) -> None:
    fake.serve(GH_ISSUES, [gh_pull(7)])
    result = await make(http, "github").poll()
    assert result.blockers == ()
    assert result.summary == "no release blockers (GitHub acme/monolith, label release-blocker)"


async def test_null_fields_and_a_missing_user_are_shown_as_unknown(
    fake: FakeTracker, http: HttpClient
) -> None:
    fake.serve(
        GH_ISSUES,
        [
            gh_issue(1, title=None, user=None, created_at=None, html_url=None),
            gh_issue(2, title="   ", created_at="yesterday", html_url="javascript:alert(1)"),
            gh_issue(3, created_at=1732612500, user={"login": None}),
        ],
    )
    result = await make(http, "github").poll()
    one, two, three = result.blockers
    assert (one.title, one.author, one.opened_at, one.url) == ("(no title)", None, None, None)
    assert (two.title, two.opened_at, two.url) == ("(no title)", None, None)
    assert three.opened_at is None and three.author is None


async def test_untrusted_titles_lose_escapes_and_keep_markup_literal(
    fake: FakeTracker, http: HttpClient
) -> None:
    fake.serve(GH_ISSUES, [gh_issue(9, HOSTILE, user={"login": "mal\x1b[2Jlory"})])
    (blocker,) = (await make(http, "github").poll()).blockers
    assert blocker.title == "Checkout [bold red]500[/] for EUR carts"
    assert "\x1b" not in blocker.title and "\x07" not in blocker.title
    assert blocker.author == "mallory"


async def test_link_header_pages_are_followed(fake: FakeTracker, http: HttpClient) -> None:
    page2 = f"{GH}/repositories/123/issues?state=open&labels=release-blocker&per_page=100&page=2"

    def first(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            return answer([gh_issue(1), gh_issue(2)])  # overlaps page 1: shown once
        return answer(
            [gh_issue(3), gh_issue(2)],
            link=f'<{page2}>; rel="next", <{page2}>; rel="last"',
        )

    fake.route(GH_ISSUES, first)
    fake.route("/repositories/123/issues", first)
    result = await make(http, "github").poll()
    assert [b.id for b in result.blockers] == ["#3", "#2", "#1"]
    assert fake.paths() == [GH_ISSUES, "/repositories/123/issues"]
    assert fake.requests[1].url.params["page"] == "2"
    assert result.summary.startswith("3 open release blockers")


async def test_endless_paging_stops_and_says_the_count_is_a_lower_bound(
    fake: FakeTracker, http: HttpClient
) -> None:
    calls = iter(range(1, 100))

    def endless(request: httpx.Request) -> httpx.Response:
        n = next(calls)
        return answer([gh_issue(n)], link=f'<{GH}{GH_ISSUES}?page={n + 1}>; rel="next"')

    fake.route(GH_ISSUES, endless)
    result = await make(http, "github").poll()
    assert len(fake.requests) == MAX_PAGES
    assert len(result.blockers) == MAX_PAGES
    assert result.summary.startswith(f"{MAX_PAGES}+ open release blockers")
    assert "only the first" in result.summary


async def test_a_next_link_to_another_host_is_not_followed_with_the_token(
    fake: FakeTracker, http: HttpClient
) -> None:
    fake.serve(GH_ISSUES, [gh_issue(1)], link='<https://evil.example.com/steal?page=2>; rel="next"')
    message = await fails(make(http, "github"), BadPayload)
    assert "evil.example.com" in message and "not followed" in message
    assert [r.url.host for r in fake.requests] == ["api.github.com"]


async def test_a_second_poll_is_conditional_and_a_304_keeps_the_blockers(
    fake: FakeTracker, http: HttpClient
) -> None:
    def issues(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"etag": '"v1"'})
        return answer([gh_issue(5)], etag='"v1"')

    fake.route(GH_ISSUES, issues)
    source = make(http, "github")
    assert [b.id for b in (await source.poll()).blockers] == ["#5"]
    assert [b.id for b in (await source.poll()).blockers] == ["#5"]
    assert fake.requests[1].headers["if-none-match"] == '"v1"'


async def test_github_wrong_token_names_github_and_where_the_token_came_from(
    fake: FakeTracker, http: HttpClient
) -> None:
    fake.serve(GH_ISSUES, {"message": "Bad credentials", "status": "401"}, 401)
    message = await fails(make(http, "github"), AuthFailed)
    assert message == (
        "GitHub refused the token from $TRACKER_TOKEN (HTTP 401): wrong, expired or revoked"
    )
    message = await fails(make(http, "github", token=None), AuthFailed)
    assert "GitHub asked for a token" in message and "token_env" in message


async def test_github_unknown_repository_is_named(fake: FakeTracker, http: HttpClient) -> None:
    message = await fails(make(http, "github", repo="acme/nope"), NotFound)
    assert message == (
        "GitHub repository acme/nope not found on api.github.com (or the token cannot see it)"
    )


async def test_github_issues_turned_off_is_a_410(fake: FakeTracker, http: HttpClient) -> None:
    fake.route(GH_ISSUES, lambda r: answer({"message": "Issues are disabled for this repo"}, 410))
    message = await fails(make(http, "github"), NotFound)
    assert "issues turned off" in message and "acme/monolith" in message


async def test_github_403_is_a_permission_problem_unless_the_quota_is_spent(
    fake: FakeTracker, http: HttpClient, clock: FakeClock
) -> None:
    fake.route(GH_ISSUES, lambda r: answer({"message": "Resource not accessible"}, 403))
    message = await fails(make(http, "github"), AuthFailed)
    assert "GitHub denied access to repository acme/monolith (HTTP 403)" in message
    assert "read access to Issues" in message

    reset = int((clock.now() + timedelta(minutes=20)).timestamp())
    fake.route(
        GH_ISSUES,
        lambda r: answer(
            {"message": "API rate limit exceeded"},
            403,
            **{
                "x-ratelimit-remaining": "0",
                "x-ratelimit-limit": "5000",
                "x-ratelimit-reset": str(reset),
            },
        ),
    )
    await fails(make(http, "github"), RateLimited)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (LOGIN_PAGE, "HTML page"),
        (b'[{"number": 1, "title": "trunc', "invalid JSON"),
        (b"", "empty body"),
        (b'{"message": "Moved Permanently"}', "unexpected payload"),
        (b'[{"title": "no number"}]', "number"),
    ],
)
async def test_github_bad_bodies_are_bad_payloads(
    fake: FakeTracker, http: HttpClient, body: bytes, words: str
) -> None:
    fake.route(GH_ISSUES, lambda r: httpx.Response(200, content=body))
    message = await fails(make(http, "github"), BadPayload)
    assert words in message


async def test_github_enterprise_api_url(fake: FakeTracker, http: HttpClient) -> None:
    fake.route(
        "/api/v3" + GH_ISSUES,
        lambda r: answer([gh_issue(8, html_url="https://ghe.acme.dev/acme/monolith/issues/8")]),
    )
    result = await make(http, "github", url="https://ghe.acme.dev/api/v3").poll()
    assert [b.url for b in result.blockers] == ["https://ghe.acme.dev/acme/monolith/issues/8"]
    assert fake.requests[0].url.host == "ghe.acme.dev"


# --- GitLab --------------------------------------------------------------------------------


async def test_gitlab_issues_page_through_x_next_page(fake: FakeTracker, http: HttpClient) -> None:
    def issues(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            return answer([gl_issue(7, author=None)], **{"x-next-page": "", "x-page": "2"})
        return answer(
            [gl_issue(12, HOSTILE)],
            **{
                "x-next-page": "2",
                "x-page": "1",
                "x-total-pages": "2",
                "ratelimit-remaining": "1999",
                "ratelimit-limit": "2000",
            },
        )

    fake.route(GL_ISSUES, issues)
    source = make(http, "gitlab", labels=["release-blocker", "bug"])
    result = await source.poll()
    assert [b.id for b in result.blockers] == ["#12", "#7"]
    first, second = result.blockers
    assert first.title == "Checkout [bold red]500[/] for EUR carts"
    assert first.author == "dana"
    assert first.url == "https://gitlab.example.com/acme/monolith/-/issues/12"
    assert first.opened_at == datetime(2026, 11, 26, 8, 15, 0, 123000, tzinfo=UTC)
    assert second.author is None
    assert result.summary == (
        "2 open release blockers (GitLab project acme/monolith, labels release-blocker, bug)"
    )

    request = fake.requests[0]
    # The project path is URL-encoded into one path segment, as GitLab wants it.
    assert request.url.raw_path.startswith(b"/api/v4/projects/acme%2Fmonolith/issues?")
    assert request.url.params["state"] == "opened"
    assert request.url.params["labels"] == "release-blocker,bug"
    assert request.headers["private-token"] == TOKEN
    assert "authorization" not in request.headers
    assert [r.url.params.get("page") for r in fake.requests] == [None, "2"]
    budget = http.budget(GL, source.rate_headers)
    assert budget.rate is not None and budget.rate.remaining == 1999


async def test_gitlab_numeric_project_id(fake: FakeTracker, http: HttpClient) -> None:
    fake.route("/api/v4/projects/4242/issues", lambda r: answer([], **{"x-next-page": ""}))
    result = await make(http, "gitlab", project="4242").poll()
    assert result.blockers == ()
    assert result.summary == "no release blockers (GitLab project 4242, label release-blocker)"


async def test_gitlab_errors_name_gitlab_and_the_project(
    fake: FakeTracker, http: HttpClient
) -> None:
    message = await fails(make(http, "gitlab", project="acme/gone"), NotFound)
    assert message == (
        "GitLab project acme/gone not found on gitlab.example.com (or the token cannot see it)"
    )
    fake.route(GL_ISSUES, lambda r: answer({"message": "401 Unauthorized"}, 401))
    message = await fails(make(http, "gitlab"), AuthFailed)
    assert message.startswith("GitLab refused the token from $TRACKER_TOKEN (HTTP 401)")
    fake.route(GL_ISSUES, lambda r: answer({"error": "insufficient_scope"}, 403))
    message = await fails(make(http, "gitlab"), AuthFailed)
    assert "read_api" in message


async def test_gitlab_sign_in_page_is_a_bad_payload(fake: FakeTracker, http: HttpClient) -> None:
    fake.route(GL_ISSUES, lambda r: httpx.Response(200, content=LOGIN_PAGE))
    message = await fails(make(http, "gitlab"), BadPayload)
    assert message.startswith("GitLab answered with an HTML page where JSON was expected")


# --- Jira ----------------------------------------------------------------------------------


async def test_jira_cloud_search_pages_with_next_page_token(
    fake: FakeTracker, http: HttpClient
) -> None:
    def search(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("nextPageToken") == "CAEaAggD":
            # The last page leaves nextPageToken out entirely.
            return answer(
                {
                    "issues": [
                        jira_issue("SHOP-7", created="2024-01-15T10:30:00.000-0800", reporter=None)
                    ],
                    "isLast": True,
                }
            )
        return answer(
            {"issues": [jira_issue("SHOP-142")], "nextPageToken": "CAEaAggD", "isLast": False}
        )

    fake.route(V3, search)
    source = make(http, "jira", username="radiator@example.com")
    result = await source.poll()
    assert [b.id for b in result.blockers] == ["SHOP-142", "SHOP-7"]
    first, second = result.blockers
    assert first.title == "Refund webhook drops events"
    assert first.url == f"{JIRA}/browse/SHOP-142"
    assert first.opened_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert first.author == "Priya Raman"
    assert second.opened_at == datetime(2024, 1, 15, 10, 30, tzinfo=timezone(timedelta(hours=-8)))
    assert second.author is None
    assert result.summary == f"2 open release blockers (Jira: {JQL})"

    first_request = fake.requests[0]
    assert first_request.url.params["jql"] == JQL
    assert first_request.url.params["fields"] == "summary,created,reporter"
    assert first_request.url.params["maxResults"] == "50"
    assert "nextPageToken" not in first_request.url.params
    expected = base64.b64encode(f"radiator@example.com:{TOKEN}".encode()).decode()
    assert first_request.headers["authorization"] == f"Basic {expected}"
    assert fake.paths() == [V3, V3]


async def test_jira_personal_access_token_goes_as_bearer_and_no_token_as_anonymous(
    fake: FakeTracker, http: HttpClient
) -> None:
    fake.route(V3, lambda r: answer({"issues": [], "isLast": True}))
    result = await make(http, "jira").poll()
    assert result.blockers == ()
    assert result.summary == f"no release blockers (Jira: {JQL})"
    assert fake.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    await make(http, "jira", token=None, username="radiator@example.com").poll()
    assert "authorization" not in fake.requests[1].headers


async def test_jira_null_fields_and_hostile_text(fake: FakeTracker, http: HttpClient) -> None:
    bare = jira_issue("SHOP-1")
    bare["fields"] = None
    fake.route(
        V3,
        lambda r: answer(
            {
                "issues": [
                    bare,
                    jira_issue(
                        "SHOP-2\x1b[31m",
                        summary=HOSTILE,
                        created=None,
                        reporter={"displayName": None},
                    ),
                    jira_issue("SHOP-3", summary=None, created="not a date"),
                ],
                "isLast": True,
            }
        ),
    )
    one, two, three = (await make(http, "jira").poll()).blockers
    assert (one.id, one.title, one.opened_at, one.author) == ("SHOP-1", "(no title)", None, None)
    assert two.id == "SHOP-2"
    assert two.title == "Checkout [bold red]500[/] for EUR carts"
    assert two.url == f"{JIRA}/browse/SHOP-2"
    assert two.opened_at is None and two.author is None
    assert three.title == "(no title)" and three.opened_at is None


async def test_jira_data_center_falls_back_to_v2_search_and_remembers_it(
    fake: FakeTracker, http: HttpClient
) -> None:
    fake.route(
        V3,
        lambda r: httpx.Response(
            404, content=b"<html><body>Oops, you've found a dead link.</body></html>"
        ),
    )

    def search(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["startAt"])
        issues = [jira_issue("OPS-1"), jira_issue("OPS-2")] if start == 0 else [jira_issue("OPS-3")]
        return answer(
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": 2,
                "total": 3,
                "issues": issues,
            }
        )

    fake.route(V2, search)
    source = make(http, "jira")
    result = await source.poll()
    assert [b.id for b in result.blockers] == ["OPS-1", "OPS-2", "OPS-3"]
    assert fake.paths() == [V3, V2, V2]
    assert [r.url.params["startAt"] for r in fake.requests[1:]] == ["0", "2"]
    assert fake.requests[1].url.params["jql"] == JQL

    await source.poll()
    assert fake.paths()[3:] == [V2, V2]  # v3 is not asked again


async def test_jira_without_any_search_api_names_the_site(
    fake: FakeTracker, http: HttpClient
) -> None:
    message = await fails(make(http, "jira"), NotFound)
    assert message == (
        f"no Jira search API at {JIRA} (tried {V3} and {V2}): is url the Jira site root?"
    )


async def test_jira_bad_jql_quotes_jiras_message(fake: FakeTracker, http: HttpClient) -> None:
    fake.route(
        V3,
        lambda r: answer(
            {
                "errorMessages": [
                    "Error in the JQL Query: Expecting operator but got 'SHOP'. (line 1, character 9)",
                    f"echo {TOKEN}",
                ],
                "errors": {"jql": "The value 'SHOP' does not exist for the field 'project'."},
                "warningMessages": [],
            },
            400,
        ),
    )
    message = await fails(make(http, "jira", jql="project SHOP"), SourceError)
    assert message.startswith(
        "Jira rejected the JQL 'project SHOP' (HTTP 400): Error in the JQL Query"
    )
    assert "jql: The value 'SHOP' does not exist" in message
    assert "echo ***" in message


async def test_jira_400_without_words_and_anonymous_hint(
    fake: FakeTracker, http: HttpClient
) -> None:
    fake.route(V3, lambda r: httpx.Response(400, content=b"<html>Bad Request</html>"))
    message = await fails(make(http, "jira", token=None), SourceError)
    assert "no reason given" in message and "anonymous" in message


async def test_jira_wrong_token_is_named(fake: FakeTracker, http: HttpClient) -> None:
    fake.route(
        V3,
        lambda r: answer(
            {"errorMessages": ["Client must be authenticated to access this resource."]},
            401,
            **{"x-seraph-loginreason": "AUTHENTICATED_FAILED"},
        ),
    )
    message = await fails(make(http, "jira", username="radiator@example.com"), AuthFailed)
    assert message.startswith("Jira refused the token from $TRACKER_TOKEN (HTTP 401)")


async def test_jira_refused_login_answered_as_anonymous_is_not_no_blockers(
    fake: FakeTracker, http: HttpClient
) -> None:
    # Jira may let a failed Basic login through as anonymous, with 200 and fewer results.
    fake.route(
        V3,
        lambda r: answer(
            {"issues": [], "isLast": True}, **{"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
        ),
    )
    message = await fails(make(http, "jira", username="radiator@example.com"), AuthFailed)
    assert "Jira did not accept the credentials from $TRACKER_TOKEN" in message
    fake.route(
        V3,
        lambda r: answer(
            {"issues": [], "isLast": True}, **{"X-Seraph-LoginReason": "AUTHENTICATION_DENIED"}
        ),
    )
    message = await fails(make(http, "jira", username="radiator@example.com"), AuthFailed)
    assert "CAPTCHA" in message


async def test_jira_sso_login_page_is_a_bad_payload(fake: FakeTracker, http: HttpClient) -> None:
    fake.route(
        V3, lambda r: httpx.Response(200, content=LOGIN_PAGE, headers={"content-type": "text/html"})
    )
    message = await fails(make(http, "jira"), BadPayload)
    assert message.startswith(
        "Jira answered with an HTML page where JSON was expected (a login or SSO page?)"
    )


async def test_jira_repeated_page_token_does_not_loop(fake: FakeTracker, http: HttpClient) -> None:
    fake.route(
        V3,
        lambda r: answer(
            {"issues": [jira_issue("SHOP-1")], "nextPageToken": "same", "isLast": False}
        ),
    )
    result = await make(http, "jira").poll()
    assert [b.id for b in result.blockers] == ["SHOP-1"]
    assert len(fake.requests) == 2
