"""The command line: ``buildradiator [run|demo|simulate|check|status|serve|view|locate|init]``.

Exit codes, the same for every command (``export``, README "Exit codes"): 0 green (``check``:
every source read), 1 something red, 2 a usage or config problem, 3 unknown (a source could not
be read, or its data is not fresh), 4 the radiator itself failed (the engine stopped; see the log).

Each command lives in a module named for what it does (``radiator``: run, demo, simulate;
``serving``: serve, view; ``check``; ``status``; ``files``: locate, init); the arguments are
parsed in ``parser``, the config found in ``config_file``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from buildradiator.cli import report
from buildradiator.cli.check import cmd_check
from buildradiator.cli.config_file import NoConfigFound, print_config_error
from buildradiator.cli.files import cmd_init, cmd_locate
from buildradiator.cli.logs import logging_to_file
from buildradiator.cli.parser import build_parser, check_shared_options
from buildradiator.cli.radiator import cmd_demo, cmd_run, cmd_simulate
from buildradiator.cli.serving import cmd_serve, cmd_view
from buildradiator.cli.status import cmd_status
from buildradiator.errors import EXIT_CONFIG, EXIT_INTERNAL, ConfigError
from buildradiator.paths import get_paths

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "demo": cmd_demo,
    "simulate": cmd_simulate,
    "check": cmd_check,
    "status": cmd_status,
    "serve": cmd_serve,
    "view": cmd_view,
    "locate": cmd_locate,
    "report": report.run,
    "init": cmd_init,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_shared_options(parser, args)
    command = args.command or "run"
    try:
        run = COMMANDS.get(command)
        if run is not None:
            return run(args)
    except ConfigError as exc:
        print_config_error(exc)
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
    with logging_to_file():
        logging.getLogger("buildradiator.cli").error(
            "buildradiator %s failed", command, exc_info=(type(exc), exc, exc.__traceback__)
        )
    print(
        f"buildradiator {command}: internal error ({type(exc).__name__}); the traceback is in "
        f"{get_paths().log_file}",
        file=sys.stderr,
    )
    return EXIT_INTERNAL
