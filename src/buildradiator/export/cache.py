"""The last snapshot, cached for fast one-shot readers (``status --format``) and a quick start:
written by a subscriber to the engine's snapshots (the engine writes no files), read back by the
command line. Its bytes are ``document.cache_bytes``.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from buildradiator.document import cache_bytes, from_cache_bytes
from buildradiator.model import Snapshot
from buildradiator.paths import write_private

log = logging.getLogger("buildradiator.export.cache")

CACHE_EVERY = 10.0
"""Seconds between rewrites of the cache when only freshness changed: ``status --format tmux``
wants it younger than one interval, so the engine hands the subscriber its snapshot this often
even when nothing was published."""


def cache_file(cache_dir: Path, config_path: str | None) -> Path:
    """One cache per config file, so two radiators with different configs never mix."""
    digest = hashlib.sha256((config_path or "<none>").encode()).hexdigest()[:12]
    return cache_dir / f"snapshot-{digest}.json"


def write_cache(path: Path, snapshot: Snapshot) -> None:
    """Atomically (temp file + rename), private to its owner; a failure to write is logged,
    never raised."""
    try:
        write_private(path, cache_bytes(snapshot))
    except OSError as exc:
        log.warning("cannot write the snapshot cache %s: %s", path, exc.strerror)


def read_cache(path: Path) -> Snapshot | None:
    """The cached snapshot, or None when there is none or it cannot be read (never raises)."""
    try:
        return from_cache_bytes(path.read_bytes())
    except (OSError, ValueError):
        return None


class CacheWriter:
    """A subscriber to the engine's snapshots that keeps the cache file current. A snapshot that
    knows nothing yet (no pipeline, no service) never replaces the last run's cache."""

    every = CACHE_EVERY

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, snapshot: Snapshot) -> None:
        if snapshot.pipelines or snapshot.services:
            write_cache(self.path, snapshot)
