"""Every place buildradiator reads or writes, in one seam (tests point it at a temp dir).

Nothing here creates a directory at import time; callers create what they write to.
"""

from __future__ import annotations

import contextlib
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


# -- what we write is private ------------------------------------------------------------------
# The cache, the history, the claims and the log hold commit messages, authors and URLs from
# every CI the radiator reads: nobody but their owner reads them. (SQLite gives a database's
# -wal and -shm files the database file's own permissions.)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner may enter: created so, or tightened."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file only its owner may read or write: created empty so, or tightened."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_FILE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + rename), readable by its owner only."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, PRIVATE_FILE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
