"""The command line as a new user meets it: help for every option, options on either side of
the command, ``locate`` naming the config in use, singular and plural, the locale's ASCII."""

from __future__ import annotations

import argparse
import dataclasses
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import buildradiator.ui.app
from buildradiator.cli import main
from buildradiator.cli.parser import build_parser
from buildradiator.cli.terminal import wants_ascii
from buildradiator.simulator import Simulator, demo_config_text, moments
from buildradiator.sources.catalog import parse_config
from buildradiator.ui.options import RadiatorOptions


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_option_of_every_command_says_what_it_does() -> None:
    parser = build_parser()
    undocumented = []
    for name, command in [("buildradiator", parser), *commands(parser).items()]:
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                undocumented.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert undocumented == []
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    described = {choice.dest: choice.help for choice in sub._choices_actions}
    assert set(described) == set(commands(parser)) and all(described.values()), described


@pytest.mark.parametrize("name", ["run", "demo", "simulate", "check", "status", "serve", "view",
                                  "locate", "init"])  # fmt: skip
def test_each_commands_help_shows_every_option_with_its_text(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    command = commands(build_parser())[name]
    for action in command._actions:
        if action.option_strings:
            assert action.option_strings[-1] in out
            first_words = " ".join(str(action.help).split()[:3])
            assert first_words in " ".join(out.split()), (name, action.option_strings)


class FakeApp:
    """Stands in for the Textual app: records how the command line set it up."""

    seen: list[dict[str, Any]] = []
    return_code = 0

    def __init__(self, feed: object, *, options: RadiatorOptions, **kwargs: Any) -> None:
        FakeApp.seen.append({**kwargs, **dataclasses.asdict(options)})

    def run(self) -> int:
        return 0


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    FakeApp.seen = []
    monkeypatch.setattr(buildradiator.ui.app, "BuildRadiatorApp", FakeApp)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    return FakeApp.seen


@pytest.mark.parametrize(
    "argv",
    [
        ["--ascii", "--theme", "wall", "--mode", "wall", "demo", "--interval", "30"],
        ["demo", "--ascii", "--theme", "wall", "--mode", "wall", "--interval", "30"],
        ["--ascii", "demo", "--theme", "wall", "--mode", "wall", "--interval", "30"],
    ],
)
def test_display_options_work_before_and_after_the_command(
    argv: list[str], fake_app: list[dict[str, Any]]
) -> None:
    assert main(argv) == 0
    [app] = fake_app
    assert (app["ascii"], app["theme"], app["mode"]) == (True, "wall", "wall")


def test_without_the_options_the_config_and_the_locale_decide(
    fake_app: list[dict[str, Any]],
) -> None:
    assert main(["demo", "--interval", "30"]) == 0
    [app] = fake_app
    assert (app["ascii"], app["theme"], app["mode"]) == (False, "default", "auto")


@pytest.mark.parametrize("where", ["before", "after"])
def test_run_reads_the_config_named_before_or_after_the_command(
    where: str, tmp_path: Path, fake_app: list[dict[str, Any]]
) -> None:
    config = tmp_path / "mine.toml"
    with Simulator() as sim:
        config.write_text(demo_config_text(sim.base_url).replace("buildradiator demo", "Ours"))
        args = ["--config", str(config), "run"] if where == "before" else ["run", "-c", str(config)]
        assert main([*args, "--ascii"]) == 0
    [app] = fake_app
    assert app["title"] == "Ours" and app["ascii"] is True


def test_an_option_the_command_does_not_take_is_refused_not_ignored(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--theme", "wall", "status"])
    assert done.value.code == 2
    assert "--theme" in capsys.readouterr().err


# -- locate ------------------------------------------------------------------------------------


def test_locate_names_the_config_given_with_config_before_or_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "team.toml"
    config.write_text("")
    for argv in (["locate", "--config", str(config)], ["-c", str(config), "locate"]):
        assert main(argv) == 0
        lines = capsys.readouterr().out.splitlines()
        [line] = [x for x in lines if x.startswith("config:")]
        assert str(config) in line and "--config" in line and "not created" not in line


def test_locate_says_where_the_config_comes_from(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    isolated_paths: Path,
) -> None:
    def config_line() -> str:
        assert main(["locate"]) == 0
        [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith("config:")]
        return line

    default = isolated_paths / "config" / "config.toml"
    line = config_line()
    assert str(default) in line and "default" in line and "not created yet" in line
    default.parent.mkdir(parents=True)
    default.write_text("")
    line = config_line()
    assert str(default) in line and "not created yet" not in line

    elsewhere = tmp_path / "env.toml"
    monkeypatch.setenv("BUILDRADIATOR_CONFIG", str(elsewhere))
    line = config_line()
    assert str(elsewhere) in line and "$BUILDRADIATOR_CONFIG" in line
    assert "not created yet" in line and str(default) not in line


# -- words -------------------------------------------------------------------------------------


def test_check_counts_its_sources_in_good_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Simulator() as sim:
        sim.set_time(20)
        text = demo_config_text(sim.base_url)
        one = (
            "[radiator]\n\n" + text[text.index('[[sources]]\nname = "jenkins"') :].split("\n\n")[0]
        )
        assert len(parse_config(one).sources) == 1
        config = tmp_path / "one.toml"
        config.write_text(one + "\n")
        assert main(["check", "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "(1 source)" in out
        config.write_text(text)
        main(["check", "--config", str(config)])
        count = len(parse_config(text).sources)
        assert f"({count} sources)" in capsys.readouterr().out


# -- ASCII from the locale -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "ascii"),
    [
        ({"LANG": "en_US.UTF-8"}, False),
        ({"LANG": "C.UTF-8"}, False),
        ({"LANG": "de_DE.utf8"}, False),
        ({"LANG": "C"}, True),
        ({"LANG": "POSIX"}, True),
        ({"LANG": "en_US.ISO-8859-1"}, True),
        ({"LANG": "en_US"}, True),  # no codeset: the locale's default, Latin-1 on glibc
        ({"LC_ALL": "C", "LANG": "en_US.UTF-8"}, True),  # LC_ALL outranks everything
        ({"LC_ALL": "", "LC_CTYPE": "C", "LANG": "en_US.UTF-8"}, True),  # empty means unset
        ({"LC_CTYPE": "en_US.UTF-8", "LANG": "C"}, False),
        ({"LC_ALL": "en_GB.UTF-8@euro", "LANG": "C"}, False),
        ({}, True),  # nothing set: the C locale
    ],
)
def test_a_non_utf8_locale_wants_ascii(env: dict[str, str], ascii: bool) -> None:
    assert wants_ascii(env, flag=False, config=None) is ascii


def test_the_flag_and_the_config_want_ascii_whatever_the_locale() -> None:
    utf8 = {"LANG": "en_US.UTF-8"}
    assert wants_ascii(utf8, flag=True, config=None) is True
    config = parse_config("[radiator]\nascii = true\n", "<test>")
    assert wants_ascii(utf8, flag=False, config=config) is True
    assert wants_ascii(utf8, flag=None, config=parse_config("", "<test>")) is False


def test_status_line_is_pure_ascii_under_lang_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env["LANG"] = "C"
    config = tmp_path / "c.toml"
    with Simulator() as sim:
        sim.set_time(moments.MAIN_RED)  # main is red: the line carries the red glyph
        config.write_text(demo_config_text(sim.base_url))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "buildradiator",
                "status",
                "--format",
                "line",
                "-c",
                str(config),
            ],
            capture_output=True,
            env=env,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert b"RED" in done.stdout
    assert done.stdout.isascii(), done.stdout.decode()


# -- simulate ----------------------------------------------------------------------------------


def test_simulate_prints_one_usable_config_on_stdout_and_the_rest_on_stderr(
    tmp_path: Path,
) -> None:
    import signal

    import httpx

    from buildradiator.sources.catalog import load_config

    proc = subprocess.Popen(
        [sys.executable, "-m", "buildradiator", "simulate", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        try:
            first = lines.get(timeout=30)
        except queue.Empty:
            pytest.fail("simulate said nothing on stderr")
        assert first.startswith("Simulated CI on http://127.0.0.1:"), first
        base = first.split()[3]
        # It answers while it runs, on the port it printed.
        assert httpx.get(f"{base}/cctray/cc.xml", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        reader.join(timeout=10)
    err = "".join(lines.queue)
    assert proc.returncode == 0, err
    assert out.count("[radiator]") == 1 and "Simulated CI" not in out and "Ctrl+C" not in out
    assert "Ctrl+C" in first + err
    config = tmp_path / "cfg.toml"
    config.write_text(out)
    loaded = load_config(config)
    assert loaded.radiator.title == "buildradiator demo"
    urls = [str(getattr(s, "url", None) or getattr(s, "api_url", None)) for s in loaded.sources]
    assert all(url.startswith(base) for url in urls), urls


def test_simulate_on_a_busy_port_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with Simulator() as sim:
        port = sim.base_url.rsplit(":", 1)[1]
        assert main(["simulate", "--port", port]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"cannot listen on 127.0.0.1:{port}" in captured.err
