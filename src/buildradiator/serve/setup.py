"""Starting ``buildradiator serve`` from its config: the token read once, the warning for a
server listening beyond this machine, and aiohttp's log lines routed to our log file with the
token masked. (``serve`` re-exports these.)"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from buildradiator.errors import BuildRadiatorError

if TYPE_CHECKING:
    from buildradiator.config.share import ServeConfig


class ServeError(BuildRadiatorError):
    """``serve`` cannot start: the message says why in plain words (never the token)."""


def resolve_token(token_env: str | None) -> str | None:
    """The bearer token, read once at start. A named variable that is unset or empty is an
    error: serving openly when the config asked for a token would be the worst outcome."""
    if not token_env:
        return None
    value = os.environ.get(token_env, "").strip()
    if not value:
        raise ServeError(
            f"buildradiator serve: [serve] token_env names ${token_env}, but it is not set or "
            f"empty. Set it (export {token_env}=...) or remove token_env to serve without a token."
        )
    return value


def exposure_warning(settings: ServeConfig, has_token: bool) -> str | None:
    """The warning for stderr when the server listens beyond this machine."""
    if settings.loopback:
        return None
    where = f"{settings.host}:{settings.port}"
    if has_token:
        return (
            f"buildradiator serve: warning: listening on {where}, not loopback: the build and "
            "deploy data is visible to the network (to clients that have the token)."
        )
    return (
        f"buildradiator serve: WARNING: listening on {where}, not loopback, WITHOUT A TOKEN: "
        "anyone who can reach this address can read every build, commit message, author and "
        "deploy this radiator knows. Set [serve] token_env, or listen on 127.0.0.1."
    )


class RedactingHandler(logging.Handler):
    """aiohttp's own log lines (a bad request, a crashed handler) may quote a request line or a
    header: they reach our log handlers with the token masked and without a traceback's text.
    A handler of its own, so that our log lines keep their tracebacks."""

    def __init__(self, token: str | None, targets: list[logging.Handler]) -> None:
        super().__init__()
        self.token = token
        self.targets = targets

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({type(record.exc_info[1]).__name__})"
        if self.token:
            message = message.replace(self.token, "***")
        clean = logging.makeLogRecord(
            {**record.__dict__, "msg": message, "args": None, "exc_info": None, "exc_text": None}
        )
        for target in self.targets:
            if clean.levelno >= target.level:
                target.handle(clean)


def route_server_logs(token: str | None) -> None:
    """Send aiohttp's log lines where ours go (the log file), redacted."""
    theirs = logging.getLogger("aiohttp")
    theirs.handlers[:] = [
        RedactingHandler(token, list(logging.getLogger("buildradiator").handlers))
    ]
    theirs.setLevel(logging.WARNING)
    theirs.propagate = False
