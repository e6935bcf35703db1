"""The app carrying out alerts, hooks and claims (Pilot, fake clock): a main that turns red
flashes the banner, rings, toasts, notifies the desktop and grows louder the longer it stays red;
hooks run in the background; ``a`` claims a red pipeline."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from textual.widgets import Input

from alert_helpers import ESCALATE, FLASH, FakeFeed, Recorder, green, make_app, red
from buildradiator.clock import FakeClock
from buildradiator.config.loading import AlertsConfig, HookConfig
from buildradiator.ui.app import BuildRadiatorApp
from buildradiator.ui.claims import ClaimStore
from buildradiator.ui.hooks import HookRunner
from buildradiator.ui.widgets import Banner, MainBranches
from buildradiator.ui.widgets.claim import ClaimScreen
from buildradiator.ui.widgets.wall import WallHead


def banner(app: BuildRadiatorApp) -> Banner:
    return app.query_one(Banner)


async def test_red_main_flashes_rings_toasts_notifies_grows_and_recovers() -> None:
    clock = FakeClock()
    app, feed, rec = make_app(green(), clock=clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert rec.bells == 0 and not rec.toasts  # green at start-up: nothing to say
        feed.publish(red())
        await pilot.pause()
        assert rec.bells == 1
        assert rec.toasted("acme/monolith", "turned red", "Mallory")
        assert rec.toasted("acme/monolith")[0] == "acme/monolith turned red: c0ffee0 by Mallory"
        assert banner(app).has_class("-red") and banner(app).has_class("flash")
        # The desktop notification went to the terminal, both flavours.
        assert b"\x1b]9;acme/monolith turned red: c0ffee0 by Mallory" in rec.written
        assert b"\x1b]777;notify;acme/monolith turned red;" in rec.written

        # The flash blinks while it lasts and stops after flash_seconds.
        clock.advance(2)
        app._tick()
        assert banner(app).has_class("flash")
        clock.advance(FLASH)
        app._tick()
        assert not banner(app).has_class("flash") and not banner(app).has_class("-blink")
        assert not any(banner(app).has_class(f"level-{n}") for n in (1, 2, 3))
        height = banner(app).outer_size.height

        # Still red after escalate_after: the banner grows and the bell rings again.
        clock.advance(ESCALATE)
        app._tick()
        await pilot.pause()
        assert banner(app).has_class("level-1") and rec.bells == 2
        assert banner(app).outer_size.height > height
        clock.advance(ESCALATE)
        app._tick()
        await pilot.pause()
        assert banner(app).has_class("level-2") and not banner(app).has_class("level-1")
        level2 = banner(app).outer_size.height
        clock.advance(2 * ESCALATE)
        app._tick()
        await pilot.pause()
        assert banner(app).has_class("level-3") and rec.bells == 4
        assert banner(app).outer_size.height >= level2 > height

        # Recovery: announced, the banner calms down.
        feed.publish(green(9102))
        await pilot.pause()
        assert rec.toasted("acme/monolith is green again")
        assert rec.toasts[-1][1] == "information"
        assert rec.bells == 5
        assert b"acme/monolith is green again" in rec.written
        assert not banner(app).has_class("-red")
        assert not any(banner(app).has_class(f"level-{n}") for n in (1, 2, 3))


async def test_quiet_hours_keep_it_silent_but_visible() -> None:
    clock = FakeClock()
    quiet = AlertsConfig(escalate_after=ESCALATE, flash_seconds=FLASH, quiet_hours="00:00-00:00")
    app, feed, rec = make_app(green(), clock=clock, alerts=quiet)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        assert rec.bells == 0
        assert rec.written == b""
        assert rec.toasted("acme/monolith turned red", "Mallory")
        assert banner(app).has_class("flash")
        clock.advance(ESCALATE + 1)
        app._tick()
        assert banner(app).has_class("level-1") and rec.bells == 0


async def test_a_red_main_at_start_up_is_taken_in_silently() -> None:
    clock = FakeClock()
    app, _feed, rec = make_app(red(), clock=clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert banner(app).has_class("-red")
        assert rec.bells == 0 and not rec.toasts and rec.written == b""
        assert not banner(app).has_class("flash")


async def test_the_wall_header_flashes_and_grows_too() -> None:
    clock = FakeClock()
    app, feed, rec = make_app(green(), clock=clock, mode="wall")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        head = app.query_one(WallHead)
        assert head.has_class("flash") and rec.bells == 1
        clock.advance(ESCALATE + FLASH)
        app._tick()
        assert not head.has_class("flash") and head.has_class("level-1")


def hook_app(
    clock: FakeClock, command: list[str], timeout: float = 10.0
) -> tuple[BuildRadiatorApp, FakeFeed, Recorder, HookRunner]:
    hooks = HookRunner([HookConfig(command=command, timeout=timeout)], clock)
    app, feed, rec = make_app(green(), clock=clock, hooks=hooks)
    return app, feed, rec, hooks


async def test_a_hook_runs_with_the_facts_in_its_environment(tmp_path: Path) -> None:
    out = tmp_path / "facts.json"
    script = (
        "import json, os, sys; "
        "json.dump({k: v for k, v in os.environ.items() if k.startswith('BUILDRADIATOR_')}, "
        "open(sys.argv[1], 'w'))"
    )
    app, feed, _rec, hooks = hook_app(FakeClock(), [sys.executable, "-c", script, str(out)])
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        for _ in range(100):  # the worker starts the hook on the next turns of the loop
            if hooks.results or hooks.running:
                break
            await asyncio.sleep(0.02)
        await hooks.wait()
        assert [r.outcome for r in hooks.results] == ["ok"]
    facts = json.loads(out.read_text())
    assert facts["BUILDRADIATOR_NAME"] == "acme/monolith"
    assert facts["BUILDRADIATOR_EVENT"] == "red"
    assert facts["BUILDRADIATOR_AUTHOR"] == "Mallory"


async def test_a_failing_hook_is_a_toast() -> None:
    clock = FakeClock()
    app, feed, rec, hooks = hook_app(clock, [sys.executable, "-c", "raise SystemExit(3)"])
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        for _ in range(200):
            if hooks.results:
                break
            await asyncio.sleep(0.02)
        await pilot.pause()
        assert rec.toasted("hook", "exited with code 3")


async def test_a_hanging_hook_never_blocks_the_app() -> None:
    clock = FakeClock()
    hang = [sys.executable, "-c", "import time; time.sleep(60)"]
    app, feed, _rec, hooks = hook_app(clock, hang, timeout=30)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        for _ in range(100):
            if hooks.running:
                break
            await asyncio.sleep(0.02)
        assert hooks.running == 1
        # Keys still answer while the hook hangs.
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("h")
        await pilot.pause()
        assert app.query_one(MainBranches).finder.hide_passing
        assert hooks.running == 1
    # Leaving the app killed and reaped it (no ResourceWarning, warnings are errors).
    assert hooks.running == 0


async def test_claim_with_a_note_shows_on_banner_and_row_and_clears_when_green(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    path = tmp_path / "claims.json"
    claims = ClaimStore(path, clock)
    app, feed, rec = make_app(green(), clock=clock, claims=claims)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        table = app.query_one(MainBranches)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ClaimScreen)
        app.screen.query_one("#claim-who", Input).value = "dana"
        await pilot.press(*"reverting")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ClaimScreen)
        assert "claimed by dana: reverting" in banner(app).plain
        first = "  ".join(c.plain for c in table.get_row_at(0))
        assert "acme/monolith" in first and "⚑ dana" in first
        stored = json.loads(path.read_text())
        assert [(c["key"], c["who"], c["note"]) for c in stored["claims"]] == [
            ("acme/monolith", "dana", "reverting")
        ]
        assert rec.toasted("claimed by dana")

        # Green again: the claim clears itself, from the screen and the file.
        clock.advance(300)
        feed.publish(green(9102))
        await pilot.pause()
        assert "claimed" not in banner(app).plain
        assert all("⚑" not in c.plain for i in range(table.row_count) for c in table.get_row_at(i))
        assert json.loads(path.read_text())["claims"] == []


async def test_claim_in_ascii_mode_and_release_with_shift_a(tmp_path: Path) -> None:
    clock = FakeClock()
    claims = ClaimStore(tmp_path / "claims.json", clock)
    app, feed, rec = make_app(green(), clock=clock, claims=claims, ascii=True)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        table = app.query_one(MainBranches)
        table.focus()
        # The cursor followed acme/billing (selected first) down; the red row is on top.
        table.move_cursor(row=0)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ClaimScreen), rec.toasts
        await pilot.press("enter")  # the default name, no note
        await pilot.pause()
        claim = claims.get("gh", "acme/monolith")
        assert claim is not None and claim.note == ""
        first = "  ".join(c.plain for c in app.query_one(MainBranches).get_row_at(0))
        assert f"@{claim.who[:12]}" in first and "⚑" not in first
        assert f"claimed by {claim.who}" in banner(app).plain
        await pilot.press("A")
        await pilot.pause()
        assert claims.get("gh", "acme/monolith") is None
        assert "claimed" not in banner(app).plain


async def test_a_on_a_green_row_claims_nothing() -> None:
    clock = FakeClock()
    app, _feed, rec = make_app(green(), clock=clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.query_one(MainBranches).focus()
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ClaimScreen)
        assert rec.toasted("not red")


async def test_escape_cancels_a_claim(tmp_path: Path) -> None:
    clock = FakeClock()
    claims = ClaimStore(tmp_path / "claims.json", clock)
    app, feed, _rec = make_app(green(), clock=clock, claims=claims)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        app.query_one(MainBranches).focus()
        app.query_one(MainBranches).move_cursor(row=0)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ClaimScreen)
        await pilot.press("x", "escape")
        await pilot.pause()
        assert claims.active() == ()
        assert not (tmp_path / "claims.json").exists()


@pytest.mark.parametrize("ascii", [False, True])
async def test_the_wall_has_no_claim_key(ascii: bool) -> None:
    app, feed, _rec = make_app(green(), clock=FakeClock(), mode="wall", ascii=ascii)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ClaimScreen)


async def test_a_on_a_green_row_while_main_is_red_claims_the_banners_pipeline(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    claims = ClaimStore(tmp_path / "claims.json", clock)
    app, feed, _rec = make_app(green(), clock=clock, claims=claims)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(red())
        await pilot.pause()
        table = app.query_one(MainBranches)
        # The table stays at the top (the red row) until someone moves: step onto billing.
        table.focus()
        await pilot.press("down")
        await pilot.pause()
        assert "acme/billing" in "".join(c.plain for c in table.get_row_at(table.cursor_row))
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ClaimScreen)
        assert app.screen.pipeline_name == "acme/monolith"
        await pilot.press("enter")
        await pilot.pause()
        assert claims.get("gh", "acme/monolith") is not None
        assert claims.get("gh", "acme/billing") is None


async def test_a_broken_claims_file_is_a_toast_and_claims_still_work(tmp_path: Path) -> None:
    path = tmp_path / "claims.json"
    path.write_text('{"claims": [{"who": tru')  # truncated
    clock = FakeClock()
    app, feed, rec = make_app(green(), clock=clock, claims=ClaimStore(path, clock))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert rec.toasted("not a claims file")
        feed.publish(red())
        await pilot.pause()
        await pilot.press("a", "enter")
        await pilot.pause()
        assert "claimed by" in banner(app).plain
    assert json.loads(path.read_text())["claims"][0]["key"] == "acme/monolith"
