"""Release blockers: the open issues that hold a release, from GitHub, GitLab or Jira (the
package docstring says why it fails loudly rather than under-count).

Requests per poll (at most ``MAX_PAGES`` of each):

- GitHub: ``GET /repos/{repo}/issues?state=open&labels=a,b&per_page=100``, conditional (a 304 is
  free of quota), following the ``link`` header's ``rel="next"``. The issues API lists pull
  requests too; those carry a ``pull_request`` key and are left out.
- GitLab: ``GET /projects/{id or url-encoded path}/issues?state=opened&labels=a,b&per_page=100``,
  following ``x-next-page``.
- Jira: Cloud's ``GET /rest/api/3/search/jql`` (``nextPageToken``/``isLast``); on a 404 (Data
  Center and Server have no v3 search) ``GET /rest/api/2/search`` (``startAt``/``total``). The
  variant that answered is remembered for later polls. Jira sends ``created`` as
  ``2024-01-15T10:30:00.000+0000``, an offset without a colon, which ``parse_iso`` reads
  (``datetime.fromisoformat`` takes it since Python 3.11; the tests pin it).

Errors: 401, 403 (when not a rate limit) and 404 are reworded to name the tracker and what was
asked for, and where the token came from -- never the token. A Jira 400 (bad JQL, a project the
account cannot see) quotes Jira's own message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from buildradiator.errors import AuthFailed, BadPayload, NotFound, SourceError
from buildradiator.model import Blocker, SourceResult
from buildradiator.sources.base import Source, Words, parse_iso, parse_model, safe_url
from buildradiator.sources.blockers import PROVIDER
from buildradiator.sources.blockers.config import BlockersSource
from buildradiator.sources.blockers.payloads import (
    GitHubIssues,
    GitLabIssues,
    JiraCloudPage,
    JiraErrors,
    JiraFields,
    JiraIssue,
    JiraServerPage,
)
from buildradiator.sources.http import (
    GITHUB_RATE,
    GITLAB_RATE,
    HttpClient,
    Response,
    brief_url,
    next_link,
)
from buildradiator.text import clean_text
from buildradiator.urls import origin_of

GITHUB_API_VERSION = "2022-11-28"
PER_PAGE = 100
"""GitHub's and GitLab's largest page."""
JIRA_PAGE = 50
"""Jira Cloud's default (and, for most field sets, its largest) page of search results."""
MAX_PAGES = 5
"""Pages read per poll at most. Hundreds of open release blockers already say HOLD; reading
thousands would only spend quota. The summary says when the count is a lower bound."""
JIRA_FIELDS = "summary,created,reporter"
_JIRA_V3 = "/rest/api/3/search/jql"
_JIRA_V2 = "/rest/api/2/search"
_MESSAGE_MAX = 300
_PROVIDER_WORD = {"github": "GitHub", "gitlab": "GitLab", "jira": "Jira"}


# --- the source ------------------------------------------------------------------------------


class ReleaseBlockers(Source[BlockersSource]):
    """The open release blockers of one repository, project or JQL query."""

    provider = PROVIDER
    status_words = {
        401: Words(
            AuthFailed,
            "{tracker} asked for a token (HTTP 401): set token_env, token_file or token_command",
            "{tracker} refused the token from {origin} (HTTP 401): wrong, expired or revoked",
        ),
        403: Words(
            AuthFailed,
            "{tracker} denied access to {what} (HTTP 403) without a token: "
            "set token_env, token_file or token_command",
            "{tracker} denied access to {what} (HTTP 403): the token from {origin} lacks "
            "permission{needs}",
        ),
        404: Words(NotFound, "{tracker} {what} not found on {host} (or the token cannot see it)"),
        # GitHub answers 410 Gone for a repository whose issues are turned off.
        410: Words(NotFound, "{tracker} {what} has issues turned off (HTTP 410)"),
    }

    def __init__(self, config: BlockersSource, http: HttpClient) -> None:
        super().__init__(config, http)
        # The engine reads the rate budget of the API this source talks to.
        rate = {"github": GITHUB_RATE, "gitlab": GITLAB_RATE}.get(config.provider)
        self.rate_headers = rate  # type: ignore[misc]
        self._jira_api: str | None = None
        """``_JIRA_V3`` or ``_JIRA_V2`` once one has answered."""

    @property
    def _provider(self) -> str:
        return _PROVIDER_WORD[self.config.provider]

    @property
    def _base(self) -> str:
        return self.config.api_base.rstrip("/")

    async def poll(self) -> SourceResult:
        provider = self.config.provider
        if provider == "github":
            blockers, complete = await self._github()
        elif provider == "gitlab":
            blockers, complete = await self._gitlab()
        else:
            blockers, complete = await self._jira()
        # An issue that moved between pages while we read them shows up twice: keep the first.
        first: dict[str, Blocker] = {}
        for blocker in blockers:
            first.setdefault(blocker.id, blocker)
        unique = tuple(first.values())
        return SourceResult(blockers=unique, summary=self._summary(len(unique), complete))

    # -- GitHub ----------------------------------------------------------------------------

    async def _github(self) -> tuple[list[Blocker], bool]:
        repo = self.config.repo or ""
        url = f"{self._base}/repos/{repo}/issues"
        first: dict[str, Any] = {"state": "open", "per_page": PER_PAGE}
        if self.config.labels:
            first["labels"] = ",".join(self.config.labels)
        params: dict[str, Any] | None = first
        what = f"repository {repo}"
        found: list[Blocker] = []
        for _ in range(MAX_PAGES):
            response = await self._get(url, params, what=what)
            page = parse_model(GitHubIssues, self._json(response)).root
            for issue in page:
                if "pull_request" in issue.model_fields_set:
                    continue
                found.append(
                    self._blocker(
                        f"#{issue.number}",
                        issue.title,
                        issue.html_url,
                        issue.created_at,
                        issue.user.login if issue.user else None,
                    )
                )
            next_url = self._next_link(response)
            if next_url is None:
                return found, True
            # The next link carries every parameter itself.
            url, params = next_url, None
        return found, False

    def _next_link(self, response: Response) -> str | None:
        link = next_link(response)
        if link is None:
            return None
        # The token goes along with every request: never to an origin other than the API's.
        if origin_of(link) != origin_of(self._base):
            raise BadPayload(
                f"{self._provider}'s next-page link points away from {self._host} "
                f"({brief_url(link)}); not followed"
            )
        return link

    # -- GitLab ----------------------------------------------------------------------------

    async def _gitlab(self) -> tuple[list[Blocker], bool]:
        project = self.config.project or ""
        url = f"{self._base}/projects/{quote(project, safe='')}/issues"
        params: dict[str, Any] = {"state": "opened", "per_page": PER_PAGE}
        if self.config.labels:
            params["labels"] = ",".join(self.config.labels)
        found: list[Blocker] = []
        for _ in range(MAX_PAGES):
            response = await self._get(url, params, what=f"project {project}", conditional=False)
            for issue in parse_model(GitLabIssues, self._json(response)).root:
                found.append(
                    self._blocker(
                        f"#{issue.iid}",
                        issue.title,
                        issue.web_url,
                        issue.created_at,
                        issue.author.username if issue.author else None,
                    )
                )
            # GitLab sends an empty x-next-page on the last page.
            next_page = (response.headers.get("x-next-page") or "").strip()
            if not next_page.isdigit() or str(params.get("page")) == next_page:
                return found, True
            params = {**params, "page": int(next_page)}
        return found, False

    # -- Jira ------------------------------------------------------------------------------

    async def _jira(self) -> tuple[list[Blocker], bool]:
        if self._jira_api != _JIRA_V2:
            try:
                result = await self._jira_cloud()
                self._jira_api = _JIRA_V3
                return result
            except NotFound:
                if self._jira_api == _JIRA_V3:
                    # It answered before: the site moved or went, not a Data Center.
                    self._jira_api = None
                    raise
        try:
            result = await self._jira_server()
        except NotFound:
            self._jira_api = None
            raise NotFound(
                f"no Jira search API at {self._base} (tried {_JIRA_V3} and {_JIRA_V2}): "
                "is url the Jira site root?"
            ) from None
        self._jira_api = _JIRA_V2
        return result

    async def _jira_cloud(self) -> tuple[list[Blocker], bool]:
        url = self._base + _JIRA_V3
        params: dict[str, Any] = {
            "jql": self.config.jql,
            "fields": JIRA_FIELDS,
            "maxResults": JIRA_PAGE,
        }
        found: list[Blocker] = []
        seen_tokens: set[str] = set()
        for _ in range(MAX_PAGES):
            page = parse_model(JiraCloudPage, await self._jira_get(url, params))
            found.extend(self._jira_blocker(issue) for issue in page.issues)
            token = page.nextPageToken
            # Cloud leaves nextPageToken out on the last page (JRACLOUD-92184) and sets isLast;
            # either ends the walk, and a token seen before would walk in circles.
            if page.isLast is True or not token or token in seen_tokens:
                return found, True
            seen_tokens.add(token)
            params = {**params, "nextPageToken": token}
        return found, False

    async def _jira_server(self) -> tuple[list[Blocker], bool]:
        url = self._base + _JIRA_V2
        params: dict[str, Any] = {
            "jql": self.config.jql,
            "fields": JIRA_FIELDS,
            "startAt": 0,
            "maxResults": JIRA_PAGE,
        }
        found: list[Blocker] = []
        for _ in range(MAX_PAGES):
            page = parse_model(JiraServerPage, await self._jira_get(url, params))
            found.extend(self._jira_blocker(issue) for issue in page.issues)
            start = (page.startAt or 0) + len(page.issues)
            if not page.issues or page.total is None or start >= page.total:
                return found, True
            params = {**params, "startAt": start}
        return found, False

    async def _jira_get(self, url: str, params: dict[str, Any]) -> Any:
        response = await self._get(
            url, params, ok=(200, 400, 404), what="the search", conditional=False
        )
        if response.status_code == 400:
            raise self._jira_rejected(response)
        if response.status_code == 404:
            raise NotFound(f"Jira search not found (HTTP 404): {brief_url(response.url)}")
        reason = response.headers.get("x-seraph-loginreason", "").upper()
        if self.token and ("AUTHENTICATED_FAILED" in reason or "AUTHENTICATION_DENIED" in reason):
            # Jira may answer a refused login with 200 and the anonymous user's results: fewer
            # blockers than there are, which the gate must never take for the truth.
            extra = (
                ": too many failed logins, Jira wants a CAPTCHA solved in a browser first"
                if "DENIED" in reason
                else ": wrong, expired or revoked"
            )
            raise AuthFailed(
                f"Jira did not accept the credentials from {self._token_origin} "
                f"(X-Seraph-LoginReason {reason.strip()}){extra}"
            )
        return self._json(response)

    def _jira_blocker(self, issue: JiraIssue) -> Blocker:
        key = clean_text(issue.key, 60)
        fields = issue.fields or JiraFields()
        return self._blocker(
            key,
            fields.summary,
            f"{self._base}/browse/{quote(key, safe='')}",
            fields.created,
            fields.reporter.displayName if fields.reporter else None,
        )

    def _jira_rejected(self, response: Response) -> SourceError:
        """A 400: Jira's own words on what is wrong with the query."""
        try:
            body = JiraErrors.model_validate(response.json())
        except (BadPayload, ValueError):
            body = JiraErrors()
        said = self._scrub("; ".join(body.words())) or "no reason given"
        jql = clean_text(self.config.jql or "", 80)
        hint = " (no token: Jira answered as an anonymous user)" if not self.token else ""
        return SourceError(f"Jira rejected the JQL {jql!r} (HTTP 400): {said}{hint}")

    # -- shared ----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self.config.provider == "github":
            return {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": GITHUB_API_VERSION,
            }
        return super()._headers()

    def _auth_headers(self) -> dict[str, str]:
        if not self.token:
            # Jira anonymous: it answers with what anonymous users may see (public projects).
            return {}
        if self.config.provider == "gitlab":
            return {"PRIVATE-TOKEN": self.token}
        if self.config.provider == "jira":
            # Cloud: the account e-mail and an API token as Basic auth; Data Center / Server:
            # a personal access token.
            return self._basic_or_bearer(self.config.username)
        return super()._auth_headers()

    def _placeholders(self) -> dict[str, str]:
        return {"tracker": self._provider, "needs": f" ({self._permission})"}

    @property
    def _permission(self) -> str:
        return {
            "github": "it needs read access to Issues",
            "gitlab": "it needs the read_api scope",
            "jira": "it needs Browse projects on the projects the JQL names",
        }[self.config.provider]

    def _json(self, response: Response) -> Any:
        try:
            return response.json()
        except BadPayload as exc:
            if "HTML" in str(exc):
                raise BadPayload(
                    f"{self._provider} answered with an HTML page where JSON was expected "
                    f"(a login or SSO page?): {response.url}"
                ) from None
            raise BadPayload(f"{self._provider}: {exc}") from None

    def _blocker(
        self,
        id_: str,
        title: str | None,
        url: str | None,
        opened: str | None,
        author: str | None,
    ) -> Blocker:
        return Blocker(
            source=self.name,
            id=id_,
            title=title if title and title.strip() else "(no title)",
            url=safe_url(url),
            opened_at=parse_iso(opened),
            author=author or None,
        )

    def _scrub(self, text: str) -> str:
        """Server-derived text, cleaned, without our own token (a server may echo it)."""
        return clean_text(self._without_secrets(text), _MESSAGE_MAX)

    def _summary(self, count: int, complete: bool) -> str:
        config = self.config
        if config.provider == "jira":
            where = f"Jira: {clean_text(config.jql or '', 80)}"
        else:
            place = config.repo if config.provider == "github" else f"project {config.project}"
            labels = _labels(config.labels)
            where = f"{self._provider} {place}" + (f", {labels}" if labels else "")
        if count == 0:
            return f"no release blockers ({where})"
        noun = "release blocker" if count == 1 else "release blockers"
        more = "+" if not complete else ""
        lower = f", only the first {MAX_PAGES} pages read" if not complete else ""
        return f"{count}{more} open {noun} ({where}{lower})"


def _labels(labels: Iterable[str]) -> str:
    names = list(labels)
    if not names:
        return ""
    return ("label " if len(names) == 1 else "labels ") + ", ".join(names)
