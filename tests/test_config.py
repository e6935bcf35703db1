"""Config: every problem at once, with file, line, dotted key and a did-you-mean hint."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from buildradiator.errors import ConfigError
from buildradiator.sources.catalog import load_config, parse_config
from buildradiator.sources.github.config import GitHubSource

ROOT = Path(__file__).resolve().parents[1]


def problems(text: str, **env: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "c.toml")
    return [p.render() for p in err.value.problems]


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "GITHUB_TOKEN",
        "JENKINS_TOKEN",
        "GITLAB_TOKEN",
        "BUILDKITE_TOKEN",
        "GOCD_TOKEN",
        "CIRCLE_TOKEN",
        "ARGOCD_TOKEN",
    ):
        monkeypatch.setenv(var, "x")
    config = load_config(ROOT / "config.example.toml")
    from buildradiator.sources.catalog import SOURCE_TYPES

    assert {s.type for s in config.sources} == set(SOURCE_TYPES)
    assert config.groups and config.hooks and config.alerts.quiet_hours == "19:00-08:00"


def test_starter_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    config = load_config(ROOT / "src" / "buildradiator" / "starter.toml")
    assert isinstance(config.sources[0], GitHubSource)


def test_every_problem_is_listed_with_line_key_and_hint() -> None:
    text = """[radiator]
titel = "x"
interval = "fast"

[[sources]]
name = "gh"
type = "github"
repo = "acme/x"
brnch = "main"

[[sources]]
name = "gl"
type = "gitlub"

[[sources]]
name = "h"
type = "health"
url = "ftp://x"
token = "abc"

[[sources]]
name = "gh"
type = "github"
repo = "acme/y"
"""
    found = problems(text)
    assert "c.toml:2: radiator.titel: unknown key (did you mean 'title'?)" in found
    assert any(p.startswith("c.toml:3: radiator.interval:") and "'fast'" in p for p in found)
    assert "c.toml:9: sources[0].brnch: unknown key (did you mean 'branch'?)" in found
    assert (
        "c.toml:13: sources[1].type: unknown source type 'gitlub' (did you mean 'gitlab'?)" in found
    )
    assert any(p.startswith("c.toml:19: sources[2].token:") for p in found)
    assert any(p.startswith("c.toml:18: sources[2].url:") for p in found)
    assert any(p.startswith("c.toml:22: sources[3].name:") and "already used" in p for p in found)
    # The literal token never appears in a message.
    assert not any("abc" in p for p in found)


def test_bad_toml_names_the_line() -> None:
    found = problems('[radiator]\ntitle = "x\n')
    assert found[0].startswith("c.toml:2:") and "not valid TOML" in found[0]


def test_missing_type_and_required_keys() -> None:
    found = problems('[[sources]]\nname = "x"\n\n[[sources]]\nname = "y"\ntype = "health"\n')
    assert any("sources[0]: needs a type" in p for p in found)
    assert any("sources[1].url: is required" in p for p in found)


def test_production_types_parse_and_check_their_keys() -> None:
    config = parse_config('[[sources]]\nname = "x"\ntype = "argocd"\nurl = "http://j"\n')
    assert config.sources[0].type == "argocd"
    found = problems(
        '[[sources]]\nname = "q"\ntype = "prometheus"\nurl = "http://p"\nquery = "up"\n'
        '[[sources]]\nname = "a"\ntype = "alertmanager"\nurl = "http://a"\n'
        'matchers = ["severity critical"]\n'
        '[[sources]]\nname = "b"\ntype = "blockers"\nprovider = "jira"\n'
    )
    assert len(found) == 3
    assert "give a threshold" in found[0]
    assert 'must look like label="value"' in found[1]
    assert "needs url" in found[2]


def test_release_table_is_checked() -> None:
    found = problems("[release]\nverify_minuts = 5\n")
    assert "verify_minutes" in found[0]


def test_github_needs_a_repo_shape() -> None:
    found = problems('[[sources]]\nname = "x"\ntype = "github"\nrepo = "nope"\n')
    assert "owner/name" in found[0]


def test_token_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TOKEN", "s3cret-value")
    config = parse_config(
        '[[sources]]\nname = "x"\ntype = "github"\nrepo = "a/b"\ntoken_env = "MY_TOKEN"\n'
    )
    source = config.sources[0]
    assert source.token is not None and source.token.get_secret_value() == "s3cret-value"
    assert "s3cret" not in repr(source) and "s3cret" not in str(config.model_dump())


def test_token_env_missing_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_TOKEN", raising=False)
    found = problems(
        '[[sources]]\nname = "x"\ntype = "github"\nrepo = "a/b"\ntoken_env = "NOPE_TOKEN"\n'
    )
    assert found == [
        "c.toml:5: sources[0].token_env: environment variable NOPE_TOKEN is not set "
        "(export NOPE_TOKEN=... before starting buildradiator, or remove token_env to read "
        "without a token (public repositories, anonymous read))"
    ]


def test_token_file(tmp_path: Path) -> None:
    token = tmp_path / "tok"
    token.write_text("file-secret\n")
    config = parse_config(
        f'[[sources]]\nname = "x"\ntype = "github"\nrepo = "a/b"\ntoken_file = "{token}"\n'
    )
    assert config.sources[0].token.get_secret_value() == "file-secret"  # type: ignore[union-attr]
    found = problems(
        f'[[sources]]\nname = "x"\ntype = "github"\nrepo = "a/b"\n'
        f'token_file = "{tmp_path / "missing"}"\n'
    )
    assert "does not exist" in found[0]


def test_token_command_success_failure_and_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    py = sys.executable
    base = '[[sources]]\nname = "x"\ntype = "github"\nrepo = "a/b"\n'
    ok = parse_config(base + f'token_command = ["{py}", "-c", "print(\'cmd-secret\')"]\n')
    assert ok.sources[0].token.get_secret_value() == "cmd-secret"  # type: ignore[union-attr]
    failed = problems(base + f'token_command = ["{py}", "-c", "print(\'leak\'); exit(3)"]\n')
    assert "exit code 3" in failed[0] and "leak" not in failed[0]
    missing = problems(base + 'token_command = "no-such-command-xyz"\n')
    assert "command not found" in missing[0]
    monkeypatch.setattr("buildradiator.config.credentials.TOKEN_COMMAND_TIMEOUT", 0.5)
    hung = problems(base + f'token_command = ["{py}", "-c", "import time; time.sleep(30)"]\n')
    assert "did not finish" in hung[0]


def test_only_one_secret_source() -> None:
    found = problems(
        '[[sources]]\nname = "x"\ntype = "github"\nrepo = "a/b"\n'
        'token_env = "A"\ntoken_file = "/x"\n'
    )
    assert "only one of" in found[0]


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe[radiator]")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad)


def test_defaults() -> None:
    config = parse_config('[[sources]]\nname = "x"\ntype = "health"\nurl = "http://h/x"\n')
    assert config.interval_of(config.sources[0]) == 30
    assert config.stale_after_of(config.sources[0]) == 150


def test_groups_are_checked_and_located() -> None:
    config = parse_config(
        '[[groups]]\nname = "Payments"\npipelines = ["acme/billing*", "jenkins:*pay*"]\n'
    )
    assert config.groups[0].pipelines == ["acme/billing*", "jenkins:*pay*"]
    found = problems(
        '[[sources]]\nname = "h"\ntype = "health"\nurl = "http://h/x"\n\n'
        '[[groups]]\nname = "A"\npipelnes = ["x"]\n'
    )
    assert "c.toml:8: groups[0].pipelnes: unknown key (did you mean 'pipelines'?)" in found


def test_target_goal_must_fit_its_measure() -> None:
    found = problems(
        '[[targets]]\nmeasure = "mttr"\ngoal = ">= 95%"\n'
        '[[targets]]\nmeasure = "main_green_share"\ngoal = "<= 10m"\n'
        '[[targets]]\nmeasure = "flaky_tests"\ngoal = "<= 5%"\n'
        '[[targets]]\nmeasure = "deploy_drift"\ngoal = "about ten"\n'
    )
    assert len(found) == 4
    assert "is a duration" in found[0] and "is a share" in found[1]
    assert "is a count" in found[2] and 'must look like ">= 95%"' in found[3]
    ok = parse_config('[[targets]]\nmeasure = "mttr"\ngoal = "<= 1.5h"\n').targets[0]
    assert ok.threshold == 5400 and ok.met_by(5400) and not ok.met_by(5401)
