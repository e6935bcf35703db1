"""Buildkite (REST v2): the builds on one branch of the pipelines of an organisation.

Which pipelines: ``pipelines`` names slugs or glob patterns. Plain slugs are read directly (one
builds request each, scope ``read_builds`` only). Patterns, or no ``pipelines`` at all, first list
the organisation's pipelines (scope ``read_pipelines``), following ``Link: rel="next"`` for at most
``MAX_LIST_PAGES`` pages, and match each pattern against the slug and the name.

Requests per poll: the listing (0, or 1 to ``MAX_LIST_PAGES``) plus one builds request per watched
pipeline, at most ``MAX_PIPELINES``. Buildkite allows 200 requests a minute per organisation; the
jobs come inside each build (``include_retried_jobs=true``), so a build in flight costs nothing
more.

One ``Pipeline`` per watched pipeline that has builds on the branch. A build's verdict comes from
its ``state``; a build waiting at a block step keeps its state and sets ``blocked: true`` (older
answers say ``state: blocked``), shown as ``provider_status`` "blocked (waiting for unblock)".
Retried jobs (``retried``, ``retries_count``) and rebuilds (``rebuilt_from``) raise ``attempt`` so
that a green build that needed them counts as "green only after a retry".

Rate limits: Buildkite sends an organisation set (``RateLimit-*``) and a per-user set
(``RateLimit-User-*``), both with Reset in seconds left; the tighter one is kept. A 429 carries
JSON ``{message, reset}``: its ``reset`` is read when neither ``Retry-After`` nor a spent quota
header says when to come back.

``test_suites`` adds the Test Engine suites' flaky tests to ``flaky_reports`` (read at most every
10 minutes, after the builds; see ``buildkite_tests.py``): their trouble never fails a poll.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from buildradiator.errors import AuthFailed, BadPayload, RateLimited
from buildradiator.fmt import plural
from buildradiator.model import (
    Build,
    Pipeline,
    RateInfo,
    ReportedFlake,
    SourceResult,
    Status,
    first_line,
)
from buildradiator.sources.base import (
    STATUS_WORDS,
    Params,
    Source,
    Words,
    parse_iso,
    parse_model,
    safe_url,
)
from buildradiator.sources.buildkite import PROVIDER
from buildradiator.sources.buildkite.builds import attempt_of, build_status, stage_of, stages_of
from buildradiator.sources.buildkite.config import BuildkiteSource
from buildradiator.sources.buildkite.payloads import (
    BuildList,
    BuildPayload,
    Page,
    PipelineList,
    TooMany,
)
from buildradiator.sources.buildkite.testengine import TestEngineFlakes
from buildradiator.sources.http import (
    HttpClient,
    RateHeaders,
    Response,
    epoch_time,
    later,
    next_link,
    rate_limited,
    retry_after,
)
from buildradiator.sources.payload import EPOCH
from buildradiator.sources.reading import BuildLists
from buildradiator.urls import origin_of

MAX_PIPELINES = 30
"""Builds requests per poll at most (one per pipeline). At the default interval this stays well
inside the organisation's 200 requests a minute, which every other API client shares."""
MAX_LIST_PAGES = 5
"""Pages of 100 pipelines read when listing: an organisation larger than that should name its
pipelines (or patterns) instead of watching all of them."""
LIST_PAGE_SIZE = 100

# --- rate limits -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BothRateHeaders(RateHeaders):
    """The organisation's ``RateLimit-*`` and the user's ``RateLimit-User-*``: the tighter wins.

    The HTTP layer keeps one budget per host and reads it through ``parse``; whichever quota is
    nearer to empty is the one that will stop us, so that is the one the engine should see.
    """

    user_prefix: str = "ratelimit-user-"

    def parse(self, headers: httpx.Headers, now: datetime) -> RateInfo | None:
        org = super().parse(headers, now)
        user = RateHeaders(self.name, self.user_prefix, reset_is_epoch=False).parse(headers, now)
        found = [r for r in (org, user) if r is not None]
        if not found:
            return None

        def tightness(rate: RateInfo) -> tuple[float, float]:
            remaining = math.inf if rate.remaining is None else rate.remaining
            # On a tie, the later reset keeps us waiting longer: prefer it.
            return remaining, -(rate.reset_at.timestamp() if rate.reset_at else 0.0)

        return min(found, key=tightness)


BUILDKITE_BOTH_RATE = BothRateHeaders("buildkite", "ratelimit-", reset_is_epoch=False)


# --- the source -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Watched:
    slug: str
    name: str | None = None
    web_url: str | None = None


class Buildkite(Source[BuildkiteSource]):
    """Builds on ``branch`` of the organisation's pipelines (all, or by slug or pattern)."""

    provider = PROVIDER
    rate_headers = BUILDKITE_BOTH_RATE
    status_words = {
        403: Words(
            AuthFailed,
            STATUS_WORDS[403].anonymous,
            "{host} denied access to {what} (HTTP 403): the token from {origin} lacks the "
            "{scope} scope or access to the organization",
        )
    }

    def __init__(self, config: BuildkiteSource, http: HttpClient) -> None:
        super().__init__(config, http)
        self._tests = (
            TestEngineFlakes(config.api_url, config.organization, config.test_suites, http.clock)
            if config.test_suites
            else None
        )

    async def poll(self) -> SourceResult:
        watched, unmatched, total = await self._watched()
        pipelines: list[Pipeline] = []
        quiet: list[str] = []
        for ref in watched[:MAX_PIPELINES]:
            pipeline = await self._poll_pipeline(ref)
            if pipeline is None:
                quiet.append(ref.slug)
            else:
                pipelines.append(pipeline)
        summary = self._summary(pipelines, quiet, unmatched, len(watched), total)
        flaky: tuple[ReportedFlake, ...] = ()
        if self._tests is not None:
            flaky = await self._tests.refresh(self.name, self._pages)
            summary += self._tests.summary()
        return SourceResult(pipelines=tuple(pipelines), flaky_reports=flaky, summary=summary)

    # -- which pipelines -----------------------------------------------------------------------

    async def _watched(self) -> tuple[list[_Watched], list[str], int | None]:
        """The pipelines to read, the patterns that matched none, and the listing's size."""
        wanted = self.config.pipelines
        if wanted and not any(_is_pattern(p) for p in wanted):
            # Plain slugs need no listing (and no read_pipelines scope).
            return [_Watched(slug) for slug in dict.fromkeys(wanted)], [], None
        listed = await self._list_pipelines()
        if not wanted:
            return listed, [], len(listed)
        chosen: dict[str, _Watched] = {}
        unmatched: list[str] = []
        for pattern in wanted:
            hits = [p for p in listed if _matches(pattern, p)]
            if not hits:
                unmatched.append(pattern)
            for hit in hits:
                chosen.setdefault(hit.slug, hit)
        return list(chosen.values()), unmatched, len(listed)

    async def _list_pipelines(self) -> list[_Watched]:
        url = f"{self._org_url}/pipelines"
        what = f"organization {self.config.organization}"
        pages = await self._pages(
            url,
            {"per_page": LIST_PAGE_SIZE},
            what=what,
            scope="read_pipelines",
            most=MAX_LIST_PAGES,
        )
        found: dict[str, _Watched] = {}
        for page in pages:
            for item in parse_model(PipelineList, page).root:
                if item.slug and item.slug not in found:
                    found[item.slug] = _Watched(item.slug, item.name, safe_url(item.web_url))
        return list(found.values())

    async def _pages(
        self, url: str, params: dict[str, Any], *, what: str, scope: str, most: int
    ) -> list[list[Any]]:
        """The pages of one list, following ``Link: rel="next"``: at most ``most``, each URL
        once, only to the API we were given (the token goes wherever the link points), up to
        an empty page (a "next" link to one: the list ended early). A page that is not a list
        fails the read."""
        pages: list[list[Any]] = []
        seen: set[str] = set()
        target: str | None = url
        query: dict[str, Any] | None = params
        while target is not None and target not in seen and len(pages) < most:
            seen.add(target)
            response = await self._get(target, query, what=what, scope=scope)
            page = parse_model(Page, response.json()).root
            if not page:
                break
            pages.append(page)
            link = next_link(response)
            target = link if link and origin_of(link) == origin_of(self._api) else None
            query = None
        return pages

    # -- one pipeline --------------------------------------------------------------------------

    async def _poll_pipeline(self, ref: _Watched) -> Pipeline | None:
        url = f"{self._org_url}/pipelines/{quote(ref.slug, safe='')}/builds"
        params = {
            "branch": self.config.branch,
            "per_page": self.config.per_page,
            "include_retried_jobs": "true",
        }
        what = f"pipeline {ref.slug} of organization {self.config.organization}"
        response = await self._get(url, params, what=what, scope="read_builds")
        payloads = parse_model(BuildList, response.json()).root
        seen: set[str] = set()
        builds: list[BuildPayload] = []
        for payload in payloads:
            # Build ids must be unique within a pipeline; a duplicate would count twice.
            if payload.id not in seen:
                seen.add(payload.id)
                builds.append(payload)
        builds.sort(key=lambda b: (parse_iso(b.created_at) or EPOCH, b.number or 0), reverse=True)
        key = f"{self.config.organization}/{ref.slug}"
        row = BuildLists()
        name, page = ref.name, ref.web_url
        for payload in builds:
            if payload.pipeline:
                name = name or payload.pipeline.name
                page = page or safe_url(payload.pipeline.web_url)
            build = self._build(key, payload)
            if build is not None:
                row.add(build)
        if not row.recent and not row.in_flight:
            return None
        return Pipeline(
            source=self.name,
            key=key,
            name=name or ref.slug,
            branch=self.config.branch,
            url=page or self._fallback_page(ref.slug),
            recent=tuple(row.recent),
            in_flight=tuple(row.in_flight),
        )

    def _build(self, key: str, payload: BuildPayload) -> Build | None:
        verdict = build_status(
            payload.state, payload.blocked, payload.blocked_state, payload.finished_at is not None
        )
        if verdict is None:
            return None
        status, word = verdict
        jobs = payload.jobs or []
        current = [j for j in jobs if not j.retried]
        soft = [j.title for j in current if j.soft_failed]
        if soft and status is Status.PASSED and word == payload.state:
            word = f"passed with soft failures: {', '.join(dict.fromkeys(soft))}"
        person = (payload.creator.name if payload.creator else None) or (
            payload.author.name if payload.author else None
        )
        created = parse_iso(payload.created_at)
        return Build(
            source=self.name,
            pipeline=key,
            id=payload.id,
            number=payload.number,
            attempt=attempt_of(jobs, payload.rebuilt_from is not None),
            branch=payload.branch,
            status=status,
            provider_status=word,
            created_at=created,
            started_at=parse_iso(payload.started_at) or parse_iso(payload.scheduled_at),
            finished_at=None if status.in_flight else parse_iso(payload.finished_at),
            commit=payload.commit,
            author=person,
            message=first_line(payload.message),
            url=safe_url(payload.web_url),
            stage=stage_of(current, payload) if status.in_flight else None,
            stages=() if status.in_flight else stages_of(current),
        )

    # -- HTTP ----------------------------------------------------------------------------------

    async def _get(
        self, url: str, params: Params | None = None, *, scope: str = "read_builds", **how: Any
    ) -> Response:
        """``Source._get``, naming the token scope a 403 lacks, and a 429 read here: Buildkite
        may say when to come back in its JSON ``reset`` only."""
        response = await super()._get(url, params, ok=(200, 429), facts={"scope": scope}, **how)
        if response.status_code == 429:
            raise self._rate_limited(response)
        return response

    def _rate_limited(self, response: Response) -> RateLimited:
        now = self.http.clock.now()
        retry_at, asked = retry_after(response.headers, now)
        if retry_at is None and response.rate and response.rate.remaining == 0:
            retry_at = response.rate.reset_at
        if retry_at is None:
            try:
                body = parse_model(TooMany, response.json())
            except BadPayload:
                body = TooMany()
            if body.reset is not None and body.reset >= 0:
                # Seconds left, as the headers count; a value that can only be a unix time is one.
                retry_at = (
                    epoch_time(body.reset, now)
                    if body.reset > 1_000_000_000
                    else later(now, body.reset)
                )
        budget = self.http.budget(response.url, BUILDKITE_BOTH_RATE)
        return rate_limited(self._host, 429, budget, now, retry_at, asked)

    # -- words ---------------------------------------------------------------------------------

    @property
    def _api(self) -> str:
        return self.config.api_url.rstrip("/")

    @property
    def _org_url(self) -> str:
        return f"{self._api}/v2/organizations/{quote(self.config.organization, safe='')}"

    def _fallback_page(self, slug: str) -> str | None:
        if urlsplit(self.config.api_url).netloc.lower() == "api.buildkite.com":
            return f"https://buildkite.com/{quote(self.config.organization)}/{quote(slug)}"
        return None

    def _summary(
        self,
        pipelines: list[Pipeline],
        quiet: list[str],
        unmatched: list[str],
        watched: int,
        listed: int | None,
    ) -> str:
        running = sum(len(p.in_flight) for p in pipelines)
        text = f"{plural(len(pipelines), 'pipeline')}, {running} in flight"
        if watched > MAX_PIPELINES:
            text += (
                f"; watching the first {MAX_PIPELINES} of {watched} pipelines"
                " (name fewer in pipelines = [...])"
            )
        if listed == 0:
            text += f"; organization {self.config.organization} lists no pipelines"
        if unmatched:
            text += f"; no pipeline matches {', '.join(unmatched)}"
        if quiet:
            shown = ", ".join(quiet[:5]) + (f" and {len(quiet) - 5} more" if len(quiet) > 5 else "")
            text += f"; no builds on {self.config.branch} in {shown}"
        return text


def _is_pattern(text: str) -> bool:
    return any(c in text for c in "*?[")


def _matches(pattern: str, pipeline: _Watched) -> bool:
    if fnmatch.fnmatchcase(pipeline.slug, pattern):
        return True
    name = pipeline.name
    return name is not None and fnmatch.fnmatchcase(name.casefold(), pattern.casefold())
