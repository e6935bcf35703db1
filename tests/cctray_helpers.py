"""The CCTray export's test estate and its reader, shared by the export's tests and the
BuildNotify interoperability test: an estate with everything a feed writer can get wrong
(``hostile_estate``) and what the radiator's own CCTray source reads back from a feed
(``read_back``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx

from buildradiator.clock import FakeClock
from buildradiator.export.cctray import CONTENT_TYPE
from buildradiator.model import Build, Pipeline, Snapshot, SourceResult, Status
from buildradiator.sources.cctray.config import CCTraySource
from buildradiator.sources.cctray.source import CCTray
from buildradiator.sources.http import HttpClient
from snapshot_fixtures import NOW, ago, build, pipeline

FEED_URL = "http://127.0.0.1:8686/cc.xml"
HOSTILE_NAME = "He said \"hi\" <b>&amp; 'x' ]]> [bold red]boom[/] Zürich ✓"
TOKEN_URL = "https://user:hunter2@ci.example/x/7?access_token=SECRET123&branch=main"
IST = timezone(timedelta(hours=5, minutes=30))


def hostile_estate() -> Snapshot:
    """Everything a feed writer can get wrong: markup-ish names, clashing names, tokens in
    URLs, a ``javascript:`` URL, odd offsets, a pipeline that never built, a stale source."""
    hostile = Pipeline(
        source="gh",
        key="acme/hostile",
        name=HOSTILE_NAME + "\x07\x1b[31m\ttail",
        url="https://ci.example/hostile",
        recent=(
            Build(
                source="gh",
                pipeline="acme/hostile",
                id="run\x01<&>\"'",
                status=Status.FAILED,
                started_at=datetime(2026, 11, 26, 16, 0, 5, tzinfo=IST),
                finished_at=datetime(2026, 11, 26, 16, 20, 9, 987654, tzinfo=IST),
                url=TOKEN_URL,
            ),
        ),
    )
    same_gh = pipeline("monolith", (build("monolith", 5, Status.PASSED, finished=60),))
    same_jenkins = pipeline(
        "monolith",
        (build("monolith", 6, Status.FAILED, finished=120, source="jenkins"),),
        source="jenkins",
    )
    # Two branches of one pipeline in one source: same name, different keys.
    main = Pipeline(
        source="gh",
        key="acme/app:main",
        name="app",
        # GitHub-style: a long run id and a short run number; the label is the number.
        recent=(
            build("acme/app:main", 1, Status.PASSED, finished=30).model_copy(
                update={"id": "9876543210"}
            ),
        ),
    )
    release = Pipeline(
        source="gh",
        key="acme/app:release",
        name="app",
        recent=(build("acme/app:release", 2, Status.CANCELED, finished=40),),
        group="Release train",
    )
    never_built = Pipeline(
        source="gh",
        key="acme/new",
        name="new one",
        url="javascript:alert(1)",
        in_flight=(
            Build(
                source="gh",
                pipeline="acme/new",
                id="q1",
                status=Status.QUEUED,
                created_at=ago(10),
            ),
        ),
    )
    only_started = Pipeline(
        source="buildkite",
        key="acme/odd",
        name="odd",
        url="https://buildkite.example/acme/odd",
        recent=(
            Build(
                source="buildkite",
                pipeline="acme/odd",
                id="uuid-1",
                status=Status.UNKNOWN,
                started_at=ago(900),
                url="ftp://nope.example/x",
            ),
        ),
    )
    return Snapshot(
        taken_at=NOW,
        pipelines=(hostile, same_gh, same_jenkins, main, release, never_built, only_started),
        stale_sources=frozenset({"buildkite"}),
    )


async def read_back(data: bytes) -> SourceResult:
    """What the radiator's own CCTray source makes of the feed, served over HTTP."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url == httpx.URL(FEED_URL)
        return httpx.Response(200, content=data, headers={"content-type": CONTENT_TYPE})

    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=FakeClock())
    try:
        source = CCTray(CCTraySource(type="cctray", name="central", url=FEED_URL), http)
        return await source.poll()
    finally:
        await http.aclose()
