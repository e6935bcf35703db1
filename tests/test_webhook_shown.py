"""A source with a webhook says so (issue 15): on screen, in the snapshot's document, and in
``check`` (where its CI must post, which secret ``serve`` reads and whether it can, and when the
last event came)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app_helpers import radiator
from buildradiator import cli
from buildradiator.assemble import build_engine
from buildradiator.cli.config_file import cache_path
from buildradiator.export.cache import write_cache
from buildradiator.export.document import snapshot_doc
from buildradiator.model import Build, Pipeline, Snapshot, SourceState, Status
from buildradiator.serve.webhooks import attach_webhooks
from buildradiator.sources.catalog import load_config, parse_config
from screen import screen_text

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def estate() -> Snapshot:
    def pipe(source: str) -> Pipeline:
        build = Build(source=source, pipeline="p", id="1", status=Status.PASSED, finished_at=NOW)
        return Pipeline(source=source, key=f"{source}-p", name=f"{source}/p", recent=(build,))

    sources = (
        SourceState(
            name="gh",
            type="github",
            last_success=NOW,
            webhook=True,
            webhook_at=NOW - timedelta(minutes=2),
        ),
        SourceState(name="lab", type="gitlab", last_success=NOW, webhook=True),
        SourceState(name="jenk", type="jenkins", last_success=NOW),
    )
    return Snapshot(taken_at=NOW, pipelines=tuple(pipe(s.name) for s in sources), sources=sources)


async def test_the_status_bar_says_which_sources_take_webhooks_and_when_one_came() -> None:
    app = radiator(estate())
    async with app.run_test(size=(180, 40)) as pilot:
        await pilot.pause()
        bottom = screen_text(app).splitlines()[-1]
        assert "gh ✔ (webhook, last event 2m ago)" in bottom, bottom
        assert "lab ✔ (webhook, no event yet)" in bottom, bottom
        assert re.search(r"jenk ✔(?! \(webhook)", bottom), bottom
        assert bottom.count("webhook") == 2, bottom


def test_the_engine_marks_a_source_with_a_webhook_and_the_document_carries_it() -> None:
    config = parse_config(
        '[[sources]]\nname = "gh"\ntype = "github"\napi_url = "http://127.0.0.1:9/github"\n'
        'repo = "acme/monolith"\nwebhook = { unsigned = true }\n\n'
        '[[sources]]\nname = "h"\ntype = "health"\nurl = "http://127.0.0.1:9/h"\n'
    )
    engine = build_engine(config)
    alone = {s.name: s for s in engine.snapshot().sources}
    assert not alone["gh"].webhook  # no serve takes its events: it is polled as any source
    attach_webhooks(config, engine, "test.toml")
    before = {s.name: s for s in engine.snapshot().sources}
    assert before["gh"].webhook and before["gh"].webhook_at is None
    assert not before["h"].webhook
    engine.poll_soon("gh")
    doc = snapshot_doc(engine.snapshot())
    by_name = {s["name"]: s for s in doc["sources"]}
    assert by_name["gh"]["webhook"] is True and by_name["gh"]["webhook_at"]
    assert by_name["h"]["webhook"] is False and by_name["h"]["webhook_at"] is None


CONFIG = """
[serve]
host = "0.0.0.0"
port = 9090

[[sources]]
name = "gh"
type = "github"
api_url = "http://127.0.0.1:9/github"
repo = "acme/monolith"
webhook = {{ secret_env = "CHECK_HOOK_SECRET" }}

[[sources]]
name = "lab"
type = "gitlab"
api_url = "http://127.0.0.1:9/api/v4"
project = "acme/monolith"
webhook = {{ secret_file = "{missing}" }}

[[sources]]
name = "h"
type = "health"
url = "http://127.0.0.1:9/h"
"""


def test_check_says_where_to_post_which_secret_and_when_the_last_event_came(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECK_HOOK_SECRET", "hunter2-the-secret")
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(missing=tmp_path / "no-such-secret"))
    cli.main(["check", "--config", str(path)])
    out = capsys.readouterr().out
    gh = next(line for line in out.splitlines() if line.startswith("webhook gh:"))
    lab = next(line for line in out.splitlines() if line.startswith("webhook lab:"))
    assert "POST http://0.0.0.0:9090/hooks/gh" in gh
    assert "environment variable CHECK_HOOK_SECRET, readable now" in gh
    assert "no event seen yet" in gh and "no event seen yet" in lab
    assert "POST http://0.0.0.0:9090/hooks/lab" in lab
    assert "NOT readable now" in lab and "does not exist" in lab
    assert not any(line.startswith("webhook h:") for line in out.splitlines())
    assert "hunter2" not in out

    # serve cached a snapshot in which gh's last event came 3 minutes ago.
    config = load_config(path)
    at = datetime.now(UTC) - timedelta(minutes=3)
    state = SourceState(name="gh", type="github", webhook=True, webhook_at=at, webhook_refused=3)
    write_cache(cache_path(config), Snapshot(taken_at=at, sources=(state,)))
    monkeypatch.delenv("CHECK_HOOK_SECRET")
    cli.main(["check", "--config", str(path)])
    out = capsys.readouterr().out
    gh = next(line for line in out.splitlines() if line.startswith("webhook gh:"))
    assert "last event 3m ago" in gh
    assert "3 deliveries refused (see serve's /metrics and log)" in gh
    lab = next(line for line in out.splitlines() if line.startswith("webhook lab:"))
    assert "refused" not in lab  # nothing refused for it: not said
    assert "NOT readable now: environment variable CHECK_HOOK_SECRET is not set" in gh
