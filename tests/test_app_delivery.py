"""The Delivery screen, read off the whole rendered screen: ``d`` opens it over the radiator (the
banner stays in sight), it shows the four keys with band and trend, per service and congestion at
main, follows new snapshots, says what is missing instead of zeros, keeps CI names literal, and
the command palette offers it."""

from __future__ import annotations

from datetime import UTC, datetime

from app_helpers import make_app
from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.history.facts import HistoryFacts
from buildradiator.model import DeliveryFact, Snapshot
from buildradiator.simulator.backfill import backfill
from buildradiator.ui.widgets.delivery import DeliveryScreen
from snapshot_fixtures import red_estate

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOSTILE = "[b]pwn[/b]\x1b[2J"


def screen_text(app: object) -> str:
    strips = app.screen._compositor.render_strips()  # type: ignore[attr-defined]
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def with_delivery(snapshot: Snapshot) -> Snapshot:
    history = History.memory(clock=FakeClock(NOW))
    backfill(history, snapshot.pipelines, now=NOW, days=30)
    recorder = HistoryFacts(history)
    recorder.refresh([(p.source, p.key) for p in snapshot.pipelines])
    facts = recorder.current()
    hostile = DeliveryFact(
        key="deploy_frequency",
        scope=f"{HOSTILE}/production",
        window_days=7,
        value=0.5,
        unit="per_day",
        band="high",
    )
    stage = DeliveryFact(
        key="stage_time",
        scope="github:acme/monolith › integration",
        window_days=7,
        value=540.0,
        unit="seconds",
        p90=780.0,
        note="integration dominates: 62% of the build's stage time",
    )
    long_name = DeliveryFact(  # a name as wide as the column
        key="deploy_frequency", scope="payments-api/production", window_days=7, value=2.14,
        unit="per_day", band="elite",
    )  # fmt: skip
    argo = DeliveryFact(  # Argo CD spells production "prod"
        key="deploy_frequency", scope="checkout/prod", window_days=7, value=3.0, unit="per_day",
        band="elite",
    )  # fmt: skip
    return snapshot.model_copy(
        update={
            "delivery": (*facts.delivery, hostile, stage, argo, long_name),
            "delivery_at": facts.delivery_at,
        }
    )


async def test_d_opens_the_delivery_screen_over_the_radiator_at_120x35() -> None:
    snap = with_delivery(red_estate())
    app = make_app(snap, clock=FakeClock(NOW))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DeliveryScreen)
        text = screen_text(app)
        lines = text.splitlines()
        # The red banner is not covered: a retro never hides a broken main.
        assert "MAIN RED" in "\n".join(lines[:4]) or "RED" in "\n".join(lines[:4])
        assert "Delivery" in text and "7 days" in text and "30 days" in text
        frequency = next(line for line in lines if "Deployment frequency" in line)
        assert "/day" in frequency and "elite" in frequency
        assert any("Lead time for changes" in line and "p90" in line for line in lines)
        assert "Change failure rate" in text and "Time to restore" in text
        assert "Per service in production (7 days)" in text
        assert any(line.lstrip("│ ").startswith("checkout ") for line in lines), text
        assert "Congestion at main (7 days)" in text and "Queue wait on main" in text
        # Below the fold at 35 rows: the box scrolls to it.
        screen = app.screen
        assert isinstance(screen, DeliveryScreen)
        stage = next(line for line in screen.plain.splitlines() if "monolith › integ" in line)
        assert "9m 00s, p90 13m 00s" in stage and "integration dominates: 62%" in stage
        await pilot.press("end")
        await pilot.pause()
        assert "acme/monolith › integration" in screen_text(app)
        # A name from CI is shown as it is: never markup, never an escape.
        assert "[b]pwn[/b]" in text and "\x1b" not in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DeliveryScreen)


async def test_at_80x24_in_ascii_it_fits_and_keeps_to_ascii() -> None:
    snap = with_delivery(red_estate())
    app = make_app(snap, clock=FakeClock(NOW), ascii=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        text = screen_text(app)
        assert "Deployment frequency" in text
        assert all(len(line) <= 80 for line in text.splitlines())
        assert all(ch.isascii() for ch in text), [ch for ch in text if not ch.isascii()][:5]


async def test_without_delivery_facts_it_says_where_they_come_from() -> None:
    app = make_app(red_estate(), clock=FakeClock(NOW))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        text = screen_text(app)
        assert "No delivery measures yet" in text and "history" in text
        assert "0%" not in text  # no made-up zeros


async def test_it_follows_new_snapshots_and_the_palette_offers_it() -> None:
    first = red_estate()
    app = make_app(first, clock=FakeClock(NOW))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Delivery measures"].callback()
        await pilot.pause()
        assert isinstance(app.screen, DeliveryScreen)
        assert "No delivery measures yet" in screen_text(app)
        app._feed.publish(with_delivery(first))  # type: ignore[attr-defined]
        for _ in range(40):
            if "Deployment frequency" in screen_text(app):
                break
            await pilot.pause(0.05)
        assert "Deployment frequency" in screen_text(app)
        assert "No delivery measures yet" not in screen_text(app)


# --- the wall's calm rotation -----------------------------------------------------------------


async def test_the_calm_wall_shows_the_delivery_keys_every_third_page_and_never_while_red() -> None:
    from buildradiator.ui.widgets.wall import WallView
    from snapshot_fixtures import green_estate

    clock = FakeClock(NOW)
    green = with_delivery(green_estate())
    app = make_app(green, clock=clock, mode="wall", page_seconds=10)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        wall = app.query_one(WallView)
        app._tick()
        await pilot.pause()
        assert not wall.showing_delivery and "DELIVERY" not in screen_text(app)
        clock.advance(20)  # the third page's time: the delivery keys
        app._tick()
        await pilot.pause()
        text = screen_text(app)
        assert wall.showing_delivery, text
        assert "DELIVERY, LAST 7 DAYS" in text and "ALL GREEN" in text
        assert "Deployment frequency" in text and "ELITE" in text
        assert "Lead time for changes" in text and "/day" in text
        clock.advance(10)  # and back to the tiles
        app._tick()
        await pilot.pause()
        assert not wall.showing_delivery
        # Red: the tiles, at once and for as long as it stays red, whatever the clock says.
        clock.advance(20)
        app._tick()
        await pilot.pause()
        assert wall.showing_delivery
        app._feed.publish(with_delivery(red_estate()))  # type: ignore[attr-defined]
        for _ in range(40):
            if not wall.showing_delivery:
                break
            await pilot.pause(0.05)
        assert not wall.showing_delivery and "DELIVERY" not in screen_text(app)
        for _ in range(3):
            clock.advance(10)
            app._tick()
            await pilot.pause()
            assert not wall.showing_delivery


async def test_the_calm_wall_without_delivery_facts_keeps_its_tiles() -> None:
    from buildradiator.ui.widgets.wall import WallView
    from snapshot_fixtures import green_estate

    clock = FakeClock(NOW)
    app = make_app(green_estate(), clock=clock, mode="wall", page_seconds=10)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        for _ in range(4):
            clock.advance(10)
            app._tick()
            await pilot.pause()
            assert not app.query_one(WallView).showing_delivery


async def test_at_80x24_the_service_table_fits_without_cutting_a_band() -> None:
    snap = with_delivery(red_estate())
    app = make_app(snap, clock=FakeClock(NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        rows = [
            line
            for line in screen_text(app).splitlines()
            if "/day" in line and ("elite" in line or "high" in line) and "restore" not in line
        ]
        services = [line for line in rows if "Deployment frequency" not in line]
        assert services, screen_text(app)
        assert not any("…" in line for line in services), "\n".join(services)
        assert any("payments-api 2.14/day" in line for line in services), "\n".join(services)
