"""When the engine stops (something unexpected escaped ``Engine.run``), ``serve`` must not go on
answering its last snapshot as if all were well: ``/healthz`` says 503 "engine stopped", the
JSON keeps its last document but says ``"overall": "unknown"`` and ``"engine": {"running":
false}``, the other feeds refuse, and the process logs the traceback and exits 4."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from buildradiator.cli import main
from buildradiator.clock import FakeClock
from buildradiator.export.document import snapshot_doc
from buildradiator.model import Snapshot
from buildradiator.serve import server as serve_module
from buildradiator.serve.limits import Limits
from buildradiator.serve.server import Board, EngineStopped, RadiatorServer, serve
from snapshot_fixtures import green_estate

ROOMY = Limits(rate=1000.0, burst=1000, keepalive=5.0, write_timeout=5.0)
SECRET_IN_MESSAGE = "https://ci.internal/api?token=abc123"


class DyingEngine:
    """Publishes one green snapshot, then fails as an unexpected bug would."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.clock = FakeClock()
        self.snapshot = snapshot
        self.die = asyncio.Event()

    async def run(self, publish: object) -> None:
        publish(self.snapshot)  # type: ignore[operator]
        await self.die.wait()
        raise OverflowError(f"date value out of range while polling {SECRET_IN_MESSAGE}")


async def test_a_stopped_engine_is_said_everywhere_then_serve_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    snap = green_estate()
    engine = DyingEngine(snap)
    ready: asyncio.Future[RadiatorServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            engine,  # type: ignore[arg-type]
            host="127.0.0.1",
            port=0,
            token=None,
            limits=ROOMY,
            ready=ready.set_result,
            linger=30.0,
        )
    )
    server = await asyncio.wait_for(ready, 5)
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        while (await http.get("/healthz")).status_code != 200:
            await asyncio.sleep(0.01)
        before = (await http.get("/snapshot.json")).json()
        assert before["overall"] == "passed"
        etag = (await http.get("/snapshot.json")).headers["ETag"]

        with caplog.at_level(logging.ERROR, logger="buildradiator"):
            engine.die.set()
            while (health := await http.get("/healthz")).status_code == 200:
                await asyncio.sleep(0.01)
        assert health.status_code == 503
        assert health.text.startswith("engine stopped: OverflowError")
        assert "abc123" not in health.text and "ci.internal" not in health.text

        # The last document, said to be unknown, with the engine's state: nothing green.
        answer = await http.get("/snapshot.json", headers={"If-None-Match": etag})
        assert answer.status_code == 200  # not 304: the document changed
        doc = answer.json()
        assert doc["overall"] == "unknown"
        assert doc["engine"]["running"] is False
        assert doc["engine"]["error"].startswith("OverflowError: date value out of range")
        assert "abc123" not in answer.text
        expected = json.loads(json.dumps(snapshot_doc(snap)))
        assert {k: v for k, v in doc.items() if k not in ("overall", "engine")} == {
            k: v for k, v in expected.items() if k != "overall"
        }
        # Feeds that cannot say "unknown" refuse rather than show the last state.
        for path in ("/cc.xml", "/metrics"):
            refused = await http.get(path)
            assert refused.status_code == 503, path
            assert refused.text.startswith("engine stopped"), path
        assert not task.done()  # it lingers, so screens and monitors can see why

        task.cancel()  # Ctrl+C while lingering: still a stop of the engine
        with pytest.raises(EngineStopped) as stopped:
            await task
    assert "OverflowError" in str(stopped.value)
    [record] = [r for r in caplog.records if r.name.startswith("buildradiator")]
    assert record.exc_info is not None and isinstance(record.exc_info[1], OverflowError)


async def test_a_stopped_engine_before_any_snapshot_leaves_nothing_to_serve() -> None:
    board = Board(FakeClock())
    board.stopped("RuntimeError", "RuntimeError: boom")
    async with (
        RadiatorServer(board, port=0, limits=ROOMY) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        for path in ("/healthz", "/snapshot.json", "/cc.xml", "/metrics"):
            answer = await http.get(path)
            assert answer.status_code == 503, path
            assert "engine stopped" in answer.text, path
    board.publish(green_estate())  # a late publish does not bring it back to life
    assert board.current is None


@pytest.fixture
def own_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``cmd_serve`` points our and aiohttp's loggers at the log file: put them back after."""
    loggers = [logging.getLogger("buildradiator"), logging.getLogger("aiohttp")]
    for logger in loggers:
        for attribute in ("handlers", "propagate", "level"):
            value = getattr(logger, attribute)
            monkeypatch.setattr(
                logger, attribute, list(value) if attribute == "handlers" else value
            )
    yield
    for logger in loggers:
        for handler in logger.handlers:
            handler.close()


def test_the_serve_command_exits_4_and_logs_the_traceback(
    tmp_path: Path,
    isolated_paths: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    own_logging: None,
) -> None:
    from buildradiator.engine.engine import Engine

    async def broken_run(self: Engine, publish: object) -> None:
        raise ZeroDivisionError("the bug the lead has not found yet")

    monkeypatch.setattr(Engine, "run", broken_run)
    monkeypatch.setattr(serve_module, "STOPPED_LINGER", 0.0)
    config = tmp_path / "c.toml"
    config.write_text('[serve]\nbrowser = false\n[[sources]]\nname = "h"\ntype = "health"\n'
                      'url = "http://127.0.0.1:9/health"\n')  # fmt: skip
    assert main(["serve", "--config", str(config), "--port", "0"]) == 4
    err = capsys.readouterr().err
    assert "engine stopped" in err and "ZeroDivisionError" in err
    assert "Traceback" not in err  # the traceback goes to the log, the words to stderr
    log = (isolated_paths / "logs").rglob("*.log")
    text = "".join(p.read_text() for p in log)
    assert "Traceback" in text and "the bug the lead has not found yet" in text
