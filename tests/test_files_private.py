"""Secrets stay home: what the radiator writes is private and holds no token a server sent.

A URL from CI may carry a signed token (``X-Amz-Signature``, ``access_token``); it is stored
redacted in the cache and the history, and those files, the claims and the log are readable by
their owner only, in directories only the owner may enter.
"""

from __future__ import annotations

import json
import logging
import stat
import time
from pathlib import Path

import pytest

from buildradiator import cli
from buildradiator.assemble import build_engine
from buildradiator.cli.logs import setup_logging
from buildradiator.clock import Clock
from buildradiator.history import History
from buildradiator.paths import get_paths
from buildradiator.sources.catalog import parse_config
from buildradiator.ui.claims import ClaimStore
from hostile_server import HostileServer, answer

SIGNED = "X-Amz-Signature=f00dfeedbeefcafe1234&X-Amz-Credential=AKIASECRETKEY"


def jenkins_job_with_signed_urls() -> bytes:
    now_ms = int(time.time() * 1000)
    return json.dumps(
        {
            "name": "monolith",
            "url": "http://x/job/monolith/",
            "builds": [
                {
                    "number": 7,
                    "building": False,
                    "result": "FAILURE",
                    "timestamp": now_ms - 600_000,
                    "duration": 60_000,
                    "url": f"https://ci.example/job/monolith/7/?{SIGNED}",
                },
                {
                    "number": 6,
                    "building": False,
                    "result": "SUCCESS",
                    "timestamp": now_ms - 900_000,
                    "duration": 60_000,
                    "url": f"https://ci.example/job/monolith/6/?token=s3cr3t-tok&{SIGNED}",
                },
            ],
        }
    ).encode()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_cache_history_and_logs_are_private_and_hold_no_server_token(
    tmp_path: Path,
) -> None:
    paths = get_paths()
    async with HostileServer() as server:
        server.route("/job/monolith/api/json", answer(200, jenkins_job_with_signed_urls()))
        config = parse_config(
            f'[[sources]]\nname = "jenkins"\ntype = "jenkins"\nurl = "{server.url}"\n'
            'jobs = ["monolith"]\n'
        )
        history = History.open(paths.history_db)
        cache = paths.cache_dir / "snapshot.json"
        engine = build_engine(config, cache_path=cache, history=history)
        try:
            published = []
            await engine.poll_all()
            engine._publish_if_changed(published.append, force=True)
        finally:
            await engine.aclose()
            history.close()
    claims = ClaimStore(paths.data_dir / "claims.json", Clock())
    claims.claim("jenkins", "monolith", "ana", "looking")
    for private in (cache, paths.history_db, paths.data_dir / "claims.json"):
        assert private.exists(), private
        assert mode(private) & 0o077 == 0, f"{private} is {oct(mode(private))}"
        assert mode(private.parent) & 0o077 == 0, f"{private.parent} is {oct(mode(private.parent))}"
        data = private.read_bytes()
        assert b"f00dfeedbeefcafe1234" not in data and b"AKIASECRETKEY" not in data, private
        assert b"s3cr3t-tok" not in data
    for wal in paths.data_dir.glob("history.sqlite3-*"):
        assert mode(wal) & 0o077 == 0, wal


def test_the_log_file_is_private(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger("buildradiator")
    saved = (root.handlers[:], root.propagate, root.level)
    try:
        setup_logging()
        logging.getLogger("buildradiator.test").warning("hello")
        log_file = get_paths().log_file
        assert log_file.exists()
        assert mode(log_file) & 0o077 == 0 and mode(log_file.parent) & 0o077 == 0
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.propagate, root.level = saved[0], saved[1], saved[2]


async def test_a_damaged_history_file_is_said_on_screen_and_in_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = get_paths()
    paths.data_dir.mkdir(parents=True)
    paths.history_db.write_bytes(b"this is no database" * 100)
    history = History.open(paths.history_db)
    config = parse_config('[radiator]\ntitle = "x"\n')
    engine = build_engine(config, history=history)
    try:
        snapshot = engine.snapshot()
    finally:
        await engine.aclose()
        history.close()
    [notice] = snapshot.notices
    assert "history" in notice and "moved aside" in notice and ".corrupt-" in notice


def test_check_says_the_history_was_damaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = get_paths()
    paths.data_dir.mkdir(parents=True)
    paths.history_db.write_bytes(b"this is no database" * 100)
    config = tmp_path / "config.toml"
    config.write_text('[[sources]]\nname = "h"\ntype = "health"\nurl = "http://127.0.0.1:9/h"\n')
    cli.main(["check", "--config", str(config)])
    out = capsys.readouterr().out
    assert "warning: history file was damaged" in out and "moved aside" in out
