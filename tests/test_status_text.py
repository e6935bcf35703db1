"""Plain ``buildradiator status``: a summary a person can act on. One line per broken thing
(a red main with since and who, a service down with why, a suspect deploy, the release gate
on HOLD with its reasons), each source that is not fresh, the notices, then the counts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from buildradiator.cli import main
from buildradiator.clock import Clock
from buildradiator.export.text import status_text
from buildradiator.model import (
    BrokenWindow,
    Freshness,
    GateReason,
    ReleaseGate,
    Snapshot,
    SourceState,
)
from buildradiator.simulator import Simulator, demo_config_text, moments
from buildradiator.simulator.scenario import SCRIPT_SECONDS
from buildradiator.text import to_ascii
from snapshot_fixtures import NOW as FIXTURE_NOW
from snapshot_fixtures import green_estate

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
COUNTS = re.compile(
    r"^  pipelines: (\d+) green, (\d+) red, (\d+) running(, \d+ other)? · "
    r"services: (\d+) up, (\d+) warn, (\d+) down(, \d+ unknown)?$"
)


class ScriptInThePast(Clock):
    """The simulator's loop began one loop ago: every moment pinned in it has happened by the
    time ``status`` (on the real clock) polls, so ages read as they would in a running demo and
    the post-deploy watch sees a check go down after the deploy went live."""

    def now(self) -> datetime:
        return super().now() - timedelta(seconds=SCRIPT_SECONDS)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Simulator, str]]:
    with Simulator(clock=ScriptInThePast()) as sim:
        config = tmp_path / "demo.toml"
        config.write_text(demo_config_text(sim.base_url))
        yield sim, str(config)


def status(
    demo: tuple[Simulator, str], t: float, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[str]]:
    sim, config = demo
    sim.set_time(t)
    code = main(["status", "--fresh", "-c", config, *args])
    return code, capsys.readouterr().out.rstrip("\n").split("\n")


def counts(lines: list[str]) -> tuple[int, ...]:
    match = COUNTS.match(lines[-1])
    assert match, lines
    return tuple(int(g) for g in match.groups() if g and g[0].isdigit())


def test_a_red_main_says_since_when_and_who_broke_it(
    demo: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = status(demo, moments.MAIN_RED_TWICE, capsys)
    assert code == 1
    assert lines[0] == "buildradiator demo: 1 broken, release HOLD"
    [red] = [line for line in lines if "✖ main red:" in line]
    assert re.fullmatch(
        r"  ✖ main red: acme/monolith \(github\) since \d\d:\d\d \(\d+m ago\), 2 builds in a "
        r'row; broken by Mallory c0ffee0 "Fix login flow"',
        red,
    ), red
    assert "  ✖ release HOLD: main red: acme/monolith" in lines
    green, red_count, _running, up, warn, down = counts(lines)
    # (a loaded machine may answer a health check slowly enough to warn)
    assert red_count == 1 and down == 0 and green >= 10 and up + warn >= 3


def test_a_suspect_deploy_names_the_service_why_and_the_release_reasons(
    demo: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = status(demo, moments.DEPLOY_SUSPECT, capsys)
    assert code == 1
    assert lines[0] == "buildradiator demo: 2 broken, release HOLD"
    [deploy] = [line for line in lines if "deploy suspect:" in line]
    assert re.match(r"  ✖ deploy suspect: payments \(prod\) [0-9a-f]{7} since .*: .+", deploy)
    assert "went live" in deploy
    [down] = [line for line in lines if "✖ down:" in line]
    assert down.startswith("  ✖ down: payments (prod) since ")
    [hold] = [line for line in lines if "release HOLD" in line and line.startswith("  ")]
    for reason in ("payments (prod) down", "PaymentsHighErrorRate", "suspect", "blocker"):
        assert reason in hold, hold
    _green, red, _running, _up, _warn, down_count = counts(lines)
    assert red == 0 and down_count == 1


def test_a_source_that_is_not_fresh_says_why(
    demo: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = status(demo, moments.FEED_DOWN, capsys)
    assert code == 3
    assert lines[0].startswith("buildradiator demo: nothing broken, 1 source not fresh")
    [jenkins] = [line for line in lines if line.startswith("  ? jenkins:")]
    assert re.fullmatch(
        r"  \? jenkins: (stale|waiting): .*closed the connection.* \(no data yet\)",
        jenkins,
    ), jenkins


def test_calm_says_nothing_broken_and_names_the_warning(
    demo: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's unlabelled ``WatchdogMissing`` warning fires all along: the screen then says
    "nothing broken | WatchdogMissing warn", never "all green", and so does ``status``."""
    code, lines = status(demo, moments.CALM, capsys)
    assert code == 0
    assert lines[0] == "buildradiator demo: nothing broken, WatchdogMissing warn, release GO"
    assert len(lines) == 2, lines
    green, red, running, up, warn, down = counts(lines)
    assert (red, down) == (0, 0) and green >= 10 and running >= 1 and up + warn >= 3


def test_ascii_summary_is_pure_ascii(
    demo: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Act 2: CircleCI's row is "acme/mobile-api · build-test", a non-ASCII name from CI.
    _code, lines = status(demo, 530, capsys, "--ascii")
    text = "\n".join(lines)
    assert text.isascii(), text
    assert "x main red: acme/mobile-api . build-test (circleci)" in text
    assert " | services: " in lines[-1]


def test_json_and_line_formats_are_unchanged(
    demo: tuple[Simulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _code, lines = status(demo, moments.MAIN_RED, capsys, "--format", "line")
    assert len(lines) == 1 and lines[0].startswith("✖ RED acme/monolith ")
    _code, lines = status(demo, moments.MAIN_RED, capsys, "--json")
    assert lines[0] == "{" and lines[-1] == "}"


# -- what the simulator never shows: notices, waiting and cached sources ---------------------------


def test_notices_waiting_and_cached_sources_are_listed() -> None:
    snapshot = Snapshot(
        taken_at=NOW,
        title="ours",
        sources=(
            SourceState(name="gh", type="github", freshness=Freshness.WAITING, stale=True),
            SourceState(
                name="gl",
                type="gitlab",
                freshness=Freshness.CACHED,
                stale=True,
                last_success=NOW - timedelta(minutes=5),
            ),
            SourceState(name="ok", type="cctray", last_success=NOW),
        ),
        notices=("the history file was damaged and moved aside",),
    )
    lines = status_text(snapshot, NOW).split("\n")
    assert lines == [
        "ours: nothing broken, 2 sources not fresh",
        "  ? gh: waiting: no answer yet",
        "  ? gl: cached: the last run's data, not confirmed yet (last data 5m ago)",
        "  ! the history file was damaged and moved aside",
        "  pipelines: 0 green, 0 red, 0 running",
    ]


def test_a_stale_window_and_a_gate_without_reasons_still_read() -> None:
    window = BrokenWindow(
        kind="pipeline", source="jenkins", key="a", name="Tomás’s job", stale=True
    )
    snapshot = Snapshot(taken_at=NOW, broken=(window,), gate=ReleaseGate(go=False, reasons=()))
    text = status_text(snapshot, NOW, ascii=True)
    assert text.split("\n")[:3] == [
        "buildradiator: 1 broken, release HOLD",
        "  x main red: Tomas's job (jenkins) (stale)",
        "  x release HOLD: no reason given",
    ]
    gate = ReleaseGate(go=False, reasons=(GateReason(kind="stale", text="no fresh data"),))
    assert "release HOLD: no fresh data" in status_text(
        snapshot.model_copy(update={"gate": gate}), NOW
    )


def test_to_ascii_folds_what_it_can() -> None:
    assert to_ascii("Tomás — “ok” … ✖ 🎉") == 'Tomas - "ok" ... ? ?'


def test_all_green_only_when_the_screen_says_all_green() -> None:
    green = green_estate()
    assert status_text(green, FIXTURE_NOW).splitlines()[0].startswith(f"{green.title}: all green")
    held = green.model_copy(update={"gate": ReleaseGate(go=False, reasons=())})
    assert ": all green" not in status_text(held, FIXTURE_NOW).splitlines()[0]
