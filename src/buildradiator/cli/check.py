"""``check``: the config is valid, every source answers (a table of what each said), where
each webhook's CI must post and whether its secret can be read, and what became of the history
store.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from buildradiator import fmt
from buildradiator.cli.config_file import require_config
from buildradiator.config.loading import Config, SourceBase, read_webhook_secret
from buildradiator.errors import (
    EXIT_GREEN,
    EXIT_UNKNOWN,
    AuthFailed,
    ConfigError,
    NotFound,
    RateLimited,
    SourceError,
    Unreachable,
)
from buildradiator.errors import Timeout as SourceTimeout
from buildradiator.paths import get_paths

if TYPE_CHECKING:
    from buildradiator.engine.engine import Slot


def cmd_check(args: argparse.Namespace) -> int:
    from buildradiator.assemble import build_engine

    config = require_config(args.config)
    print(f"config: {config.path} is valid ({fmt.plural(len(config.sources), 'source')})")
    if not config.sources:
        print("no sources configured: add [[sources]] tables (see `buildradiator init`)")
        return EXIT_GREEN
    for source in config.sources:
        if not source.verify_tls:
            print(f"warning: TLS verification is off for source {source.name}")

    async def probe() -> list[tuple[str, ...]]:
        engine = build_engine(config)
        try:
            await engine.poll_all()
        finally:
            await engine.aclose()
        return [_check_row(name, slot) for name, slot in engine.slots.items()]

    rows = asyncio.run(probe())
    header = ("source", "type", "reachable", "auth", "rate left", "found")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]))
    _check_webhooks(config)
    _check_history(config)
    # The same code as `status` for a source that could not be read (README, "Exit codes").
    failed = any(row[-1].startswith(_FAILED_PREFIXES) for row in rows)
    return EXIT_UNKNOWN if failed else EXIT_GREEN


def _check_webhooks(config: Config) -> None:
    """One line per source with a webhook: where its CI must post, which secret ``serve`` reads
    (never its value) and whether it is readable now, and when the last event came (from the
    snapshot ``serve`` cached)."""
    hooked = [s for s in config.sources if s.webhook is not None]
    if not hooked:
        return
    from buildradiator.cli.config_file import cache_path
    from buildradiator.export.cache import read_cache

    cached = read_cache(cache_path(config))
    states = {s.name: s for s in cached.sources} if cached is not None else {}
    base = serve_address(config)
    now = datetime.now(UTC)
    for source in hooked:
        state = states.get(source.name)
        last = state.webhook_at if state is not None else None
        refused = state.webhook_refused if state is not None else 0
        when = (
            f"last event {fmt.format_age(fmt.seconds_between(last, now))} ago"
            if last is not None
            else "no event seen yet"
        )
        post = f"{base}/hooks/{quote(source.name, safe='')}"
        shown = f"; {fmt.plural(refused, 'delivery', 'deliveries')} refused (see serve's /metrics and log)"
        print(
            f"webhook {source.name}: POST {post}; {_secret_words(source, config)}; {when}"
            + (shown if refused else "")
        )


def serve_address(config: Config) -> str:
    """Where ``serve`` listens, as a URL (``[serve]`` host and port)."""
    host = config.serve.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{config.serve.port}"


def _secret_words(source: SourceBase, config: Config) -> str:
    """Which secret the webhook reads, and whether it can be read now (never its value)."""
    hook = source.webhook
    if hook is None or hook.unsigned:
        return "unsigned (unsigned = true): takes deliveries without a signature"
    if hook.secret_env:
        where = f"secret from environment variable {hook.secret_env}"
    elif hook.secret_file is not None:
        where = f"secret from file {hook.secret_file}"
    else:
        # The program only: a command's arguments are nobody's business on a shared screen.
        words = hook.secret_command or []
        words = words if isinstance(words, list) else words.split()
        where = f"secret from command {words[0] if words else '?'}"
    try:
        read_webhook_secret(source, str(config.path))
    except ConfigError as exc:
        problem = exc.problems[0].message if exc.problems else "cannot be read"
        return f"{where}, NOT readable now: {problem}"
    return f"{where}, readable now"


def _check_history(config: Config) -> None:
    """One line on the history store: where it is, or what was wrong with it (a damaged file is
    moved aside when opened, and said so here as on the screen)."""
    from buildradiator.history import History

    store = History.open(get_paths().history_db, retention_days=config.radiator.history_days)
    try:
        for notice in store.notices:
            print(f"warning: {notice}")
        if not store.notices:
            print(f"history: {get_paths().history_db}")
    finally:
        store.close()


_FAILED_PREFIXES = ("FAILED", "rate limited", "not found")


def _check_row(name: str, slot: Slot) -> tuple[str, ...]:
    error = slot.error
    unreachable = isinstance(error, Unreachable | SourceTimeout)
    if error is None:
        auth = "yes"
    elif isinstance(error, AuthFailed):
        auth = "REFUSED"
    else:
        auth = "-" if unreachable else "?"
    if error is None:
        found = slot.result.summary if slot.result and slot.result.summary else "ok"
    else:
        found = _error_words(error)
    rate = slot.rate
    left = f"{rate.remaining}/{rate.limit}" if rate and rate.remaining is not None else "-"
    return (name, slot.config.type, "no" if unreachable else "yes", auth, left, found)  # type: ignore[attr-defined]


def _error_words(error: SourceError) -> str:
    if isinstance(error, RateLimited):
        return f"rate limited: {error}"
    if isinstance(error, NotFound):
        return f"not found: {error}"
    return f"FAILED: {error}"
