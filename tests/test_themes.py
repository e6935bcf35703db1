"""Themes: shipped files load, broken files are reported (file + problem), user themes override."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.theme import BUILTIN_THEMES

from buildradiator.paths import get_paths
from buildradiator.ui.themes import (
    FALLBACK,
    VARIABLES,
    ThemeError,
    load_theme_file,
    load_themes,
    theme_dirs,
)

REPO_THEMES = Path(__file__).resolve().parents[1] / "themes"


def test_shipped_themes_load_and_define_every_variable() -> None:
    catalog = load_themes()
    assert {"default", "wall", "light", "colorblind", "mono"} <= set(catalog.themes)
    assert catalog.problems == {}
    for name in ("default", "wall", "light", "colorblind", "mono"):
        raw = tomllib.loads((REPO_THEMES / f"{name}.toml").read_text())
        # Every status colour spelled out in the file itself, not silently inherited.
        assert set(raw["variables"]) == set(VARIABLES), name
        assert catalog.themes[name].variables["status-failed"] == raw["variables"]["status-failed"]
    assert catalog.themes["wall"].background == "#000000"


def test_python_fallback_matches_default_file() -> None:
    loaded = load_theme_file(REPO_THEMES / "default.toml")
    assert loaded.variables == FALLBACK.variables
    assert (loaded.primary, loaded.background) == (FALLBACK.primary, FALLBACK.background)


def test_checkout_themes_dir_is_found_and_user_dir_comes_last() -> None:
    dirs = theme_dirs()
    assert dirs[0] == REPO_THEMES
    assert dirs[-1] == get_paths().user_themes


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('name = "x"\nprimary = "#fff"\n[variables\n', "not valid TOML"),
        ('primary = "not-a-colour"\n', "primary = 'not-a-colour' is not a colour"),
        ('primary = "#fff"\nbakground = "#000"\n', "unknown key(s): bakground"),
        ('background = "#000"\n', "primary is required"),
        (
            'primary = "#fff"\n[variables]\nstatus-failed = 12\n',
            "variables.status-failed must be a colour",
        ),
        ('primary = "#fff"\ndark = "yes"\n', "dark must be true or false"),
    ],
)
def test_broken_theme_file_is_reported_with_file_and_reason(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(content)
    with pytest.raises(ThemeError) as info:
        load_theme_file(path)
    assert str(path) in str(info.value)
    assert problem in str(info.value)
    catalog = load_themes([tmp_path])
    assert "mine" in catalog.problems
    assert "mine" not in catalog.themes
    assert "default" in catalog.themes  # the fallback is always there


def test_non_utf8_theme_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00name")
    catalog = load_themes([tmp_path])
    assert "not UTF-8" in catalog.problems["bin"]


def test_user_theme_overrides_shipped_one_and_partial_variables_keep_defaults(
    tmp_path: Path,
) -> None:
    (tmp_path / "wall.toml").write_text(
        'name = "wall"\nprimary = "#123456"\n[variables]\nstatus-failed = "#ff00ff"\n'
    )
    catalog = load_themes([REPO_THEMES, tmp_path])
    wall = catalog.themes["wall"]
    assert wall.primary == "#123456"
    assert wall.variables["status-failed"] == "#ff00ff"
    assert wall.variables["status-passed"] == VARIABLES["status-passed"]


def test_loading_does_not_touch_textuals_global_table() -> None:
    load_themes()
    assert "default" not in BUILTIN_THEMES
    assert "wall" not in BUILTIN_THEMES
