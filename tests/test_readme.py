"""The README tells the truth about what a user touches: the ``status --json`` example has
exactly the keys a real document has, every source type is in the sources table, and the
documents it names exist."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from buildradiator.assemble import build_engine
from buildradiator.cli import main
from buildradiator.export.document import to_json
from buildradiator.history import History
from buildradiator.simulator import Simulator, demo_config_text, moments
from buildradiator.simulator.backfill import backfill
from buildradiator.sources.catalog import SOURCE_TYPES, parse_config

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def strip_comments(jsonc: str) -> str:
    """JSON with ``//`` comments, as the README writes it: the comments go, strings stay
    whole (a URL's ``//`` is not a comment)."""
    out: list[str] = []
    in_string = escaped = False
    i = 0
    while i < len(jsonc):
        char = jsonc[i]
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif jsonc.startswith("//", i):
            while i < len(jsonc) and jsonc[i] != "\n":
                i += 1
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out)


def key_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """``pipelines[].recent[].status``: every key, with ``[]`` for the items of a list."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            yield from key_paths(item, prefix + "[]")


def readme_example() -> dict[str, Any]:
    [block] = re.findall(r"```jsonc\n(.*?)```", README, re.DOTALL)
    return json.loads(strip_comments(block))


def test_strip_comments_keeps_strings_whole() -> None:
    text = '{"url": "https://x//y", // a comment\n "a": "b\\" // c"} // end'
    assert json.loads(strip_comments(text)) == {"url": "https://x//y", "a": 'b" // c'}


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Key paths of real documents from the simulator: ``status --json`` itself, and the same
    document from an engine with a history store (what ``serve`` and a running radiator
    publish), whose ``history`` and ``flaky_tests`` are filled."""
    import asyncio
    import contextlib
    import io

    paths: set[str] = set()
    with Simulator() as sim:
        config = tmp_path_factory.mktemp("readme") / "demo.toml"
        config.write_text(demo_config_text(sim.base_url))
        for t in (moments.MAIN_RED, moments.DEPLOY_SUSPECT):
            sim.set_time(t)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                main(["status", "--json", "--config", str(config)])
            paths |= set(key_paths(json.loads(out.getvalue())))

        async def with_history() -> None:
            parsed = parse_config(demo_config_text(sim.base_url))
            sim.set_time(moments.CALM)
            first = build_engine(parsed)
            try:
                seed = await first.poll_all()
            finally:
                await first.aclose()
            history = History.memory()
            backfill(history, seed.pipelines, now=datetime.now(UTC))
            engine = build_engine(parsed, history=history)
            try:
                for t in (moments.MAIN_RED, moments.DEPLOY_SUSPECT, moments.FEED_DOWN):
                    sim.set_time(t)
                    paths.update(key_paths(json.loads(to_json(await engine.poll_all()))))
            finally:
                await engine.aclose()
                history.close()

        asyncio.run(with_history())
    return paths


def test_the_json_example_has_exactly_the_printed_keys(printed: set[str]) -> None:
    documented = set(key_paths(readme_example()))
    missing = sorted(printed - documented)
    invented = sorted(documented - printed)
    assert not missing and not invented, (
        "README.md's status --json example and a real document differ.\n"
        f"Printed but not in the README ({len(missing)}): {', '.join(missing) or '-'}\n"
        f"In the README but never printed ({len(invented)}): {', '.join(invented) or '-'}"
    )


def test_every_source_type_is_in_the_sources_table() -> None:
    types = set(SOURCE_TYPES)
    table = README[README.index("| type | reads | token |") :].split("\n\n")[0]
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    assert listed == types, (sorted(types - listed), sorted(listed - types))


def test_documents_the_readme_names_exist() -> None:
    assert "DESIGN" not in README
    for name in re.findall(r"`((?:bench|tests|themes)/[\w./-]+|[\w.-]+\.(?:toml|md))`", README):
        if "*" in name or name.startswith(("config.toml", "demo.toml")):
            continue
        assert (ROOT / name).exists(), name
