"""The app's typed options: the config's ``[radiator]`` table with the command line over it."""

from __future__ import annotations

import dataclasses

import pytest

from buildradiator.cli.parser import build_parser
from buildradiator.cli.radiator import radiator_options
from buildradiator.sources.catalog import parse_config
from buildradiator.ui.options import RadiatorOptions

CONFIG = """
[radiator]
title = "Acme"
theme = "neon"
mode = "pane"
page_seconds = 20
"""


def test_options_are_the_configs_when_the_command_line_says_nothing() -> None:
    options = RadiatorOptions.from_config(parse_config(CONFIG))
    assert options == RadiatorOptions(
        title="Acme", theme="neon", mode="pane", ascii=False, page_seconds=20.0
    )
    assert not options.wall


def test_the_command_line_wins_over_the_config() -> None:
    options = RadiatorOptions.from_config(
        parse_config(CONFIG), theme="mono", mode="wall", ascii=True
    )
    assert (options.theme, options.mode, options.ascii, options.wall) == (
        "mono",
        "wall",
        True,
        True,
    )
    # ascii = true in the config holds whatever the command line says.
    config = parse_config("[radiator]\nascii = true\n")
    assert RadiatorOptions.from_config(config, ascii=False).ascii


def test_options_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RadiatorOptions().mode = "wall"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run"], ("neon", "pane")),
        (["--theme", "mono", "run"], ("mono", "pane")),
        (["run", "--mode", "wall"], ("neon", "wall")),
        (["--mode", "default"], ("neon", "default")),
    ],
)
def test_the_cli_builds_options_from_its_arguments(
    argv: list[str], expected: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    args = build_parser().parse_args(argv)
    options = radiator_options(args, parse_config(CONFIG))
    assert (options.theme, options.mode) == expected
    assert options.title == "Acme" and not options.ascii
    assert radiator_options(
        build_parser().parse_args([*argv, "--ascii"]), parse_config(CONFIG)
    ).ascii


def test_options_import_no_textual() -> None:
    """The command line and serve build options before any UI is wanted: no textual for that."""
    import subprocess
    import sys

    code = "import sys, buildradiator.ui.options; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
