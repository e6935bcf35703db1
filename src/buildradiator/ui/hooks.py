"""``on_change`` hooks: a configured command run on each change of state.

A hook is an argument list run with ``asyncio.create_subprocess_exec`` (never a shell, so CI text
can never become shell syntax). The facts arrive in ``BUILDRADIATOR_*`` environment variables,
every one always set (empty when unknown)::

    BUILDRADIATOR_EVENT    red, green, down, up, stale or fresh
    BUILDRADIATOR_KIND     pipeline, service or source
    BUILDRADIATOR_NAME     what the radiator calls it
    BUILDRADIATOR_SOURCE   the config name of the source
    BUILDRADIATOR_STATUS   failed / passed / ..., down / up / ..., stale / fresh
    BUILDRADIATOR_COMMIT   BUILDRADIATOR_AUTHOR   BUILDRADIATOR_MESSAGE   BUILDRADIATOR_URL
    BUILDRADIATOR_SINCE    ISO 8601, when the state began (when known)

The environment is the radiator's own *minus* every variable whose name looks like a secret
(``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*API_KEY*``...) and minus every variable the
config names as a secret's (``secret_variables``): a hook is someone's script, and the
radiator's CI tokens are not its business. A hook that needs a credential reads it from its own file or keychain.

Hooks never block the radiator: ``fire`` only schedules. A hook runs in its own session (process
group) with stdin and stdout closed; a hook that outlives its ``timeout`` gets SIGTERM, then
SIGKILL after a grace second, sent to its whole group so its children go too. Every run ends in a
``HookResult`` (kept in ``results``, logged, and passed to ``on_result``). ``aclose`` cancels and
reaps everything still running. Which events a new snapshot brings is the rules' (``rules.events``).

Timeouts use the event loop's real timers, not the injected clock: a fake clock must not make a
hook time out instantly. The clock only stamps results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from buildradiator.clock import Clock
from buildradiator.config.loading import Config, HookConfig
from buildradiator.rules.events import Facts
from buildradiator.text import clean_text

__all__ = [
    "EVENTS",
    "FACT_NAMES",
    "Facts",
    "HookResult",
    "HookRunner",
    "hook_environment",
    "secret_variables",
]

log = logging.getLogger(__name__)

EVENTS = ("red", "green", "down", "up", "stale", "fresh")
FACT_NAMES = (
    "event",
    "kind",
    "name",
    "source",
    "status",
    "commit",
    "author",
    "message",
    "url",
    "since",
)
KILL_GRACE = 1.0
"""Seconds between SIGTERM and SIGKILL for a hook past its timeout."""
MAX_RESULTS = 50
STDERR_TAIL = 400

_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class HookResult:
    """How one run of one hook ended."""

    command: tuple[str, ...]
    event: str
    started_at: datetime
    seconds: float
    returncode: int | None
    """The exit code; ``None`` when it never started or was killed."""
    outcome: str
    """``ok``, ``failed``, ``not found``, ``cannot run``, ``timed out`` or ``cancelled``."""
    detail: str = ""
    """Plain words for a toast or the log: the end of its stderr, or why it could not run."""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def describe(self) -> str:
        name = os.path.basename(self.command[0]) if self.command else "hook"
        if self.ok:
            return f"hook {name} ran for {self.event}"
        words = {
            "failed": f"exited with code {self.returncode}",
            "timed out": f"was killed after {self.seconds:.0f}s",
        }.get(self.outcome, self.outcome)
        text = f"hook {name} for {self.event} {words}"
        return f"{text}: {self.detail}" if self.detail else text


def secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret (``GITHUB_TOKEN``)."""
    return bool(_SECRET_NAME.search(name))


def secret_variables(config: Config) -> list[str]:
    """Every environment variable ``config`` names as holding a secret, for ``HookRunner``'s
    ``secret_env``: the sources' ``token_env``, their webhooks' ``secret_env`` and ``[serve]
    token_env`` (whose names need not look secret: ``GH_HOOK_SIG`` reached hooks)."""
    names = [s.token_env for s in config.sources]
    names += [s.webhook.secret_env for s in config.sources if s.webhook]
    return [name for name in [*names, config.serve.token_env] if name]


def hook_environment(
    facts: Mapping[str, str],
    event: str,
    base: Mapping[str, str] | None = None,
    drop: Iterable[str] = (),
) -> dict[str, str]:
    """The environment a hook runs with: ``base`` (the radiator's) without secrets, plus facts."""
    dropped = set(drop)
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if k not in dropped and not _SECRET_NAME.search(k) and not k.startswith("BUILDRADIATOR_")
    }
    # BUILDRADIATOR_HOME and _CONFIG say where the radiator lives: harmless and useful to keep.
    for k in ("BUILDRADIATOR_HOME", "BUILDRADIATOR_CONFIG"):
        value = (os.environ if base is None else base).get(k)
        if value is not None:
            env[k] = value
    for name in FACT_NAMES:
        value = event if name == "event" else facts.get(name, "")
        env[f"BUILDRADIATOR_{name.upper()}"] = clean_text(value or "")
    return env


class HookRunner:
    """Runs the configured hooks for each event, in the background.

    ``secret_env`` names extra variables to keep from hooks (the config's ``token_env`` names);
    ``on_result`` is called (in the event loop) with each finished run, e.g. to toast failures.
    """

    def __init__(
        self,
        hooks: Iterable[HookConfig],
        clock: Clock | None = None,
        *,
        secret_env: Iterable[str] = (),
        on_result: Callable[[HookResult], None] | None = None,
    ) -> None:
        self.hooks = list(hooks)
        self.clock = clock or Clock()
        self.secret_env = frozenset(secret_env)
        self.on_result = on_result
        self.results: deque[HookResult] = deque(maxlen=MAX_RESULTS)
        self._tasks: set[asyncio.Task[HookResult]] = set()
        self._starts: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def fire(self, event: str, facts: Mapping[str, str]) -> list[asyncio.Task[HookResult]]:
        """Start every hook listening for ``event`` and return at once (never waits for them)."""
        if self._closed:
            return []
        env = hook_environment(facts, event, drop=self.secret_env)
        started = []
        for hook in self.hooks:
            if event not in hook.on:
                continue
            task = asyncio.create_task(self._run(hook, event, env), name=f"hook {hook.command[0]}")
            # The loop keeps only weak references to tasks: hold them until they finish.
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started.append(task)
        return started

    async def fire_all(self, events: Iterable[tuple[str, Mapping[str, str]]]) -> None:
        for event, facts in events:
            await self.fire(event, facts)

    def start(self, events: Iterable[tuple[str, Mapping[str, str]]]) -> None:
        """``fire_all`` in the background, from code that cannot wait (the app's snapshot
        handler): it only starts the processes, which run (and time out) on their own."""
        task = asyncio.get_running_loop().create_task(self.fire_all(events))
        # The loop keeps only weak references to tasks: hold it until it is done.
        self._starts.add(task)
        task.add_done_callback(self._starts.discard)

    async def wait(self) -> list[HookResult]:
        """Wait for every hook running now (tests, and a graceful shutdown)."""
        done = await asyncio.gather(*list(self._tasks), return_exceptions=True)
        return [r for r in done if isinstance(r, HookResult)]

    async def aclose(self) -> None:
        """Let what ``start`` began finish starting; then cancel every running hook, kill its
        process group and reap it."""
        await asyncio.gather(*self._starts, return_exceptions=True)
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- one run -----------------------------------------------------------------------------

    async def _run(self, hook: HookConfig, event: str, env: dict[str, str]) -> HookResult:
        started_at = self.clock.now()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        command = tuple(hook.command)

        def result(outcome: str, code: int | None = None, detail: str = "") -> HookResult:
            done = HookResult(command, event, started_at, loop.time() - t0, code, outcome, detail)
            self._record(done)
            return done

        with tempfile.TemporaryFile() as stderr:
            try:
                proc = await asyncio.create_subprocess_exec(
                    *command,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,
                )
            except FileNotFoundError:
                return result("not found", detail=f"no such command: {command[0]}")
            except OSError as exc:
                return result("cannot run", detail=exc.strerror or str(exc))
            try:
                code = await asyncio.wait_for(proc.wait(), hook.timeout)
            except TimeoutError:
                await _terminate(proc)
                return result("timed out", detail=_tail(stderr))
            except asyncio.CancelledError:
                await asyncio.shield(_terminate(proc))
                result("cancelled")
                raise
            if code != 0:
                return result("failed", code, _tail(stderr))
            return result("ok", code)

    def _record(self, result: HookResult) -> None:
        self.results.append(result)
        if result.ok:
            log.info("%s", result.describe())
        else:
            log.warning("%s", result.describe())
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:
                log.exception("on_result callback failed for %s", result.describe())


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the hook's process group, SIGKILL it after a grace period, and reap the leader."""
    _signal_group(proc, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), KILL_GRACE)
    except TimeoutError:
        pass
    # The group may outlive its leader (children of a shell script): kill it whatever happened.
    _signal_group(proc, signal.SIGKILL)
    await proc.wait()


def _signal_group(proc: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            # start_new_session made the hook a group leader: its pgid is its pid.
            os.killpg(proc.pid, sig)
        else:  # pragma: no cover - Windows has no process groups of this kind
            proc.send_signal(sig)


def _tail(stream: IO[bytes]) -> str:
    try:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(max(0, size - STDERR_TAIL))
        text = stream.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line for line in text.splitlines() if line.strip()]
    return clean_text(lines[-1], 200) if lines else ""
