"""``locate`` (where the config, data, themes, cache and logs live) and ``init`` (a commented
starting config).
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from typing import TYPE_CHECKING

from buildradiator.errors import EXIT_CONFIG, EXIT_GREEN
from buildradiator.paths import config_candidates, get_paths

if TYPE_CHECKING:
    pass


def cmd_locate(args: argparse.Namespace) -> int:
    paths = get_paths()
    why, config = config_candidates(args.config)[0]
    missing = "" if config.is_file() else "; not created yet"
    print(f"config:  {config}  ({why}{missing})")
    print(f"data:    {paths.data_dir}")
    print(f"themes:  {paths.user_themes}")
    print(f"cache:   {paths.cache_dir}")
    print(f"logs:    {paths.log_dir}")
    return EXIT_GREEN


def cmd_init(args: argparse.Namespace) -> int:
    target = config_candidates(args.config)[0][1]
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
    return EXIT_GREEN
