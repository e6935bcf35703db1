"""Themes as data: TOML files turned into Textual ``Theme`` objects.

A theme file names the Textual base colours (``primary``, ``background``...) and, under
``[variables]``, one colour per status (``status-failed``, ``health-down``, ``banner-red-bg``...)
that ``app.tcss`` and the widgets use. Files come from the package (``themes/`` in a checkout,
``_themes/`` in a wheel) and then from the user's themes dir, which may override a shipped one.

A broken file never stops the radiator: it is reported as a problem (file, line, what is wrong)
and the app falls back to ``default`` with a toast. ``FALLBACK`` keeps the app usable even when
the shipped ``default.toml`` itself is missing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from buildradiator.paths import get_paths
from buildradiator.ui.options import DEFAULT_THEME

VARIABLES: dict[str, str] = {
    "status-passed": "#5fd787",
    "status-failed": "#ff5f5f",
    "status-running": "#5fafff",
    "status-queued": "#b0b8c4",
    "status-canceled": "#8a93a0",
    "status-unknown": "#8a93a0",
    "health-up": "#5fd787",
    "health-warn": "#ffb454",
    "health-down": "#ff5f5f",
    "banner-red-bg": "#a3001b",
    "banner-red-fg": "#ffffff",
    "banner-green-fg": "#5fd787",
    "stale": "#6c7380",
}
"""Every variable the UI uses, with the default theme's values (also the CSS fallbacks)."""

FALLBACK = Theme(
    name=DEFAULT_THEME,
    primary="#4c8dff",
    secondary="#2d5aa8",
    accent="#ffb454",
    warning="#ffb454",
    error="#ff5f5f",
    success="#5fd787",
    foreground="#d8dee9",
    background="#1b1e24",
    surface="#22262e",
    panel="#2b303a",
    dark=True,
    variables=dict(VARIABLES),
)

_COLOURS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_KEYS = frozenset({"name", "dark", "variables", *_COLOURS})


class ThemeError(ValueError):
    """A theme file that cannot be used, with a message naming the file and the problem."""


@dataclass
class ThemeCatalog:
    """The themes found, and the problems met on the way (keyed by the theme's file stem)."""

    themes: dict[str, Theme] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def theme_dirs() -> list[Path]:
    """Where themes are looked for, in order (later ones override earlier ones by name)."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_themes"  # the wheel installs the repo's themes/ here (pyproject)
    checkout = package.parents[1] / "themes"
    return [packaged if packaged.is_dir() else checkout, get_paths().user_themes]


def _colour(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{where} must be a colour string, not {type(value).__name__}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{where} = {value!r} is not a colour") from None
    return value


def parse_theme(data: Mapping[str, Any], default_name: str) -> Theme:
    """Build a Theme from a parsed TOML table; raises ThemeError naming the bad key."""
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ThemeError(f"unknown key(s): {', '.join(unknown)}")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ThemeError("name must be a non-empty string")
    if "primary" not in data:
        raise ThemeError("primary is required")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError("dark must be true or false")
    colours = {key: _colour(data[key], key) for key in _COLOURS if key in data}
    variables_in = data.get("variables", {})
    if not isinstance(variables_in, dict):
        raise ThemeError("[variables] must be a table")
    variables = dict(VARIABLES)  # a theme may set only some; the rest keep the defaults
    for key, value in variables_in.items():
        variables[key] = _colour(value, f"variables.{key}")
    get = colours.get
    return Theme(
        name=name.strip(),
        primary=colours["primary"],
        secondary=get("secondary"),
        warning=get("warning"),
        error=get("error"),
        success=get("success"),
        accent=get("accent"),
        foreground=get("foreground"),
        background=get("background"),
        surface=get("surface"),
        panel=get("panel"),
        boost=get("boost"),
        dark=dark,
        variables=variables,
    )


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThemeError(f"theme file {path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ThemeError(f"theme file {path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"theme file {path}: not valid TOML ({exc})") from None
    try:
        return parse_theme(data, path.stem)
    except ThemeError as exc:
        raise ThemeError(f"theme file {path}: {exc}") from None


def load_themes(dirs: Iterable[Path] | None = None) -> ThemeCatalog:
    """Every ``*.toml`` theme in ``dirs``; ``default`` is always present (``FALLBACK`` at worst)."""
    catalog = ThemeCatalog(themes={DEFAULT_THEME: FALLBACK})
    for folder in theme_dirs() if dirs is None else dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeError as exc:
                catalog.problems[path.stem] = str(exc)
                continue
            catalog.problems.pop(path.stem, None)
            catalog.themes[theme.name] = theme
    return catalog


def choose_theme(catalog: ThemeCatalog, theme: str, wall: bool) -> tuple[str, list[str]]:
    """The theme to use for ``theme`` (the wall's own when the default is asked for on the
    wall) and what to say about the theme files: a broken file is ignored, an unknown or
    broken choice falls back to the default."""
    wanted = "wall" if wall and theme == DEFAULT_THEME else theme
    problems = [f"{p} (ignored)" for n, p in catalog.problems.items() if n != wanted]
    if wanted not in catalog.themes:
        why = catalog.problems.get(wanted) or f"no theme named {wanted!r}"
        problems.insert(0, f"{why}; using the default theme")
        wanted = DEFAULT_THEME
    return wanted, problems


def rich_colour(theme_variables: Mapping[str, str], name: str) -> str | None:
    """A theme variable as a colour string Rich understands (Textual allows e.g. ``red 50%``)."""
    value = theme_variables.get(name) or VARIABLES.get(name)
    if value is None:
        return None
    try:
        return Color.parse(value).hex6  # Rich has no alpha: drop it
    except ColorParseError:
        return VARIABLES.get(name)
