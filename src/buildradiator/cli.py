"""The command line: ``buildradiator [run|demo|simulate|check|status|serve|view|locate|init]``.

Exit codes: 0 fine/green, 1 a source failed (``check``) or something is red (``status``),
2 a usage or config problem, 3 a source could not be read (``status``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import locale
import logging
import logging.handlers
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from buildradiator import __version__
from buildradiator.config import Config, load_config, parse_config
from buildradiator.errors import (
    AuthFailed,
    BuildRadiatorError,
    ConfigError,
    NotFound,
    RateLimited,
    SourceError,
    Unreachable,
)
from buildradiator.errors import Timeout as SourceTimeout
from buildradiator.paths import config_candidates, get_paths

if TYPE_CHECKING:
    from buildradiator.engine import Slot
    from buildradiator.history import History
    from buildradiator.model import Snapshot

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2


class NoConfigFound(BuildRadiatorError):
    """No config file where we looked; the message says where and what to do."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command = args.command or "run"
    try:
        if command == "run":
            return cmd_run(args)
        if command == "demo":
            return cmd_demo(args)
        if command == "simulate":
            return cmd_simulate(args)
        if command == "check":
            return cmd_check(args)
        if command == "status":
            return cmd_status(args)
        if command == "serve":
            return cmd_serve(args)
        if command == "view":
            return cmd_view(args)
        if command == "locate":
            return cmd_locate(args)
        if command == "init":
            return cmd_init(args)
    except ConfigError as exc:
        _print_config_error(exc)
        return EXIT_CONFIG
    except NoConfigFound as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {command}")
    return EXIT_CONFIG


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="buildradiator",
        description="A terminal build radiator. Without a command: run the radiator.",
    )
    parser.add_argument("--version", action="version", version=f"buildradiator {__version__}")
    display = argparse.ArgumentParser(add_help=False)
    display.add_argument(
        "--config",
        "-c",
        help="config file (default: $BUILDRADIATOR_CONFIG, "
        "else config.toml in the user config dir)",
    )
    display.add_argument("--theme", help="theme name (default from the config)")
    display.add_argument("--mode", choices=["auto", "default", "pane", "wall"])
    display.add_argument("--ascii", action="store_true", help="ASCII glyphs only")
    # The same options work before the command (``buildradiator --config x``) and after it.
    for action in display._actions:
        parser._add_action(action)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", parents=[display], help="run the radiator (the default)")
    demo = sub.add_parser("demo", parents=[display], help="run on the built-in simulated CI")
    demo.add_argument("--interval", type=float, default=3.0, help="poll interval (s)")
    sim = sub.add_parser("simulate", help="run only the simulated CI server")
    sim.add_argument("--port", type=int, default=8765)
    sim.add_argument("--host", default="127.0.0.1")
    check = sub.add_parser("check", help="validate the config and try every source once")
    check.add_argument("--config", "-c", dest="config", default=argparse.SUPPRESS)
    status = sub.add_parser("status", help="poll once and print the state")
    status.add_argument("--config", "-c", dest="config", default=argparse.SUPPRESS)
    status.add_argument("--json", action="store_true", help="the whole snapshot as JSON")
    status.add_argument(
        "--format",
        choices=["text", "json", "line", "tmux"],
        help="json: the snapshot; line: one line for shell prompts; tmux: with tmux colours",
    )
    status.add_argument("--ascii", action="store_true", help="ASCII glyphs only")
    status.add_argument(
        "--fresh", action="store_true", help="always poll, never answer from the cache"
    )
    serve = sub.add_parser(
        "serve", help="poll once for many screens: serve the snapshot over HTTP (no TUI)"
    )
    serve.add_argument("--config", "-c", dest="config", default=argparse.SUPPRESS)
    serve.add_argument("--host", help="address to listen on (default from [serve]: 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, help="port to listen on (default from [serve]: 8686; 0: any free)"
    )
    view = sub.add_parser(
        "view", parents=[display], help="the radiator showing another radiator's `serve`"
    )
    view.add_argument("--url", required=True, help="the serving radiator, e.g. http://host:8686")
    view.add_argument("--token-env", help="environment variable holding its bearer token")
    view.add_argument("--token-fd", type=int, help=argparse.SUPPRESS)  # serve's sessions
    sub.add_parser("locate", help="print where config, data, cache and logs live")
    init = sub.add_parser("init", help="write a commented starting config")
    init.add_argument("--config", "-c", dest="config", default=argparse.SUPPRESS)
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    return parser


# -- config discovery --------------------------------------------------------------------


def find_config(explicit: str | None) -> Path | None:
    for _why, path in config_candidates(explicit):
        if path.is_file():
            return path
    return None


def require_config(explicit: str | None) -> Config:
    path = find_config(explicit)
    if path is None:
        looked = "\n".join(f"  {path}  ({why})" for why, path in config_candidates(explicit))
        target = config_candidates(explicit)[0][1]
        raise NoConfigFound(
            "buildradiator: no config file found. Looked at:\n"
            f"{looked}\n\n"
            f"  buildradiator init   writes a commented starting config to {target}\n"
            "  buildradiator demo   shows the radiator working on a built-in simulated CI"
        )
    return load_config(path)


def _print_config_error(exc: ConfigError) -> None:
    count = len(exc.problems)
    print(
        f"buildradiator: the config has {count} problem{'s' if count != 1 else ''}:",
        file=sys.stderr,
    )
    for problem in exc.problems:
        print("  " + problem.render(), file=sys.stderr)
    print("Fix them and run `buildradiator check` again.", file=sys.stderr)


# -- the radiator ------------------------------------------------------------------------


def _wants_ascii(flag: bool, config: Config) -> bool:
    if flag or config.radiator.ascii:
        return True
    encoding = (sys.stdout.encoding or locale.getpreferredencoding(False) or "").lower()
    return "utf" not in encoding


def _setup_logging() -> None:
    """Log to a file: the screen belongs to the radiator. Never logs tokens (none reach here)."""
    log_file = get_paths().log_file
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=1_000_000, backupCount=2, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("buildradiator")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def run_radiator(
    config: Config,
    args: argparse.Namespace,
    *,
    use_cache: bool = True,
    history: History | None = None,
) -> int:
    """Run the Textual radiator. ``history`` defaults to the store in the data dir."""
    from buildradiator.alerts import Escalation
    from buildradiator.app import BuildRadiatorApp
    from buildradiator.claims import ClaimStore
    from buildradiator.clock import Clock
    from buildradiator.engine import Engine
    from buildradiator.hooks import HookRunner

    _setup_logging()
    from buildradiator.export import read_cache

    # The demo's simulator starts afresh every time: no cache to show or keep for it.
    cache = _cache_path(config) if use_cache else None
    from buildradiator.history import History

    store = (
        history
        if history is not None
        else History.open(get_paths().history_db, retention_days=config.radiator.history_days)
    )
    engine = Engine(config, cache_path=cache, history=store)
    cached = read_cache(cache) if cache else None
    if cached is not None:
        # The last known state shows at once (marked stale by its age) until fresh data arrives.
        engine.seed(cached)
    clock = Clock()
    escalation = Escalation(config.alerts, privacy=config.radiator.privacy)
    # The app toasts hooks that fail or time out (it sets on_result itself).
    hooks = HookRunner(
        config.hooks, clock, secret_env=[s.token_env for s in config.sources if s.token_env]
    )
    # The demo's pipelines are make-believe: its claims stay in the app's private temp dir.
    claims = (
        ClaimStore(get_paths().data_dir / "claims.json", clock, config.claims.expire_hours)
        if use_cache
        else None
    )
    app = BuildRadiatorApp(
        engine,
        title=config.radiator.title,
        theme=getattr(args, "theme", None) or config.radiator.theme,
        mode=getattr(args, "mode", None) or config.radiator.mode,
        ascii=_wants_ascii(getattr(args, "ascii", False), config),
        clock=clock,
        page_seconds=config.radiator.page_seconds,
        escalation=escalation,
        hooks=hooks,
        claims=claims,
    )
    try:
        result = app.run()
    finally:
        store.close()
    return int(result or 0)


def cmd_run(args: argparse.Namespace) -> int:
    return run_radiator(require_config(args.config), args)


def cmd_demo(args: argparse.Namespace) -> int:
    from buildradiator.simulator import Simulator, demo_config_text

    simulator = Simulator()
    simulator.start()
    try:
        config = parse_config(
            demo_config_text(simulator.base_url, interval=args.interval), "<demo>"
        )
        # The demo's history lives in memory, filled with a few weeks of made-up builds under
        # the keys the real sources report, so trends and the flaky ranking have shape at once.
        return run_radiator(config, args, use_cache=False, history=_demo_history(config))
    finally:
        simulator.stop()


def _demo_history(config: Config) -> History:
    from buildradiator.engine import Engine
    from buildradiator.history import History
    from buildradiator.simulator.backfill import backfill

    async def first_poll() -> Snapshot:
        engine = Engine(config)
        try:
            return await engine.poll_all()
        finally:
            await engine.aclose()

    snapshot = asyncio.run(first_poll())
    history = History.memory()
    backfill(history, snapshot.pipelines, now=datetime.now(UTC))
    return history


def cmd_simulate(args: argparse.Namespace) -> int:
    from buildradiator.simulator import demo_config_text, serve_forever

    base = f"http://{args.host}:{args.port}"
    print(f"Simulated CI on {base} (Ctrl+C stops it). A config that watches it:\n")
    print(demo_config_text(base))
    sys.stdout.flush()
    serve_forever(args.port, args.host)
    return EXIT_OK


# -- one engine, many screens -----------------------------------------------------------


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value} (0..65535)")
    return port


EXIT_ENGINE_STOPPED = 4
"""``serve``: the engine stopped (something unexpected escaped it); the traceback is logged."""


def cmd_serve(args: argparse.Namespace) -> int:
    """Run one engine and serve its snapshot to every screen (see ``serve``). Exits 4 when the
    engine stops, after saying so to every client for a few seconds (``serve.STOPPED_LINGER``)."""
    from buildradiator.engine import Engine
    from buildradiator.export import read_cache
    from buildradiator.history import History
    from buildradiator.serve import (
        EngineStopped,
        RadiatorServer,
        ServeError,
        browser_mount,
        exposure_warning,
        resolve_token,
        route_server_logs,
        serve,
    )
    from buildradiator.serve_limits import Limits

    config = require_config(getattr(args, "config", None))
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
    _setup_logging()
    route_server_logs(token)
    # As `run` does: the last known state answers at once (stale by its age) and every
    # finished build goes to history, so red-since, ETAs and trends are in what we serve.
    cache = _cache_path(config)
    store = History.open(get_paths().history_db, retention_days=config.radiator.history_days)
    engine = Engine(config, cache_path=cache, history=store)
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
        )

    try:
        asyncio.run(until_stopped())
    except asyncio.CancelledError:
        return EXIT_OK
    except EngineStopped as exc:
        print(
            f"buildradiator serve: {exc}; the traceback is in {get_paths().log_file}",
            file=sys.stderr,
        )
        return EXIT_ENGINE_STOPPED
    except OSError as exc:
        print(
            f"buildradiator serve: cannot listen on {settings.host}:{settings.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    finally:
        store.close()
    return EXIT_OK


def cmd_view(args: argparse.Namespace) -> int:
    """The radiator fed only by another radiator's ``serve`` (what each browser session runs:
    ``serve`` hands it the token on a pipe, ``--token-fd``)."""
    from buildradiator.webview import ViewTokenError, run_view

    encoding = (sys.stdout.encoding or locale.getpreferredencoding(False) or "").lower()
    try:
        return run_view(
            args.url,
            args.token_env,
            mode=args.mode,
            ascii=args.ascii or "utf" not in encoding,
            theme=args.theme,
            token_fd=getattr(args, "token_fd", None),
        )
    except ViewTokenError as exc:
        print(f"buildradiator view: {exc}", file=sys.stderr)
        return EXIT_CONFIG


# -- one-shot commands -------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from buildradiator.engine import Engine

    config = require_config(getattr(args, "config", None))
    print(f"config: {config.path} is valid ({len(config.sources)} sources)")
    if not config.sources:
        print("no sources configured: add [[sources]] tables (see `buildradiator init`)")
        return EXIT_OK
    for source in config.sources:
        if not source.verify_tls:
            print(f"warning: TLS verification is off for source {source.name}")

    async def probe() -> list[tuple[str, ...]]:
        engine = Engine(config)
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
    return EXIT_FAIL if any(row[-1].startswith(_FAILED_PREFIXES) for row in rows) else EXIT_OK


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


def cmd_status(args: argparse.Namespace) -> int:
    from buildradiator.export import exit_code, overall, status_line, tmux_line, to_json

    config = require_config(getattr(args, "config", None))
    fmt_ = args.format or ("json" if args.json else "text")
    snapshot = _cached_if_fresh(config) if fmt_ in ("line", "tmux") and not args.fresh else None
    if snapshot is None:
        snapshot = asyncio.run(_poll_once(config))
    ascii = _wants_ascii(args.ascii, config)
    now = datetime.now(UTC)
    if fmt_ == "json":
        print(to_json(snapshot))
    elif fmt_ == "line":
        print(status_line(snapshot, now, ascii))
    elif fmt_ == "tmux":
        print(tmux_line(snapshot, now, ascii))
    else:
        print(f"{snapshot.title}: {overall(snapshot)}")
        for window in snapshot.broken:
            print(f"  broken: {window.name} ({window.kind})")
        for state in snapshot.sources:
            if state.error:
                print(f"  source {state.name}: {state.error}")
    return exit_code(snapshot)


def _cache_path(config: Config) -> Path:
    from buildradiator.export import cache_file

    return cache_file(get_paths().cache_dir, config.path)


def _cached_if_fresh(config: Config) -> Snapshot | None:
    """A running radiator's last snapshot, when it is younger than one poll interval: tmux
    calls ``status --format tmux`` every few seconds and must not poll the CI APIs each time."""
    from buildradiator.export import read_cache

    snapshot = read_cache(_cache_path(config))
    if snapshot is None:
        return None
    age = (datetime.now(UTC) - snapshot.taken_at).total_seconds()
    return snapshot if 0 <= age <= config.radiator.interval else None


async def _poll_once(config: Config) -> Snapshot:
    from buildradiator.engine import Engine

    engine = Engine(config, cache_path=_cache_path(config))
    try:
        snapshot = await engine.poll_all()
    finally:
        await engine.aclose()
    from buildradiator.export import write_cache

    write_cache(_cache_path(config), snapshot)
    return snapshot


def cmd_locate(args: argparse.Namespace) -> int:
    paths = get_paths()
    config = find_config(None)
    print(f"config:  {config or paths.default_config}" + ("" if config else "  (not created yet)"))
    if os.environ.get("BUILDRADIATOR_CONFIG"):
        print("         (from $BUILDRADIATOR_CONFIG)")
    print(f"data:    {paths.data_dir}")
    print(f"themes:  {paths.user_themes}")
    print(f"cache:   {paths.cache_dir}")
    print(f"logs:    {paths.log_dir}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    target = config_candidates(getattr(args, "config", None))[0][1]
    if target.exists() and not args.force:
        print(f"buildradiator: {target} already exists (use --force to overwrite)", file=sys.stderr)
        return EXIT_CONFIG
    text = resources.files("buildradiator").joinpath("starter.toml").read_text(encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}\nedit it, then run `buildradiator check`")
    return EXIT_OK
