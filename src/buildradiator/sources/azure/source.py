"""Azure Pipelines: the builds of chosen definitions on one branch of a project.

One ``Pipeline`` per definition that has builds on the branch (key ``{project}/{definition}``),
from the Build REST API 7.1 (https://learn.microsoft.com/rest/api/azure/devops/build/):

- **One list request per poll** for every definition at once: ``GET {url}/{project}/_apis/build/
  builds?definitions=41,42&branchName=refs/heads/main&queryOrder=queueTimeDescending&
  maxBuildsPerDefinition=N&$top=N*len(definitions)&api-version=7.1``.
- **The timeline of each build in flight** (``_apis/build/builds/{id}/timeline``), at most
  ``MAX_TIMELINES`` per poll, for the stage and job running now and the attempt.
- **The timeline of each finished build once**, newest first, at most ``MAX_SETTLED_LOOKUPS``
  per poll, for its attempt: "Rerun failed jobs" keeps the build and raises its records'
  ``attempt``, which is how a build that went green only after a retry is known. The answer is
  kept until the build's ``finishTime`` changes (a re-run finishes it again).
- **The changes of a build without ``triggerInfo["ci.message"]``** (a manual or scheduled build),
  once per build, at most ``MAX_CHANGE_LOOKUPS`` per poll, for its commit message.

So a warm poll costs 1 request plus one per build in flight. A failed timeline or changes
request costs only the stage, attempt or message it was for; the list request failing fails the
poll. See ``parse`` for what each status and result means.

Auth: a personal access token (scope Build, Read) over Basic auth with an empty user name. A
request without one is answered by Azure DevOps Services with its sign-in page (HTTP 203, or a
redirect to it), worded as a missing token. Rate limits: ``X-RateLimit-*`` (Reset is a unix time)
and 429 with ``Retry-After``, both read by the HTTP client.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from buildradiator.errors import AuthFailed, NotFound, SourceError
from buildradiator.model import Pipeline, SourceResult
from buildradiator.sources.azure import PROVIDER
from buildradiator.sources.azure.config import AzureSource
from buildradiator.sources.azure.parse import (
    TimelineFacts,
    branch_ref,
    by_definition,
    error_text,
    newest_first,
    on_branch,
    pipeline_of,
    timeline_facts,
)
from buildradiator.sources.azure.payloads import (
    BuildList,
    BuildPayload,
    ChangeList,
    ChangePayload,
    ErrorBody,
    TimelinePayload,
)
from buildradiator.sources.base import Source, Words, parse_model
from buildradiator.sources.http import (
    HttpClient,
    RateHeaders,
    Response,
    basic_auth,
    looks_like_html,
)
from buildradiator.sources.reading import activity
from buildradiator.text import clean_text

AZURE_RATE = RateHeaders("azure", "x-ratelimit-", reset_is_epoch=True)
MAX_TIMELINES = 8
"""Timelines of builds in flight read per poll (the newest first)."""
MAX_SETTLED_LOOKUPS = 4
"""Timelines of finished builds read per poll, each once: a cold start fills in over polls."""
SETTLED_DEPTH = 5
"""Finished builds per definition whose attempt is looked up (the newest)."""
MAX_CHANGE_LOOKUPS = 3
MAX_SAID = 160
"""Characters of the server's own words kept in an error (Azure's are long sentences)."""
_SIGN_IN = "answered with its sign-in page (HTTP 203)"


class AzurePipelines(Source[AzureSource]):
    """Builds on ``branch`` of the ``definitions`` of one project."""

    provider = PROVIDER
    rate_headers = AZURE_RATE
    needs = "the Build (Read) scope"
    status_words = MappingProxyType(
        {
            203: Words(
                AuthFailed,
                f"{{host}} {_SIGN_IN} for {{what}}: it needs a personal access token: "
                "set token_env, token_file or token_command",
                f"{{host}} {_SIGN_IN} for {{what}}: the token from {{origin}} was not accepted "
                "(wrong, expired or revoked)",
            ),
            400: Words(
                SourceError,
                "{host} refused the request for {what} (HTTP 400){said}; an Azure DevOps Server "
                "older than 2022.1 needs an older api_version (2022: 7.0, 2020: 6.0, 2019: 5.0)",
            ),
            404: Words(NotFound, "{what} not found on {host} (or the token cannot see it){said}"),
        }
    )

    def __init__(self, config: AzureSource, http: HttpClient) -> None:
        super().__init__(config, http)
        self._settled: dict[int, tuple[str | None, TimelineFacts]] = {}
        """Finished builds' timeline facts, with the ``finishTime`` they were read for."""
        self._changes: dict[int, ChangePayload | None] = {}

    def _server_says(self, response: Response) -> str:
        """``: TF200016: The following project does not exist: ...`` from Azure's error body."""
        try:
            data = response.json()
        except SourceError:
            return ""
        said = error_text(ErrorBody.model_validate(data)) if isinstance(data, dict) else None
        if not said:
            return ""
        return f": {clean_text(self._without_secrets(said), MAX_SAID)}"

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": basic_auth("", self.token)} if self.token else {}

    async def poll(self) -> SourceResult:
        config = self.config
        ref = branch_ref(config.branch)
        definitions = list(dict.fromkeys(config.definitions))
        params: dict[str, Any] = {
            "definitions": ",".join(str(d) for d in definitions),
            "branchName": ref,
            "queryOrder": "queueTimeDescending",
            "maxBuildsPerDefinition": config.builds,
            "$top": config.builds * len(definitions),
            "api-version": self.config.api_version,
        }
        response = await self._get(
            self._api("_apis/build/builds"), params, what=f"project {config.project}", ok=(200,)
        )
        listed = parse_model(BuildList, self._json(response)).value
        grouped = {
            d: [b for b in newest_first(found) if on_branch(b, ref)]
            for d, found in by_definition(listed, definitions).items()
        }
        builds = [b for found in grouped.values() for b in found]
        self._forget(builds)
        facts = await self._timelines(grouped)
        changes = await self._changes_of(grouped)
        pipelines: list[Pipeline] = []
        quiet: list[int] = []
        for definition, found in grouped.items():
            row = pipeline_of(
                self.name, config.url, config.project, definition, ref, found, facts, changes
            )
            if row is None:
                quiet.append(definition)
            else:
                pipelines.append(row)
        return SourceResult(pipelines=tuple(pipelines), summary=self._summary(pipelines, quiet))

    # -- timelines -----------------------------------------------------------------------------

    async def _timelines(self, grouped: dict[int, list[BuildPayload]]) -> dict[int, TimelineFacts]:
        facts: dict[int, TimelineFacts] = {}
        running = [b for found in grouped.values() for b in found if not _finished(b)]
        for build in newest_first(running)[:MAX_TIMELINES]:
            found = await self._timeline(build)
            if found is not None and build.id is not None:
                facts[build.id] = found
        lookups = MAX_SETTLED_LOOKUPS
        for found_builds in grouped.values():
            for build in [b for b in found_builds if _finished(b)][:SETTLED_DEPTH]:
                if build.id is None:
                    continue
                known = self._settled.get(build.id)
                if known is not None and known[0] == build.finishTime:
                    facts[build.id] = known[1]
                    continue
                if lookups <= 0:
                    continue
                lookups -= 1
                read = await self._timeline(build)
                if read is not None:
                    self._settled[build.id] = (build.finishTime, read)
                    facts[build.id] = read
        return facts

    async def _timeline(self, build: BuildPayload) -> TimelineFacts | None:
        url = self._api(f"_apis/build/builds/{build.id}/timeline")
        try:
            response = await self._get(
                url,
                {"api-version": self.config.api_version},
                what=f"the timeline of build {build.id}",
                ok=(200, 204),
            )
            return timeline_facts(_optional(TimelinePayload, response))
        except SourceError:
            # The build itself is known; without its timeline only its stage and attempt go.
            return None

    # -- commit messages -----------------------------------------------------------------------

    async def _changes_of(self, grouped: dict[int, list[BuildPayload]]) -> dict[int, ChangePayload]:
        lookups = MAX_CHANGE_LOOKUPS
        found: dict[int, ChangePayload] = {}
        for builds in grouped.values():
            # What a screen shows of a definition: its builds in flight and the newest two over.
            done = [b for b in builds if _finished(b)]
            shown = [b for b in builds if not _finished(b)] + done[:2]
            for build in shown:
                if build.id is None or build.triggerInfo.get("ci.message"):
                    continue
                if build.id not in self._changes:
                    if lookups <= 0:
                        continue
                    lookups -= 1
                    readable, change = await self._change(build.id)
                    if not readable:
                        continue  # asked again next poll
                    self._changes[build.id] = change
                if (change := self._changes[build.id]) is not None:
                    found[build.id] = change
        return found

    async def _change(self, build_id: int) -> tuple[bool, ChangePayload | None]:
        """Whether the changes could be read, and the newest (``None``: the build has none)."""
        url = self._api(f"_apis/build/builds/{build_id}/changes")
        try:
            response = await self._get(
                url,
                {"$top": 1, "api-version": self.config.api_version},
                what=f"the changes of build {build_id}",
            )
            listed = _optional(ChangeList, response)
        except SourceError:
            return False, None
        return True, (listed.value[0] if listed and listed.value else None)

    def _json(self, response: Response) -> Any:
        """The list's JSON; a sign-in page where it belongs (Azure DevOps Services redirects a
        request without a token there) is worded as the token it lacks."""
        if looks_like_html(response.content):
            words = self.status_words[203]
            raise AuthFailed(
                (words.signed if self.token and words.signed else words.anonymous)
                .replace(" (HTTP 203)", "")
                .format(
                    host=self._host,
                    what=f"project {self.config.project}",
                    origin=self._token_origin,
                )
            )
        return response.json()

    # -- words ---------------------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return f"{self.config.url.rstrip('/')}/{quote(self.config.project, safe='')}/{path}"

    def _forget(self, builds: list[BuildPayload]) -> None:
        """Keep what is remembered to the builds the list still shows."""
        ids = {b.id for b in builds}
        for cache in (self._settled, self._changes):
            for gone in [k for k in cache if k not in ids]:
                del cache[gone]

    def _summary(self, pipelines: list[Pipeline], quiet: list[int]) -> str:
        text = activity(pipelines, "definition")
        if quiet:
            word = "definition" if len(quiet) == 1 else "definitions"
            names = ", ".join(str(d) for d in quiet)
            text += f"; no builds on {self.config.branch} in {word} {names}"
        return text


def _finished(build: BuildPayload) -> bool:
    return (build.status or "").lower() == "completed"


def _optional(model: Any, response: Response) -> Any:
    """A JSON object answer as ``model``; ``None`` for a 204, an empty body or ``null``."""
    if response.status_code == 204 or not response.content.strip():
        return None
    data = response.json()
    return parse_model(model, data) if isinstance(data, dict) else None
