"""Whatever a server answers, the engine keeps running (issue "Never lie, never die").

Each case is a hostile server on 127.0.0.1 answering exactly what broke the radiator once, met
the way a user meets it: through ``buildradiator status`` or the running engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import json
import time
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from buildradiator.assemble import build_engine
from buildradiator.cli import main
from buildradiator.clock import FakeClock
from buildradiator.export.cache import read_cache, write_cache
from buildradiator.export.document import to_json
from buildradiator.history import History
from buildradiator.rules.verdict import exit_code as export_code
from buildradiator.serve.server import Board
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient, make_client
from buildradiator.ui.app import BuildRadiatorApp
from buildradiator.ui.options import RadiatorOptions
from hostile_server import HostileServer, Seen, answer

FAR_WAITS = {
    "http-date in 9999": {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
    "30-digit seconds": {"Retry-After": "9" * 30},
    "reset in 9999, quota spent": {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "253402300799",
    },
}


def two_github_sources(url: str, interval: float = 30) -> str:
    return f"""
[radiator]
interval = {interval}

[[sources]]
name = "one"
type = "github"
api_url = "{url}"
repo = "acme/one"

[[sources]]
name = "two"
type = "github"
api_url = "{url}"
repo = "acme/two"
"""


@pytest.mark.parametrize("headers", FAR_WAITS.values(), ids=FAR_WAITS.keys())
def test_status_survives_a_wait_in_the_far_future(
    headers: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = HostileServer()
    server.default = lambda seen: answer(
        429 if "retry-after" in {k.lower() for k in headers} else 403,
        b'{"message": "API rate limit exceeded"}',
        headers,
        reason="Too Many Requests",
    )
    config = tmp_path / "config.toml"
    with server.in_thread():
        config.write_text(two_github_sources(server.url))
        code = main(["status", "--json", "--config", str(config)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    doc = json.loads(out)
    # Unreadable is not red: 3, which scripts read as "unknown", never 1.
    assert code == 3
    for source in doc["sources"]:
        assert source["error_kind"] == "rate_limited"
        assert source["stale"] is True
        # The wait is clamped, and the message says so with the date the server asked for.
        assert "at most 1h" in source["error"] and "9999" in source["error"]


@pytest.mark.parametrize("headers", FAR_WAITS.values(), ids=FAR_WAITS.keys())
async def test_the_running_engine_keeps_polling_after_a_wait_in_the_far_future(
    headers: dict[str, str],
) -> None:
    clock = FakeClock()
    async with HostileServer() as server:
        server.default = lambda seen: answer(429, b"{}", headers)
        config = parse_config(two_github_sources(server.url))
        engine = build_engine(config, http=HttpClient(make_client(), clock=clock), clock=clock)
        published = []
        runner = asyncio.create_task(engine.run(published.append))
        try:
            for _ in range(50):
                await asyncio.sleep(0.02)
                if all(s.error for s in engine.slots.values()):
                    break
            assert not runner.done(), runner.exception() if runner.done() else None
            for slot in engine.slots.values():
                # Next poll within the hour, whatever the server asked.
                assert slot.next_poll is not None
                assert slot.next_poll - clock.now() <= timedelta(hours=1, seconds=10)
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
    assert published, "nothing published"


# -- text no encoder can write -------------------------------------------------------------------

POISON = "\ud83d\ufffe\uffff\u202e\u200b\u2028\x9b31m\x00"
"""A lone surrogate, two noncharacters, a bidi override, a zero-width space, a line separator, a
C1 CSI and a NUL: what broke serialisation, the CCTray feed and the screen."""
POISONED_KEYS = {"name", "login", "message", "display_title", "title", "fullDisplayName",
                 "displayName", "author", "author_name", "creator", "username", "head_branch",
                 "ref", "branch", "stage", "description", "summary"}  # fmt: skip


def poison(data: object) -> object:
    if isinstance(data, dict):
        return {
            k: (v[:3] + POISON + v[3:] if k in POISONED_KEYS and isinstance(v, str) else poison(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [poison(item) for item in data]
    return data


def poisoning_proxy(sim: Simulator) -> HostileServer:
    """Every JSON answer of the simulator, with POISON inside each name, author and message
    (written as JSON escapes, as a real server would send a lone surrogate)."""
    server = HostileServer()

    def forward(seen: Seen) -> bytes:
        headers = email.message.Message()
        for name, value in seen.headers.items():
            headers[name] = value
        got = sim.answer(seen.target, headers)
        body = got.body
        kinds = dict((k.lower(), v) for k, v in got.headers)
        if "json" in kinds.get("content-type", ""):
            with contextlib.suppress(ValueError):
                body = json.dumps(poison(json.loads(body))).encode()
        kept = {k: v for k, v in got.headers if k.lower() not in ("content-length", "etag")}
        return answer(got.status, body, kept)

    server.default = forward
    return server


async def test_text_no_encoder_can_write_is_cleaned_where_it_enters(tmp_path: Path) -> None:
    with Simulator() as sim:
        sim.set_time(60)  # main is red: names, authors and messages all on show
        async with poisoning_proxy(sim) as proxy:
            config = parse_config(demo_config_text(proxy.url, interval=30))
            engine = build_engine(config, cache_path=tmp_path / "cache.json")
            try:
                snapshot = await engine.poll_all()
                board = Board(engine.clock)
                board.publish(snapshot)  # what serve does with every snapshot
                write_cache(tmp_path / "cache.json", snapshot)
            finally:
                await engine.aclose()
    assert not sim.errors
    document = board.current.json.data.decode("utf-8")
    # The estate was read, poisoned: the lone surrogate shows as U+FFFD, U+2028 as a space,
    # the rest is gone.
    assert "Mal\ufffd lory" in document
    feed = ElementTree.fromstring(board.current.cc.data)  # a CCTray client reads it whole
    assert len(feed.findall("Project")) >= 10
    texts = [
        document,
        board.current.cc.data.decode("utf-8"),
        to_json(read_cache(tmp_path / "cache.json")),
    ]
    for text in texts:
        for bad in POISON.replace("31m", ""):
            assert bad not in text.replace("\\u", "u"), (repr(bad), text[:200])
    assert export_code(snapshot) in (0, 1, 3)


def screen_text(app: BuildRadiatorApp) -> str:
    """The whole screen as a person sees it."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


# -- absurd numbers --------------------------------------------------------------------------------

YEAR_1_MS = -62135596800000
YEAR_9999_MS = 253402300799000


def jenkins_job(name: str, builds: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {"_class": "hudson.model.FreeStyleProject", "name": name, "url": f"http://x/job/{name}/",
         "inQueue": False, "builds": builds}
    ).encode()  # fmt: skip


async def test_absurd_estimates_and_timestamps_never_crash_the_screen() -> None:
    """Jenkins says a running build will take 1e300 ms; another job's builds ran in year 1 and
    year 9999. The whole screen still renders, the In flight panel included."""
    now_ms = int(time.time() * 1000)
    async with HostileServer() as server:
        server.route(
            "/job/monolith/api/json",
            answer(200, jenkins_job("monolith", [
                {"number": 9, "building": True, "timestamp": now_ms - 60_000,
                 "estimatedDuration": 1e300},
                {"number": 8, "building": False, "result": "SUCCESS",
                 "timestamp": now_ms - 600_000, "duration": 1e300},
            ])),
        )  # fmt: skip
        server.route(
            "/job/ancient/api/json",
            answer(200, jenkins_job("ancient", [
                {"number": 3, "building": True, "timestamp": YEAR_9999_MS,
                 "estimatedDuration": 60_000},
                {"number": 2, "building": False, "result": "FAILURE", "timestamp": YEAR_1_MS,
                 "duration": 1000},
                {"number": 1, "building": False, "result": "SUCCESS", "timestamp": YEAR_9999_MS,
                 "duration": 1000},
            ])),
        )  # fmt: skip
        config = parse_config(
            f'[[sources]]\nname = "jenkins"\ntype = "jenkins"\nurl = "{server.url}"\n'
            'jobs = ["monolith", "ancient"]\n'
        )
        engine = build_engine(config, history=History.memory())
        app = BuildRadiatorApp(engine)
        async with app.run_test(size=(120, 35)) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                if app.snapshot is not None and app.snapshot.in_flight:
                    break
            await pilot.pause(0.2)
            text = screen_text(app)
            assert app.is_running
        assert app.return_code in (0, None)
    assert "monolith" in text and "ancient" in text


def test_a_radiator_that_dies_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever kills the app, the process says so in its exit code (it exited 0)."""
    from buildradiator.ui.launch import run_radiator
    from buildradiator.ui.widgets import inflight

    def broken(*args: object, **kwargs: object) -> None:
        raise OverflowError("Python int too large to convert to C int")

    monkeypatch.setattr(inflight, "inflight_rows", broken)
    config = parse_config("[radiator]\ntitle = 'x'\n")
    options = RadiatorOptions()
    assert run_radiator(config, options, use_cache=False, history=History.memory()) == 4


def test_a_command_that_fails_on_a_bug_exits_4_with_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from buildradiator.rules import derive as derive_module

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(derive_module.insights, "broken_windows", broken)
    config = tmp_path / "config.toml"
    config.write_text('[[sources]]\nname = "h"\ntype = "health"\nurl = "http://127.0.0.1:9/h"\n')
    assert main(["status", "--json", "--config", str(config)]) == 4
    err = capsys.readouterr().err
    assert "internal error (RuntimeError)" in err and "Traceback" not in err
