"""The command line's arguments: one parser for every command, and the options shared
between the main parser and the subcommands (``--config``, ``--theme``, ``--mode``, ``--ascii``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from buildradiator import __version__
from buildradiator.cli import report

if TYPE_CHECKING:
    pass


CONFIG_HELP = (
    "the config file (default: $BUILDRADIATOR_CONFIG, else config.toml in the user config dir; "
    "`buildradiator locate` shows which)"
)
SHARED_OPTIONS = ("config", "theme", "mode", "ascii")
"""Options of the main parser that subcommands take too: they work before the command
(``buildradiator --ascii demo``, as the usage line shows) and after it."""


def build_parser() -> argparse.ArgumentParser:
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
        "--port",
        type=port_number,
        default=8765,
        help="port to listen on (default: 8765; 0: any free)",
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
        "--port",
        type=port_number,
        help="port to listen on (default from [serve]: 8686; 0: any free)",
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


def check_shared_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """An option given before a command that does not take it is an error, not ignored."""
    if args.command is None:
        return
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    takes = {action.dest for action in sub.choices[args.command]._actions}
    for name in SHARED_OPTIONS:
        if getattr(args, name, None) is not None and name not in takes:
            parser.error(f"`{args.command}` takes no --{name}")


def port_number(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value} (0..65535)")
    return port
