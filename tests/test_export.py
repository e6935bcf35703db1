"""Exports: the JSON document, the one-line summaries and the snapshot cache."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from buildradiator.export.cache import cache_file, read_cache, write_cache
from buildradiator.export.document import snapshot_doc
from buildradiator.export.lines import status_line, tmux_line
from buildradiator.model import (
    BrokenWindow,
    Build,
    Pipeline,
    Snapshot,
    SourceState,
    Status,
)
from buildradiator.rules.verdict import exit_code

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def estate(red: bool, message: str = "Fix login flow") -> Snapshot:
    status = Status.FAILED if red else Status.PASSED
    build = Build(
        source="gh",
        pipeline="m",
        id="1",
        status=status,
        author="Mallory",
        finished_at=NOW - timedelta(minutes=14),
        message=message,
        url="https://ci.example/x?token=abc",
    )
    pipelines = (
        Pipeline(source="gh", key="m", name="acme/monolith#(rm -rf)", recent=(build,)),
        Pipeline(
            source="gh",
            key="b",
            name="acme/billing",
            recent=(build.model_copy(update={"status": Status.PASSED}),),
            in_flight=(Build(source="gh", pipeline="b", id="2", status=Status.RUNNING),),
        ),
    )
    broken = (
        (
            BrokenWindow(
                kind="pipeline",
                source="gh",
                key="m",
                name="acme/monolith#(rm -rf)",
                since=NOW - timedelta(minutes=14),
                author="Mallory",
            ),
        )
        if red
        else ()
    )
    return Snapshot(
        taken_at=NOW,
        pipelines=pipelines,
        broken=broken,
        sources=(SourceState(name="gh", type="github", last_success=NOW),),
        green_since=None if red else NOW - timedelta(hours=3, minutes=12),
    )


def test_line_when_red_and_when_green() -> None:
    assert status_line(estate(True), NOW) == (
        "✖ RED acme/monolith#(rm -rf) 14m (Mallory) · ▶ 1 · ✔ 1"
    )
    assert status_line(estate(False), NOW) == "✔ all green 3h 12m · ▶ 1"
    assert status_line(estate(True), NOW, ascii=True) == (
        "x RED acme/monolith#(rm -rf) 14m (Mallory) | > 1 | + 1"
    )


def test_tmux_line_has_colours_and_no_injection() -> None:
    line = tmux_line(estate(True), NOW)
    assert line.startswith("#[fg=white,bg=red,bold]✖ RED acme/monolith##(rm -rf) 14m")
    # Every '#' from CI text is doubled: tmux can never read it as #(command) or #[style].
    assert "#(rm" not in line.replace("##(rm", "")


def test_stale_sources_are_named() -> None:
    snap = estate(False)
    snap = snap.model_copy(
        update={"sources": (SourceState(name="gh", type="github", error="boom", stale=True),)}
    )
    assert "? gh stale" in status_line(snap, NOW)
    assert exit_code(snap) == 3


def test_json_redacts_urls_and_keeps_shape() -> None:
    doc = snapshot_doc(estate(True))
    assert doc["overall"] == "failed" and doc["broken"][0]["author"] == "Mallory"
    assert doc["pipelines"][0]["url"] == "https://ci.example/x?token=***"
    json.dumps(doc)


def test_cache_roundtrip_and_corruption(tmp_path: Path) -> None:
    path = cache_file(tmp_path, "/etc/x.toml")
    assert path != cache_file(tmp_path, "/etc/y.toml")
    assert read_cache(path) is None
    write_cache(path, estate(True))
    assert read_cache(path) == estate(True)
    path.write_text("{not json")
    assert read_cache(path) is None
