"""``buildradiator view``: the radiator showing another radiator's snapshot, polling no CI API.

What each browser session of ``serve`` runs (``serve.browser`` starts it as a process and hands
it the token on a pipe); also handy in a terminal next to a central server.
"""

from __future__ import annotations

import os
import stat

from pydantic import SecretStr

from buildradiator.errors import BuildRadiatorError
from buildradiator.ui.options import Mode, RadiatorOptions

VIEW_INTERVAL = 3.0
"""Seconds between a view's reads of the central snapshot (a conditional request: 304 costs
the server a dict lookup)."""
MAX_TOKEN_BYTES = 16 * 1024
"""The longest token a view reads from its pipe."""


class ViewTokenError(BuildRadiatorError):
    """``view --token-fd``: no token could be read; the message says why (never the token)."""


def read_token_fd(fd: int) -> str:
    """The token ``serve`` handed a session on a pipe (``--token-fd``), which is then closed:
    the token lives on in this process's memory only, in no environment a child inherits."""
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.close(fd)
            raise ViewTokenError(f"--token-fd {fd} is not a pipe")
        with os.fdopen(fd, "rb") as pipe:
            data = pipe.read(MAX_TOKEN_BYTES + 1)
    except OSError as exc:
        raise ViewTokenError(f"cannot read a token from --token-fd {fd}: {exc.strerror}") from None
    token = data.decode("utf-8", "replace").strip()
    if not token or len(data) > MAX_TOKEN_BYTES:
        raise ViewTokenError(f"--token-fd {fd} gave no usable token")
    return token


def run_view(
    url: str,
    token_env: str | None,
    *,
    mode: Mode | None,
    ascii: bool,
    theme: str | None,
    token_fd: int | None = None,
) -> int:
    """``buildradiator view``: the radiator showing another radiator's snapshot, polling no CI
    API. What each browser session runs (its token on a pipe, ``token_fd``); also handy in a
    terminal next to a central server (its token named by ``token_env``)."""
    from buildradiator.config.loading import Config, resolve_secrets
    from buildradiator.history import History
    from buildradiator.sources.radiator.config import RadiatorFeedSource
    from buildradiator.ui.launch import run_radiator

    source = RadiatorFeedSource(
        type="radiator", name="radiator", url=url, token_env=token_env, interval=VIEW_INTERVAL
    )
    if token_fd is not None:
        source = source.model_copy(
            update={"token_env": None, "token": SecretStr(read_token_fd(token_fd))}
        )
    # The token is read from the environment exactly as a config file's token_env would be
    # (a missing variable is a ConfigError naming it, never a traceback).
    config = resolve_secrets(Config(sources=[source]), "buildradiator view")
    options = RadiatorOptions.from_config(config, theme=theme, mode=mode, ascii=ascii)
    # No cache and an in-memory history: thirty sessions must not fight over the server's
    # SQLite file, and what they show is the central engine's anyway.
    return run_radiator(config, options, use_cache=False, history=History.memory())
