"""The command line: config discovery, init, locate, config errors, secrets in output."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from buildradiator.cli import main
from buildradiator.simulator import Simulator, demo_config_text, moments


def test_no_config_says_where_it_looked_and_what_to_do(
    capsys: pytest.CaptureFixture[str], isolated_paths: Path
) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert str(isolated_paths / "config" / "config.toml") in err
    assert "buildradiator init" in err and "buildradiator demo" in err


def test_config_from_env_var_is_used(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "elsewhere.toml"
    monkeypatch.setenv("BUILDRADIATOR_CONFIG", str(missing))
    assert main(["check"]) == 2
    assert str(missing) in capsys.readouterr().err


def test_init_writes_a_valid_starting_config(
    capsys: pytest.CaptureFixture[str], isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["init"]) == 0
    written = isolated_paths / "config" / "config.toml"
    assert written.is_file()
    assert main(["init"]) == 2  # never overwrites without --force
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    from buildradiator.sources.catalog import load_config

    assert load_config(written).sources[0].name == "github"


def test_locate_prints_every_place(capsys: pytest.CaptureFixture[str], isolated_paths: Path):
    assert main(["locate"]) == 0
    out = capsys.readouterr().out
    for word in ("config:", "data:", "cache:", "logs:", "themes:"):
        assert word in out
    assert str(isolated_paths) in out


def test_broken_config_exits_2_with_every_problem_and_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[radiator]\ntitel = "x"\n\n[[sources]]\nname = "a"\ntype = "gitlub"\n')
    done = subprocess.run(
        [sys.executable, "-m", "buildradiator", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "2 problems" in done.stderr
    assert f"{config}:2: radiator.titel: unknown key (did you mean 'title'?)" in done.stderr
    assert "did you mean 'gitlab'?" in done.stderr


def test_tokens_never_reach_output_or_logs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "ghp_SECRET_TOKEN_VALUE_123"
    monkeypatch.setenv("DEMO_TOKEN", token)
    with Simulator() as sim:
        text = (
            demo_config_text(sim.base_url)
            .replace('type = "github"', 'type = "github"\ntoken_env = "DEMO_TOKEN"')
            .replace(
                'type = "cctray"', 'type = "cctray"\nusername = "bot"\ntoken_env = "DEMO_TOKEN"'
            )
        )
        text += (
            '\n[[sources]]\nname = "leaky"\ntype = "cctray"\n'
            f'url = "{sim.base_url}/nothing-here.xml?access_token={token}"\n'
        )
        config = tmp_path / "c.toml"
        config.write_text(text)
        caplog.set_level(logging.DEBUG)
        sim.set_time(moments.FEED_DOWN)  # the feed drops connections: error paths run too
        main(["status", "--json", "--config", str(config)])
        main(["check", "--config", str(config)])
        main(["status", "--config", str(config)])
    out = capsys.readouterr()
    everything = out.out + out.err + caplog.text
    assert "leaky" in out.out and "access_token=***" in everything
    assert token not in everything
    doc_start = out.out.index("{")
    assert json.loads(out.out[doc_start : out.out.index("\n}\n") + 2])["sources"]


def test_status_line_answers_from_a_fresh_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    with Simulator() as sim:
        config.write_text(demo_config_text(sim.base_url, interval=30))
        sim.set_time(moments.MAIN_RED)
        assert main(["status", "--format", "line", "--config", str(config)]) == 1
        first = capsys.readouterr().out
    assert first.startswith("✖ RED ")
    # The simulator is gone: the line still answers, from the cache the first call left.
    assert main(["status", "--format", "tmux", "--config", str(config)]) == 1
    assert "#[fg=white,bg=red,bold]✖ RED " in capsys.readouterr().out
    # --fresh polls again and finds nothing reachable: the health checks say down (a refused
    # connection is a service down), the CI sources say they could not be read.
    assert main(["status", "--format", "line", "--fresh", "--config", str(config)]) == 1
    line = capsys.readouterr().out
    assert "✖ DOWN " in line and "github" in line and "stale" in line
