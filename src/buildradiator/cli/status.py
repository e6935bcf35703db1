"""``status``: poll once (or read a running radiator's fresh cache) and print what is broken,
the counts, JSON or one line for a prompt or tmux.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from buildradiator.cli.config_file import cache_path, require_config
from buildradiator.cli.terminal import locale_environ, wants_ascii
from buildradiator.config.loading import Config

if TYPE_CHECKING:
    from buildradiator.model import Snapshot


def cmd_status(args: argparse.Namespace) -> int:
    from buildradiator.export.document import to_json
    from buildradiator.export.lines import status_line, tmux_line
    from buildradiator.rules.verdict import exit_code

    config = require_config(args.config)
    fmt_ = args.format or ("json" if args.json else "text")
    snapshot = _cached_if_fresh(config) if fmt_ in ("line", "tmux") and not args.fresh else None
    if snapshot is None:
        snapshot = asyncio.run(_poll_once(config))
    ascii = wants_ascii(locale_environ(), args.ascii, config)
    now = datetime.now(UTC)
    if fmt_ == "json":
        print(to_json(snapshot))
    elif fmt_ == "line":
        print(status_line(snapshot, now, ascii))
    elif fmt_ == "tmux":
        print(tmux_line(snapshot, now, ascii))
    else:
        from buildradiator.export.text import status_text

        print(status_text(snapshot, now, ascii))
    return exit_code(snapshot)


def _cached_if_fresh(config: Config) -> Snapshot | None:
    """A running radiator's last snapshot, when it is younger than one poll interval: tmux
    calls ``status --format tmux`` every few seconds and must not poll the CI APIs each time."""
    from buildradiator.export.cache import read_cache

    snapshot = read_cache(cache_path(config))
    if snapshot is None:
        return None
    age = (datetime.now(UTC) - snapshot.taken_at).total_seconds()
    return snapshot if 0 <= age <= config.radiator.interval else None


async def _poll_once(config: Config) -> Snapshot:
    from buildradiator.assemble import build_engine

    engine = build_engine(config, cache_path=cache_path(config))
    try:
        snapshot = await engine.poll_all()
    finally:
        await engine.aclose()
    from buildradiator.export.cache import write_cache

    write_cache(cache_path(config), snapshot)
    return snapshot
