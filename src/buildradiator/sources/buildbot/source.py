"""Buildbot (REST API v2): builders, all or by name pattern or tag, and their builds.

One poll costs, under ``{url}/api/v2``:

- ``/builders`` once: which builders there are (name, tags), filtered here by ``builders`` globs
  and ``tags``;
- ``/builders/{id}/builds?complete=true&order=-number&limit=N&property=...`` per builder: the
  newest finished builds, with the properties that carry branch, revision and author;
- ``/builds?complete=false&property=...`` once: every build in flight on the master, whose
  ``state_string`` (``compiling``, ``running 'make test'``) is the stage;
- ``/buildrequests?claimed=false&complete=false`` once: requests waiting for a worker (queued).
  An old master without it only loses the queued builds, not the poll;
- ``/builds/{buildid}/changes`` for a few finished builds (the newest one of each builder, and
  failed ones: who broke it), at most ``MAX_CHANGE_LOOKUPS`` per poll, for the commit's author and
  message, which no build property carries reliably (``owners`` names whoever forced a build). A
  finished build's changes never change, so each answer is kept while the build is in view.

Results (api-facts §7), each kept visible in ``provider_status``: 0 SUCCESS -> passed; 1 WARNINGS
-> passed, ``warnings``; 2 FAILURE -> failed; 3 SKIPPED -> left out (it never ran, and shown as
unknown on top of a red streak it would hide the red); 4 EXCEPTION -> failed, ``exception`` (the
build could not finish: the builder is broken as far as anyone watching can tell); 5 RETRY ->
canceled, ``retry``: Buildbot resubmits its request, and the build that runs it again (same
``buildrequestid``) is attempt 2, so a green one is "green only after a retry"; 6 CANCELLED ->
canceled. ``null`` while running; any other code -> unknown, with the code in words.

Times are epoch seconds (a value only milliseconds can be is read as milliseconds). Properties
come as ``{name: [value, source]}``; any other shape is ignored, not a crash. ``got_revision`` may
be a string or, with several codebases, a ``{codebase: revision}`` object.

Auth: Buildbot itself has none or a session cookie. A token, if configured, is sent as
``Authorization: Bearer`` for the proxies that usually guard a master. No rate-limit headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from buildradiator.errors import AuthFailed, NotFound, SourceError
from buildradiator.model import Build, Pipeline, SourceResult, Status, first_line
from buildradiator.sources.base import Params, Source, Words, parse_model, safe_url
from buildradiator.sources.buildbot import PROVIDER
from buildradiator.sources.buildbot.builds import (
    attempts_of,
    author_of,
    branch_of,
    build_status,
    is_glob,
    newest_first,
    person,
    revision,
)
from buildradiator.sources.buildbot.config import BuildbotSource
from buildradiator.sources.buildbot.payloads import (
    BuilderPayload,
    BuildersPage,
    BuildPayload,
    BuildsPage,
    ChangePayload,
    ChangesPage,
    RequestPayload,
    RequestsPage,
)
from buildradiator.sources.http import HttpClient, Response
from buildradiator.sources.reading import activity, first_of_each, from_epoch

MAX_CHANGE_LOOKUPS = 10
"""Requests for a build's changes per poll at most (each is answered once, then remembered)."""
PAGE = 200
"""Builders per page if a master pages its builders list (most answer all at once)."""
MAX_BUILDER_PAGES = 20

PROPERTIES = (
    "got_revision",
    "revision",
    "branch",
    "owners",
    "owner",
    "author",
    "event.change.author",
    "event.change.owner.name",
    "event.patchSet.uploader.name",
    "scheduler",
)
"""The build properties asked for: revision and branch, and every place an author is seen in
the wild (``owners`` for forced and try builds, Gerrit's ``event.*`` for review builds)."""

# --- the source -------------------------------------------------------------------------------


@dataclass
class _Builder:
    payload: BuilderPayload
    recent: list[BuildPayload] = field(default_factory=list)
    running: list[BuildPayload] = field(default_factory=list)
    queued: list[RequestPayload] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.payload.name or f"builder {self.payload.builderid}"


class Buildbot(Source[BuildbotSource]):
    """The builds of the configured builders of one Buildbot master."""

    provider = PROVIDER
    status_words = {
        401: Words(
            AuthFailed,
            "Buildbot at {host} asked for a login (HTTP 401) for {what}: set token_env",
            "Buildbot at {host} asked for a login (HTTP 401) for {what}: the token was refused",
        ),
        403: Words(
            AuthFailed,
            "Buildbot at {host} denied access to {what} (HTTP 403): it needs a login",
            "Buildbot at {host} denied access to {what} (HTTP 403): the token is not enough",
        ),
        404: Words(
            NotFound,
            "{what} not found on Buildbot at {host} (tried {api_path}): "
            "is url the Buildbot root, with /api/v2 under it?",
        ),
    }

    def __init__(self, config: BuildbotSource, http: HttpClient) -> None:
        super().__init__(config, http)
        self._changes: dict[int, ChangePayload | None] = {}
        """A finished build's first change (or None when it has none): never changes again."""

    async def poll(self) -> SourceResult:
        builders = self._select(await self._builders())
        if not builders:
            return SourceResult(summary=self._nothing_matches())
        by_id = {b.payload.builderid: b for b in builders}
        for builder in builders:
            page = parse_model(BuildsPage, (await self._get_builds(builder)).json())
            builder.recent = first_of_each(page.builds, lambda build: build.buildid)
        for build in await self._running():
            if build.builderid is not None and int(build.builderid) in by_id:
                by_id[int(build.builderid)].running.append(build)
        for request in await self._waiting():
            if request.builderid is not None and int(request.builderid) in by_id:
                by_id[int(request.builderid)].queued.append(request)
        await self._look_up_changes(builders)
        pipelines = [self._pipeline(b) for b in builders]
        return SourceResult(pipelines=tuple(pipelines), summary=self._summary(pipelines))

    # -- which builders ------------------------------------------------------------------------

    async def _builders(self) -> list[BuilderPayload]:
        first = parse_model(
            BuildersPage, (await self._api("/builders", "the builders list")).json()
        )
        builders = list(first.builders)
        total = int(first.meta.total) if first.meta and first.meta.total is not None else None
        page = 1
        # Most masters answer every builder at once; a proxy or a newer master may page. A page
        # that comes back short or empty ends the walk, whatever ``total`` promised.
        while total is not None and len(builders) < total and page < MAX_BUILDER_PAGES:
            more = parse_model(
                BuildersPage,
                (
                    await self._api(
                        "/builders",
                        "the builders list",
                        params={"limit": PAGE, "offset": len(builders)},
                    )
                ).json(),
            )
            if not more.builders:
                break
            builders.extend(more.builders)
            page += 1
        return first_of_each(builders, lambda builder: builder.builderid)

    def _select(self, builders: list[BuilderPayload]) -> list[_Builder]:
        patterns, tags = self.config.builders, set(self.config.tags)
        chosen = []
        for builder in builders:
            name = builder.name or ""
            if patterns and not any(fnmatchcase(name, p) for p in patterns):
                continue
            if tags and not tags.intersection(builder.tags):
                continue
            chosen.append(_Builder(builder))
        names = {b.name or "" for b in builders}
        missing = [p for p in patterns if not is_glob(p) and p not in names]
        if missing:
            known = ", ".join(sorted(names)[:8]) or "none"
            raise NotFound(
                f"builder {missing[0]} not found on Buildbot at {self._host} (builders: {known})"
            )
        return sorted(chosen, key=lambda b: b.name.casefold())

    # -- builds --------------------------------------------------------------------------------

    def _property_params(self) -> list[tuple[str, Any]]:
        return [("property", name) for name in PROPERTIES]

    async def _get_builds(self, builder: _Builder) -> Response:
        params: list[tuple[str, Any]] = [
            ("complete", "true"),
            ("order", "-number"),
            ("limit", self.config.builds),
            *self._property_params(),
        ]
        return await self._api(
            f"/builders/{builder.payload.builderid}/builds",
            f"the builds of builder {builder.name}",
            params=params,
        )

    async def _running(self) -> list[BuildPayload]:
        params: list[tuple[str, Any]] = [
            ("complete", "false"),
            ("order", "-buildid"),
            ("limit", 500),
            *self._property_params(),
        ]
        page = parse_model(
            BuildsPage, (await self._api("/builds", "the running builds", params)).json()
        )
        return first_of_each(page.builds, lambda build: build.buildid)

    async def _waiting(self) -> list[RequestPayload]:
        params = {"claimed": "false", "complete": "false", "limit": 500}
        try:
            response = await self._api("/buildrequests", "the build requests", params)
            return parse_model(RequestsPage, response.json()).buildrequests
        except AuthFailed:
            raise
        except SourceError:
            # Queued requests are a nicety: without them the running and finished builds stand.
            return []

    async def _look_up_changes(self, builders: list[_Builder]) -> None:
        present = {b.buildid for builder in builders for b in builder.recent}
        # Builds that fell out of the window are never asked about again: forget them.
        self._changes = {k: v for k, v in self._changes.items() if k in present}
        wanted: list[BuildPayload] = []
        for builder in builders:
            shown = [b for b in builder.recent if self._wanted_branch(b)]
            for index, build in enumerate(shown):
                if build.buildid in self._changes:
                    continue
                verdict = build_status(build.results, build.complete, build.state_string)
                if index == 0 or (verdict is not None and verdict[0] is Status.FAILED):
                    wanted.append(build)
        for build in wanted[:MAX_CHANGE_LOOKUPS]:
            try:
                response = await self._api(
                    f"/builds/{build.buildid}/changes", f"the changes of build {build.buildid}"
                )
                changes = parse_model(ChangesPage, response.json()).changes
            except AuthFailed:
                raise
            except SourceError:
                # The build is known; without its changes we only lose its author and message.
                continue
            # The change whose revision was built; else the newest (Buildbot lists oldest first).
            built = revision(build.properties.get("got_revision"))
            match = next((c for c in changes if built and c.revision == built), None)
            self._changes[build.buildid] = match or (changes[-1] if changes else None)

    async def _api(self, path: str, what: str, params: Params | None = None) -> Response:
        """GET ``path`` under the master's ``/api/v2``, naming ``what`` if it fails."""
        url = f"{self.config.url.rstrip('/')}/api/v2{path}"
        return await self._get(url, params, what=what, facts={"api_path": path})

    # -- turning builders into pipelines -------------------------------------------------------

    def _wanted_branch(self, build: BuildPayload) -> bool:
        return self.config.branch is None or branch_of(build) == self.config.branch

    def _pipeline(self, builder: _Builder) -> Pipeline:
        wanted = self.config.branch
        attempts = attempts_of([*builder.recent, *builder.running])
        keep = self._wanted_branch

        recent: list[Build] = []
        for payload in sorted(builder.recent, key=newest_first):
            verdict = build_status(payload.results, payload.complete, payload.state_string)
            if verdict is None or not keep(payload):
                continue
            status, word = verdict
            if status.in_flight:
                # ``complete=true`` asked, an incomplete one came: it is still running.
                status = Status.UNKNOWN
            recent.append(self._build(builder, payload, status, word, attempts))
        in_flight: list[Build] = []
        if wanted is None:
            # A waiting request carries no branch: it can only be shown when any branch counts.
            # It was submitted after every build that runs already: newest, so first.
            for request in sorted(builder.queued, key=lambda r: -r.buildrequestid):
                in_flight.append(self._waiting_build(builder, request))
        for payload in sorted(builder.running, key=newest_first):
            if keep(payload):
                in_flight.append(
                    self._build(builder, payload, Status.RUNNING, "building", attempts)
                )
        key = builder.name
        return Pipeline(
            source=self.name,
            key=key,
            name=key,
            branch=wanted,
            url=self._web(f"builders/{builder.payload.builderid}"),
            recent=tuple(recent),
            in_flight=tuple(in_flight),
        )

    def _build(
        self,
        builder: _Builder,
        payload: BuildPayload,
        status: Status,
        word: str,
        attempts: dict[int, int],
    ) -> Build:
        change = self._changes.get(payload.buildid)
        props = payload.properties
        commit = revision(props.get("got_revision")) or revision(props.get("revision"))
        number = int(payload.number) if payload.number is not None else None
        running = status.in_flight
        return Build(
            source=self.name,
            pipeline=builder.name,
            id=str(payload.buildid),
            number=number,
            attempt=attempts.get(payload.buildid, 1),
            branch=branch_of(payload) or (change.branch if change else None),
            status=status,
            provider_status=word,
            created_at=from_epoch(payload.started_at),
            started_at=from_epoch(payload.started_at),
            finished_at=None if running else from_epoch(payload.complete_at),
            commit=commit or (change.revision if change else None),
            # The change's author wrote the commit; ``owners`` may only have pressed the button.
            author=(person(change.author) if change else None) or author_of(payload),
            message=first_line(change.comments) if change else None,
            url=self._web(f"builders/{builder.payload.builderid}/builds/{number}")
            if number is not None
            else None,
            # state_string is Buildbot's own one-line account of where the build is now.
            stage=payload.state_string if running else None,
        )

    def _waiting_build(self, builder: _Builder, request: RequestPayload) -> Build:
        return Build(
            source=self.name,
            pipeline=builder.name,
            id=f"request-{request.buildrequestid}",
            status=Status.QUEUED,
            provider_status="pending",
            created_at=from_epoch(request.submitted_at),
            stage="waiting for a worker",
            url=self._web(f"buildrequests/{request.buildrequestid}"),
        )

    # -- words ---------------------------------------------------------------------------------

    def _web(self, fragment: str) -> str | None:
        return safe_url(f"{self.config.url.rstrip('/')}/#/{fragment}")

    def _nothing_matches(self) -> str:
        wanted = [*self.config.builders, *(f"tag {t}" for t in self.config.tags)]
        return "no builder matches " + ", ".join(wanted) if wanted else "no builders"

    def _summary(self, pipelines: list[Pipeline]) -> str:
        return activity(pipelines, "builder")
