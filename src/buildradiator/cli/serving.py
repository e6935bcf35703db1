"""One engine, many screens: ``serve`` (the snapshot over HTTP, and the browser view) and
``view`` (the radiator showing a serving one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from buildradiator.cli.config_file import (
    cache_path,
    find_config,
    print_config_error,
    require_config,
)
from buildradiator.cli.logs import logging_to_file, setup_logging
from buildradiator.cli.terminal import locale_environ, wants_ascii
from buildradiator.errors import EXIT_CONFIG, EXIT_GREEN, EXIT_INTERNAL, ConfigError
from buildradiator.paths import get_paths


def cmd_serve(args: argparse.Namespace) -> int:
    """Run one engine and serve its snapshot to every screen (see ``serve``). Exits 4 when the
    engine stops, after saying so to every client for a few seconds (``serve.STOPPED_LINGER``)."""
    from buildradiator.assemble import build_engine
    from buildradiator.export.cache import read_cache
    from buildradiator.history import History
    from buildradiator.serve.limits import Limits
    from buildradiator.serve.server import (
        EngineStopped,
        RadiatorServer,
        ServeError,
        browser_mount,
        exposure_warning,
        resolve_token,
        route_server_logs,
        serve,
    )
    from buildradiator.serve.webhooks import attach_webhooks

    config = require_config(args.config)
    overrides = {"host": args.host, "port": args.port}
    settings = config.serve.model_copy(
        update={key: value for key, value in overrides.items() if value is not None}
    )
    try:
        token = resolve_token(settings.token_env)
    except ServeError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    warning = exposure_warning(settings, token is not None)
    if warning:
        print(warning, file=sys.stderr)
    setup_logging()
    route_server_logs(token)
    # As `run` does: the last known state answers at once (stale by its age) and every
    # finished build goes to history, so red-since, ETAs and trends are in what we serve.
    cache = cache_path(config)
    store = History.open(get_paths().history_db, retention_days=config.radiator.history_days)
    engine = build_engine(config, cache_path=cache, history=store)
    try:
        hooks = attach_webhooks(config, engine, str(find_config(args.config)))
    except ConfigError as exc:
        print_config_error(exc)
        return EXIT_CONFIG
    cached = read_cache(cache)
    if cached is not None:
        engine.seed(cached)
    browser = (
        browser_mount(
            config.radiator.title, max_sessions_per_address=settings.max_sessions_per_address
        )
        if settings.browser
        else None
    )

    def ready(server: RadiatorServer) -> None:
        print(
            f"buildradiator serve: {server.url}/  (/snapshot.json /cc.xml /metrics /healthz"
            f"{'' if browser else '; browser view off'}); Ctrl+C stops it",
            flush=True,
        )

    async def until_stopped() -> None:
        # SIGTERM (systemd, docker stop) ends it as cleanly as Ctrl+C does.
        task = asyncio.current_task()
        assert task is not None
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await serve(
            engine,
            host=settings.host,
            port=settings.port,
            token=token,
            browser=browser,
            limits=Limits(
                max_clients=settings.max_clients,
                max_clients_per_address=settings.max_clients_per_address,
            ),
            ready=ready,
            allowed_origins=settings.allowed_origins,
            hooks=hooks,
        )

    try:
        asyncio.run(until_stopped())
    except asyncio.CancelledError:
        return EXIT_GREEN
    except EngineStopped as exc:
        print(
            f"buildradiator serve: {exc}; the traceback is in {get_paths().log_file}",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    except OSError as exc:
        print(
            f"buildradiator serve: cannot listen on {settings.host}:{settings.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    finally:
        store.close()
    return EXIT_GREEN


def cmd_view(args: argparse.Namespace) -> int:
    """The radiator fed only by another radiator's ``serve`` (what each browser session runs:
    ``serve`` hands it the token on a pipe, ``--token-fd``)."""
    from buildradiator.ui.view import ViewTokenError, run_view

    try:
        with logging_to_file():
            return run_view(
                args.url,
                args.token_env,
                mode=args.mode,
                ascii=wants_ascii(locale_environ(), args.ascii, None),
                theme=args.theme,
                token_fd=args.token_fd,
            )
    except ViewTokenError as exc:
        print(f"buildradiator view: {exc}", file=sys.stderr)
        return EXIT_CONFIG
