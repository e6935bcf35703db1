"""Shared fixtures. Every test runs with its own config/data/cache dirs (never the user's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildradiator.clock import FakeClock


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "brhome"
    monkeypatch.setenv("BUILDRADIATOR_HOME", str(home))
    monkeypatch.delenv("BUILDRADIATOR_CONFIG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return home


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
