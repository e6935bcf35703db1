"""A corpus of broken configs (``tests/configs/broken/``): each one gives a one-screen message
naming the problem, exit code 2, and never a traceback.

Most run in-process through ``cli.main``; a handful run as ``python -m buildradiator check`` in a
subprocess, as a user would run them. The unreadable file is made at test time (chmod 000).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from buildradiator import cli
from buildradiator.config import credentials

BROKEN = Path(__file__).parent / "configs" / "broken"
SCREEN = 24

# What each message must say (lower case), so that "it exited 2" is never enough.
EXPECTED = {
    "bad_toml.toml": "not valid toml",
    "bad_toml_value.toml": "not valid toml",
    "unknown_top_table.toml": "radiatr: unknown key",
    "unknown_radiator_key.toml": "did you mean 'interval'",
    "unknown_source_key.toml": "sources[0].branche: unknown key (did you mean 'branch",
    "unknown_alerts_key.toml": "did you mean 'quiet_hours'",
    "wrong_type_interval.toml": "radiator.interval",
    "wrong_type_repos.toml": "sources[0].repos",
    "wrong_type_verify.toml": "sources[0].verify_tls",
    "missing_url.toml": "sources[0].url: is required",
    "missing_repo.toml": "name a repository",
    "missing_name.toml": "sources[0].name: is required",
    "duplicate_names.toml": "already used by sources[0]",
    "inline_token.toml": "a token must not be written in the config file",
    "missing_token_env.toml": "br_corpus_surely_unset_token is not set",
    "token_command_fails.toml": "false failed with exit code 1",
    "token_command_missing.toml": "command not found: no-such-password-manager-xyz",
    "token_command_hangs.toml": "did not finish within",
    "token_file_missing.toml": "does not exist",
    "two_secret_sources.toml": "give only one of token_env",
    "empty_type.toml": "unknown source type ''",
    "unknown_type.toml": "did you mean 'github'",
    "no_type.toml": "needs a type",
    "groups_error.toml": "groups[0]",
    "bad_quiet_hours.toml": 'must look like "19:00-08:00"',
    "sources_not_a_list.toml": "must be a list of [[sources]] tables",
    "hooks_empty_command.toml": "hooks[0].command",
    "negative_timeout.toml": "sources[0].timeout",
    "bad_url_scheme.toml": "must be an http:// or https:// url",
    "non_utf8.toml": "not utf-8",
}
SUBPROCESS = ["bad_toml.toml", "unknown_source_key.toml", "inline_token.toml", "non_utf8.toml",
              "token_command_fails.toml", "missing_token_env.toml"]  # fmt: skip


def test_the_corpus_is_complete() -> None:
    files = sorted(p.name for p in BROKEN.glob("*.toml"))
    assert len(files) >= 20
    assert set(files) == set(EXPECTED), set(files) ^ set(EXPECTED)


def assert_one_screen(stderr: str, stdout: str, expected: str, path: Path) -> None:
    text = stderr + stdout
    assert "Traceback" not in text and "Error:" not in text.split("\n")[0], text
    lines = text.strip().splitlines()
    assert 1 <= len(lines) <= SCREEN, text
    assert all(len(line) <= 400 for line in lines), text
    assert expected in text.lower(), text
    assert str(path) in stderr  # the message names the file
    assert "ghp_ThisMustNeverBeWrittenHere" not in text  # not even the inline one


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - set(SUBPROCESS)))
def test_broken_config_in_process(
    name: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BR_CORPUS_SURELY_UNSET_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    monkeypatch.setattr(credentials, "TOKEN_COMMAND_TIMEOUT", 0.3)  # the hanging token_command
    path = BROKEN / name
    assert cli.main(["check", "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert_one_screen(err, out, EXPECTED[name], path)


@pytest.mark.parametrize("name", SUBPROCESS)
def test_broken_config_as_a_user_runs_it(name: str, isolated_paths: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BR_CORPUS_SURELY_UNSET_TOKEN"}
    path = BROKEN / name
    done = subprocess.run(
        [sys.executable, "-m", "buildradiator", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert_one_screen(done.stderr, done.stdout, EXPECTED[name], path)


def test_an_unreadable_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[radiator]\ntitle = "secret"\n', encoding="utf-8")
    path.chmod(0)
    if os.access(path, os.R_OK):
        # Root reads a mode-000 file anyway (as CI does): the OS is made to refuse instead.
        real = Path.open

        def refuse(self: Path, *args: object, **kwargs: object) -> object:
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "open", refuse)
    try:
        assert cli.main(["check", "--config", str(path)]) == 2
    finally:
        path.chmod(0o600)
    out, err = capsys.readouterr()
    assert_one_screen(err, out, "cannot read: permission denied", path)


def test_a_directory_where_the_config_should_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Unreadable for everyone, root included.
    path = tmp_path / "config.toml"
    path.mkdir()
    assert cli.main(["check", "--config", str(path)]) in (2,)
    out, err = capsys.readouterr()
    text = (out + err).lower()
    assert "traceback" not in text and len(text.splitlines()) <= SCREEN
    assert "config" in text


def test_every_problem_is_listed_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Several broken files in one: check lists every problem, still on one screen.
    path = tmp_path / "config.toml"
    path.write_text(
        "\n".join(
            (BROKEN / n).read_text(encoding="utf-8")
            for n in ("unknown_radiator_key.toml", "bad_quiet_hours.toml", "groups_error.toml")
        )
        + "\n"
        + (BROKEN / "duplicate_names.toml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    assert cli.main(["check", "--config", str(path)]) == 2
    _, err = capsys.readouterr()
    for words in ("intervall", "quiet_hours", "groups[0]", "already used"):
        assert words in err, err
    assert len(err.splitlines()) <= SCREEN
