"""Untrusted text from CI, end to end: from the API answer to the screen, the one-line formats
and the JSON.

Commit messages, branch, workflow, job, project, service and test names arrive carrying Rich
markup, ANSI and OSC escape sequences (OSC 52 clipboard writes, OSC 8 links), control characters,
bidi overrides and very long lines. Wherever they are shown they must be shown literally (the
markup's brackets visible, never interpreted) and harmlessly (no escape byte, no control
character, no override, no link that the CI server chose).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.export import document as export
from buildradiator.export import lines
from buildradiator.model import FlakyTestInfo, Snapshot
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient
from buildradiator.sources.junit.parse import parse_junit

PAYLOADS = Path(__file__).parent / "payloads"

MARKUP = "[red]boom[/red] [link=https://evil.example/m]click[/link] [bold"
ANSI = "\x1b[31mred\x1b[0m\x1b[2J\x1b[H"
OSC52 = "\x1b]52;c;cm0gLXJmIH4vCg==\x07"
OSC8 = "\x1b]8;;https://evil.example/osc8\x1b\\osc8text\x1b]8;;\x1b\\"
TITLE = "\x1b]0;pwned\x07"
CONTROLS = "bell\x07 bs\x08 nul\x00 del\x7f csi\x9b31m"
RLO = "\u202eexe.txt\u202c"
TMUX = "#[fg=red]#(touch /tmp/pwned)"
HOSTILE = f"{MARKUP} {ANSI}{OSC52}{OSC8}{TITLE} {CONTROLS} {RLO} {TMUX}"
LONG = "L" * 20_000
# What no output may ever contain: escape bytes (7-bit and 8-bit), other controls, bidi controls.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

CONFIG = """
[radiator]
title = "untrusted"

[[sources]]
name = "gh"
type = "github"
api_url = "https://api.github.test"
repo = "acme/monolith"

[[sources]]
name = "feed"
type = "cctray"
url = "https://ci.test/cc.xml"

[[sources]]
name = "svc"
type = "health"
url = "https://svc.test/health"
service = "checkout"
"""


def hostile_runs() -> dict[str, Any]:
    doc = json.loads((PAYLOADS / "github/runs.json").read_text())
    for run in doc["workflow_runs"]:
        run["name"] = "CI " + HOSTILE
        run["head_branch"] = "main" + HOSTILE + LONG
        run["display_title"] = HOSTILE
        run["html_url"] = "javascript:alert(1)//\x1b]8;;x"
        if run.get("head_commit"):
            run["head_commit"]["message"] = HOSTILE + "\n\nsecond line " + HOSTILE
            run["head_commit"]["author"] = {"name": "Mallory " + HOSTILE, "email": "m@x.test"}
        if run["status"] == "completed":
            run["conclusion"] = "failure"
    return doc


def hostile_jobs() -> dict[str, Any]:
    doc = json.loads((PAYLOADS / "github/jobs.json").read_text())
    for job in doc["jobs"]:
        job["name"] = "job " + HOSTILE
        for step in job["steps"]:
            step["name"] = "step " + HOSTILE + LONG
    return doc


def xml_attr(text: str) -> str:
    """XML 1.0 cannot carry C0 controls even as character references: the feed gets the rest."""
    kept = "".join(c for c in text if c >= " " or c in "\t\n")
    return (
        kept.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


# XML 1.0 has no ESC, not even as &#27;, but it does carry C1 controls: the 8-bit OSC (U+009D)
# and CSI (U+009B) that some terminals obey.
FEED_HOSTILE = (
    f"{MARKUP} \x9d8;;https://evil.example/osc8\x9clink\x9d8;;\x9c \x9b31m {RLO} {TMUX} del\x7f"
)


def hostile_feed() -> bytes:
    name = xml_attr("proj " + FEED_HOSTILE + LONG)
    return (
        '<?xml version="1.0"?><Projects>'
        f'<Project name="{name}" activity="Sleeping" lastBuildStatus="Failure" '
        f'lastBuildLabel="{xml_attr("42 " + FEED_HOSTILE)}" lastBuildTime="2026-11-26T11:00:00Z" '
        f'webUrl="{xml_attr("https://ci.test/x" + FEED_HOSTILE)}"/>'
        "</Projects>"
    ).encode()


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/actions/runs"):
        return httpx.Response(200, json=hostile_runs())
    if path.endswith("/jobs"):
        return httpx.Response(200, json=hostile_jobs())
    if path.endswith("cc.xml"):
        return httpx.Response(200, content=hostile_feed())
    if path.endswith("/health"):
        body = {
            "status": "DOWN",
            "version": HOSTILE,
            "components": {HOSTILE: {"status": "DOWN"}},
        }
        return httpx.Response(503, json=body)
    return httpx.Response(404)


async def hostile_snapshot() -> Snapshot:
    clock = FakeClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock)
    engine = build_engine(parse_config(CONFIG), http=http, clock=clock)
    try:
        snapshot = await engine.poll_all()
    finally:
        await engine.aclose()
    flaky = FlakyTestInfo(
        classname="com.acme." + HOSTILE,
        name="test " + HOSTILE + LONG,
        times_flaked=3,
        retried_builds=2,
        lost_seconds=600.0,
        first_seen=clock.now() - timedelta(days=2),
        last_seen=clock.now(),
        pipelines=("gh:acme/monolith:161335",),
    )
    return snapshot.model_copy(update={"flaky_tests": (flaky,)})


@pytest.fixture
def snapshot() -> Snapshot:
    return asyncio.run(hostile_snapshot())


def every_string(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in every_string(k) + every_string(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in every_string(v)]
    return [value] if isinstance(value, str) else []


def test_the_hostile_text_reached_the_snapshot_cleaned(snapshot: Snapshot) -> None:
    # The sources did read it (so the checks below are not vacuous)...
    assert all(s.error is None for s in snapshot.sources), snapshot.sources
    texts = every_string(snapshot.model_dump(mode="json"))
    assert any("[red]boom[/red]" in t for t in texts)
    assert snapshot.broken, "the failing runs make a broken window"
    window = snapshot.broken[0]
    assert window.message is not None and "[red]boom[/red]" in window.message
    # ...and nothing dangerous survived, anywhere in the snapshot.
    for text in texts:
        assert not FORBIDDEN.search(text), repr(text[:200])
        assert "evil.example/osc8" not in text and "pwned\x07" not in text
    assert all(len(t) <= 520 for t in texts if t.startswith(("main", "proj", "test", "step")))
    # A URL the server made up is not kept as a link.
    for pipeline in snapshot.pipelines:
        for url in [pipeline.url, *(b.url for b in pipeline.recent + pipeline.in_flight)]:
            assert url is None or url.startswith("https://"), url
    running = [b for b in snapshot.in_flight if b.stage]
    assert running and "[red]boom[/red]" in (running[0].stage or "")


def test_the_line_and_tmux_formats_show_it_literally(snapshot: Snapshot) -> None:
    now = snapshot.taken_at
    for ascii in (False, True):
        line = lines.status_line(snapshot, now, ascii)
        assert not FORBIDDEN.search(line), repr(line)
        assert "[red]boom[/red]" in line and "\n" not in line
        tmux = lines.tmux_line(snapshot, now, ascii)
        assert not FORBIDDEN.search(tmux), repr(tmux)
        # tmux runs #(...) and styles #[...]: every # from CI is doubled, so it stays a #.
        assert "##[fg=red]##(touch /tmp/pwned)" in tmux
        assert re.search(r"(?<!#)#\(touch", tmux) is None
        assert re.sub(r"#\[(fg|default)[^\]]*\]", "", tmux.replace("##", "")).count("#[") == 0


def test_the_json_carries_it_as_plain_strings(snapshot: Snapshot) -> None:
    text = export.to_json(snapshot)
    assert "\\u001b" not in text.lower() and "\x1b" not in text and "\\u009b" not in text.lower()
    doc = json.loads(text)
    strings = every_string(doc)
    assert any("[link=https://evil.example/m]" in s for s in strings)
    for value in strings:
        assert not FORBIDDEN.search(value), repr(value[:200])


def test_junit_test_names_are_cleaned_at_the_parser() -> None:
    report = (
        '<testsuite name="s"><testcase classname="'
        + xml_attr("com.acme." + HOSTILE)
        + '" name="'
        + xml_attr("t " + HOSTILE + LONG)
        + '"><failure message="x"/></testcase></testsuite>'
    ).encode()
    [result] = parse_junit(report, what="report")
    for text in (result.name, result.classname):
        assert not FORBIDDEN.search(text) and len(text) <= 2000
        assert "[red]boom[/red]" in text


def screen_text(app: Any) -> tuple[str, list[Any]]:
    strips = app.screen._compositor.render_strips()
    segments = [seg for strip in strips for seg in strip]
    return "\n".join("".join(seg.text for seg in strip) for strip in strips), segments


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_the_screen_shows_it_literally_and_harmlessly(
    snapshot: Snapshot, size: tuple[int, int]
) -> None:
    from buildradiator.ui.app import BuildRadiatorApp
    from buildradiator.ui.options import RadiatorOptions
    from buildradiator.ui.widgets import StatusBar

    published: list[Callable[[Snapshot], None]] = []

    class Feed:
        async def run(self, publish: Callable[[Snapshot], None]) -> None:
            published.append(publish)
            publish(snapshot)
            await asyncio.Event().wait()

        def poll_now(self) -> None:
            pass

    options = RadiatorOptions(ascii=False)
    app = BuildRadiatorApp(Feed(), clock=FakeClock(snapshot.taken_at), options=options)  # type: ignore[arg-type]
    app.display_tz = UTC
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text, segments = screen_text(app)
        assert "\x1b" not in text and not FORBIDDEN.search(text.replace("\n", "")), repr(text)
        # The markup is on screen as text: its brackets are there, nothing turned red by it.
        assert "[red]boom" in text, text
        if size[0] >= 200:
            assert "[red]boom[/red] [link=https://evil.example/m]click" in text
        for seg in segments:
            link = seg.style.link if seg.style else None
            assert not link or "evil.example" not in link, link
        assert (
            "untrusted" in app.query_one(StatusBar).plain or "gh" in app.query_one(StatusBar).plain
        )
    assert published


async def test_a_hostile_source_error_is_plain_text_too() -> None:
    # An error message is built from what the server sent (a 404 on a made-up path, a payload
    # that does not fit): it too must stay free of control characters.
    def evil(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"workflow_runs": [{"id": HOSTILE}]})

    clock = FakeClock()
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(evil)), clock=clock)
    engine = build_engine(parse_config(CONFIG), http=http, clock=clock)
    try:
        snap = await engine.poll_all()
    finally:
        await engine.aclose()
    state = snap.source_state("gh")
    assert state is not None and state.error and state.error_kind == "bad_payload"
    assert not FORBIDDEN.search(state.error) and "evil.example" not in state.error
    # The snapshot's JSON (built from its dump) can be fed back unchanged.
    assert Snapshot.model_validate_json(snap.model_dump_json()) == snap
