"""Hooks with real tiny subprocesses: facts in the environment, failures reported, hangs killed."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from buildradiator.clock import FakeClock
from buildradiator.config.loading import HookConfig
from buildradiator.model import (
    BrokenWindow,
    Build,
    Health,
    Pipeline,
    ServiceCheck,
    Snapshot,
    SourceState,
    Status,
)
from buildradiator.rules.events import events_between
from buildradiator.ui.hooks import HookResult, HookRunner, hook_environment

PY = sys.executable
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

DUMP_ENV = (
    "import json, os, sys; json.dump({k: v for k, v in os.environ.items()}, open(sys.argv[1], 'w'))"
)


def hook(*argv: str, on: tuple[str, ...] = ("red", "green"), timeout: float = 10.0) -> HookConfig:
    return HookConfig(command=list(argv), on=list(on), timeout=timeout)  # type: ignore[arg-type]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def running(pid: int) -> bool:
    """Alive and not a zombie. An orphaned grandchild that was killed stays a zombie until the
    container's init reaps it, which is not ours to do (and can take a second)."""
    if not Path("/proc/self/stat").exists():
        return alive(pid)  # no procfs: cannot tell zombies apart
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return alive(pid)
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_stopped(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not running(pid):
            return True
        time.sleep(0.02)
    return False


FACTS = {
    "kind": "pipeline",
    "name": "acme/monolith",
    "source": "gh",
    "status": "failed",
    "commit": "c0ffee0123",
    "author": "Mallory",
    "message": "Break $(rm -rf ~) `everything`; \x1b]0;pwned\x07",
    "url": "https://github.com/acme/monolith/actions/runs/1",
    "since": "2026-11-26T12:00:00+00:00",
}


async def test_facts_arrive_in_the_environment_and_secrets_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret_value")
    monkeypatch.setenv("MY_CI_CREDS", "creds-value")
    monkeypatch.setenv("SOME_API_KEY", "k")
    monkeypatch.setenv("BUILDRADIATOR_NAME", "left over from a parent")
    monkeypatch.setenv("KEEP_ME", "yes")
    out = tmp_path / "env.json"
    runner = HookRunner(
        [hook(PY, "-c", DUMP_ENV, str(out))], FakeClock(), secret_env=["MY_CI_CREDS"]
    )
    await runner.fire("red", FACTS)
    [result] = await runner.wait()
    assert result.ok and result.returncode == 0 and result.event == "red"
    env = json.loads(out.read_text())
    assert env["BUILDRADIATOR_EVENT"] == "red"
    assert env["BUILDRADIATOR_KIND"] == "pipeline"
    assert env["BUILDRADIATOR_NAME"] == "acme/monolith"
    assert env["BUILDRADIATOR_SOURCE"] == "gh"
    assert env["BUILDRADIATOR_STATUS"] == "failed"
    assert env["BUILDRADIATOR_COMMIT"] == "c0ffee0123"
    assert env["BUILDRADIATOR_AUTHOR"] == "Mallory"
    # Shell-looking text stays inert text (no shell ran it); escape sequences are gone.
    assert env["BUILDRADIATOR_MESSAGE"] == "Break $(rm -rf ~) `everything`;"
    assert env["BUILDRADIATOR_URL"] == FACTS["url"]
    assert env["BUILDRADIATOR_SINCE"] == FACTS["since"]
    assert env["KEEP_ME"] == "yes" and "PATH" in env
    assert "GITHUB_TOKEN" not in env and "SOME_API_KEY" not in env and "MY_CI_CREDS" not in env
    assert "ghp_secret_value" not in out.read_text()
    assert result.started_at == T0  # stamped by the injected clock


def test_every_fact_is_set_even_when_unknown() -> None:
    env = hook_environment({"name": "x"}, "up", base={"PATH": "/bin", "DB_PASSWORD": "p"})
    assert env["BUILDRADIATOR_EVENT"] == "up"
    assert env["BUILDRADIATOR_COMMIT"] == ""
    assert "DB_PASSWORD" not in env and env["PATH"] == "/bin"


async def test_only_hooks_listening_for_the_event_run(tmp_path: Path) -> None:
    red_out, up_out = tmp_path / "red.json", tmp_path / "up.json"
    runner = HookRunner(
        [
            hook(PY, "-c", DUMP_ENV, str(red_out), on=("red",)),
            hook(PY, "-c", DUMP_ENV, str(up_out), on=("up", "down")),
        ]
    )
    assert len(await runner.fire("red", FACTS)) == 1
    assert await runner.fire("stale", {}) == []
    await runner.wait()
    assert red_out.exists() and not up_out.exists()


async def test_a_failing_hook_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[HookResult] = []
    runner = HookRunner(
        [hook(PY, "-c", "import sys; sys.stderr.write('webhook said 403\\n'); sys.exit(3)")],
        on_result=seen.append,
    )
    await runner.fire("red", FACTS)
    [result] = await runner.wait()
    assert (result.outcome, result.returncode, result.detail) == ("failed", 3, "webhook said 403")
    assert seen == [result] and list(runner.results) == [result]
    assert "exited with code 3: webhook said 403" in result.describe()
    assert "exited with code 3" in caplog.text


async def test_a_missing_command_is_reported() -> None:
    runner = HookRunner([hook("/nonexistent/buildradiator-hook-xyz")])
    await runner.fire("green", FACTS)
    [result] = await runner.wait()
    assert result.outcome == "not found" and result.returncode is None
    assert "no such command" in result.describe()


async def test_a_non_executable_command_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "hook.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    runner = HookRunner([hook(str(script))])
    await runner.fire("red", FACTS)
    [result] = await runner.wait()
    assert result.outcome == "cannot run"


async def test_a_hanging_hook_is_killed_and_never_blocks(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    # A hook that starts a child of its own and then hangs: both must die.
    code = (
        "import os, subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pid_file)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}'); "
        "time.sleep(60)"
    )
    runner = HookRunner([hook(PY, "-c", code, timeout=0.5)])
    t0 = time.monotonic()
    tasks = await runner.fire("red", FACTS)
    # fire only schedules: it is back before the hook has even written its pids.
    assert runner.running == 1 and not tasks[0].done()
    assert not pid_file.exists()
    # The caller goes on with its life meanwhile.
    ticks = 0
    while not pid_file.exists() or not pid_file.read_text():
        await asyncio.sleep(0.02)
        ticks += 1
    assert ticks > 0
    [result] = await runner.wait()
    elapsed = time.monotonic() - t0
    assert result.outcome == "timed out" and result.returncode is None
    assert 0.5 <= elapsed < 3.0
    assert "was killed" in result.describe()
    leader, child = map(int, pid_file.read_text().split())
    assert not alive(leader)  # reaped, not a zombie: kill(pid, 0) fails for a reaped pid
    assert wait_stopped(child)
    assert runner.running == 0


async def test_aclose_cancels_and_reaps_everything(tmp_path: Path) -> None:
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    code = (
        f"import os, time; open(os.path.join({str(pid_dir)!r}, str(os.getpid())), 'w').close(); "
        "time.sleep(60)"
    )
    runner = HookRunner([hook(PY, "-c", code, timeout=60), hook(PY, "-c", code, timeout=60)])
    await runner.fire("red", FACTS)
    while len(list(pid_dir.iterdir())) < 2:
        await asyncio.sleep(0.02)
    t0 = time.monotonic()
    await runner.aclose()
    assert time.monotonic() - t0 < 3.0
    pids = [int(p.name) for p in pid_dir.iterdir()]
    assert not any(alive(pid) for pid in pids)
    assert runner.running == 0
    assert [r.outcome for r in runner.results] == ["cancelled", "cancelled"]
    assert await runner.fire("red", FACTS) == []  # closed: nothing new starts


async def test_a_broken_on_result_callback_is_contained() -> None:
    def explode(result: HookResult) -> None:
        raise RuntimeError("boom")

    runner = HookRunner([hook(PY, "-c", "pass")], on_result=explode)
    await runner.fire("red", FACTS)
    [result] = await runner.wait()
    assert result.ok


# -- events_between ----------------------------------------------------------------------------


def build(status: Status, commit: str = "abc1234", author: str = "Mallory") -> Build:
    return Build(
        source="gh",
        pipeline="acme/monolith",
        id=commit,
        status=status,
        commit=commit,
        author=author,
        message="msg",
        finished_at=T0,
        url="https://ci/1",
    )


def pipe(status: Status) -> Pipeline:
    return Pipeline(source="gh", key="acme/monolith", name="acme/monolith", recent=(build(status),))


WINDOW = BrokenWindow(
    kind="pipeline",
    source="gh",
    key="acme/monolith",
    name="acme/monolith",
    since=T0,
    commit="abc1234",
    author="Mallory",
    message="msg",
    url="https://ci/1",
)
CHECK_DOWN = ServiceCheck(source="health", name="api", environment="prod", health=Health.DOWN)
SERVICE_WINDOW = BrokenWindow(kind="service", source="health", key="api@prod", name="api", since=T0)


def snapshot(
    *broken: BrokenWindow,
    status: Status = Status.PASSED,
    health: Health = Health.UP,
    gh_stale: bool = False,
    gh_answered: bool = True,
) -> Snapshot:
    return Snapshot(
        taken_at=T0,
        pipelines=(pipe(status),) if gh_answered else (),
        services=(CHECK_DOWN.model_copy(update={"health": health}),),
        sources=(
            SourceState(
                name="gh",
                type="github",
                last_success=T0 if gh_answered else None,
                stale=gh_stale,
                error="GitHub did not answer" if gh_stale else None,
            ),
            SourceState(name="health", type="health", last_success=T0),
        ),
        broken=broken,
        stale_sources=frozenset({"gh"}) if gh_stale else frozenset(),
    )


def test_events_red_and_green() -> None:
    green, red = snapshot(), snapshot(WINDOW, status=Status.FAILED)
    [(event, facts)] = events_between(green, red)
    assert event == "red"
    assert facts["name"] == "acme/monolith" and facts["status"] == "failed"
    assert facts["author"] == "Mallory" and facts["since"] == T0.isoformat()
    [(event, facts)] = events_between(red, green)
    assert event == "green" and facts["status"] == "passed"
    assert events_between(red, red) == []


def test_events_down_and_up() -> None:
    up, down = snapshot(), snapshot(SERVICE_WINDOW, health=Health.DOWN)
    assert [e for e, _ in events_between(up, down)] == ["down"]
    [(event, facts)] = events_between(down, up)
    assert (event, facts["kind"], facts["status"]) == ("up", "service", "up")


def test_events_stale_and_fresh_and_stale_windows_stay_put() -> None:
    red = snapshot(WINDOW, status=Status.FAILED)
    stale = snapshot(WINDOW.model_copy(update={"stale": True}), status=Status.FAILED, gh_stale=True)
    [(event, facts)] = events_between(red, stale)
    assert event == "stale" and facts["kind"] == "source" and facts["message"]
    assert [e for e, _ in events_between(stale, red)] == ["fresh"]
    # A window missing while its source is stale did not recover.
    assert [e for e, _ in events_between(red, snapshot(gh_stale=True))] == ["stale"]


def test_no_events_at_start_or_for_a_source_first_answer() -> None:
    red = snapshot(WINDOW, status=Status.FAILED)
    assert events_between(None, red) == []
    not_yet = snapshot(gh_answered=False)
    assert events_between(not_yet, red) == []


def test_a_pipeline_that_left_is_not_green_and_privacy_hides_authors() -> None:
    red = snapshot(WINDOW, status=Status.FAILED)
    gone = red.model_copy(update={"pipelines": (), "broken": ()})
    assert events_between(red, gone) == []
    [(_, facts)] = events_between(snapshot(), red, privacy=True)
    assert facts["author"] == ""


def test_the_radiator_keeps_every_secret_its_config_names_from_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only the sources' ``token_env``: a webhook's ``secret_env`` and ``[serve]
    token_env`` name secrets too, whose names need not look secret (a hook got them)."""
    from buildradiator.history import History
    from buildradiator.sources.catalog import parse_config
    from buildradiator.ui.app import BuildRadiatorApp
    from buildradiator.ui.launch import run_radiator
    from buildradiator.ui.options import RadiatorOptions

    values = {"GH_CI": "ci-value", "GH_HOOK_SIG": "hook-value", "RADIATOR_SERVE": "serve-value"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "env.json"
    config = parse_config(
        '[serve]\ntoken_env = "RADIATOR_SERVE"\n\n'
        f"[[hooks]]\ncommand = {json.dumps([PY, '-c', DUMP_ENV, str(out)])}\non = ['red']\n\n"
        '[[sources]]\nname = "gh"\ntype = "github"\nrepo = "acme/monolith"\n'
        'token_env = "GH_CI"\nwebhook = { secret_env = "GH_HOOK_SIG" }\n'
    )

    def run(app: BuildRadiatorApp) -> int:  # the app's hooks, fired as a red would fire them
        async def red() -> None:
            await app._hooks.fire("red", FACTS)
            await app._hooks.wait()

        asyncio.run(red())
        return 0

    monkeypatch.setattr(BuildRadiatorApp, "run", run)
    assert run_radiator(config, RadiatorOptions(), use_cache=False, history=History.memory()) == 0
    env = json.loads(out.read_text())
    assert env["BUILDRADIATOR_EVENT"] == "red"
    assert not set(values) & set(env), sorted(set(values) & set(env))
