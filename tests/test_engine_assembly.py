"""The engine publishes; it derives nothing and writes nothing itself. The rules (a deriver),
history (a recorder) and the cache (a subscriber) are handed to it by ``assemble.build_engine``."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import httpx
import pytest

import buildradiator
from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.engine import engine as engine_mod
from buildradiator.engine.engine import Engine
from buildradiator.export.cache import CACHE_EVERY, read_cache
from buildradiator.history import History
from buildradiator.history.facts import HistoryFacts
from buildradiator.model import Build, Pipeline, Snapshot, SourceResult, Status
from buildradiator.rules.derive import Derivation
from buildradiator.sources.base import Source
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient

PACKAGE = Path(buildradiator.__file__).parent
CONFIG = """
[radiator]
interval = 30

[[sources]]
name = "one"
type = "health"
url = "http://one.example/health"
"""


def imported(path: Path) -> set[str]:
    """Every ``buildradiator`` module a file imports, wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith("buildradiator")}


def reaches(names: set[str], packages: tuple[str, ...]) -> set[str]:
    return {
        n
        for n in names
        for p in packages
        if n == f"buildradiator.{p}" or n.startswith(f"buildradiator.{p}.")
    }


ABOVE_ENGINE = ("rules", "history", "export", "simulator", "serve", "ui", "cli", "assemble")


@pytest.mark.parametrize("path", sorted((PACKAGE / "engine").glob("*.py")), ids=lambda p: p.name)
def test_the_engine_imports_no_rules_history_export_or_views(path: Path) -> None:
    assert reaches(imported(path), ABOVE_ENGINE) == set()


def test_the_document_is_foundation() -> None:
    above = ("config", "sources", "engine", *ABOVE_ENGINE)
    assert reaches(imported(PACKAGE / "document.py"), above) == set()


@pytest.mark.parametrize("path", sorted((PACKAGE / "config").glob("*.py")), ids=lambda p: p.name)
def test_the_config_imports_nothing_above_it(path: Path) -> None:
    assert reaches(imported(path), ("engine", *ABOVE_ENGINE)) == set()


@pytest.mark.parametrize("path", sorted((PACKAGE / "rules").glob("*.py")), ids=lambda p: p.name)
def test_the_rules_import_no_history_engine_or_exports(path: Path) -> None:
    assert reaches(imported(path), ("history", "engine", "export", "serve", "ui", "cli")) == set()


@pytest.mark.parametrize("path", sorted((PACKAGE / "export").glob("*.py")), ids=lambda p: p.name)
def test_the_exports_import_no_sources_engine_or_views(path: Path) -> None:
    # URLs are made safe by ``urls`` (foundation), not by the sources' helpers.
    above = ("sources", "engine", "serve", "ui", "cli", "assemble")
    assert reaches(imported(path), above) == set()


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    # The tests above would pass on a checker that finds nothing: show that it finds one.
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from buildradiator.export.cache import write_cache\n")
    assert reaches(imported(bad), ABOVE_ENGINE) == {
        "buildradiator.export.cache",
        "buildradiator.export.cache.write_cache",
    }


class Red(Source):  # type: ignore[type-arg]
    type = "scripted"

    async def poll(self) -> SourceResult:
        build = Build(source="one", pipeline="p", id="1", status=Status.FAILED, author="Mallory")
        return SourceResult(pipelines=(Pipeline(source="one", key="p", name="p", recent=(build,)),))


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> HttpClient:
    monkeypatch.setattr(engine_mod, "make_source", lambda config, http: Red(config, http))
    transport = httpx.MockTransport(lambda r: httpx.Response(500))
    return HttpClient(httpx.AsyncClient(transport=transport), clock=clock)


async def test_a_bare_engine_publishes_what_the_sources_said(http, clock) -> None:
    engine = Engine(parse_config(CONFIG), http=http, clock=clock, rng=random.Random(1))
    snapshot = await engine.poll_all()
    assert [p.key for p in snapshot.pipelines] == ["p"]
    assert snapshot.broken == () and snapshot.gate is None  # nothing derived
    await engine.aclose()


async def test_the_assembled_engine_derives_and_records(http, clock) -> None:
    history = History.memory(clock=clock)
    engine = build_engine(parse_config(CONFIG), http=http, clock=clock, history=history)
    assert isinstance(engine.deriver, Derivation)
    assert isinstance(engine.recorder, HistoryFacts) and engine.recorder.history is history
    snapshot = await engine.poll_all()
    assert [w.key for w in snapshot.broken] == ["p"] and snapshot.gate is not None
    assert snapshot.facts_of("one", "p") is not None  # recorded, then read back
    await engine.aclose()
    history.close()


async def test_the_cache_is_written_by_its_subscriber_only(http, clock, tmp_path) -> None:
    cache = tmp_path / "cache.json"
    bare = build_engine(parse_config(CONFIG), http=http, clock=clock)
    await bare.poll_all()
    bare._publish_if_changed(lambda s: None, force=True)
    assert not cache.exists()

    engine = build_engine(parse_config(CONFIG), http=http, clock=clock, cache_path=cache)
    published: list[Snapshot] = []
    await engine.poll_all()
    engine._publish_if_changed(published.append, force=True)
    cached = read_cache(cache)
    assert cached is not None and cached == published[-1]
    # While nothing is published (the engine's idle wake-ups), the cache is still rewritten
    # every CACHE_EVERY seconds, and no more often.
    cache.unlink()
    assert not engine._subscribers_due()
    clock.advance(CACHE_EVERY - 1)
    assert not engine._subscribers_due()
    clock.advance(1)
    assert engine._subscribers_due()
    engine._notify(engine.snapshot(), changed=False)
    assert cache.exists() and not engine._subscribers_due()
    await bare.aclose()
    await engine.aclose()


async def test_a_failing_subscriber_costs_only_its_own_work(http, clock) -> None:
    engine = build_engine(parse_config(CONFIG), http=http, clock=clock)
    seen: list[Snapshot] = []

    def broken(snapshot: Snapshot) -> None:
        raise OSError("disk full")

    engine.subscribe(broken)
    engine.subscribe(seen.append)
    published: list[Snapshot] = []
    await engine.poll_all()
    engine._publish_if_changed(published.append, force=True)
    assert len(published) == 1 and seen == published
    await engine.aclose()
