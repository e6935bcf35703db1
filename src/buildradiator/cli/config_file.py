"""Finding the config file, and saying what is wrong with it (or that there is none)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from buildradiator.config.loading import Config
from buildradiator.errors import BuildRadiatorError, ConfigError
from buildradiator.paths import config_candidates, get_paths
from buildradiator.sources.catalog import load_config

if TYPE_CHECKING:
    pass


class NoConfigFound(BuildRadiatorError):
    """No config file where we looked; the message says where and what to do."""


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


def print_config_error(exc: ConfigError) -> None:
    count = len(exc.problems)
    print(
        f"buildradiator: the config has {count} problem{'s' if count != 1 else ''}:",
        file=sys.stderr,
    )
    for problem in exc.problems:
        print("  " + problem.render(), file=sys.stderr)
    print("Fix them and run `buildradiator check` again.", file=sys.stderr)


def cache_path(config: Config) -> Path:
    """The snapshot cache of the radiator running on ``config``."""
    from buildradiator.export.cache import cache_file

    return cache_file(get_paths().cache_dir, config.path)
