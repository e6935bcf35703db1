"""The junit source: report files (globs) and URLs read once, each distinct report one test run."""

from __future__ import annotations

import base64
import os
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.errors import BadPayload, NotFound, SourceError
from buildradiator.history import History
from buildradiator.model import TestRun, TestStatus
from buildradiator.sources.catalog import make_source, parse_config
from buildradiator.sources.http import HttpClient
from buildradiator.sources.junit import source as junit_source
from buildradiator.sources.junit.config import JUnitSource
from buildradiator.sources.junit.source import JUnitReports

Handler = Callable[[httpx.Request], httpx.Response]

# pytest --junitxml, as pytest 8 writes it: a <testsuites> root, one "pytest" suite, an error on
# setup and skips/xfails as <skipped type=...>.
PYTEST = b"""<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite
 name="pytest" errors="1" failures="1" skipped="1" tests="4" time="3.210"
 timestamp="2026-11-26T12:00:00.123456+01:00" hostname="ci-7"><testcase classname="tests.test_api"
 name="test_get[one]" time="0.001" /><testcase classname="tests.test_api" name="test_post"
 time="0.020"><failure message="assert 1 == 2">def test_post(): ...</failure></testcase><testcase
 classname="tests.test_db" name="test_conn" time="0.000"><error message="failed on setup with
 &quot;OSError: no db&quot;">...</error></testcase><testcase classname="tests.test_db"
 name="test_skip" time="0.000"><skipped type="pytest.skip" message="no docker">/x.py:3: no
 docker</skipped></testcase></testsuite></testsuites>"""

# Maven Surefire with rerunFailingTestsCount: chargesCard failed twice, then passed (a flake).
SUREFIRE = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="3.0"
    name="com.acme.PaymentTest" time="1,234.567" tests="3" errors="0" skipped="0" failures="1">
  <properties><property name="java.version" value="21"/></properties>
  <testcase name="chargesCard" classname="com.acme.PaymentTest" time="1,200.5">
    <flakyFailure message="expected 200" type="java.lang.AssertionError">
      <stackTrace>at com.acme.PaymentTest.chargesCard</stackTrace>
    </flakyFailure>
    <flakyFailure message="timeout" type="java.net.SocketTimeoutException"/>
  </testcase>
  <testcase name="refunds" classname="com.acme.PaymentTest" time="0.1">
    <failure message="boom" type="java.lang.AssertionError">trace</failure>
    <rerunFailure message="boom again" type="java.lang.AssertionError"/>
  </testcase>
  <testcase name="voids" classname="com.acme.PaymentTest" time="0.2"/>
</testsuite>
"""

NESTED = b"""<testsuites><testsuite name="outer"><testsuite name="inner">
<testcase name="deep" time="2,000.25"/></testsuite>
<testcase name="shallow" classname="Outer" time="1"/></testsuite></testsuites>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuite name="x"><testcase name="&lol3;"/></testsuite>"""

HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>login</body></html>"

WHEN = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)


def write(path: Path, data: bytes, when: datetime = WHEN) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected, got {request.url}")


@asynccontextmanager
async def junit(
    handler: Handler = _refuse, clock: FakeClock | None = None, **keys: Any
) -> AsyncIterator[JUnitReports]:
    config = JUnitSource(type="junit", name="monolith-tests", **keys)
    http = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock or FakeClock()
    )
    source = make_source(config, http)
    assert isinstance(source, JUnitReports)
    try:
        yield source
    finally:
        await http.aclose()


def by_name(run: TestRun) -> dict[str, TestStatus]:
    return {r.name: r.status for r in run.results}


# -- files ---------------------------------------------------------------------------------


async def test_reports_on_disk_become_one_run_each(tmp_path: Path) -> None:
    write(tmp_path / "reports" / "pytest.xml", PYTEST)
    write(tmp_path / "reports" / "TEST-com.acme.PaymentTest.xml", SUREFIRE)
    write(tmp_path / "reports" / "nested.xml", NESTED)
    async with junit(paths=[str(tmp_path / "reports" / "*.xml")], pipeline="acme/monolith") as src:
        result = await src.poll()
    assert result.pipelines == () and result.services == ()
    assert len(result.test_runs) == 3
    assert len({r.build_id for r in result.test_runs}) == 3
    for run in result.test_runs:
        assert (run.source, run.pipeline, run.attempt) == ("monolith-tests", "acme/monolith", 1)
        assert run.commit is None and run.finished_at == WHEN  # the file's mtime
    runs = {next(iter(by_name(r))): r for r in result.test_runs}
    assert by_name(runs["chargesCard"]) == {
        "chargesCard": TestStatus.FLAKY,
        "refunds": TestStatus.FAILED,
        "voids": TestStatus.PASSED,
    }
    assert runs["chargesCard"].results[0].duration == 1200.5  # "1,200.5"
    assert by_name(runs["test_get[one]"]) == {
        "test_get[one]": TestStatus.PASSED,
        "test_post": TestStatus.FAILED,
        "test_conn": TestStatus.FAILED,
        "test_skip": TestStatus.SKIPPED,
    }
    deep = {r.name: r for r in runs["deep"].results}
    assert deep["deep"].classname == "inner" and deep["deep"].duration == 2000.25
    assert deep["shallow"].classname == "Outer"
    # 3 + 3 + 2 tests (the skipped one is not counted), 3 failed, 1 flaky.
    assert result.summary == "3 reports (3 new), 8 tests, 3 failed, 1 flaky"


async def test_pipeline_defaults_to_the_source_name_and_commit_is_passed_on(
    tmp_path: Path,
) -> None:
    write(tmp_path / "a.xml", SUREFIRE)
    async with junit(paths=[str(tmp_path / "a.xml")], commit="4f2a9c1") as src:
        [run] = (await src.poll()).test_runs
    assert run.pipeline == "monolith-tests" and run.commit == "4f2a9c1"


async def test_globs_recurse_expand_home_and_count_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / "mod-a" / "target" / "surefire-reports" / "TEST-a.xml", SUREFIRE)
    write(tmp_path / "mod-b" / "build" / "deep" / "er" / "TEST-b.xml", NESTED)
    (tmp_path / "dir.xml").mkdir()  # a directory that matches is not a report
    write(tmp_path / "notes.txt", b"not a report")
    patterns = ["~/**/TEST-*.xml", str(tmp_path / "**" / "*.xml"), "~/nothing/*.xml"]
    async with junit(paths=patterns) as src:
        result = await src.poll()
        assert src.reads == 2  # matched by two patterns, read once
    assert len(result.test_runs) == 2
    assert result.summary.startswith("2 reports (2 new), 5 tests")


async def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    write(tmp_path / "a.xml", SUREFIRE)
    write(tmp_path / "b.xml", PYTEST)
    write(tmp_path / "bad.xml", b"<testsuite><testcase name=")  # truncated
    async with junit(paths=[str(tmp_path / "*.xml")]) as src:
        first = await src.poll()
        assert src.reads == 3 and len(first.test_runs) == 2
        second = await src.poll()
        third = await src.poll()
        assert src.reads == 3  # stat only: neither the good files nor the broken one are read
    assert second.test_runs == () and third.test_runs == ()
    assert second.summary.startswith("2 reports, 6 tests, 3 failed, 1 flaky; 1 unreadable: ")
    assert "bad.xml is not XML" in second.summary


async def test_a_changed_file_is_a_new_run_and_a_touched_one_is_not(tmp_path: Path) -> None:
    report = write(tmp_path / "TEST-a.xml", SUREFIRE)
    async with junit(paths=[str(report)]) as src:
        [first] = (await src.poll()).test_runs
        # Touched (new mtime) but the same bytes: read again, but the same run.
        write(report, SUREFIRE, WHEN + timedelta(minutes=5))
        touched = await src.poll()
        assert src.reads == 2 and touched.test_runs == ()
        assert touched.summary == "1 report, 3 tests, 1 failed, 1 flaky"
        # The next build rewrote it: refunds passes now.
        fixed = SUREFIRE.replace(b'<failure message="boom"', b'<system-out message="boom"')
        fixed = fixed.replace(b"<rerunFailure", b"<system-err").replace(
            b"</failure>", b"</system-out>"
        )
        write(report, fixed, WHEN + timedelta(minutes=30))
        [second] = (await src.poll()).test_runs
    assert second.build_id != first.build_id
    assert by_name(second)["refunds"] is TestStatus.PASSED
    assert second.finished_at == WHEN + timedelta(minutes=30)


async def test_a_report_from_the_future_is_dated_now(tmp_path: Path) -> None:
    clock = FakeClock(WHEN)
    write(tmp_path / "a.xml", SUREFIRE, WHEN + timedelta(days=2))  # another machine's clock
    async with junit(paths=[str(tmp_path / "a.xml")], clock=clock) as src:
        [run] = (await src.poll()).test_runs
    assert run.finished_at == WHEN


async def test_bad_files_cost_only_themselves(tmp_path: Path) -> None:
    write(tmp_path / "a-good.xml", SUREFIRE)
    write(tmp_path / "b-empty.xml", b"")
    write(tmp_path / "c-login.xml", HTML)
    write(tmp_path / "d-bomb.xml", BOMB)
    write(tmp_path / "e-huge.xml", b"<testsuite>" + b" " * 5000 + b"</testsuite>")
    write(tmp_path / "f-cc.xml", b"<Projects><Project name='x'/></Projects>")
    async with junit(paths=[str(tmp_path / "*.xml")], max_bytes=4096) as src:
        result = await src.poll()
        assert src.reads == 5  # the huge one was refused by its size, unread
    [run] = result.test_runs
    assert by_name(run)["chargesCard"] is TestStatus.FLAKY
    summary = result.summary
    assert summary.startswith("1 report (1 new), 3 tests, 1 failed, 1 flaky; 5 unreadable: ")
    assert "b-empty.xml is empty" in summary
    assert "c-login.xml is an HTML page" in summary
    assert "d-bomb.xml declares a document type" in summary
    assert "and 2 more" in summary  # only three are named


async def test_everything_failing_is_an_error_naming_each_file(tmp_path: Path) -> None:
    write(tmp_path / "a.xml", b"")
    write(tmp_path / "b.xml", BOMB)
    async with junit(paths=[str(tmp_path / "*.xml")]) as src:
        with pytest.raises(BadPayload) as caught:
            await src.poll()
    message = str(caught.value)
    assert message.startswith("all 2 reports failed: ")
    assert "a.xml is empty" in message and "b.xml declares a document type" in message


async def test_one_failing_file_raises_its_own_error(tmp_path: Path) -> None:
    write(tmp_path / "big.xml", b"<testsuite>" + b" " * 2000 + b"</testsuite>")
    async with junit(paths=[str(tmp_path / "big.xml")], max_bytes=1024) as src:
        with pytest.raises(BadPayload, match=r"big\.xml is too large \(1 KiB > 1 KiB\)"):
            await src.poll()
        assert src.reads == 0


async def test_nothing_matching_is_not_an_error(tmp_path: Path) -> None:
    async with junit(paths=[str(tmp_path / "target" / "*.xml")]) as src:
        result = await src.poll()
    assert result.test_runs == ()
    assert result.summary == f"no reports yet (nothing matches {tmp_path}/target/*.xml)"


async def test_max_files_and_the_read_budget_bound_one_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        write(tmp_path / f"r{i}.xml", SUREFIRE.replace(b"voids", f"voids{i}".encode()))
    async with junit(paths=[str(tmp_path / "*.xml")], max_files=4) as src:
        monkeypatch.setattr(junit_source, "MAX_TOTAL_BYTES", len(SUREFIRE) * 2 + 10)
        first = await src.poll()
        assert src.reads == 2 and len(first.test_runs) == 2
        assert first.summary.endswith("; read the first 4 of 5 files; 2 left for the next poll")
        second = await src.poll()
        assert src.reads == 4 and len(second.test_runs) == 2  # the deferred two, not r4.xml
    names = {r.name for run in first.test_runs + second.test_runs for r in run.results}
    assert {f"voids{i}" for i in range(4)} <= names and "voids4" not in names


async def test_emitted_memory_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(junit_source, "_REMEMBERED", 3)
    async with junit(paths=[str(tmp_path / "*.xml")]) as src:
        for i in range(6):
            write(tmp_path / f"r{i}.xml", NESTED.replace(b"deep", f"deep{i}".encode()))
            await src.poll()
        assert len(src._emitted) == 3
        # Files that no longer match are forgotten too.
        for i in range(5):
            (tmp_path / f"r{i}.xml").unlink()
        await src.poll()
        assert list(src._files) == [str(tmp_path / "r5.xml")]


# -- URLs ----------------------------------------------------------------------------------

ARTIFACT = "https://jenkins.example.com/job/monolith/lastCompletedBuild/artifact/target/junit.xml"


async def test_a_url_is_fetched_conditionally_with_a_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(
            200,
            content=SUREFIRE,
            headers={
                "Content-Type": "application/xml",
                "ETag": '"v1"',
                "Last-Modified": "Thu, 26 Nov 2026 10:15:00 GMT",
            },
        )

    async with junit(handler, urls=[ARTIFACT], token=SecretStr("s3cr3t-token")) as src:
        [run] = (await src.poll()).test_runs
        again = await src.poll()
    assert [r.headers["authorization"] for r in seen] == ["Bearer s3cr3t-token"] * 2
    assert "if-none-match" not in seen[0].headers and seen[1].headers["if-none-match"] == '"v1"'
    assert again.test_runs == () and again.summary == "1 report, 3 tests, 1 failed, 1 flaky"
    assert run.finished_at == datetime(2026, 11, 26, 10, 15, tzinfo=UTC)
    assert by_name(run)["chargesCard"] is TestStatus.FLAKY


async def test_username_and_token_go_as_basic_auth() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, content=PYTEST)  # no validators at all: still one run

    async with junit(handler, urls=[ARTIFACT], username="radiator", token=SecretStr("t0k")) as src:
        assert len((await src.poll()).test_runs) == 1
        assert (await src.poll()).test_runs == ()  # the same bytes again: not a new run
    assert seen[0] == "Basic " + base64.b64encode(b"radiator:t0k").decode()


async def test_a_404_costs_only_its_url_and_never_shows_the_token() -> None:
    gone = "https://ci.example.com/artifacts/old/junit.xml?access_token=SECRET123"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/artifacts/old"):
            return httpx.Response(404, content=b"<html><body>Not Found</body></html>")
        return httpx.Response(200, content=NESTED, headers={"ETag": 'W/"abc"'})

    async with junit(handler, urls=[ARTIFACT, gone]) as src:
        result = await src.poll()
    assert len(result.test_runs) == 1
    assert result.summary.startswith("1 report (1 new), 2 tests, 0 flaky; 1 unreadable: not found")
    assert "ci.example.com/artifacts/old/junit.xml" in result.summary
    assert "SECRET123" not in result.summary


async def test_urls_that_all_fail_raise_their_shared_kind() -> None:
    urls = [ARTIFACT + "?token=SECRET123", "https://ci.example.com/other.xml"]

    async with junit(lambda r: httpx.Response(404), urls=urls) as src:
        with pytest.raises(NotFound) as caught:
            await src.poll()
    message = str(caught.value)
    assert message.startswith("all 2 reports failed: not found (HTTP 404): ")
    assert "ci.example.com/other.xml" in message and "SECRET123" not in message


async def test_failures_of_different_kinds_raise_a_plain_source_error(tmp_path: Path) -> None:
    write(tmp_path / "empty.xml", b"  \n")
    async with junit(
        lambda r: httpx.Response(404), urls=[ARTIFACT], paths=[str(tmp_path / "*")]
    ) as src:
        with pytest.raises(SourceError) as caught:
            await src.poll()
    assert type(caught.value) is SourceError
    assert "empty.xml is empty" in str(caught.value) and "not found (HTTP 404)" in str(caught.value)


async def test_unreachable_html_and_good_urls_together(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.example.com":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if request.url.path.endswith("login.xml"):
            return httpx.Response(200, content=HTML)  # an SSO page answered with 200
        return httpx.Response(200, content=SUREFIRE)

    write(tmp_path / "same.xml", SUREFIRE)
    urls = ["https://down.example.com/junit.xml", "https://ci.example.com/login.xml", ARTIFACT]
    async with junit(handler, urls=urls, paths=[str(tmp_path / "*.xml")]) as src:
        result = await src.poll()
    # The file and the artifact hold the same report: one run, counted once.
    assert len(result.test_runs) == 1
    summary = result.summary
    assert summary.startswith("1 report (1 new), 3 tests, 1 failed, 1 flaky; 2 unreadable: ")
    assert "cannot reach down.example.com: connection refused" in summary
    assert "report https://ci.example.com/login.xml is an HTML page" in summary


# -- config --------------------------------------------------------------------------------


def test_config_needs_paths_or_urls_and_http_urls() -> None:
    with pytest.raises(ValidationError, match="paths"):
        JUnitSource(type="junit", name="x")
    with pytest.raises(ValidationError, match="http"):
        JUnitSource(type="junit", name="x", urls=["ftp://ci.example.com/junit.xml"])
    with pytest.raises(ValidationError):
        JUnitSource(type="junit", name="x", paths=["*.xml"], max_bytes=100 * 1024 * 1024)


# -- through the engine into the flaky ranking ---------------------------------------------


async def test_a_surefire_flake_reaches_the_snapshot(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "surefire-reports" / "TEST-com.acme.PaymentTest.xml", SUREFIRE)
    config = parse_config(f"""
[[sources]]
name = "monolith-tests"
type = "junit"
pipeline = "acme/monolith"
paths = ["{tmp_path}/surefire-reports/TEST-*.xml"]
""")
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(_refuse)), clock=clock)
    history = History.memory(clock=clock)
    eng = build_engine(config, http=http, clock=clock, rng=random.Random(1), history=history)
    assert eng.recorder is not None
    try:
        await eng.poll_source("monolith-tests")
        snap = eng.snapshot()
        state = snap.source_state("monolith-tests")
        assert state is not None and state.error is None and snap.pipelines == ()
        [flaky] = snap.flaky_tests
        assert (flaky.classname, flaky.name) == ("com.acme.PaymentTest", "chargesCard")
        assert flaky.times_flaked == 1 and flaky.pipelines == ("monolith-tests:acme/monolith",)
        assert flaky.first_seen == WHEN and flaky.lost_seconds == 1200.5
        # A second poll finds nothing new: nothing is recorded twice.
        generation = history.generation
        await eng.poll_source("monolith-tests")
        assert history.generation == generation
        assert [t.name for t in eng.snapshot().flaky_tests] == ["chargesCard"]
    finally:
        await eng.aclose()
        history.close()


async def test_flakes_count_for_the_pipeline_of_another_source(
    tmp_path: Path, clock: FakeClock
) -> None:
    write(tmp_path / "reports" / "TEST-com.acme.PaymentTest.xml", SUREFIRE)
    config = parse_config(f"""
[[sources]]
name = "monolith-tests"
type = "junit"
pipeline = "acme/monolith"
pipeline_source = "github"
paths = ["{tmp_path}/reports/*.xml"]
""")
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(_refuse)), clock=clock)
    history = History.memory(clock=clock)
    eng = build_engine(config, http=http, clock=clock, rng=random.Random(1), history=history)
    try:
        await eng.poll_source("monolith-tests")
        [flaky] = eng.snapshot().flaky_tests
        assert flaky.pipelines == ("github:acme/monolith",)
    finally:
        await eng.aclose()
        history.close()
