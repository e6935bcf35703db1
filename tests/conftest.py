"""Shared fixtures. Every test runs with its own config/data/cache dirs (never the user's)."""

from __future__ import annotations

import random
import shutil
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.engine import engine as engine_mod
from buildradiator.engine.engine import Engine
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient
from engine_helpers import CONFIG, Scripted


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "brhome"
    monkeypatch.setenv("BUILDRADIATOR_HOME", str(home))
    monkeypatch.delenv("BUILDRADIATOR_CONFIG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return home


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_engine(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Callable[..., Engine]:
    """Builds an engine over ``Scripted`` sources (``engine_helpers``) from a config text."""
    monkeypatch.setattr(engine_mod, "make_source", lambda config, http: Scripted(config, http))

    def make(text: str = CONFIG) -> Engine:
        http = HttpClient(
            httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))),
            clock=clock,
        )
        return build_engine(parse_config(text), http=http, clock=clock, rng=random.Random(1))

    return make


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext | None:
    """A server context with a freshly made self-signed certificate, if openssl is installed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    where = tmp_path_factory.mktemp("tls")
    key, cert = where / "key.pem", where / "cert.pem"
    done = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=target.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
