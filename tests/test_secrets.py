"""Secrets: with a token set for every source, no token value appears in any output, log or file.

The demo config (every provider, against the simulator over loopback) gets a ``token_env`` per
source, plus a CCTray feed whose URL carries ``?access_token=`` (as Buildkite's does), and runs
through ``check``, ``status --json`` and ``status --format tmux``; then every error path: a server
that refuses the token (401) and echoes it back in its body, a rate limit, a 500 that echoes it,
and a host that does not answer. stdout, stderr, every log record (DEBUG, httpx and httpcore
included), the snapshot cache and the log file are searched for every token value.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from buildradiator import cli
from buildradiator.assemble import build_engine
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.catalog import parse_config
from sim_helpers import LoopbackServer, refused_port

QUERY_TOKEN = "qtok-S3cr3tInTheQuery-77"


def token_for(name: str) -> str:
    return f"tok-{re.sub(r'[^a-z]', '', name)}-S3cr3t-4242"


class EchoServer(ThreadingHTTPServer):
    """A hostile server: it answers every path with a failure that echoes the request's
    credentials back, in the body and in a header."""

    daemon_threads = True


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        echoed = " ".join(f"{k}: {v}" for k, v in self.headers.items()) + " " + self.path
        if "/ratelimit/" in self.path:
            status, extra = 403, [("x-ratelimit-limit", "5000"), ("x-ratelimit-remaining", "0"),
                                  ("x-ratelimit-reset", "4102444800")]  # fmt: skip
            body = f'{{"message": "API rate limit exceeded ({echoed})"}}'
        elif "/boom/" in self.path:
            status, extra, body = 500, [], f"<html><body>Internal error: {echoed}</body></html>"
        else:
            status, extra, body = 401, [], f'{{"message": "Bad credentials: {echoed}"}}'
        data = body.encode()
        self.send_response(status)
        for name, value in [*extra, ("X-Echo", echoed[:200]), ("Content-Type", "application/json")]:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    server = EchoServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator() as simulator:
        simulator.set_time(100)
        yield simulator


def with_tokens(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """Give every [[sources]] table a token_env (and Jenkins its user); set the variables."""
    tokens: list[str] = []
    out: list[str] = []
    for line in text.splitlines():
        out.append(line)
        match = re.match(r'name = "(.+)"$', line)
        if match and out[-2].strip() == "[[sources]]":
            name = match.group(1)
            env = "BR_TOKEN_" + re.sub(r"\W", "_", name).upper()
            monkeypatch.setenv(env, token_for(name))
            tokens.append(token_for(name))
            out.append(f'token_env = "{env}"')
        if line == 'type = "jenkins"':
            out.append('username = "radiator"')
    return "\n".join(out) + "\n", tokens


def write_config(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def everything_said(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, home: Path
) -> str:
    out, err = capsys.readouterr()
    logs = "\n".join(
        f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    )
    files = "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in home.rglob("*") if p.is_file()
    )
    return "\n".join([out, err, logs, files])


def assert_no_token(text: str, tokens: list[str]) -> None:
    for token in tokens:
        assert token not in text, f"token {token[:8]}... leaked"
        # Not its Basic-auth encoding nor its URL encoding either.
        assert token.replace("-", "%2D") not in text


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "buildradiator", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_check_and_status_against_the_demo_never_show_a_token(
    sim: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    debug_logs: pytest.LogCaptureFixture,
    isolated_paths: Path,
) -> None:
    base = sim.base_url
    text, tokens = with_tokens(demo_config_text(base), monkeypatch)
    # Buildkite's CCTray feed carries its token in the query; the path 404s so that the URL
    # shows in the error message (redacted).
    text += (
        f'\n[[sources]]\nname = "bk-feed"\ntype = "cctray"\n'
        f'url = "{base}/buildkite-feed/cc.xml?access_token={QUERY_TOKEN}&branch=main"\n'
    )
    tokens.append(QUERY_TOKEN)
    config = write_config(tmp_path, text)

    assert cli.main(["check", "--config", str(config)]) == 3  # the feed's 404 fails the check
    assert cli.main(["status", "--json", "--config", str(config)]) in (0, 1, 3)
    assert cli.main(["status", "--format", "tmux", "--config", str(config)]) in (0, 1, 3)
    assert cli.main(["status", "--format", "line", "--fresh", "--config", str(config)]) in (0, 1, 3)
    said = everything_said(capsys, debug_logs, isolated_paths)
    assert_no_token(said, tokens)
    # It did run: every source answered and the httpx request logs were captured.
    assert "github" in said and "buildbot" in said and "circleci" in said
    assert any(r.name.startswith("httpx") for r in debug_logs.records)
    assert "access_token=***" in said
    assert list(isolated_paths.rglob("snapshot-*.json")), "the cache file was written"


def test_every_error_path_keeps_the_token_out(
    echo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    debug_logs: pytest.LogCaptureFixture,
    isolated_paths: Path,
) -> None:
    down = f"http://127.0.0.1:{refused_port()}"
    blocks = [
        ("wrong-gh", "github", f'api_url = "{echo}/github"\nrepo = "acme/monolith"'),
        ("limited-gh", "github", f'api_url = "{echo}/ratelimit"\nrepo = "acme/monolith"'),
        ("wrong-gl", "gitlab", f'api_url = "{echo}/gitlab/api/v4"\nproject = "acme/shop"'),
        ("boom-bk", "buildkite", f'api_url = "{echo}/boom"\norganization = "acme"'),
        ("wrong-ci", "circleci", f'api_url = "{echo}/circleci"\nprojects = ["gh/acme/api"]'),
        ("wrong-jk", "jenkins", f'url = "{echo}/jenkins"\njobs = ["monolith"]'),
        ("wrong-bb", "buildbot", f'url = "{echo}/buildbot"'),
        ("wrong-cc", "cctray", f'url = "{echo}/cc.xml?access_token={QUERY_TOKEN}"'),
        ("boom-hc", "health", f'url = "{echo}/boom/health"'),
        ("down-gh", "github", f'api_url = "{down}"\nrepo = "acme/monolith"'),
        ("down-cc", "cctray", f'url = "{down}/cc.xml?private_token={QUERY_TOKEN}"'),
    ]
    text = "[radiator]\ninterval = 30\n"
    for name, kind, rest in blocks:
        text += f'\n[[sources]]\nname = "{name}"\ntype = "{kind}"\ntimeout = 2\n{rest}\n'
    text, tokens = with_tokens(text, monkeypatch)
    tokens.append(QUERY_TOKEN)
    config = write_config(tmp_path, text)

    assert cli.main(["check", "--config", str(config)]) == 3
    # 1, not 3: the health check is down, and a known red outranks the unreadable sources.
    assert cli.main(["status", "--json", "--config", str(config)]) == 1
    assert cli.main(["status", "--format", "tmux", "--fresh", "--config", str(config)]) == 1
    said = everything_said(capsys, debug_logs, isolated_paths)
    assert_no_token(said, tokens)
    # Every path was really taken.
    for words in ("401", "rate limited", "HTTP 500", "connection refused"):
        assert words in said, words


def test_tls_verification_is_on_by_default_and_off_only_where_asked(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    self_signed: ssl.SSLContext | None,
) -> None:
    text = (
        '[[sources]]\nname = "lab"\ntype = "health"\nurl = "https://lab.test/health"\n'
        "verify_tls = false\n\n"
        '[[sources]]\nname = "prod"\ntype = "health"\nurl = "https://127.0.0.1:1/health"\n'
        "timeout = 1\n"
    )
    config = write_config(tmp_path, text)
    cli.main(["check", "--config", str(config)])
    out = capsys.readouterr().out
    assert "warning: TLS verification is off for source lab" in out
    assert "source prod" not in out.split("source  ")[0]  # no warning for the default

    if self_signed is None:
        pytest.skip("openssl is not installed: no self-signed certificate to test against")

    async def both() -> dict[str, Any]:
        async with LoopbackServer("ok", self_signed) as server:
            url = f"https://127.0.0.1:{server.port}/health"
            cfg = parse_config(
                f'[[sources]]\nname = "lab"\ntype = "health"\nurl = "{url}"\n'
                "verify_tls = false\ntimeout = 2\n\n"
                f'[[sources]]\nname = "prod"\ntype = "health"\nurl = "{url}"\ntimeout = 2\n'
            )
            engine = build_engine(cfg)
            try:
                snapshot = await engine.poll_all()
            finally:
                await engine.aclose()
        return {s.source: s for s in snapshot.services}

    checks = asyncio.run(both())
    # The same self-signed server: trusted only by the source that turned verification off.
    assert checks["lab"].health.value == "up", checks["lab"].detail
    assert checks["prod"].health.value == "down"
    assert checks["prod"].detail and "TLS" in checks["prod"].detail


def test_the_engine_warns_in_the_log_when_verification_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="buildradiator")
    cfg = parse_config(
        '[[sources]]\nname = "lab"\ntype = "health"\nurl = "https://lab.test/h"\nverify_tls = false\n'
        '\n[[sources]]\nname = "prod"\ntype = "health"\nurl = "https://prod.test/h"\n'
    )
    engine = build_engine(cfg, http=None)
    asyncio.run(engine.aclose())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["TLS verification is off for source lab"]
