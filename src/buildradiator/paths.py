"""Every place buildradiator reads or writes, in one seam (tests point it at a temp dir).

Nothing here creates a directory at import time; callers create what they write to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "buildradiator"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def default_config(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def user_themes(self) -> Path:
        return self.data_dir / "themes"

    @property
    def history_db(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "buildradiator.log"


def get_paths() -> Paths:
    """The platformdirs locations, or all under ``$BUILDRADIATOR_HOME`` when that is set."""
    home = os.environ.get("BUILDRADIATOR_HOME")
    if home:
        root = Path(home)
        return Paths(root / "config", root / "data", root / "cache", root / "logs")
    return Paths(
        Path(platformdirs.user_config_dir(APP)),
        Path(platformdirs.user_data_dir(APP)),
        Path(platformdirs.user_cache_dir(APP)),
        Path(platformdirs.user_log_dir(APP)),
    )


def config_candidates(explicit: str | None) -> list[tuple[str, Path]]:
    """Where a config is looked for, in order, each with the reason it is looked at."""
    if explicit:
        return [("from --config", Path(explicit).expanduser())]
    env = os.environ.get("BUILDRADIATOR_CONFIG")
    if env:
        return [("from $BUILDRADIATOR_CONFIG", Path(env).expanduser())]
    return [("the default: the user config dir", get_paths().default_config)]
