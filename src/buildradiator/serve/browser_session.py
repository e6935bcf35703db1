"""A browser session's process: ``buildradiator view`` started by ``serve`` for one WebSocket
(textual-serve's ``AppService``), with an allow-listed environment and the serve token handed
over on a pipe, and the reading end of that pipe in ``buildradiator view``.

Why a pipe: a token in the session's environment would be inherited by anything it starts, and
on its command line ``ps`` would show it. The pipe's read end goes to this one child alone
(``pass_fds``); the child reads it once and closes it, so the token lives on in its memory only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Mapping

from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

MAX_TOKEN_BYTES = 16 * 1024
"""A token handed to a session on a pipe is read up to this size (a pipe holds 64 KB)."""
SESSION_ENV = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TERM", "TZ", "TMPDIR",
    "COLORTERM", "NO_COLOR",
    # Where the radiator keeps its log and themes.
    "BUILDRADIATOR_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
    "XDG_CACHE_HOME", "XDG_RUNTIME_DIR",
    # The same Python finding the same buildradiator.
    "PYTHONPATH", "PYTHONUTF8", "PYTHONIOENCODING",
    # What textual-serve sets for Textual's web driver.
    "TEXTUAL_DRIVER", "TEXTUAL_FPS", "TEXTUAL_COLOR_SYSTEM", "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION", "COLUMNS", "ROWS",
})  # fmt: skip
"""The variables a browser session keeps (and ``LC_*``): an allow-list, not a deny-list of
names that look secret, because ``DATABASE_URL=postgres://u:pw@...`` does not look secret."""
STOP_SECONDS = 5.0
"""How long a session's process gets to quit before it is killed."""


def session_environment(env: Mapping[str, str]) -> dict[str, str]:
    """A browser session's environment: only ``SESSION_ENV`` and ``LC_*`` of ``env``.

    The session reads this server's snapshot and draws it; the secrets the server's environment
    happens to hold (CI tokens, ``DATABASE_URL``, cloud keys, the serve token) have no business
    in a process a browser drives, nor in anything it might start."""
    return {k: v for k, v in env.items() if k in SESSION_ENV or k.startswith("LC_")}


def token_pipe(token: str) -> int:
    """A pipe holding ``token`` (its write end already closed): the read end, for the child."""
    data = token.encode("utf-8")
    if len(data) > MAX_TOKEN_BYTES:
        raise OSError(f"the serve token is over {MAX_TOKEN_BYTES} bytes")
    read_end, write_end = os.pipe()
    try:
        os.set_blocking(write_end, False)  # never wait on the loop: it fits, or it fails
        if os.write(write_end, data) != len(data):
            raise OSError("the serve token did not fit in a pipe")
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    return read_end


class ViewSession(AppService):
    """textual-serve's ``AppService`` running an argv (no shell) with an allow-listed
    environment, handing it the serve token on a pipe, and stopping for sure."""

    def __init__(
        self,
        argv: list[str],
        *,
        token: str | None,
        write_bytes: Callable[[bytes], Awaitable[None]],
        write_str: Callable[[str], Awaitable[None]],
        close: Callable[[], Awaitable[None]],
        download_manager: DownloadManager,
    ) -> None:
        super().__init__(
            " ".join(argv),  # only for textual-serve's log lines; never run by a shell
            write_bytes=write_bytes,
            write_str=write_str,
            close=close,
            download_manager=download_manager,
        )
        self.argv = argv
        self._token = token

    async def _open_app_process(
        self, width: int = 80, height: int = 24
    ) -> asyncio.subprocess.Process:
        argv = self.argv
        pass_fds: tuple[int, ...] = ()
        token_fd = token_pipe(self._token) if self._token else None
        if token_fd is not None:
            # Only this child gets the pipe (pass_fds); it reads the token and closes it.
            argv, pass_fds = [*argv, "--token-fd", str(token_fd)], (token_fd,)
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=session_environment(self._build_environment(width=width, height=height)),
                pass_fds=pass_fds,
            )
        finally:
            if token_fd is not None:
                os.close(token_fd)
        assert process.stdin is not None
        self._process, self._stdin = process, process.stdin
        return process

    async def run(self) -> None:
        # textual-serve leaves the browser's socket open when the process dies without saying
        # "exit" (a crash): close it, so the page says the session ended instead of freezing.
        await super().run()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.remote_close()

    async def close(self) -> None:
        """Ask the radiator to quit; kill it if it has not after ``STOP_SECONDS``."""
        process = self._process
        try:
            await asyncio.wait_for(self.stop(), STOP_SECONDS)
            if process is not None:
                await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
