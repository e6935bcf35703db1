"""``buildradiator report --since 30d [--format text|markdown|csv|json] [--history PATH]``:
the delivery measures and congestion at main from the history store, for a retro.

Registered by the command line with two lines::

    from buildradiator.cli import report
    report.add_parser(sub)          # and in main(): if command == "report": return report.run(args)

Text reads aloud in a retro; Markdown is a table to paste; CSV is one row per fact; JSON has
stable keys (``schema``, ``generated_at``, ``windows``, ``facts``: each with the keys of
``FIELDS``). Exit codes: 0 printed, 2 a usage problem (a bad ``--since``, no history file, or
one it cannot read).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from buildradiator.errors import EXIT_CONFIG, EXIT_GREEN
from buildradiator.rules.delivery_words import LABELS, show
from buildradiator.rules.dora import Fact
from buildradiator.text import clean_key

FIELDS = (
    "key",
    "scope",
    "window_days",
    "value",
    "unit",
    "p90",
    "previous",
    "trend",
    "band",
    "samples",
    "note",
)
REPORT_SCHEMA = 1
__all__ = ["LABELS", "add_parser", "render", "run", "show"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report", help="delivery measures and congestion at main, for a retro"
    )
    parser.add_argument(
        "--since", default="30d", help="the window: 7d, 30d, 2w (default 30d; 7d is added)"
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "csv", "json"),
        default="text",
        dest="report_format",
        help="text for a person (default), markdown for a wiki page, csv for a sheet, json for a script",
    )
    parser.add_argument("--history", type=Path, help="the history file (default: the data dir's)")
    parser.add_argument("--tz", help="time zone of the busiest hours (default: this machine's)")
    return parser


def parse_since(text: str) -> int:
    """Days in ``30d``, ``2w``, ``30``; raises ``ValueError`` in words."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*([dw]?)\s*", text.lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--since {text!r}: give days or weeks, like 30d or 2w")
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if days > 3650:
        raise ValueError(f"--since {text!r}: at most ten years")
    return days


def run(args: argparse.Namespace, *, now: datetime | None = None) -> int:
    from buildradiator.assemble import local_zone
    from buildradiator.history import History
    from buildradiator.history.delivery_report import delivery_facts
    from buildradiator.history.schema import why_not_a_history
    from buildradiator.paths import get_paths

    try:
        days = parse_since(args.since)
    except ValueError as exc:
        print(f"buildradiator report: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    zone: tzinfo | None = None
    if args.tz:
        try:
            zone = ZoneInfo(args.tz)
        except (ZoneInfoNotFoundError, ValueError):
            print(f"buildradiator report: --tz {args.tz!r} is not a time zone", file=sys.stderr)
            return EXIT_CONFIG
    else:
        zone = local_zone()
    path: Path = args.history or get_paths().history_db
    if not path.exists():
        print(
            f"buildradiator report: no history at {path}: run the radiator (or the demo) first",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    why = why_not_a_history(path)
    if why is not None:
        print(f"buildradiator report: {path} is not a history to read: {why}", file=sys.stderr)
        return EXIT_CONFIG
    moment = now or datetime.now(UTC)
    windows = tuple(sorted({7, days})) if days != 7 else (7,)
    with History.open(path) as store:
        if store.unusable is not None:
            # An empty history in memory stands in for it: its report would be all "unknown".
            print(f"buildradiator report: cannot read {path}: {store.unusable}", file=sys.stderr)
            return EXIT_CONFIG
        for notice in store.notices:
            print(f"buildradiator report: {notice}", file=sys.stderr)
        facts = delivery_facts(store, now=moment, windows=windows, tz=zone)
    out = render(facts, args.report_format, generated_at=moment, windows=windows)
    sys.stdout.write(out)
    return EXIT_GREEN


def render(facts: list[Fact], fmt: str, *, generated_at: datetime, windows: tuple[int, ...]) -> str:
    """The facts in one format. Names and reasons came from CI (through the history file): they
    are scrubbed of escapes and controls here too, whatever the format."""
    facts = [replace(f, scope=clean_key(f.scope), note=clean_key(f.note)) for f in facts]
    if fmt == "json":
        doc = {
            "schema": REPORT_SCHEMA,
            "generated_at": generated_at.astimezone(UTC).isoformat(),
            "windows": list(windows),
            "facts": [{name: getattr(f, name) for name in FIELDS} for f in facts],
        }
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(FIELDS)
        for f in facts:
            writer.writerow([_sheet(getattr(f, n)) for n in FIELDS])
        return buffer.getvalue()
    if fmt == "markdown":
        lines = [
            "| Measure | Scope | Window | Value | p90 | Before | Trend | Band | Note |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for f in facts:
            cells = [
                LABELS.get(f.key, f.key),
                f.scope,
                _window(f),
                show(f.value, f.unit),
                show(f.p90, f.unit) if f.p90 is not None else "",
                show(f.previous, f.unit) if f.previous is not None else "",
                f.trend or "",
                f.band or "",
                f.note,
            ]
            lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
        return "\n".join(lines) + "\n"
    return _text(facts, generated_at)


def _text(facts: list[Fact], generated_at: datetime) -> str:
    lines = [f"Delivery at {generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"]
    last_key = None
    # Each section's scopes line up, the long ones too (a pipeline and its stage), up to 60.
    width: dict[str, int] = {}
    for f in facts:
        width[f.key] = min(60, max(width.get(f.key, 28), len(f.scope)))
    for f in facts:
        if f.key != last_key:
            lines.append("")
            lines.append(LABELS.get(f.key, f.key))
            last_key = f.key
        parts = [show(f.value, f.unit)]
        if f.p90 is not None:
            parts.append(f"p90 {show(f.p90, f.unit)}")
        if f.band:
            parts.append(f.band)
        if f.previous is not None:
            was = f"was {show(f.previous, f.unit)}"
            parts.append(f"{f.trend} ({was})" if f.trend else was)
        if f.note:
            parts.append(f.note)
        lines.append(f"  {f.scope:<{width[f.key]}} {_window(f):>4}  " + ", ".join(parts))
    return "\n".join(lines) + "\n"


def _window(f: Fact) -> str:
    return f"{f.window_days}d" if f.window_days else "now"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula in a cell (OWASP, "CSV injection")."""
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")
"""What Markdown (and the HTML it lets through) could read in a cell: escaped with a backslash,
which CommonMark shows as the character itself."""


def _sheet(value: object) -> object:
    """A cell for the sheet: nothing for unknown, and a text that a spreadsheet would run as a
    formula (a pipeline named ``=HYPERLINK(...)``) behind an apostrophe, so it shows as text."""
    if value is None:
        return ""
    # Some sheets trim a cell before they read it: " =1+1" is a formula there too.
    if isinstance(value, str) and value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def _md(cell: str) -> str:
    """A cell for the wiki page: names from CI never become a link, an image, a tag or
    emphasis, nor end the cell."""
    return _MARKDOWN.sub(r"\\\1", cell.replace("\n", " "))
