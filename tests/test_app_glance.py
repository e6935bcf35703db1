"""Issue 13 and 12 on the whole screen: a claim that fits its row, an ASCII screen that is all
ASCII, a selection that follows its pipeline, a detail that does not contradict itself, a top
line that sums up the gate, cached data and notices. Every assertion reads the rendered screen.
"""

from __future__ import annotations

from datetime import timedelta

from alert_helpers import green, red
from app_helpers import make_app
from buildradiator.clock import FakeClock
from buildradiator.model import (
    Freshness,
    GateReason,
    Health,
    ReleaseGate,
    ServiceCheck,
    Snapshot,
    Status,
)
from buildradiator.ui.claims import ClaimStore
from screen import box_titled, find_boxes, screen_lines, show
from snapshot_fixtures import NOW, build, green_estate, pipeline, red_estate


def selected_row(app: object, title: str) -> str:
    """The row of a panel drawn in the selection's colours (the cursor bar)."""
    strips = app.screen._compositor.render_strips()  # type: ignore[attr-defined]
    lines = ["".join(seg.text for seg in strip) for strip in strips]
    box = box_titled(lines, title)
    assert box is not None, show(lines)
    backgrounds: dict[int, set[str]] = {}
    for y in range(box.top + 1, box.bottom):
        x, colours = 0, set()
        for seg in strips[y]:
            if box.left < x < box.right and seg.text.strip() and seg.style and seg.style.bgcolor:
                colours.add(str(seg.style.bgcolor))
            x += len(seg.text)
        backgrounds[y] = colours
    common = [b for b in backgrounds.values() if b]
    odd = [y for y, b in backgrounds.items() if b and common.count(b) == 1]
    assert len(odd) == 1, (odd, show(lines))
    return lines[odd[0]]


async def test_a_claim_fits_the_rows_layout() -> None:
    """Claiming adds no column: every row keeps its place, the claim stands where the author
    was, and no text runs over a border."""
    clock = FakeClock()
    app = make_app(red(), clock=clock, claims=ClaimStore(None, clock))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        before = screen_lines(app)
        app._claims.claim("gh", "acme/monolith", "dana", "reverting")
        app._show_all()
        await pilot.pause()
        after = screen_lines(app)
        _, broken = find_boxes(after)
        assert not broken, show(after)
        row = next(line for line in after if "acme/monolith" in line and "│" in line)
        assert "⚑ dana" in row, show(after)
        billing = [line for line in before if "acme/billing" in line]
        assert billing and billing == [line for line in after if "acme/billing" in line]
        assert "claimed by dana: reverting" in after[0], show(after)


async def test_ascii_screens_are_pure_ascii() -> None:
    """``--ascii``: every character on the screen, borders, scrollbars and messages included."""
    app = make_app(red_estate(), ascii=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.notify("payments is down: HTTP 503", severity="error")
        app.query_one("#main-branches").focus()
        await pilot.press("slash", "x")
        await pilot.pause()
        for lines in (screen_lines(app),):
            bad = {ch for line in lines for ch in line if ord(ch) >= 128}
            assert not bad, (bad, show(lines))
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        lines = screen_lines(app)
        assert not {ch for line in lines for ch in line if ord(ch) >= 128}, show(lines)
        await pilot.press("escape", "enter")
        await pilot.pause()
        lines = screen_lines(app)
        assert "Recent builds" in "\n".join(lines), show(lines)
        assert not {ch for line in lines for ch in line if ord(ch) >= 128}, show(lines)
        await pilot.press("escape")
        await pilot.pause()
        app.query_one("#main-branches").focus()
        await pilot.press("a")  # the claim dialog
        await pilot.pause()
        lines = screen_lines(app)
        assert "Claim" in "\n".join(lines), show(lines)
        assert not {ch for line in lines for ch in line if ord(ch) >= 128}, show(lines)
    wall = make_app(red_estate(), ascii=True, mode="wall")
    async with wall.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        lines = screen_lines(wall)
        assert not {ch for line in lines for ch in line if ord(ch) >= 128}, show(lines)


async def test_the_selection_follows_its_pipeline_when_rows_re_sort() -> None:
    """Someone chose acme/billing; a poll re-sorts the rows (it starts running, another goes
    red): acme/billing is still the one selected, wherever it moved; after a resize too."""
    estate = red_estate()
    app = make_app(estate)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.query_one("#main-branches").focus()
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert "acme/billing" in selected_row(app, "Main branches")
        running = build("acme/billing", 312, Status.RUNNING, started=30)
        docs_red = build("docs-site", 41, Status.FAILED, finished=10)
        moved = tuple(
            p.model_copy(update={"in_flight": (running,)})
            if p.name == "acme/billing"
            else p.model_copy(update={"recent": (docs_red, *p.recent)})
            if p.name == "docs-site"
            else p
            for p in estate.pipelines
        )
        app._feed.publish(estate.model_copy(update={"pipelines": moved}))  # type: ignore[attr-defined]
        await pilot.pause()
        assert "acme/billing" in selected_row(app, "Main branches")
        app.query_one("#production").focus()  # the selection stays when focus goes elsewhere
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        app._feed.publish(estate)  # type: ignore[attr-defined]
        await pilot.pause()
        assert "acme/billing" in selected_row(app, "Main branches")


async def test_the_detail_does_not_contradict_itself_without_history() -> None:
    app = make_app(red_estate())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.query_one("#main-branches").focus()
        await pilot.press("enter")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "Recent builds" in text and "3 builds" in text, text
        assert "no history" not in text, text
        assert "as reported by the CI" in text, text


def hold_without_broken_windows() -> Snapshot:
    alert = ServiceCheck(
        source="am", name="PaymentsLatency", kind="alert", health=Health.DOWN, service="payments"
    )
    gate = ReleaseGate(
        go=False,
        reasons=(GateReason(kind="critical_alert", text="critical alert PaymentsLatency"),),
    )
    return green_estate().model_copy(
        update={"services": (*green_estate().services, alert), "gate": gate}
    )


async def test_the_top_line_sums_up_the_gate_cached_data_and_notices() -> None:
    app = make_app(hold_without_broken_windows())
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        assert "all green" not in "\n".join(lines), show(lines)
        assert lines[0].startswith(" ✖ release HOLD: critical alert PaymentsLatency"), show(lines)
        # The last run's data, read from the cache at start-up: marked, with its age, up top
        # and in the status bar, until fresh data replaces it.
        estate = green_estate()
        cached = tuple(
            s.model_copy(
                update={
                    "freshness": Freshness.CACHED,
                    "stale": True,
                    "last_success": NOW - timedelta(hours=2),
                }
            )
            for s in estate.sources
        )
        notice = "the history file was damaged and moved aside to /data/history.db.corrupt"
        names = frozenset(s.name for s in cached)
        app._feed.publish(  # type: ignore[attr-defined]
            estate.model_copy(
                update={"sources": cached, "notices": (notice,), "stale_sources": names}
            )
        )
        await pilot.pause()
        lines = screen_lines(app)
        assert "all green" not in "\n".join(lines), show(lines)
        assert "cached from the last run, 2h old" in lines[0], show(lines)
        assert "cached 2h" in lines[-1] and notice[:60] in lines[-1], show(lines)
        # Every row from the cache says so, with its age; none reads as passed or up.
        for name in ("acme/monolith", "checkout"):
            row = next(line for line in lines if f" {name} " in line)
            assert "? cached 2h" in row and "✔" not in row, show(lines)
        app._feed.publish(estate)  # type: ignore[attr-defined]
        await pilot.pause()
        lines = screen_lines(app)
        assert lines[0].startswith(" ✔ all green"), show(lines)
        assert "cached" not in "\n".join(lines) and "damaged" not in lines[-1], show(lines)


async def test_panels_keep_their_place_as_builds_come_and_go() -> None:
    """In flight grows from nothing to a dozen builds: In flight, Flaky and Targets keep their
    place and size (Targets never goes), and the screen says how many builds are out of sight."""
    from app_helpers import with_targets

    estate = with_targets(green_estate())
    app = make_app(estate)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        before = {w.id: w.region for w in app.query("#in-flight, #flaky, #targets")}
        assert all(r.height for r in before.values()), before
        many = tuple(
            pipeline(
                f"busy/{n}",
                (build(f"busy/{n}", 1, Status.PASSED, finished=60),),
                (build(f"busy/{n}", 2, Status.RUNNING, started=30, estimate=600),),
            )
            for n in range(12)
        )
        busy = estate.model_copy(update={"pipelines": (*estate.pipelines, *many)})
        app._feed.publish(busy)  # type: ignore[attr-defined]
        await pilot.pause()
        after = {w.id: w.region for w in app.query("#in-flight, #flaky, #targets")}
        assert after == before
        lines = screen_lines(app)
        box = box_titled(lines, "In flight")
        assert box is not None and "more" in lines[box.bottom], show(lines)
        assert box_titled(lines, "Targets") is not None, show(lines)


async def test_a_message_about_a_broken_window_goes_when_the_window_does() -> None:
    """ "payments is down: HTTP 500" must not stay on screen once payments answers 200 (warn):
    what was said is taken back, and what is true now said instead."""
    from alert_helpers import make_app as alerting_app
    from buildradiator.model import BrokenWindow

    def payments(health: Health, status: int, broken: bool) -> Snapshot:
        check = ServiceCheck(
            source="gh",
            name="payments",
            environment="prod",
            health=health,
            http_status=status,
            detail=f"HTTP {status}",
        )
        window = BrokenWindow(
            kind="service",
            source="gh",
            key="payments@prod",
            name="payments",
            since=NOW,
            message=f"HTTP {status}",
        )
        base = green()
        return base.model_copy(update={"services": (check,), "broken": (window,) if broken else ()})

    clock = FakeClock()
    app, feed, _rec = alerting_app(green(), clock=clock)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        feed.publish(payments(Health.DOWN, 500, broken=True))
        await pilot.pause()
        assert "payments is down: HTTP 500" in screen_lines(app)[-1]
        clock.advance(2)
        feed.publish(payments(Health.DOWN, 503, broken=True))  # still down, for another reason
        await pilot.pause()
        assert "HTTP 500" not in screen_lines(app)[-1], screen_lines(app)[-1]
        clock.advance(3)  # well within the 15 s the message would otherwise stay
        feed.publish(payments(Health.WARN, 200, broken=False))
        await pilot.pause()
        bottom = screen_lines(app)[-1]
        assert "is down" not in bottom and "(+" not in bottom, bottom
        assert "payments is no longer down (now warn) after 5s" in bottom, bottom
        clock.advance(9)  # the news of the change has been read; the old news stays gone
        app._tick()
        await pilot.pause()
        assert "payments" not in screen_lines(app)[-1], screen_lines(app)[-1]
