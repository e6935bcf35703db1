"""A config that cannot be used ends in exit code 2 and plain words, never a traceback, a hang or
all the memory there is: each case runs the real command in a process of its own, with a memory
limit and a deadline, the way a user (or a script) meets it."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

MEMORY = 1024 * 1024 * 1024
DEADLINE = 60.0


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))

    return subprocess.run(
        [sys.executable, "-m", "buildradiator", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        preexec_fn=limit,
        env={**os.environ, "BUILDRADIATOR_HOME": str(home), **env},
        check=False,
    )


def health_source(secret: str) -> str:
    return f'[[sources]]\nname = "h"\ntype = "health"\nurl = "http://127.0.0.1:9/h"\n{secret}\n'


def check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(text)
    return run(["check", "--config", str(config)], tmp_path / "home")


def assert_config_problem(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr[-2000:])


@pytest.mark.parametrize("device", ["/dev/urandom", "/dev/zero"])
def test_a_token_file_that_is_a_device_is_refused(tmp_path: Path, device: str) -> None:
    done = check(tmp_path, health_source(f'token_file = "{device}"'))
    assert_config_problem(done, "token_file", "not a regular file")


def test_a_token_file_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "token.fifo"
    os.mkfifo(fifo)
    done = check(tmp_path, health_source(f'token_file = "{fifo}"'))
    assert_config_problem(done, "token_file", "not a regular file")


def test_a_huge_token_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "token"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    done = check(tmp_path, health_source(f'token_file = "{big}"'))
    assert_config_problem(done, "token_file", "larger than")


def test_a_token_command_printing_200_mb_is_refused(tmp_path: Path) -> None:
    command = f'token_command = ["{sys.executable}", "-c", "import sys; sys.stdout.write(\\"x\\" * 200_000_000)"]'
    done = check(tmp_path, health_source(command))
    assert_config_problem(done, "token_command", "more than")


@pytest.mark.parametrize(
    "secret,words",
    [
        ('token_command = "echo \'abc"', ("token_command", "quotation")),
        ('token_command = ""', ("token_command", "empty")),
        ("token_command = []", ("token_command", "empty")),
        ('token_command = "   "', ("token_command", "empty")),
    ],
    ids=["unterminated-quote", "empty-string", "empty-list", "blank"],
)
def test_a_token_command_that_cannot_run_is_a_config_problem(
    tmp_path: Path, secret: str, words: tuple[str, ...]
) -> None:
    assert_config_problem(check(tmp_path, health_source(secret)), *words)


def test_toml_nested_500_deep_is_a_config_problem(tmp_path: Path) -> None:
    done = check(tmp_path, "x = " + "[" * 500 + "]" * 500 + "\n")
    assert_config_problem(done, "nested")


def test_a_dotted_key_of_100000_parts_is_a_config_problem(tmp_path: Path) -> None:
    key = ".".join(f"k{i}" for i in range(100_000))
    done = check(tmp_path, f"{key} = 1\n")
    assert_config_problem(done, "dotted")


def test_a_config_of_100_mb_is_a_config_problem(tmp_path: Path) -> None:
    done = check(tmp_path, "# " + "x" * (100 * 1024 * 1024) + "\n")
    assert_config_problem(done, "larger than")


def test_init_on_a_symlink_loop_is_a_config_problem(tmp_path: Path) -> None:
    loop = tmp_path / "loop.toml"
    loop.symlink_to(tmp_path / "loop.toml")
    done = run(["init", "--config", str(loop)], tmp_path / "home")
    assert_config_problem(done, str(loop))
