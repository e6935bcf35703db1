"""Nothing on screen or in an export is greener than the truth (issue "Never lie, never die").

One definition of stale everywhere: a source is fresh only when this run's last poll succeeded
within its limit. Waiting for the first answer, showing the last run's cache, failing, or too old:
all are stale, shown so, and never green.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from buildradiator.cli import main
from buildradiator.export.cache import cache_file, write_cache
from buildradiator.model import Freshness, Pipeline, Snapshot, SourceState, Status
from buildradiator.paths import get_paths
from snapshot_fixtures import build


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def cctray_config(url: str) -> str:
    return f"""
[[sources]]
name = "feed"
type = "cctray"
url = "{url}/cc.xml"
timeout = 2
"""


def test_an_unreachable_source_is_stale_in_json_and_line_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(cctray_config(refused_url()))
    assert main(["status", "--json", "--config", str(config)]) == 3
    doc = json.loads(capsys.readouterr().out)
    [source] = doc["sources"]
    assert source["ok"] is False and source["stale"] is True
    assert source["freshness"] == "waiting"
    assert doc["overall"] == "unknown"
    # A source that never answered cannot vouch for a release: HOLD, never GO.
    assert doc["release"]["go"] is False
    assert doc["release"]["reasons"] == [{"kind": "stale", "text": "no fresh data from feed"}]
    assert main(["status", "--format", "line", "--fresh", "--config", str(config)]) == 3
    line = capsys.readouterr().out
    assert "feed stale" in line and "green" not in line


def test_many_stale_sources_are_never_all_green(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A running radiator's cache says 1,460 sources are stale and nothing is red: the prompt
    line is unknown (exit 3), not "all green" (exit 0)."""
    config = tmp_path / "config.toml"
    config.write_text(cctray_config("http://127.0.0.1:9"))
    now = datetime.now(UTC)
    sources = tuple(
        SourceState(
            name=f"s{i}",
            type="cctray",
            last_success=now - timedelta(hours=2),
            stale=True,
            freshness=Freshness.STALE,
        )
        for i in range(1460)
    )
    pipelines = tuple(
        Pipeline(
            source=f"s{i}",
            key="p",
            name=f"p{i}",
            recent=(build("p", 1, Status.PASSED, source=f"s{i}", finished=60),),
        )
        for i in range(1460)
    )
    snapshot = Snapshot(
        taken_at=now,
        pipelines=pipelines,
        sources=sources,
        stale_sources=frozenset(s.name for s in sources),
    )
    write_cache(cache_file(get_paths().cache_dir, str(config)), snapshot)
    assert main(["status", "--format", "line", "--config", str(config)]) == 3
    line = capsys.readouterr().out.strip()
    assert "all green" not in line
    assert "+1458 stale" in line and len(line) < 80


def test_the_prompt_line_is_not_all_green_while_the_release_holds() -> None:
    """Nothing red, every source fresh, but a release blocker is open: the line says HOLD and
    never "all green" (the screen's top line and the line share one rule, export.all_green)."""
    from buildradiator.export.lines import status_line
    from buildradiator.model import Blocker, GateReason, ReleaseGate

    now = datetime.now(UTC)
    snapshot = Snapshot(
        taken_at=now,
        pipelines=(
            Pipeline(
                source="gh", key="p", name="p", recent=(build("p", 1, Status.PASSED, finished=60),)
            ),
        ),
        sources=(SourceState(name="gh", type="github", last_success=now),),
        blockers=(Blocker(source="gh", id="#1", title="Data loss in export"),),
        gate=ReleaseGate(go=False, reasons=(GateReason(kind="blockers", text="1 blocker open"),)),
    )
    line = status_line(snapshot, now)
    assert "all green" not in line and "HOLD 1" in line
