"""The config file: TOML read by ``tomllib``, checked by pydantic models.

Every model forbids unknown keys, so a typo is an error with a "did you mean" hint rather than a
silently ignored setting. ``load_config`` collects *every* problem (TOML syntax, unknown keys,
wrong types, secrets that cannot be read) into one ``ConfigError``, each with file, line, dotted
key and hint, so ``check`` can list them all at once.

Secrets never live in the file: a source names ``token_env``, ``token_file`` or
``token_command``, and the value read from there (``credentials``) is kept in a ``SecretStr``
that is excluded from every dump. The tables besides ``[[sources]]`` are in ``tables``; the
``[[sources]]`` types come from the caller (``SourceTypes``): configuration never imports the
sources.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    TypeAdapter,
    ValidationError,
)

from buildradiator.config.base import SourceBase, Strict
from buildradiator.config.credentials import (
    SecretProblem,
    read_secret,
    read_webhook_secret,
)
from buildradiator.config.share import ServeConfig, TargetConfig
from buildradiator.config.tables import (
    AlertsConfig,
    ClaimsConfig,
    GroupConfig,
    HookConfig,
    RadiatorConfig,
    ReleaseConfig,
)
from buildradiator.errors import ConfigError, ConfigProblem

__all__ = [
    "AlertsConfig",
    "ClaimsConfig",
    "Config",
    "GroupConfig",
    "HookConfig",
    "RadiatorConfig",
    "ReleaseConfig",
    "ServeConfig",
    "SourceBase",
    "SourceTypes",
    "TargetConfig",
    "load_config",
    "parse_config",
    "read_secret",
    "read_webhook_secret",
    "resolve_secrets",
]


@dataclass(frozen=True, eq=False)
class SourceTypes:
    """The ``[[sources]]`` types a config may use, each with its model (a model's ``type`` is a
    ``Literal`` of its key). The loader validates each table against their discriminated union.
    Passed in by the caller (``sources.catalog`` derives it from the providers' declarations),
    so configuration never imports the sources."""

    models: Mapping[str, type[SourceBase]]
    planned: frozenset[str] = frozenset()
    """Types a later version will read: "not supported yet" rather than "unknown"."""

    @cached_property
    def adapter(self) -> TypeAdapter[SourceBase]:
        # Built at run time from the models given: mypy sees ``Any``.
        union: Any = Union[tuple(self.models.values())]  # noqa: UP007
        shape: Any = Annotated[union, Discriminator("type")]
        return TypeAdapter(shape)


class Config(Strict):
    """The whole config file."""

    radiator: RadiatorConfig = Field(default_factory=RadiatorConfig)
    sources: list[SourceBase] = Field(default_factory=list)
    """Each of the provider's own model (``SourceTypes``), validated one by one by the loader."""
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


def load_config(path: Path, *, types: SourceTypes, resolve_secrets: bool = True) -> Config:
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
    return parse_config(text, shown, types=types, resolve_secrets=resolve_secrets)


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


def parse_config(
    text: str, shown: str = "<config>", *, types: SourceTypes, resolve_secrets: bool = True
) -> Config:
    """Check a config's text (``shown`` names it in messages), its sources against ``types``.
    Raises ``ConfigError`` with every problem found."""
    data = _toml(text, shown)

    problems: list[ConfigProblem] = []
    sources = data.pop("sources", [])
    try:
        config = Config.model_validate({**data, "path": shown})
    except ValidationError as exc:
        problems.extend(_problems_from(exc, text, shown, types))
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
        if isinstance(source, dict) and source.get("type") not in (None, *types.models):
            problems.append(_unknown_type(shown, text, index, source, types))
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
            valid = types.adapter.validate_python(source)
        except ValidationError as exc:
            problems.extend(_problems_from(exc, text, shown, types, prefix=("sources", index)))
            continue
        checked.append(valid)
    config = config.model_copy(update={"sources": checked})
    if problems:
        raise ConfigError(problems)
    if resolve_secrets:
        config = _resolve_secrets(config, text, shown)
    return config


def _unknown_type(
    shown: str, text: str, index: int, source: dict[str, Any], types: SourceTypes
) -> ConfigProblem:
    kind = str(source["type"])
    key = f"sources[{index}].type"
    known = list(types.models)
    if kind in types.planned:
        message = f"source type {kind!r} is not supported by this version yet"
        hint = "supported: " + ", ".join(sorted(known))
    else:
        message = f"unknown source type {kind!r}"
        close = difflib.get_close_matches(kind, known + sorted(types.planned), 1)
        hint = f"did you mean {close[0]!r}?" if close else "one of " + ", ".join(known)
    return ConfigProblem(shown, key, message, _find_line(text, ("sources", index, "type")), hint)


_TABLES: dict[Any, type[BaseModel]] = {
    "radiator": RadiatorConfig,
    "groups": GroupConfig,
    "alerts": AlertsConfig,
    "hooks": HookConfig,
    "claims": ClaimsConfig,
    "release": ReleaseConfig,
    "serve": ServeConfig,
    "targets": TargetConfig,
}
"""The model of each top-level table (an entry of ``groups``... for an array of tables), whose
keys a misspelt key is matched against."""


def _problems_from(
    exc: ValidationError, text: str, shown: str, types: SourceTypes, prefix: tuple[Any, ...] = ()
) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        loc = [*prefix, *error["loc"]]
        model: type[BaseModel] | None
        # A discriminated union puts the tag in the location: sources.0.github.repo -> drop it.
        if len(loc) >= 3 and loc[0] == "sources" and loc[2] in types.models:
            model = types.models[str(loc[2])]
            loc = loc[:2] + loc[3:]
        elif loc and loc[0] in _TABLES:
            model = _TABLES[loc[0]]
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
            hint = "type = one of " + ", ".join(repr(t) for t in types.models)
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
        except SecretProblem as exc:
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


def resolve_secrets(config: Config, shown: str) -> Config:
    """``config`` (made in code) with its sources' tokens read; ``ConfigError`` names ``shown``."""
    return _resolve_secrets(config, "", shown)
