"""Buildkite Test Engine: the tests a suite labels flaky, counted for the pipeline that runs them.

``test_suites = { suite-slug = "pipeline-slug" }`` names the suites (scope ``read_suites``). Per
suite, the documented way: ``GET /v2/analytics/organizations/{org}/suites/{suite}/tests?label=flaky``
-> ``[{id, url, web_url, scope, name, location, file_name}]`` (``labels`` on some answers), paged
by ``Link: rel="next"``. That list says *which* tests are flaky but not how often, so the legacy
``GET .../suites/{suite}/flaky-tests`` (deprecated, same ids, plus ``instances``,
``latest_occurrence_at``, ``most_recent_instance_at``) is read after it for the counts; if it is
gone, every flake counts once. Where ``/tests`` itself is not found (an older server), the legacy
list is the list. An entry of either shape is read by the same model.

A flake belongs to ``{organization}/{pipeline-slug}``, the key ``buildkite.py`` gives that
pipeline's row. The lists are read at most every ``TESTS_EVERY`` seconds and the last ones are sent
in between; a suite that cannot be read keeps its last list and is named in the summary: Test
Engine's trouble never fails the poll that read the builds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Annotated, Any, Protocol
from urllib.parse import quote

from pydantic import BeforeValidator, ValidationError

from buildradiator.clock import Clock
from buildradiator.errors import NotFound, SourceError
from buildradiator.model import ReportedFlake
from buildradiator.sources.base import parse_iso, safe_url
from buildradiator.sources.flakes import FlakeLists
from buildradiator.sources.payload import Payload, Stamp, Tally, Text
from buildradiator.text import clean_text

TESTS_EVERY = 600.0
"""Seconds between reads of the suites: Test Engine's labels change over hours, not polls."""
MAX_PAGES = 5
PAGE_SIZE = 100
LEGACY_PERIOD = "28days"
"""The longest window the legacy endpoint offers (default 7days): counts over four weeks."""


def _labels_or_none(value: Any) -> Any:
    if not isinstance(value, list):
        return None
    return [v for v in value if isinstance(v, str)]


class SuiteTest(Payload):
    """One test of either list: ``/tests`` (labels) or the legacy ``/flaky-tests`` (counts)."""

    id: Text = None
    web_url: Text = None
    scope: Text = None
    name: Text = None
    file_name: Text = None
    labels: Annotated[list[str] | None, BeforeValidator(_labels_or_none)] = None
    instances: Tally = None
    most_recent_instance_at: Stamp = None
    latest_occurrence_at: Stamp = None

    @property
    def ident(self) -> tuple[str, ...]:
        return (self.id,) if self.id else (self.scope or "", self.name or "")


class Pages(Protocol):
    """``Buildkite._pages``: the pages of one list, ``Link: rel="next"`` followed."""

    def __call__(
        self, url: str, params: dict[str, Any], *, what: str, scope: str, most: int
    ) -> Awaitable[list[list[Any]]]: ...


class TestEngineFlakes(FlakeLists):
    """The last flaky list of each configured suite, and when to read them again."""

    __test__ = False  # not a pytest class, despite the name
    what = "Test Engine suite"
    label = "Test Engine"

    def __init__(
        self, api: str, organization: str, suites: Mapping[str, str], clock: Clock
    ) -> None:
        super().__init__(TESTS_EVERY, clock)
        self.api = api.rstrip("/")
        self.organization = organization
        self.suites = dict(suites)

    async def refresh(self, source: str, pages: Pages) -> tuple[ReportedFlake, ...]:
        async def read(suite: str) -> tuple[ReportedFlake, ...]:
            tests = await self._suite(suite, pages)
            return self._flakes(source, self.suites[suite], tests)

        return await self.read_each(list(self.suites), read)

    # -- reading -----------------------------------------------------------------------------

    async def _suite(self, suite: str, pages: Pages) -> list[SuiteTest]:
        org = quote(self.organization, safe="")
        base = f"{self.api}/v2/analytics/organizations/{org}/suites/{quote(suite, safe='')}"
        what = f"suite {suite} of organization {self.organization}"
        legacy_params = {"per_page": PAGE_SIZE, "period": LEGACY_PERIOD}
        try:
            listed = await _read_all(
                f"{base}/tests", {"label": "flaky", "per_page": PAGE_SIZE}, what, pages
            )
        except NotFound:
            # No /tests here: an older server, whose legacy list is its flaky list.
            return await _read_all(f"{base}/flaky-tests", legacy_params, what, pages)
        # A server that ignored ``label=`` would list every test: trust the labels it shows.
        flaky = [t for t in listed if t.labels is None or "flaky" in {x.lower() for x in t.labels}]
        if all(t.instances is not None for t in flaky):
            return flaky
        try:
            legacy = await _read_all(f"{base}/flaky-tests", legacy_params, what, pages)
        except SourceError:
            return flaky  # counts are a bonus: without them every flake counts once
        counts = {t.ident: t for t in legacy}
        return [_with_counts(t, counts.get(t.ident)) for t in flaky]

    def _flakes(
        self, source: str, pipeline: str, tests: Sequence[SuiteTest]
    ) -> tuple[ReportedFlake, ...]:
        key = f"{self.organization}/{pipeline}"
        found: dict[tuple[str, ...], ReportedFlake] = {}
        for test in tests:
            name = clean_text(test.name or "")
            if not name or test.ident in found:
                continue
            found[test.ident] = ReportedFlake(
                source=source,
                pipeline=key,
                classname=test.scope or test.file_name or "",
                name=name,
                times_flaked=max(1, test.instances or 0),
                last_seen=parse_iso(test.most_recent_instance_at or test.latest_occurrence_at),
                url=safe_url(test.web_url),
            )
        return tuple(sorted(found.values(), key=lambda f: (-f.times_flaked, f.classname, f.name)))


async def _read_all(url: str, params: dict[str, Any], what: str, pages: Pages) -> list[SuiteTest]:
    """Every page (at most ``MAX_PAGES``) of one list; an entry of a foreign shape is left out
    alone, a page that is not a list fails the read."""
    tests: list[SuiteTest] = []
    for page in await pages(url, params, what=what, scope="read_suites", most=MAX_PAGES):
        for item in page:
            try:
                tests.append(SuiteTest.model_validate(item))
            except ValidationError:
                continue
    return tests


def _with_counts(test: SuiteTest, legacy: SuiteTest | None) -> SuiteTest:
    if legacy is None or test.instances is not None:
        return test
    return test.model_copy(
        update={
            "instances": legacy.instances,
            "most_recent_instance_at": test.most_recent_instance_at
            or legacy.most_recent_instance_at,
            "latest_occurrence_at": test.latest_occurrence_at or legacy.latest_occurrence_at,
        }
    )
