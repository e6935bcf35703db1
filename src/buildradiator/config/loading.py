"""The config file: TOML read by ``tomllib``, checked by pydantic models.

Every model forbids unknown keys, so a typo is an error with a "did you mean" hint rather than a
silently ignored setting. ``load_config`` collects *every* problem (TOML syntax, unknown keys,
wrong types, secrets that cannot be read) into one ``ConfigError``, each with file, line, dotted
key and hint, so ``check`` can list them all at once.

Secrets never live in the file: a source names ``token_env``, ``token_file`` or
``token_command``, and the value read from there is kept in a ``SecretStr`` that is excluded from
every dump.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import selectors
import shlex
import signal
import stat
import subprocess
import time
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from buildradiator.config.share import ServeConfig, TargetConfig
from buildradiator.errors import ConfigError, ConfigProblem
from buildradiator.sources.configs import (
    PLANNED_TYPES,
    SOURCE_TYPES,
    BuildbotSource,
    BuildkiteSource,
    CCTraySource,
    CircleCISource,
    GitHubSource,
    GitLabSource,
    HealthSource,
    JenkinsSource,
    SourceBase,
    SourceConfig,
    Strict,
)

__all__ = [
    "PLANNED_TYPES",
    "SOURCE_TYPES",
    "AlertsConfig",
    "BuildbotSource",
    "BuildkiteSource",
    "CCTraySource",
    "CircleCISource",
    "ClaimsConfig",
    "Config",
    "GitHubSource",
    "GitLabSource",
    "GroupConfig",
    "HealthSource",
    "HookConfig",
    "JenkinsSource",
    "RadiatorConfig",
    "ReleaseConfig",
    "ServeConfig",
    "SourceBase",
    "SourceConfig",
    "TargetConfig",
    "load_config",
    "parse_config",
    "read_secret",
    "read_webhook_secret",
]

TOKEN_COMMAND_TIMEOUT = 10.0


class RadiatorConfig(Strict):
    """The optional ``[radiator]`` table."""

    title: str = "buildradiator"
    """Shown in the header and on the wall."""
    theme: str = "default"
    """A theme from ``themes/`` or the user themes dir."""
    mode: Literal["auto", "default", "wall", "pane"] = "auto"
    """``auto`` picks the pane layout for small terminals and the default one otherwise."""
    interval: float = Field(default=30.0, ge=1.0, le=86400.0)
    """Default seconds between polls of a source."""
    ascii: bool = False
    """Use ASCII glyphs only (also chosen automatically on a non-UTF-8 locale)."""
    privacy: bool = False
    """Hide author names everywhere (screen, exports), for teams that prefer it."""
    history_days: int = Field(default=90, ge=1, le=3650)
    """How long finished builds are kept in the history store."""
    page_seconds: float = Field(default=15.0, ge=3.0, le=600.0)
    """Wall mode: seconds per page when even collapsed tiles do not fit."""


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class AlertsConfig(Strict):
    """The optional ``[alerts]`` table: how loud a broken window gets, and when it keeps quiet."""

    bell: bool = True
    """Ring the terminal bell when something breaks (and when it recovers)."""
    desktop: bool = True
    """Send a desktop notification through the terminal (OSC 9 and OSC 777; works over ssh)."""
    flash_seconds: float = Field(default=5.0, ge=0.0, le=60.0)
    """How long the banner flashes when something breaks."""
    escalate_after: float = Field(default=900.0, ge=0.0)
    """Seconds still broken before the banner grows and the bell repeats."""
    repeat_every: float = Field(default=600.0, ge=10.0)
    """Seconds between repeated bells once escalated."""
    quiet_hours: str | None = None
    """``"19:00-08:00"``: no bell or notification then (the screen still shows everything)."""
    quiet_weekends: bool = False
    """Keep quiet all Saturday and Sunday too."""

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = [p.strip() for p in value.split("-")]
        if len(parts) != 2 or not all(_CLOCK.match(p) for p in parts):
            raise ValueError('must look like "19:00-08:00" (24-hour clock, start-end)')
        return f"{parts[0]}-{parts[1]}"


HookEvent = Literal["red", "green", "down", "up", "stale", "fresh"]
DEFAULT_HOOK_EVENTS: tuple[HookEvent, ...] = ("red", "green", "down", "up")


class HookConfig(Strict):
    """A ``[[hooks]]`` table: a command run on each change of state (never through a shell)."""

    command: list[str] = Field(min_length=1)
    """The argument list, e.g. ``["notify-send", "buildradiator"]``; facts arrive in
    ``BUILDRADIATOR_*`` environment variables."""
    on: list[HookEvent] = Field(default_factory=lambda: list(DEFAULT_HOOK_EVENTS))
    """Which changes run it: a pipeline turning red/green, a service down/up, a source
    stale/fresh."""
    timeout: float = Field(default=10.0, gt=0.0, le=300.0)
    """Seconds before a hanging hook is killed (and reported)."""


class ClaimsConfig(Strict):
    """The optional ``[claims]`` table."""

    expire_hours: float = Field(default=24.0, gt=0.0, le=24.0 * 30)
    """A claim ("looking into it") expires after this long, or when the pipeline turns green."""


class GroupConfig(Strict):
    """A ``[[groups]]`` table: pipelines shown together as one row that opens into its members."""

    name: str = Field(min_length=1, max_length=80)
    """What the group row says, e.g. a team or a product."""
    pipelines: list[str] = Field(min_length=1)
    """Glob patterns over pipeline names (``acme/billing*``), optionally prefixed by a source
    name and a colon (``jenkins:*payments*``). A pipeline joins the first group it matches."""


class ReleaseConfig(Strict):
    """The optional ``[release]`` table: what holds a release, and the post-deploy watch."""

    gate: bool = True
    """Show the release gate (GO / HOLD) at all."""
    pipelines: list[str] = Field(default_factory=list)
    """Pipelines whose red main holds the release (keys, names or glob patterns); default all."""
    verify_minutes: float = Field(default=15.0, gt=0.0, le=1440.0)
    """After a deploy, watch its service this long: going down, or a new critical alert,
    marks the deploy suspect."""
    hold_on_stale: bool = True
    """Hold while a source the gate relies on has no fresh data (it cannot vouch for GO)."""


class Config(Strict):
    """The whole config file."""

    radiator: RadiatorConfig = Field(default_factory=RadiatorConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    groups: list[GroupConfig] = Field(default_factory=list)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    hooks: list[HookConfig] = Field(default_factory=list)
    claims: ClaimsConfig = Field(default_factory=ClaimsConfig)
    release: ReleaseConfig = Field(default_factory=ReleaseConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    targets: list[TargetConfig] = Field(default_factory=list)
    path: str | None = Field(default=None, exclude=True)
    """Where it was read from (not a key of the file)."""

    def interval_of(self, source: SourceBase) -> float:
        return source.interval or self.radiator.interval

    def stale_after_of(self, source: SourceBase) -> float:
        return source.stale_after or 3 * self.interval_of(source) + 60


# -- loading ---------------------------------------------------------------------------------


MAX_CONFIG_BYTES = 1024 * 1024
"""A config file is a few KiB; anything past a MiB is a mistake (or worse), not a config."""
MAX_DOTTED_PARTS = 64
MAX_SECRET_BYTES = 64 * 1024
"""The most a token file or a token command may hold or print."""


def load_config(path: Path, *, resolve_secrets: bool = True) -> Config:
    """Read, check and (unless told not to) resolve secrets. Raises ``ConfigError``."""
    shown = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(shown, "", "file not found")]) from None
    except OSError as exc:
        raise ConfigError([ConfigProblem(shown, "", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [ConfigProblem(shown, "", f"larger than {MAX_CONFIG_BYTES // 1024} KiB: not a config")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([ConfigProblem(shown, "", "not UTF-8 text")]) from None
    return parse_config(text, shown, resolve_secrets=resolve_secrets)


# A dotted key of many parts costs tomllib time and memory that grow with the square of its
# length (100,000 parts took every byte of memory there was): refused before it is parsed.
_LONG_DOTTED_KEY = re.compile(
    rf"(?:(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')[ \t]*\.[ \t]*){{{MAX_DOTTED_PARTS},}}"
)


def _toml(text: str, shown: str) -> dict[str, Any]:
    """``tomllib.loads``, with what would make it hang, eat memory or overflow the stack refused
    in words."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [ConfigProblem(shown, "", f"larger than {MAX_CONFIG_BYTES // 1024} KiB: not a config")]
        )
    long_key = _LONG_DOTTED_KEY.search(text)
    if long_key:
        line = text.count("\n", 0, long_key.start()) + 1
        raise ConfigError(
            [ConfigProblem(shown, "", f"a dotted key of more than {MAX_DOTTED_PARTS} parts", line)]
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at: int | None = getattr(exc, "lineno", None) or _lineno_from_message(str(exc))
        message = str(exc).split(" (at line")[0]
        raise ConfigError([ConfigProblem(shown, "", f"not valid TOML: {message}", at)]) from None
    except RecursionError:
        raise ConfigError(
            [ConfigProblem(shown, "", "not a config: arrays or tables nested too deeply")]
        ) from None


def parse_config(text: str, shown: str = "<config>", *, resolve_secrets: bool = True) -> Config:
    data = _toml(text, shown)

    problems: list[ConfigProblem] = []
    sources = data.pop("sources", [])
    try:
        config = Config.model_validate({**data, "path": shown})
    except ValidationError as exc:
        problems.extend(_problems_from(exc, text, shown))
        config = Config(path=shown)
    if not isinstance(sources, list):
        sources = []
        problems.append(
            ConfigProblem(
                shown,
                "sources",
                "must be a list of [[sources]] tables",
                _find_line(text, ("sources",)),
            )
        )
    checked: list[SourceBase] = []
    seen: dict[str, int] = {}
    for index, source in enumerate(sources):
        # Each source is checked on its own so that every problem keeps its real index.
        name = source.get("name") if isinstance(source, dict) else None
        if isinstance(name, str) and name in seen:
            problems.append(
                ConfigProblem(
                    shown,
                    f"sources[{index}].name",
                    f"name {name!r} is already used by sources[{seen[name]}]",
                    _find_line(text, ("sources", index, "name")),
                    "every source needs a unique name",
                )
            )
        elif isinstance(name, str):
            seen[name] = index
        if isinstance(source, dict) and source.get("type") not in (None, *SOURCE_TYPES):
            problems.append(_unknown_type(shown, text, index, source))
            continue
        if isinstance(source, dict) and "token" in source:
            source = {k: v for k, v in source.items() if k != "token"}
            problems.append(
                ConfigProblem(
                    shown,
                    f"sources[{index}].token",
                    "a token must not be written in the config file",
                    _find_line(text, ("sources", index, "token")),
                    "use token_env, token_file or token_command",
                )
            )
        try:
            valid = SOURCE_ADAPTER.validate_python(source)
        except ValidationError as exc:
            problems.extend(_problems_from(exc, text, shown, prefix=("sources", index)))
            continue
        checked.append(valid)
    config = config.model_copy(update={"sources": checked})
    if problems:
        raise ConfigError(problems)
    if resolve_secrets:
        config = _resolve_secrets(config, text, shown)
    return config


def _unknown_type(shown: str, text: str, index: int, source: dict[str, Any]) -> ConfigProblem:
    kind = str(source["type"])
    key = f"sources[{index}].type"
    if kind in PLANNED_TYPES:
        message = f"source type {kind!r} is not supported by this version yet"
        hint = "supported: " + ", ".join(sorted(SOURCE_TYPES))
    else:
        message = f"unknown source type {kind!r}"
        close = difflib.get_close_matches(kind, list(SOURCE_TYPES) + sorted(PLANNED_TYPES), 1)
        hint = f"did you mean {close[0]!r}?" if close else "one of " + ", ".join(SOURCE_TYPES)
    return ConfigProblem(shown, key, message, _find_line(text, ("sources", index, "type")), hint)


def _problems_from(
    exc: ValidationError, text: str, shown: str, prefix: tuple[Any, ...] = ()
) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        loc = [*prefix, *error["loc"]]
        model: type[BaseModel] | None
        # A discriminated union puts the tag in the location: sources.0.github.repo -> drop it.
        if len(loc) >= 3 and loc[0] == "sources" and loc[2] in SOURCE_TYPES:
            model = SOURCE_TYPES[str(loc[2])]
            loc = loc[:2] + loc[3:]
        elif loc[:1] == ["radiator"]:
            model = RadiatorConfig
        elif loc[:1] == ["groups"]:
            model = GroupConfig
        elif loc[:1] == ["alerts"]:
            model = AlertsConfig
        elif loc[:1] == ["hooks"]:
            model = HookConfig
        elif loc[:1] == ["claims"]:
            model = ClaimsConfig
        elif loc[:1] == ["release"]:
            model = ReleaseConfig
        elif loc[:1] == ["serve"]:
            model = ServeConfig
        elif loc[:1] == ["targets"]:
            model = TargetConfig
        elif loc[:1] == ["sources"] and len(loc) == 2:
            model = None
        else:
            model = Config
        key = _dotted(loc)
        hint = None
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
            if model is not None:
                close = difflib.get_close_matches(str(loc[-1]), _public_fields(model), 1, 0.6)
                hint = f"did you mean {close[0]!r}?" if close else None
        elif kind == "union_tag_not_found":
            message = "needs a type"
            hint = "type = one of " + ", ".join(repr(t) for t in SOURCE_TYPES)
        elif kind == "missing":
            message = "is required"
        else:
            message = error["msg"].removeprefix("Value error, ")
            if (
                "input" in error
                and kind not in ("value_error",)
                and not isinstance(error["input"], dict | list)
            ):
                message += f" (got {error['input']!r})"
        problems.append(ConfigProblem(shown, key, message, _find_line(text, tuple(loc)), hint))
    return problems


def _public_fields(model: type[BaseModel]) -> list[str]:
    return [
        name for name, field in model.model_fields.items() if not field.exclude and name != "path"
    ]


def _dotted(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lineno_from_message(message: str) -> int | None:
    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else None


def _find_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best effort: the line of a dotted key (``sources[2].token_env``) in the TOML text."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    if loc and loc[0] in ("sources", "groups", "hooks", "targets"):
        table = re.compile(rf"\s*\[\[\s*{loc[0]}\s*\]\]")
        headers = [i for i, line in enumerate(lines) if table.match(line)]
        if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(headers):
            start = headers[loc[1]]
            following = [
                i for i, line in enumerate(lines) if i > start and re.match(r"\s*\[", line)
            ]
            end = following[0] if following else len(lines)
            if len(loc) == 2:
                return start + 1
        loc = loc[2:]
    elif loc and loc[0] in ("radiator", "alerts", "claims", "release", "serve"):
        for i, line in enumerate(lines):
            if re.match(rf"\s*\[\s*{loc[0]}\s*\]", line):
                start = i
                following = [
                    j for j, line in enumerate(lines) if j > i and re.match(r"\s*\[", line)
                ]
                end = following[0] if following else len(lines)
                break
        loc = loc[1:]
        if not loc:
            return start + 1
    key = next((str(part) for part in loc if isinstance(part, str)), None)
    if key is None:
        return start + 1 if start else None
    pattern = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for i in range(start, end):
        if pattern.match(lines[i]):
            return i + 1
    return start + 1 if start else None


# -- secrets ---------------------------------------------------------------------------------


def _resolve_secrets(config: Config, text: str, shown: str) -> Config:
    problems: list[ConfigProblem] = []
    sources = []
    for index, source in enumerate(config.sources):
        try:
            token = read_secret(source)
        except _SecretProblem as exc:
            problems.append(
                ConfigProblem(
                    shown,
                    f"sources[{index}].{exc.key}",
                    exc.message,
                    _find_line(text, ("sources", index, *exc.key.split("."))),
                    exc.hint,
                )
            )
            sources.append(source)
            continue
        sources.append(source.model_copy(update={"token": token}) if token else source)
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"sources": sources})


class _SecretProblem(Exception):
    def __init__(self, key: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.key, self.message, self.hint = key, message, hint


def read_secret(source: SourceBase) -> SecretStr | None:
    """The token a source names, read now. Messages never contain the token itself."""
    if source.token_env:
        value = os.environ.get(source.token_env)
        if not value:
            raise _SecretProblem(
                "token_env",
                f"environment variable {source.token_env} is not set",
                f"export {source.token_env}=... before starting buildradiator, or remove "
                "token_env to read without a token (public repositories, anonymous read)",
            )
        return SecretStr(value.strip())
    if source.token_file is not None:
        return SecretStr(_read_token_file(Path(source.token_file).expanduser()))
    if source.token_command is not None:
        return SecretStr(_run_token_command(source.token_command))
    return None


def read_webhook_secret(source: SourceBase, shown: str = "the config") -> SecretStr | None:
    """The secret of a source's webhook, read like a token (same caps, same deadline, same
    words), only by ``serve``: the screens never need it. ``ConfigError`` names the source."""
    hook = source.webhook
    if hook is None or hook.unsigned:
        return None
    try:
        if hook.secret_env:
            value = os.environ.get(hook.secret_env)
            if not value:
                raise _SecretProblem(
                    "token_env",
                    f"environment variable {hook.secret_env} is not set",
                    f"export {hook.secret_env}=... before starting buildradiator serve",
                )
            return SecretStr(value.strip())
        if hook.secret_file is not None:
            return SecretStr(_read_token_file(Path(hook.secret_file).expanduser()))
        if hook.secret_command is not None:
            return SecretStr(_run_token_command(hook.secret_command))
    except _SecretProblem as exc:
        key = "webhook." + exc.key.replace("token_", "secret_")
        message = exc.message.replace("token file", "webhook secret file")
        message = message.replace("token command", "webhook secret command")
        raise ConfigError(
            [ConfigProblem(shown, f"source {source.name} {key}", message, None, exc.hint)]
        ) from None
    return None


def _read_token_file(path: Path) -> str:
    """The first line of a regular file of at most ``MAX_SECRET_BYTES``. A device
    (``/dev/zero``), a FIFO or a directory would be read forever or block: refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise _SecretProblem("token_file", f"token file {path} does not exist") from None
    except OSError as exc:
        raise _SecretProblem(
            "token_file", f"cannot read token file {path}: {exc.strerror}"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _SecretProblem(
                "token_file",
                f"token file {path} is not a regular file (a device, a FIFO or a directory)",
                "name a file that holds the token",
            )
        try:
            data = handle.read(MAX_SECRET_BYTES + 1)
        except OSError as exc:
            raise _SecretProblem(
                "token_file", f"cannot read token file {path}: {exc.strerror}"
            ) from None
    if len(data) > MAX_SECRET_BYTES:
        raise _SecretProblem(
            "token_file", f"token file {path} is larger than {MAX_SECRET_BYTES // 1024} KiB"
        )
    try:
        lines = data.decode("utf-8").strip().splitlines()
    except UnicodeDecodeError:
        raise _SecretProblem(
            "token_file", f"cannot read token file {path}: not UTF-8 text"
        ) from None
    if not lines or not lines[0].strip():
        raise _SecretProblem("token_file", f"token file {path} is empty")
    return lines[0].strip()


def _run_token_command(command: list[str] | str) -> str:
    """The first line a command prints, run without a shell, with a deadline and a cap on what
    it may print (its stderr is not read: some tools echo the secret there)."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise _SecretProblem(
                "token_command",
                f"token_command cannot be split into arguments ({exc})",
                'close the quotation, or give a list: token_command = ["pass", "ci/token"]',
            ) from None
    else:
        argv = list(command)
    if not argv or not argv[0].strip():
        raise _SecretProblem(
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
        raise _SecretProblem("token_command", f"command not found: {argv[0]}") from None
    except OSError as exc:
        raise _SecretProblem("token_command", f"cannot run {argv[0]}: {exc.strerror}") from None
    try:
        output, why = _capped_output(process, TOKEN_COMMAND_TIMEOUT, MAX_SECRET_BYTES)
    finally:
        _stop(process)
    if why:
        raise _SecretProblem("token_command", f"{argv[0]} {why}")
    if process.returncode != 0:
        raise _SecretProblem(
            "token_command", f"{argv[0]} failed with exit code {process.returncode}"
        )
    value = output.decode("utf-8", errors="replace").strip()
    if not value:
        raise _SecretProblem("token_command", f"{argv[0]} printed no token")
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


SOURCE_ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)
