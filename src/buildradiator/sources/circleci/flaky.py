"""CircleCI's flaky-tests insight: the tests CircleCI itself calls flaky, per project.

``GET {api}/api/v2/insights/{project-slug}/flaky-tests`` answers ``{"flaky-tests": [...],
"total-flaky-tests": N}``; each entry has ``test-name``, ``classname``, ``file``, ``source``,
``job-name``, ``job-number``, ``workflow-name``, ``workflow-id``, ``workflow-created-at``,
``pipeline-number``, ``times-flaked`` and ``time-wasted``. The API reference and its generated
clients spell every key in kebab-case; the snake_case spelling (``flaky_tests``, ``test_name``...)
that some notes use is accepted too, so a proxy or a later API version that "fixes" the keys still
works. The list is branch agnostic and not paginated; CircleCI drops a test after two weeks
without a flake, so the list is the whole current set, sent as such on every poll.

A flake belongs to the row of its workflow: ``{slug}:{workflow-name}``, the key ``circleci.py``
gives that workflow's row, so the Flaky panel and the row's detail view agree.

Insights refresh slowly (CircleCI aggregates them), so the list is read at most every
``flaky_every`` seconds and the last list is sent in between. Reading it never fails a poll: a
server without insights (404), a token without access (403) or a rate limit (429) keeps the last
list, says so in the summary, and the next try waits for the next ``flaky_every``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import AliasChoices, BeforeValidator, Field, ValidationError

from buildradiator.errors import BadPayload, NotFound, SourceError
from buildradiator.model import ReportedFlake
from buildradiator.sources.base import parse_iso, parse_model, safe_url
from buildradiator.sources.flakes import FlakeLists
from buildradiator.sources.http import RateHeaders, Response
from buildradiator.sources.payload import Payload, Stamp, Tally, Text
from buildradiator.text import clean_text

CIRCLECI_INSIGHTS_RATE = RateHeaders("circleci-insights", "x-ratelimit-")
"""A budget of its own: a 429 on the insight blocks only the next insight reads, never the
pipeline requests that the rows depend on (if those are limited too, they get their own 429)."""

MAX_FLAKES = 500
"""Entries taken from one project's list: the panel shows a few dozen at most."""


def _keys(name: str) -> AliasChoices:
    """The documented kebab-case key, and its snake_case spelling."""
    return AliasChoices(name, name.replace("-", "_"))


def _id_or_none(value: Any) -> Any:
    # ``workflow-id`` is untyped in the reference: a UUID string, but tolerate a number.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


class FlakyEntry(Payload):
    test_name: Text = Field(default=None, validation_alias=_keys("test-name"))
    classname: Text = None
    file: Text = None
    job_name: Text = Field(default=None, validation_alias=_keys("job-name"))
    job_number: Tally = Field(default=None, validation_alias=_keys("job-number"))
    workflow_name: Text = Field(default=None, validation_alias=_keys("workflow-name"))
    workflow_id: Annotated[str | None, BeforeValidator(_id_or_none)] = Field(
        default=None, validation_alias=_keys("workflow-id")
    )
    workflow_created_at: Stamp = Field(default=None, validation_alias=_keys("workflow-created-at"))
    pipeline_number: Tally = Field(default=None, validation_alias=_keys("pipeline-number"))
    times_flaked: Tally = Field(default=None, validation_alias=_keys("times-flaked"))


class FlakyList(Payload):
    flaky_tests: list[Any] | None = Field(validation_alias=_keys("flaky-tests"))
    """Required: an answer without the list says nothing, and must not wipe the last one."""


def parse_flaky(data: Any) -> list[FlakyEntry]:
    """The entries of one answer; an entry that is not an object of the documented shape is
    left out alone. A body without the list at all is ``BadPayload``."""
    if not isinstance(data, dict):
        raise BadPayload("flaky-tests insight: expected an object with a flaky-tests list")
    listing = parse_model(FlakyList, data)
    entries = []
    for item in (listing.flaky_tests or [])[:MAX_FLAKES]:
        try:
            entries.append(FlakyEntry.model_validate(item))
        except ValidationError:
            continue
    return entries


def to_flakes(
    source: str, slug: str, rows: Sequence[str], entries: Sequence[FlakyEntry], web: str
) -> tuple[ReportedFlake, ...]:
    """``ReportedFlake``s of one project, one per (row, test, job), most flaked first.

    ``rows`` are the keys of the project's rows this poll: an entry without a workflow name
    belongs to the project's only row, if it has just one, else to the project (``slug:``).
    """
    merged: dict[tuple[str, str, str, str], ReportedFlake] = {}
    for entry in entries:
        name = clean_text(entry.test_name or "")
        if not name:
            continue  # a flake nobody can name cannot be ranked or looked for
        workflow = clean_text(entry.workflow_name or "")
        if workflow:
            key = f"{slug}:{workflow}"
        else:
            own = [r for r in rows if r.startswith(f"{slug}:")]
            key = own[0] if len(own) == 1 else f"{slug}:"
        flake = ReportedFlake(
            source=source,
            pipeline=key,
            classname=entry.classname or entry.file or "",
            name=name,
            times_flaked=max(1, entry.times_flaked or 0),
            last_seen=parse_iso(entry.workflow_created_at),
            job=entry.job_name or None,
            url=_job_page(web, slug, entry),
        )
        ident = (flake.pipeline, flake.classname, flake.name, flake.job or "")
        known = merged.get(ident)
        # The same test twice in one list (one entry per instance on some servers): one flake,
        # the larger count and the later sighting, so it is not ranked twice.
        merged[ident] = flake if known is None else _merge(known, flake)
    return tuple(sorted(merged.values(), key=lambda f: (-f.times_flaked, f.classname, f.name)))


def _merge(a: ReportedFlake, b: ReportedFlake) -> ReportedFlake:
    newer = b if _later(b.last_seen, a.last_seen) else a
    return newer.model_copy(update={"times_flaked": max(a.times_flaked, b.times_flaked)})


def _later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a > b)


def _job_page(web: str, slug: str, entry: FlakyEntry) -> str | None:
    if entry.pipeline_number is None or not entry.workflow_id:
        return None
    workflow = quote(entry.workflow_id, safe="")
    page = f"{web}/pipelines/{slug}/{entry.pipeline_number}/workflows/{workflow}"
    if entry.job_number is not None:
        page += f"/jobs/{entry.job_number}"
    return safe_url(page)


Fetch = Callable[[str], Awaitable[Response]]


class FlakyInsight(FlakeLists):
    """The last flaky-tests list of each project, and when to read them again."""

    what = "flaky-tests insight of"
    label = "insights"

    async def refresh(
        self,
        source: str,
        api: str,
        web: str,
        slugs: Sequence[str],
        rows: Sequence[str],
        fetch: Fetch,
    ) -> tuple[ReportedFlake, ...]:
        """Read each project's list if it is time (else keep the last ones); every project's
        current list, together."""

        async def read(slug: str) -> tuple[ReportedFlake, ...]:
            response = await fetch(f"{api}/insights/{slug}/flaky-tests")
            return to_flakes(source, slug, rows, parse_flaky(response.json()), web)

        return await self.read_each(slugs, read)

    def words(self, exc: SourceError) -> str:
        if isinstance(exc, NotFound):
            # CircleCI server installs have no insights; the URL in the message adds nothing.
            return "HTTP 404: no insights on this server, or the token cannot see them"
        return str(exc)
