"""``run`` and ``demo`` (the radiator, its options made from the arguments) and ``simulate``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from buildradiator.cli.config_file import require_config
from buildradiator.cli.logs import logging_to_file
from buildradiator.cli.terminal import locale_environ, wants_ascii
from buildradiator.config.loading import Config
from buildradiator.errors import EXIT_CONFIG, EXIT_GREEN
from buildradiator.sources.catalog import parse_config

if TYPE_CHECKING:
    from buildradiator.history import History
    from buildradiator.model import Snapshot
    from buildradiator.ui.options import RadiatorOptions


def radiator_options(args: argparse.Namespace, config: Config) -> RadiatorOptions:
    """The app's options: the display arguments (``None`` when not given) over the config's
    ``[radiator]`` table, ASCII also by the locale (``wants_ascii``)."""
    from buildradiator.ui.options import RadiatorOptions

    ascii = wants_ascii(locale_environ(), args.ascii, config)
    return RadiatorOptions.from_config(config, theme=args.theme, mode=args.mode, ascii=ascii)


def cmd_run(args: argparse.Namespace) -> int:
    from buildradiator.ui.launch import run_radiator

    config = require_config(args.config)
    with logging_to_file():
        return run_radiator(config, radiator_options(args, config))


def cmd_demo(args: argparse.Namespace) -> int:
    from buildradiator.simulator import Simulator, demo_config_text
    from buildradiator.ui.launch import run_radiator

    simulator = Simulator()
    simulator.start()
    try:
        config = parse_config(
            demo_config_text(simulator.base_url, interval=args.interval), "<demo>"
        )
        options = radiator_options(args, config)
        # The demo's history lives in memory, filled with a few weeks of made-up builds under
        # the keys the real sources report, so trends and the flaky ranking have shape at once.
        with logging_to_file():
            return run_radiator(config, options, use_cache=False, history=_demo_history(config))
    finally:
        simulator.stop()


def _demo_history(config: Config) -> History:
    from buildradiator.assemble import build_engine
    from buildradiator.history import History
    from buildradiator.simulator.backfill import backfill

    async def first_poll() -> Snapshot:
        engine = build_engine(config)
        try:
            return await engine.poll_all()
        finally:
            await engine.aclose()

    snapshot = asyncio.run(first_poll())
    history = History.memory()
    backfill(history, snapshot.pipelines, now=datetime.now(UTC), deployments=snapshot.deployments)
    return history


def cmd_simulate(args: argparse.Namespace) -> int:
    from buildradiator.simulator import serve_forever

    try:
        serve_forever(args.port, args.host)
    except OSError as exc:
        print(
            f"buildradiator simulate: cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    return EXIT_GREEN
