"""The log file: the screen belongs to the radiator, so what it logs goes to a private file."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from buildradiator.paths import PRIVATE_FILE, get_paths, private_file

if TYPE_CHECKING:
    pass


class _PrivateLog(logging.handlers.RotatingFileHandler):
    """The log file, created readable by its owner only (it names hosts, sources, errors)."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


def setup_logging() -> logging.Handler:
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
def logging_to_file() -> Iterator[None]:
    """``_setup_logging`` for as long as the radiator runs; then logging is as it was (the
    file closed), so a command run in-process (tests, the bench) leaves nothing behind."""
    root = logging.getLogger("buildradiator")
    before = (root.handlers[:], root.level, root.propagate)
    handler = setup_logging()
    try:
        yield
    finally:
        handler.close()
        root.handlers[:], root.level, root.propagate = before
