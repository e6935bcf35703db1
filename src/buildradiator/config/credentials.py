"""Secrets: a source's token and a webhook's secret, read from the environment, a file or a
command (never a shell), capped in size and time; messages never hold the secret itself."""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import signal
import stat
import subprocess
import time
from pathlib import Path

from pydantic import (
    SecretStr,
)

from buildradiator.config.base import SourceBase
from buildradiator.errors import ConfigError, ConfigProblem

TOKEN_COMMAND_TIMEOUT = 10.0


MAX_SECRET_BYTES = 64 * 1024
"""The most a token file or a token command may hold or print."""


class SecretProblem(Exception):
    def __init__(self, key: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.key, self.message, self.hint = key, message, hint


def read_secret(source: SourceBase) -> SecretStr | None:
    """The token a source names, read now. Messages never contain the token itself."""
    return _read_one(
        source.token_env,
        source.token_file,
        source.token_command,
        "before starting buildradiator, or remove token_env to read without a token (public "
        "repositories, anonymous read)",
    )


def read_webhook_secret(source: SourceBase, shown: str = "the config") -> SecretStr | None:
    """The secret of a source's webhook, read like a token (same caps, same deadline, same
    words), only by ``serve``: the screens never need it. ``ConfigError`` names the source."""
    hook = source.webhook
    if hook is None or hook.unsigned:
        return None
    try:
        return _read_one(
            hook.secret_env,
            hook.secret_file,
            hook.secret_command,
            "before starting buildradiator serve",
        )
    except SecretProblem as exc:
        key = "webhook." + exc.key.replace("token_", "secret_")
        message = exc.message.replace("token file", "webhook secret file")
        message = message.replace("token command", "webhook secret command")
        raise ConfigError(
            [ConfigProblem(shown, f"source {source.name} {key}", message, None, exc.hint)]
        ) from None


def _read_one(
    env: str | None, file: str | None, command: list[str] | str | None, when: str
) -> SecretStr | None:
    """The secret in an environment variable, a file or a command's output, whichever is named;
    ``when`` ends the hint for a variable that is not set (``export X=... <when>``)."""
    if env:
        value = os.environ.get(env)
        if not value:
            raise SecretProblem(
                "token_env", f"environment variable {env} is not set", f"export {env}=... {when}"
            )
        return SecretStr(_bare(value))
    if file is not None:
        return SecretStr(_read_token_file(Path(file).expanduser()))
    if command is not None:
        return SecretStr(_run_token_command(command))
    return None


def _bare(value: str) -> str:
    """``value`` without the whitespace around it nor a byte-order mark at its head: Notepad
    saves "UTF-8" with one, and no HTTP header can carry it (every request failed)."""
    return value.strip().removeprefix("\ufeff").strip()


def _read_token_file(path: Path) -> str:
    """The first line of a regular file of at most ``MAX_SECRET_BYTES``. A device
    (``/dev/zero``), a FIFO or a directory would be read forever or block: refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SecretProblem("token_file", f"token file {path} does not exist") from None
    except OSError as exc:
        raise SecretProblem(
            "token_file", f"cannot read token file {path}: {exc.strerror}"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SecretProblem(
                "token_file",
                f"token file {path} is not a regular file (a device, a FIFO or a directory)",
                "name a file that holds the token",
            )
        try:
            data = handle.read(MAX_SECRET_BYTES + 1)
        except OSError as exc:
            raise SecretProblem(
                "token_file", f"cannot read token file {path}: {exc.strerror}"
            ) from None
    if len(data) > MAX_SECRET_BYTES:
        raise SecretProblem(
            "token_file", f"token file {path} is larger than {MAX_SECRET_BYTES // 1024} KiB"
        )
    try:
        lines = _bare(data.decode("utf-8")).splitlines()
    except UnicodeDecodeError:
        raise SecretProblem(
            "token_file", f"cannot read token file {path}: not UTF-8 text"
        ) from None
    if not lines or not lines[0].strip():
        raise SecretProblem("token_file", f"token file {path} is empty")
    return lines[0].strip()


def _run_token_command(command: list[str] | str) -> str:
    """The first line a command prints, run without a shell, with a deadline and a cap on what
    it may print (its stderr is not read: some tools echo the secret there)."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise SecretProblem(
                "token_command",
                f"token_command cannot be split into arguments ({exc})",
                'close the quotation, or give a list: token_command = ["pass", "ci/token"]',
            ) from None
    else:
        argv = list(command)
    if not argv or not argv[0].strip():
        raise SecretProblem(
            "token_command",
            "token_command is empty",
            "name a command that prints the token, or remove token_command",
        )
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise SecretProblem("token_command", f"command not found: {argv[0]}") from None
    except OSError as exc:
        raise SecretProblem("token_command", f"cannot run {argv[0]}: {exc.strerror}") from None
    try:
        output, why = _capped_output(process, TOKEN_COMMAND_TIMEOUT, MAX_SECRET_BYTES)
    finally:
        _stop(process)
    if why:
        raise SecretProblem("token_command", f"{argv[0]} {why}")
    if process.returncode != 0:
        raise SecretProblem(
            "token_command", f"{argv[0]} failed with exit code {process.returncode}"
        )
    value = _bare(output.decode("utf-8", errors="replace"))
    if not value:
        raise SecretProblem("token_command", f"{argv[0]} printed no token")
    return value.splitlines()[0].strip()


def _capped_output(
    process: subprocess.Popen[bytes], timeout: float, cap: int
) -> tuple[bytes, str | None]:
    """What ``process`` prints until it ends, or why it was stopped (too slow, too much)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return b"", f"did not finish within {timeout:g}s"
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                return b"", f"printed more than {cap // 1024} KiB: not a token"
            chunks.append(chunk)
    try:
        process.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return b"", f"did not finish within {timeout:g}s"
    return b"".join(chunks), None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill what is left of the command, its children included, and reap it."""
    if process.poll() is None:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
    if process.stdout is not None:
        process.stdout.close()
