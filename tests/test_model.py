"""Untrusted text is cleaned on the way in; the headless core never imports textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

from buildradiator.model import Build, Status
from buildradiator.text import clean_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("a\x1b]8;;http://evil.example\x07link\x1b]8;;\x07b", "alinkb"),
        ("copy\x1b]52;c;ZXZpbA==\x07me", "copyme"),  # OSC 52 clipboard write
        ("x\x1bPdcs-payload\x1b\\y", "xy"),
        ("bell\x07 and nul\x00", "bell and nul"),
        ("\u202egnp.exe", "gnp.exe"),  # right-to-left override
        ("line one\nline two\ttab", "line one line two tab"),
        ("[bold red]markup[/]", "[bold red]markup[/]"),  # markup stays literal text
        ("\x9b31mc1-csi", "c1-csi"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_long_text_is_cut() -> None:
    assert len(clean_text("x" * 5000)) == 500


def test_untrusted_fields_are_cleaned() -> None:
    build = Build(
        source="s",
        pipeline="p",
        id="1",
        status=Status.PASSED,
        message="\x1b[2J\x1b[Hcleared",
        author="eve\x1b]0;title\x07",
    )
    assert build.message == "cleared" and build.author == "eve"


def test_core_never_imports_textual() -> None:
    core = [
        "buildradiator.config.loading",
        "buildradiator.model",
        "buildradiator.errors",
        "buildradiator.sources.http",
        "buildradiator.engine.engine",
        "buildradiator.rules.insights",
        "buildradiator.paths",
        "buildradiator.export.document",
        "buildradiator.sources.github.source",
        "buildradiator.sources.cctray.source",
        "buildradiator.sources.health.source",
        "buildradiator.simulator",
        "buildradiator.fmt",
        "buildradiator.cli",
    ]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in core)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
