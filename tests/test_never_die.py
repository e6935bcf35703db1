"""Whatever a server answers, the engine keeps running (issue "Never lie, never die").

Each case is a hostile server on 127.0.0.1 answering exactly what broke the radiator once, met
the way a user meets it: through ``buildradiator status`` or the running engine.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from buildradiator.cli import main
from buildradiator.clock import FakeClock
from buildradiator.config import parse_config
from buildradiator.engine import Engine
from buildradiator.http import HttpClient, make_client
from hostile_server import HostileServer, answer

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
        engine = Engine(config, http=HttpClient(make_client(), clock=clock), clock=clock)
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
