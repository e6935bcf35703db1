"""CCTray: real servers' feeds (Jenkins, GoCD, TeamCity, Buildkite) through MockTransport."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import AuthFailed, BadPayload, NotFound, ServerError, SourceError
from buildradiator.model import Status
from buildradiator.sources.catalog import make_source
from buildradiator.sources.cctray.config import CCTraySource
from buildradiator.sources.cctray.source import CCTray, parse_cctray_time
from buildradiator.sources.http import HttpClient

Handler = Callable[[httpx.Request], httpx.Response]

JENKINS = b"""<?xml version="1.0" encoding="UTF-8"?>
<Projects>
  <Project webUrl="https://jenkins.example.com/job/monolith/" name="monolith" lastBuildLabel="1412" lastBuildTime="2026-11-26T11:40:12Z" lastBuildStatus="Success" activity="Sleeping"/>
  <Project webUrl="https://jenkins.example.com/job/payments/" name="payments" lastBuildLabel="88" lastBuildTime="2026-11-26T10:02:55Z" lastBuildStatus="Failure" activity="Building"/>
  <Project webUrl="https://jenkins.example.com/job/infra-nightly/" name="infra-nightly" lastBuildLabel="301" lastBuildTime="2026-11-26T03:00:01Z" lastBuildStatus="Exception" activity="Sleeping"/>
  <Project webUrl="https://jenkins.example.com/job/docs/" name="docs" lastBuildLabel="7" lastBuildTime="2026-11-25T17:45:00Z" lastBuildStatus="Unknown" activity="Pending"/>
</Projects>
"""

GOCD = b"""<?xml version="1.0" encoding="utf-8"?>
<Projects>
  <Project name="build-linux :: compile" activity="Sleeping" lastBuildStatus="Success" lastBuildLabel="1234" lastBuildTime="2026-11-26T11:20:00+00:00" webUrl="https://gocd.example.com/go/pipelines/build-linux/1234/compile/1" />
  <Project name="build-linux :: compile :: linux-x64" activity="Sleeping" lastBuildStatus="Success" lastBuildLabel="1234" lastBuildTime="2026-11-26T11:19:58+00:00" webUrl="https://gocd.example.com/go/tab/build/detail/build-linux/1234/compile/1/linux-x64" />
  <Project name="deploy-prod :: deploy" activity="Building" lastBuildStatus="Failure" lastBuildLabel="88 :: 2" lastBuildTime="2026-11-26T09:05:11+01:00" webUrl="https://gocd.example.com/go/pipelines/deploy-prod/88/deploy/2">
    <messages>
      <message text="alice &lt;alice@example.com&gt;, bob" kind="Breakers" />
    </messages>
  </Project>
  <Project name="deploy-prod :: deploy :: k8s" activity="CheckingModifications" lastBuildStatus="Failure" lastBuildLabel="88 :: 2" lastBuildTime="2026-11-26T09:05:10+01:00" webUrl="https://gocd.example.com/go/tab/build/detail/deploy-prod/88/deploy/2/k8s">
    <messages>
      <message text="alice &lt;alice@example.com&gt;" kind="Breakers" />
    </messages>
  </Project>
</Projects>
"""

TEAMCITY = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Projects>
  <Project name="Backend :: Build" activity="Sleeping" lastBuildStatus="Success" lastBuildLabel="2.14.1-rc.5" lastBuildTime="2026-11-26T11:05:09.123+0000" webUrl="https://teamcity.example.com/viewType.html?buildTypeId=Backend_Build" category="Backend" />
  <Project name="Backend :: Tests" activity="Building" lastBuildStatus="Failure" lastBuildLabel="911" lastBuildTime="2026-11-26T06:05:09.1234567-0500" webUrl="https://teamcity.example.com/viewType.html?buildTypeId=Backend_Tests" />
</Projects>
"""

BUILDKITE_URL = "https://cc.buildkite.com/acme/monolith.xml?access_token=bkcc_SECRET123&branch=main"
BUILDKITE = b"""<?xml version="1.0" encoding="UTF-8"?>
<Projects>
  <Project name="Monolith (main)" activity="Sleeping" lastBuildStatus="Success" lastBuildLabel="5120" lastBuildTime="2026-11-26T11:58:00.000Z" webUrl="https://buildkite.com/acme/monolith/builds/5120"/>
</Projects>
"""


def config(url: str = "https://jenkins.example.com/cc.xml", **kw: Any) -> CCTraySource:
    return CCTraySource(type="cctray", name="ci", url=url, **kw)


@asynccontextmanager
async def http_for(handler: Handler, clock: FakeClock | None = None) -> AsyncIterator[HttpClient]:
    http = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock or FakeClock()
    )
    try:
        yield http
    finally:
        await http.aclose()


def serve(body: bytes, status: int = 200, **headers: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=body, headers={"content-type": "application/xml", **headers}
        )

    return handler


async def poll(body: bytes, **kw: Any):  # -> SourceResult
    async with http_for(serve(body)) as http:
        return await CCTray(config(**kw), http).poll()


async def test_make_source_builds_cctray() -> None:
    async with http_for(serve(JENKINS)) as http:
        source = make_source(config(), http)
        assert isinstance(source, CCTray)
        assert source.type == "cctray"


async def test_jenkins_feed() -> None:
    result = await poll(JENKINS)
    assert [p.key for p in result.pipelines] == ["monolith", "payments", "infra-nightly", "docs"]
    monolith, payments, nightly, docs = result.pipelines

    assert monolith.source == "ci" and monolith.name == "monolith"
    assert monolith.url == "https://jenkins.example.com/job/monolith/"
    last = monolith.last
    assert last is not None
    assert (last.id, last.number, last.status, last.provider_status) == (
        "1412",
        1412,
        Status.PASSED,
        "Success",
    )
    assert last.finished_at == datetime(2026, 11, 26, 11, 40, 12, tzinfo=UTC)
    assert last.pipeline == "monolith" and last.source == "ci"
    assert last.url == "https://jenkins.example.com/job/monolith/"
    assert monolith.in_flight == ()

    assert payments.status is Status.FAILED
    assert payments.last is not None and payments.last.provider_status == "Failure"
    (running,) = payments.in_flight
    assert running.status is Status.RUNNING
    assert running.started_at is None and running.stage is None
    assert running.id != payments.last.id
    assert running.url == "https://jenkins.example.com/job/payments/"

    assert nightly.status is Status.FAILED
    assert nightly.last is not None and nightly.last.provider_status == "Exception"

    assert docs.status is Status.UNKNOWN
    (queued,) = docs.in_flight
    assert queued.status is Status.QUEUED

    assert result.summary == "4 projects, 1 building, 1 queued, 2 failing"


async def test_gocd_feed_with_messages_and_stage_names() -> None:
    result = await poll(GOCD, url="https://gocd.example.com/go/cctray.xml")
    names = [p.name for p in result.pipelines]
    assert names == [
        "build-linux :: compile",
        "build-linux :: compile :: linux-x64",
        "deploy-prod :: deploy",
        "deploy-prod :: deploy :: k8s",
    ]
    deploy = result.pipelines[2]
    assert deploy.last is not None
    # "88 :: 2" is a label, not a number.
    assert deploy.last.id == "88 :: 2" and deploy.last.number is None
    assert deploy.last.finished_at == datetime(2026, 11, 26, 8, 5, 11, tzinfo=UTC)
    assert [b.status for b in deploy.in_flight] == [Status.RUNNING]
    # CheckingModifications is not a build.
    assert result.pipelines[3].in_flight == ()
    assert result.summary == "4 projects, 1 building, 2 failing"


async def test_gocd_project_globs() -> None:
    result = await poll(
        GOCD, url="https://gocd.example.com/go/cctray.xml", projects=["deploy-prod*", "nope"]
    )
    assert [p.key for p in result.pipelines] == [
        "deploy-prod :: deploy",
        "deploy-prod :: deploy :: k8s",
    ]
    assert result.summary == "2 projects (of 4 in the feed), 1 building, 2 failing"
    only_stages = await poll(
        GOCD, url="https://gocd.example.com/go/cctray.xml", projects=["* :: *[!4]"]
    )
    assert [p.key for p in only_stages.pipelines] == [
        "build-linux :: compile",
        "deploy-prod :: deploy",
        "deploy-prod :: deploy :: k8s",
    ]


async def test_teamcity_times_without_colon_and_long_fractions() -> None:
    result = await poll(TEAMCITY, url="https://teamcity.example.com/app/rest/cctray/projects.xml")
    build, tests = result.pipelines
    assert build.last is not None and tests.last is not None
    assert build.last.finished_at == datetime(2026, 11, 26, 11, 5, 9, 123000, tzinfo=UTC)
    assert build.last.number is None and build.last.id == "2.14.1-rc.5"
    assert tests.last.finished_at == datetime(
        2026, 11, 26, 6, 5, 9, 123456, tzinfo=timezone(timedelta(hours=-5))
    )
    assert tests.last.number == 911
    assert build.url == "https://teamcity.example.com/viewType.html?buildTypeId=Backend_Build"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T11:40:12Z", datetime(2026, 11, 26, 11, 40, 12, tzinfo=UTC)),
        ("2026-11-26T11:40:12+00:00", datetime(2026, 11, 26, 11, 40, 12, tzinfo=UTC)),
        ("2026-11-26T12:40:12+0100", datetime(2026, 11, 26, 11, 40, 12, tzinfo=UTC)),
        ("2026-11-26T11:40:12", datetime(2026, 11, 26, 11, 40, 12, tzinfo=UTC)),
        ("2026-11-26T11:40:12.5Z", datetime(2026, 11, 26, 11, 40, 12, 500000, tzinfo=UTC)),
        (
            "2026-11-26T11:40:12.123456789-0000",
            datetime(2026, 11, 26, 11, 40, 12, 123456, tzinfo=UTC),
        ),
        ("2026-11-26T11:40:12,25Z", datetime(2026, 11, 26, 11, 40, 12, 250000, tzinfo=UTC)),
        (" 2026-11-26T11:40:12Z\n", datetime(2026, 11, 26, 11, 40, 12, tzinfo=UTC)),
        ("yesterday", None),
        ("2026-13-45T99:99:99Z", None),
        ("", None),
        (None, None),
        ("2026-11-26T11:40:12+99:00", None),
    ],
)
def test_last_build_time_dialects(text: str | None, expected: datetime | None) -> None:
    parsed = parse_cctray_time(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


async def test_case_variants_unknown_enums_and_missing_attributes() -> None:
    feed = b"""<?xml version="1.0"?>
<projects xmlns="http://example.com/cctray">
  <PROJECT NAME="shouty" ACTIVITY="BUILDING" LASTBUILDSTATUS="SUCCESS" WEBURL="https://ci.example.com/shouty"/>
  <project name="quiet" activity="pending" lastbuildstatus="failure" lastbuildtime="2026-11-26T10:00:00Z"/>
  <Project name="unstable" activity="Paused" lastBuildStatus="Unstable" lastBuildTime="not a time" lastBuildLabel="#12"/>
  <Project name="bare"/>
  <Project activity="Building" lastBuildStatus="Failure" webUrl="https://ci.example.com/nameless"/>
  <Project name="" lastBuildStatus="Failure"/>
  <Project name="bare" lastBuildStatus="Failure"/>
  <Unrelated name="x"/>
</projects>
"""
    result = await poll(feed)
    assert [p.key for p in result.pipelines] == ["shouty", "quiet", "unstable", "bare"]
    shouty, quiet, unstable, bare = result.pipelines
    assert shouty.status is Status.PASSED
    assert [b.status for b in shouty.in_flight] == [Status.RUNNING]
    assert shouty.url == "https://ci.example.com/shouty"
    assert quiet.status is Status.FAILED and quiet.url is None
    assert [b.status for b in quiet.in_flight] == [Status.QUEUED]
    assert unstable.status is Status.UNKNOWN
    assert unstable.last is not None
    assert unstable.last.provider_status == "Unstable"
    assert unstable.last.finished_at is None
    assert unstable.last.id == "#12" and unstable.last.number is None
    assert unstable.in_flight == ()
    # Only a name: one "last" build of unknown status, nothing else guessed.
    assert bare.last is not None
    assert (bare.last.id, bare.last.status, bare.last.provider_status) == (
        "last",
        Status.UNKNOWN,
        None,
    )
    assert bare.last.finished_at is None and bare.url is None
    assert result.summary == "4 projects, 1 building, 1 queued, 1 failing"


async def test_untrusted_names_and_urls_are_cleaned() -> None:
    # ESC cannot appear in XML 1.0, neither raw nor as &#27;: such a feed is not XML at all.
    for raw in (b"\x1b[31m", b"&#27;[31m"):
        with pytest.raises(BadPayload, match="not XML"):
            await poll(b'<Projects><Project name="a' + raw + b'"/></Projects>')
    # C1 controls are legal XML, and U+009B / U+009D start CSI / OSC sequences in a terminal.
    feed = (
        '<Projects><Project name="red\u009b31mname\u202e" lastBuildStatus="Success" '
        'lastBuildLabel="\u009d8;;https://evil.example\u009c12" webUrl="javascript:alert(1)"/>'
        '<Project name="ok" lastBuildStatus="Success" webUrl="https://ci.example.com/a b"/>'
        '<Project name="esc" lastBuildStatus="Success" webUrl="https://ci.example.com/\u009b2J"/>'
        "</Projects>"
    ).encode()
    result = await poll(feed)
    evil, ok, esc = result.pipelines
    assert evil.name == "redname"
    assert evil.key == "redname"
    assert evil.last is not None and evil.last.id == "12" and evil.last.number == 12
    # Only plain http(s) URLs survive: they may become terminal hyperlinks.
    assert evil.url is None and ok.url is None and esc.url is None


async def test_empty_feed() -> None:
    result = await poll(b"<Projects/>")
    assert result.pipelines == ()
    assert result.summary == "0 projects, 0 building, 0 failing"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'<Projects><Project name="a" lastBuildStatus="Succ', "is not XML"),
        (b'{"projects": []}', "is not XML"),
        (b"", "is empty"),
        (
            b"<!DOCTYPE html><html><head><title>Sign in [Jenkins]</title></head></html>",
            "HTML page",
        ),
        (b"<rss><channel/></rss>", "not a CCTray feed (root element <rss>"),
        (
            b'<!DOCTYPE Projects [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<Projects><Project name="&b;"/></Projects>',
            "DTD",
        ),
        (
            b'<!DOCTYPE Projects [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<Projects><Project name="&x;"/></Projects>',
            "DTD",
        ),
    ],
)
async def test_bad_feeds_are_bad_payload(body: bytes, words: str) -> None:
    with pytest.raises(BadPayload) as info:
        await poll(body, url="https://gocd.example.com/go/cctray.xml")
    message = str(info.value)
    assert message.startswith("cc.xml from gocd.example.com ")
    assert words in message
    assert "root:" not in message


async def test_basic_auth_sent_and_401_is_auth_failed() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(
            401,
            text="<html><body>Unauthorized</body></html>",
            headers={"www-authenticate": 'Basic realm="Jenkins"'},
        )

    cfg = config(username="radiator", token=SecretStr("s3cr3t-api-token"))
    async with http_for(handler) as http:
        with pytest.raises(AuthFailed) as info:
            await CCTray(cfg, http).poll()
    expected = "Basic " + base64.b64encode(b"radiator:s3cr3t-api-token").decode()
    assert seen == [expected]
    assert "HTTP 401" in str(info.value)
    assert "s3cr3t" not in str(info.value)


async def test_bearer_token_when_no_username() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, content=JENKINS)

    async with http_for(handler) as http:
        await CCTray(config(token=SecretStr("tok-123456")), http).poll()
        await CCTray(config(), http).poll()
    assert seen == ["Bearer tok-123456", None]


async def test_buildkite_feed_token_never_shown() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=BUILDKITE)

    async with http_for(handler) as http:
        result = await CCTray(config(url=BUILDKITE_URL), http).poll()
    # The token does reach the server (that is how the feed authenticates)...
    assert "access_token=bkcc_SECRET123" in seen[0]
    assert result.pipelines[0].key == "Monolith (main)"
    assert result.pipelines[0].url == "https://buildkite.com/acme/monolith/builds/5120"
    # ...but nothing we produce carries it.
    assert "bkcc_SECRET123" not in result.model_dump_json()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, b'{"message":"Unauthorized"}', AuthFailed),
        (404, b"Not Found", NotFound),
        (500, b"<html><body>Internal Server Error</body></html>", ServerError),
        (200, b"<html><body>Log in</body></html>", BadPayload),
        (200, b"<Projects><Project name=", BadPayload),
    ],
)
async def test_buildkite_errors_never_show_the_token(
    status: int, body: bytes, error: type[SourceError]
) -> None:
    async with http_for(serve(body, status)) as http:
        with pytest.raises(error) as info:
            await CCTray(config(url=BUILDKITE_URL), http).guarded_poll()
    assert "bkcc_SECRET123" not in str(info.value)
    assert "cc.buildkite.com" in str(info.value)


async def test_304_reuses_the_last_body() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == '"feed-v1"':
            return httpx.Response(304, headers={"etag": '"feed-v1"'})
        return httpx.Response(200, content=JENKINS, headers={"etag": '"feed-v1"'})

    async with http_for(handler) as http:
        source = CCTray(config(), http)
        first = await source.poll()
        second = await source.poll()
    assert seen == [None, '"feed-v1"']
    assert second == first
    assert len(second.pipelines) == 4
