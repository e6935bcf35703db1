"""The command line: ``buildradiator [run|demo|simulate|check|status|serve|view|locate|init]``.

Exit codes, the same for every command (``export``, README "Exit codes"): 0 green (``check``:
every source read), 1 something red, 2 a usage or config problem, 3 unknown (a source could not
be read, or its data is not fresh), 4 the radiator itself failed (the engine stopped; see the log).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import logging.handlers
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from buildradiator import __version__, fmt
from buildradiator.cli import report
from buildradiator.config.loading import Config, load_config, parse_config
from buildradiator.errors import (
    EXIT_CONFIG,
    EXIT_GREEN,
    EXIT_INTERNAL,
    EXIT_UNKNOWN,
    AuthFailed,
    BuildRadiatorError,
    ConfigError,
    NotFound,
    RateLimited,
    SourceError,
    Unreachable,
)
from buildradiator.errors import Timeout as SourceTimeout
from buildradiator.paths import PRIVATE_FILE, config_candidates, get_paths, private_file

if TYPE_CHECKING:
    from buildradiator.engine.engine import Slot
    from buildradiator.history import History
    from buildradiator.model import Snapshot

EXIT_OK = EXIT_GREEN


class NoConfigFound(BuildRadiatorError):
    """No config file where we looked; the message says where and what to do."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check_shared_options(parser, args)
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
        if command == "report":
            return report.run(args)
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
    except Exception as exc:
        # A bug of ours: the traceback goes to the log, the words and exit code 4 to the caller
        # (a script must not read a crash as 1, "something is red").
        return _internal_error(command, exc)
    parser.error(f"unknown command {command}")
    return EXIT_CONFIG


def _internal_error(command: str, exc: Exception) -> int:
    with _logging_to_file():
        logging.getLogger("buildradiator.cli").error(
            "buildradiator %s failed", command, exc_info=(type(exc), exc, exc.__traceback__)
        )
    print(
        f"buildradiator {command}: internal error ({type(exc).__name__}); the traceback is in "
        f"{get_paths().log_file}",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


CONFIG_HELP = (
    "the config file (default: $BUILDRADIATOR_CONFIG, else config.toml in the user config dir; "
    "`buildradiator locate` shows which)"
)
SHARED_OPTIONS = ("config", "theme", "mode", "ascii")
"""Options of the main parser that subcommands take too: they work before the command
(``buildradiator --ascii demo``, as the usage line shows) and after it."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="buildradiator",
        description="A terminal build radiator. Without a command: run the radiator.",
        epilog="Options before the command apply to it as if given after it. "
        "`buildradiator COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"buildradiator {__version__}")
    # Before the command: defaults of None, so that ``main`` can tell given from not given.
    _add_config(parser, default=None)
    _add_display(parser, default=None)
    # After it: no defaults at all (SUPPRESS), so that a subcommand leaves what was given
    # before it alone (argparse copies every subcommand default over the main namespace).
    config = argparse.ArgumentParser(add_help=False)
    _add_config(config, default=argparse.SUPPRESS)
    display = argparse.ArgumentParser(add_help=False)
    _add_display(display, default=argparse.SUPPRESS)
    ascii = argparse.ArgumentParser(add_help=False)
    _add_ascii(ascii, default=argparse.SUPPRESS)

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", parents=[config, display], help="run the radiator (the default)")
    demo = sub.add_parser(
        "demo", parents=[display], help="run the radiator on the built-in simulated CI"
    )
    demo.add_argument(
        "--interval",
        type=float,
        default=3.0,
        help="seconds between polls of each simulated source (default: 3)",
    )
    sim = sub.add_parser(
        "simulate",
        help="run only the simulated CI; its config goes to stdout (`simulate > demo.toml`)",
    )
    sim.add_argument(
        "--port", type=_port, default=8765, help="port to listen on (default: 8765; 0: any free)"
    )
    sim.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    sub.add_parser("check", parents=[config], help="validate the config and try every source once")
    status = sub.add_parser(
        "status",
        parents=[config, ascii],
        help="poll once and print what is broken and the counts (--json, --format for scripts)",
    )
    status.add_argument("--json", action="store_true", help="the same as --format json")
    status.add_argument(
        "--format",
        choices=["text", "json", "line", "tmux"],
        help="text (default): what is broken, then counts; json: the snapshot; "
        "line: one line for shell prompts; tmux: that line with tmux colours",
    )
    status.add_argument(
        "--fresh",
        action="store_true",
        help="line and tmux: always poll, never answer from a running radiator's cache",
    )
    serve = sub.add_parser(
        "serve",
        parents=[config],
        help="poll once for many screens: serve the snapshot over HTTP (no TUI)",
    )
    serve.add_argument("--host", help="address to listen on (default from [serve]: 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, help="port to listen on (default from [serve]: 8686; 0: any free)"
    )
    view = sub.add_parser(
        "view", parents=[display], help="the radiator showing another radiator's `serve`"
    )
    view.add_argument("--url", required=True, help="the serving radiator, e.g. http://host:8686")
    view.add_argument("--token-env", help="environment variable holding its bearer token")
    view.add_argument(
        "--token-fd",
        type=int,
        metavar="FD",
        help="read the serving radiator's token from this file descriptor (how serve hands it "
        "to its browser sessions without putting it in their environment)",
    )
    sub.add_parser(
        "locate",
        parents=[config],
        help="print the config in use and where data, cache and logs live",
    )
    report.add_parser(sub)
    init = sub.add_parser("init", parents=[config], help="write a commented starting config")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    return parser


def _add_config(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--config", "-c", metavar="FILE", default=default, help=CONFIG_HELP)


def _add_display(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--theme", default=default, help="theme name (default: [radiator] theme, else default)"
    )
    parser.add_argument(
        "--mode",
        choices=["auto", "default", "pane", "wall"],
        default=default,
        help="layout (default: [radiator] mode, else auto: by the terminal's size)",
    )
    _add_ascii(parser, default)


def _add_ascii(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--ascii",
        action="store_true",
        default=default,
        help="ASCII glyphs only (also chosen by [radiator] ascii and by a non-UTF-8 locale)",
    )


def _check_shared_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """An option given before a command that does not take it is an error, not ignored."""
    if args.command is None:
        return
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    takes = {action.dest for action in sub.choices[args.command]._actions}
    for name in SHARED_OPTIONS:
        if getattr(args, name, None) is not None and name not in takes:
            parser.error(f"`{args.command}` takes no --{name}")


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


def wants_ascii(env: Mapping[str, str], flag: bool | None, config: Config | None) -> bool:
    """ASCII glyphs only: asked for (``--ascii``, ``[radiator] ascii``), or a locale whose
    character set is not UTF-8.

    The locale is read as the programs of a terminal read it: the first of ``LC_ALL``,
    ``LC_CTYPE``, ``LANG`` that is set and not empty, none meaning the C locale. Not from
    ``sys.stdout.encoding``: Python 3.7+ coerces the C locale to UTF-8 (PEP 538, PEP 540), so
    under ``LANG=C`` it says UTF-8 while the terminal may show nothing beyond ASCII.
    """
    if flag or (config is not None and config.radiator.ascii):
        return True
    if os.name == "nt":
        # No locale variables on Windows; its consoles take UTF-8 (PEP 528).
        return "utf" not in (sys.stdout.encoding or "").lower()
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name)
        if value:
            return not _utf8_locale(value)
    return True


class _PrivateLog(logging.handlers.RotatingFileHandler):
    """The log file, created readable by its owner only (it names hosts, sources, errors)."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


_COERCED = frozenset({"C.UTF-8", "C.utf8", "UTF-8"})
"""What Python 3.7+ sets ``LC_CTYPE`` to when it coerces the C locale at start-up (PEP 538)."""


def locale_environ(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The locale variables as the shell passed them to this process.

    Python rewrites ``LC_CTYPE`` to ``C.UTF-8`` at start-up when the locale is C (PEP 538);
    that would hide ``LANG=C`` from ``wants_ascii``. Where the process's original environment
    can be read (``/proc/self/environ`` on Linux), a rewritten ``LC_CTYPE`` is put back as it
    was; elsewhere the variables are taken as they are.
    """
    env = os.environ if env is None else env
    names = {n: env[n] for n in ("LC_ALL", "LC_CTYPE", "LANG") if n in env}
    if names.get("LC_CTYPE") in _COERCED:
        try:
            raw = Path("/proc/self/environ").read_bytes()
        except OSError:
            return names
        original = dict(
            item.decode("utf-8", "replace").partition("=")[::2]
            for item in raw.split(b"\0")
            if item.startswith(b"LC_CTYPE=")
        )
        if original.get("LC_CTYPE") != names["LC_CTYPE"]:
            if "LC_CTYPE" in original:
                names["LC_CTYPE"] = original["LC_CTYPE"]
            else:
                del names["LC_CTYPE"]
    return names


def _utf8_locale(name: str) -> bool:
    """``en_US.UTF-8``, ``C.utf8``, ``de_DE.UTF-8@euro``: yes. ``C``, ``POSIX``, ``en_US``
    (its default codeset is Latin-1), ``en_US.ISO-8859-1``: no."""
    codeset = name.split("@", 1)[0].partition(".")[2]
    return codeset.lower().replace("-", "").replace("_", "") == "utf8"


def _setup_logging() -> logging.Handler:
    """Log to a file: the screen belongs to the radiator. Never logs tokens (none reach here)."""
    log_file = get_paths().log_file
    try:
        private_file(log_file)
        handler: logging.Handler = _PrivateLog(
            log_file, maxBytes=1_000_000, backupCount=2, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("buildradiator")
    for old in root.handlers:
        old.close()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    return handler


@contextlib.contextmanager
def _logging_to_file() -> Iterator[None]:
    """``_setup_logging`` for as long as the radiator runs; then logging is as it was (the
    file closed), so a command run in-process (tests, the bench) leaves nothing behind."""
    root = logging.getLogger("buildradiator")
    before = (root.handlers[:], root.level, root.propagate)
    handler = _setup_logging()
    try:
        yield
    finally:
        handler.close()
        root.handlers[:], root.level, root.propagate = before


def run_radiator(
    config: Config,
    args: argparse.Namespace,
    *,
    use_cache: bool = True,
    history: History | None = None,
) -> int:
    """Run the Textual radiator. ``history`` defaults to the store in the data dir."""
    with _logging_to_file():
        return _run_radiator(config, args, use_cache=use_cache, history=history)


def _run_radiator(
    config: Config, args: argparse.Namespace, *, use_cache: bool, history: History | None
) -> int:
    from buildradiator.assemble import build_engine
    from buildradiator.clock import Clock
    from buildradiator.export.cache import read_cache
    from buildradiator.ui.alerts import Escalation
    from buildradiator.ui.app import BuildRadiatorApp
    from buildradiator.ui.claims import ClaimStore
    from buildradiator.ui.hooks import HookRunner

    # The demo's simulator starts afresh every time: no cache to show or keep for it.
    cache = _cache_path(config) if use_cache else None
    from buildradiator.history import History

    store = (
        history
        if history is not None
        else History.open(get_paths().history_db, retention_days=config.radiator.history_days)
    )
    engine = build_engine(config, cache_path=cache, history=store)
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
        ascii=wants_ascii(locale_environ(), getattr(args, "ascii", None), config),
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
    # An app that died of an error returns nothing but sets its return code: a process that
    # dies must not exit 0 (a wrapper script would read that as a clean stop).
    if app.return_code:
        return EXIT_INTERNAL if app.return_code == 1 and result is None else app.return_code
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


"""``serve``: the engine stopped (something unexpected escaped it); the traceback is logged."""


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
    engine = build_engine(config, cache_path=cache, history=store)
    try:
        hooks = attach_webhooks(config, engine, str(find_config(getattr(args, "config", None))))
    except ConfigError as exc:
        _print_config_error(exc)
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
        return EXIT_OK
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
    return EXIT_OK


def cmd_view(args: argparse.Namespace) -> int:
    """The radiator fed only by another radiator's ``serve`` (what each browser session runs:
    ``serve`` hands it the token on a pipe, ``--token-fd``)."""
    from buildradiator.serve.browser import ViewTokenError, run_view

    try:
        return run_view(
            args.url,
            args.token_env,
            mode=args.mode,
            ascii=wants_ascii(locale_environ(), args.ascii, None),
            theme=args.theme,
            token_fd=getattr(args, "token_fd", None),
        )
    except ViewTokenError as exc:
        print(f"buildradiator view: {exc}", file=sys.stderr)
        return EXIT_CONFIG


# -- one-shot commands -------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from buildradiator.assemble import build_engine

    config = require_config(getattr(args, "config", None))
    print(f"config: {config.path} is valid ({fmt.plural(len(config.sources), 'source')})")
    if not config.sources:
        print("no sources configured: add [[sources]] tables (see `buildradiator init`)")
        return EXIT_OK
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
    _check_history(config)
    # The same code as `status` for a source that could not be read (README, "Exit codes").
    failed = any(row[-1].startswith(_FAILED_PREFIXES) for row in rows)
    return EXIT_UNKNOWN if failed else EXIT_OK


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


def cmd_status(args: argparse.Namespace) -> int:
    from buildradiator.export.document import to_json
    from buildradiator.export.lines import status_line, tmux_line
    from buildradiator.rules.verdict import exit_code

    config = require_config(getattr(args, "config", None))
    fmt_ = args.format or ("json" if args.json else "text")
    snapshot = _cached_if_fresh(config) if fmt_ in ("line", "tmux") and not args.fresh else None
    if snapshot is None:
        snapshot = asyncio.run(_poll_once(config))
    ascii = wants_ascii(locale_environ(), getattr(args, "ascii", None), config)
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


def _cache_path(config: Config) -> Path:
    from buildradiator.export.cache import cache_file

    return cache_file(get_paths().cache_dir, config.path)


def _cached_if_fresh(config: Config) -> Snapshot | None:
    """A running radiator's last snapshot, when it is younger than one poll interval: tmux
    calls ``status --format tmux`` every few seconds and must not poll the CI APIs each time."""
    from buildradiator.export.cache import read_cache

    snapshot = read_cache(_cache_path(config))
    if snapshot is None:
        return None
    age = (datetime.now(UTC) - snapshot.taken_at).total_seconds()
    return snapshot if 0 <= age <= config.radiator.interval else None


async def _poll_once(config: Config) -> Snapshot:
    from buildradiator.assemble import build_engine

    engine = build_engine(config, cache_path=_cache_path(config))
    try:
        snapshot = await engine.poll_all()
    finally:
        await engine.aclose()
    from buildradiator.export.cache import write_cache

    write_cache(_cache_path(config), snapshot)
    return snapshot


def cmd_locate(args: argparse.Namespace) -> int:
    paths = get_paths()
    why, config = config_candidates(getattr(args, "config", None))[0]
    missing = "" if config.is_file() else "; not created yet"
    print(f"config:  {config}  ({why}{missing})")
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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        # A symlink loop, a read-only directory, a name that is a directory...
        print(f"buildradiator: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"wrote {target}\nedit it, then run `buildradiator check`")
    return EXIT_OK
