"""The escalation timeline, driven with explicit times: new, escalated, quiet, recovered, restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from buildradiator.config.loading import AlertsConfig
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
from buildradiator.ui.alerts import (
    Bell,
    Escalation,
    Flash,
    Level,
    Notify,
    Toast,
    Withdraw,
    is_quiet,
    level_for,
)

# A Thursday, in UTC (the zone quiet hours are read in for these tests).
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MONOLITH = ("pipeline", "gh", "acme/monolith")
CONFIG = AlertsConfig(flash_seconds=5, escalate_after=900, repeat_every=600)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def pipeline(status: Status = Status.PASSED, key: str = "acme/monolith") -> Pipeline:
    build = Build(
        source="gh",
        pipeline=key,
        id="1",
        status=status,
        commit="c0ffee0123456789",
        author="Mallory",
        finished_at=T0,
    )
    return Pipeline(source="gh", key=key, name=key, recent=(build,))


def red(since: datetime = T0, key: str = "acme/monolith", stale: bool = False) -> BrokenWindow:
    return BrokenWindow(
        kind="pipeline",
        source="gh",
        key=key,
        name=key,
        since=since,
        commit="c0ffee0123456789",
        author="Mallory",
        message="Break everything",
        stale=stale,
    )


def snap(
    *broken: BrokenWindow,
    keys: tuple[str, ...] = ("acme/monolith",),
    stale: bool = False,
    services: tuple[ServiceCheck, ...] = (),
) -> Snapshot:
    red_keys = {w.key for w in broken if w.kind == "pipeline"}
    return Snapshot(
        taken_at=T0,
        pipelines=tuple(
            pipeline(Status.FAILED if k in red_keys else Status.PASSED, k) for k in keys
        ),
        services=services,
        sources=(SourceState(name="gh", type="github", last_success=T0, stale=stale),),
        broken=broken,
        stale_sources=frozenset({"gh"}) if stale else frozenset(),
    )


def empty_start() -> Snapshot:
    """What the engine publishes before any source has answered."""
    return Snapshot(taken_at=T0, sources=(SourceState(name="gh", type="github"),))


def started(config: AlertsConfig = CONFIG, **kwargs: object) -> Escalation:
    """An escalation that has seen one green snapshot (so the next red is news)."""
    esc = Escalation(config, tz=UTC, **kwargs)  # type: ignore[arg-type]
    assert esc.observe(snap(), at(-60)) == []
    return esc


def bells(actions: list[object]) -> int:
    return sum(isinstance(a, Bell) for a in actions)


def test_level_thresholds() -> None:
    assert [level_for(s, 900) for s in (0, 899, 900, 1799, 1800, 3599, 3600, 99999)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
    ]


def test_new_red_flashes_rings_toasts_and_notifies() -> None:
    esc = started()
    actions = esc.observe(snap(red(T0)), at(0))
    assert actions == [
        Flash(at(5)),
        Bell(),
        Toast("acme/monolith turned red: c0ffee0 by Mallory", "error", MONOLITH),
        Notify("acme/monolith turned red", "c0ffee0 by Mallory: Break everything"),
    ]
    assert esc.flashing(at(4.9)) and not esc.flashing(at(5))
    # The same window again is not news.
    assert esc.observe(snap(red(T0)), at(30)) == []


def test_whole_escalation_timeline() -> None:
    esc = started()
    esc.observe(snap(red(T0)), at(0))
    timeline = {s: esc.tick(at(s)) for s in range(1, 4000)}
    noisy = {s: a for s, a in timeline.items() if a}
    assert noisy == {
        900: [Level(1), Bell()],  # escalated: the banner grows and rings
        1500: [Bell()],  # repeats every 600 s
        1800: [Level(2), Bell()],
        2400: [Bell()],
        3000: [Bell()],
        3600: [Level(3), Bell()],
    }
    assert esc.level == 3
    actions = esc.observe(snap(), at(4000 + 8040))  # 3h 20m after it broke
    assert actions == [
        Withdraw(MONOLITH),  # what was said about it is out of date
        Toast("acme/monolith is green again after 3h 20m", "information", MONOLITH),
        Notify("acme/monolith is green again", "acme/monolith is green again after 3h 20m"),
        Bell(),
        Level(0),
    ]
    assert esc.tick(at(20000)) == []


def test_two_windows_ring_once_and_level_follows_the_oldest() -> None:
    esc = started()
    keys = ("acme/monolith", "acme/web")
    actions = esc.observe(snap(red(T0), red(T0, "acme/web"), keys=keys), at(0))
    assert bells(actions) == 1
    assert sum(isinstance(a, Toast) for a in actions) == 2
    assert sum(isinstance(a, Notify) for a in actions) == 2
    # One of them recovers: announced; the other keeps the level.
    esc.tick(at(1000))
    actions = esc.observe(snap(red(T0, "acme/web"), keys=keys), at(1001))
    assert Toast("acme/monolith is green again after 16m", "information", MONOLITH) in actions
    assert Withdraw(MONOLITH) in actions and Withdraw(("pipeline", "gh", "acme/web")) not in actions
    assert esc.level == 1


def test_quiet_hours_are_silent_but_visible() -> None:
    config = AlertsConfig(escalate_after=900, repeat_every=600, quiet_hours="19:00-08:00")
    esc = Escalation(config, tz=UTC)
    night = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    esc.observe(snap(), night)
    actions = esc.observe(snap(red(night)), night)
    assert [type(a) for a in actions] == [Flash, Toast]  # no Bell, no Notify
    # It escalates silently through the night...
    quiet_ticks = [esc.tick(night + timedelta(minutes=m)) for m in range(1, 9 * 60)]
    assert not any(bells(a) for a in quiet_ticks)
    assert Level(3) in [a for batch in quiet_ticks for a in batch]
    # ...and the first tick at 08:00 rings, because it is still red and long overdue.
    morning = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert esc.tick(morning) == [Bell()]
    assert esc.tick(morning + timedelta(seconds=599)) == []
    assert esc.tick(morning + timedelta(seconds=600)) == [Bell()]


def test_quiet_hours_across_midnight() -> None:
    def quiet(hh: int, mm: int) -> bool:
        when = datetime(2026, 11, 26, hh, mm, tzinfo=UTC)
        return is_quiet(when, "19:00-08:00", False, UTC)

    assert [quiet(*t) for t in ((18, 59), (19, 0), (23, 59), (0, 0), (7, 59), (8, 0))] == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]
    day = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    assert is_quiet(day, "12:30-13:30", False, UTC)
    assert not is_quiet(day, "13:30-12:30", False, UTC)
    assert is_quiet(day, "00:00-00:00", False, UTC)  # start == end: all day
    assert not is_quiet(day, None, False, UTC)


def test_quiet_hours_read_in_the_given_zone() -> None:
    from zoneinfo import ZoneInfo

    # 17:30 UTC is 20:30 in Istanbul (UTC+3): quiet there, not in UTC.
    when = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)
    assert is_quiet(when, "19:00-08:00", False, ZoneInfo("Europe/Istanbul"))
    assert not is_quiet(when, "19:00-08:00", False, UTC)


def test_quiet_weekends() -> None:
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    sunday = datetime(2026, 11, 29, 23, 59, tzinfo=UTC)
    monday = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert is_quiet(saturday, None, True, UTC)
    assert is_quiet(sunday, None, True, UTC)
    assert not is_quiet(monday, None, True, UTC)
    assert not is_quiet(saturday, None, False, UTC)

    esc = Escalation(AlertsConfig(quiet_weekends=True), tz=UTC)
    esc.observe(snap(), saturday)
    actions = esc.observe(snap(red(saturday)), saturday)
    assert bells(actions) == 0 and not any(isinstance(a, Notify) for a in actions)
    assert any(isinstance(a, Toast) for a in actions)


def test_bell_and_desktop_switches() -> None:
    esc = started(AlertsConfig(bell=False, desktop=False, flash_seconds=0))
    actions = esc.observe(snap(red(T0)), at(0))
    assert actions == [Toast("acme/monolith turned red: c0ffee0 by Mallory", "error", MONOLITH)]
    assert esc.tick(at(900)) == [Level(1)]


def test_restart_takes_in_old_windows_silently_with_their_level() -> None:
    esc = Escalation(CONFIG, tz=UTC)
    now = at(2 * 3600)
    # Before the source answers, then its first data: main has been red for 2 hours.
    assert esc.observe(empty_start(), now) == []
    assert esc.observe(snap(red(T0)), now + timedelta(seconds=3)) == [Level(3)]
    # The repeat schedule starts at start-up, not at the age of the window.
    assert esc.tick(now + timedelta(seconds=599)) == []
    assert esc.tick(now + timedelta(seconds=600)) == [Bell()]


def test_restart_mid_escalation_rings_when_the_level_grows() -> None:
    esc = Escalation(CONFIG, tz=UTC)
    assert esc.observe(snap(red(T0)), at(1000)) == [Level(1)]
    assert esc.tick(at(1599)) == []
    assert esc.tick(at(1600)) == [Bell()]  # repeat_every after start-up
    assert esc.tick(at(1799)) == []
    assert esc.tick(at(1800)) == [Level(2), Bell()]  # growing rings even between repeats


def test_stale_windows_neither_alert_nor_recover() -> None:
    esc = started()
    # A window that shows up stale is not news.
    assert esc.observe(snap(red(T0, stale=True), stale=True), at(0)) == []
    esc = started()
    esc.observe(snap(red(T0)), at(0))
    # Its source goes stale: no recovery, no level from stale data.
    assert esc.observe(snap(red(T0, stale=True), stale=True), at(100)) == []
    assert esc.observe(snap(stale=True), at(200)) == []
    assert esc.tick(at(1000)) == []
    # Fresh again and still red: not news either, but its level now counts (and rings).
    assert esc.observe(snap(red(T0)), at(1000)) == [Level(1), Bell()]


def test_a_window_that_leaves_the_radiator_is_forgotten_silently() -> None:
    esc = started()
    esc.observe(snap(red(T0)), at(0))
    assert esc.observe(snap(keys=()), at(60)) == []
    assert esc.level == 0


def test_service_down_and_up() -> None:
    check = ServiceCheck(source="gh", name="api", environment="prod", health=Health.DOWN)
    window = BrokenWindow(
        kind="service", source="gh", key="api@prod", name="api", since=T0, message="HTTP 503"
    )
    esc = started()
    actions = esc.observe(snap(window, services=(check,)), at(0))
    api = ("service", "gh", "api@prod")
    assert Toast("api is down: HTTP 503", "error", api) in actions
    assert Notify("api is down", "HTTP 503") in actions
    up = check.model_copy(update={"health": Health.UP})
    actions = esc.observe(snap(services=(up,)), at(125))
    assert actions[:2] == [Withdraw(api), Toast("api is up again after 2m", "information", api)]


def test_what_was_said_is_withdrawn_when_it_no_longer_holds() -> None:
    """ "payments is down: HTTP 500" must not stay up once it answers something else: a
    window that changes takes back what was said; one that leaves "down" for "warn" says so."""
    check = ServiceCheck(source="gh", name="api", environment="prod", health=Health.DOWN)
    window = BrokenWindow(
        kind="service", source="gh", key="api@prod", name="api", since=T0, message="HTTP 500"
    )
    api = ("service", "gh", "api@prod")
    esc = started()
    assert Toast("api is down: HTTP 500", "error", api) in esc.observe(
        snap(window, services=(check,)), at(0)
    )
    changed = window.model_copy(update={"message": "HTTP 503"})
    assert esc.observe(snap(changed, services=(check,)), at(10)) == [Withdraw(api)]
    assert esc.observe(snap(changed, services=(check,)), at(20)) == []
    warn = check.model_copy(update={"health": Health.WARN, "http_status": 200})
    actions = esc.observe(snap(services=(warn,)), at(80))
    assert actions[:2] == [
        Withdraw(api),
        Toast("api is no longer down (now warn) after 1m", "information", api),
    ]


def test_privacy_hides_authors() -> None:
    esc = started(privacy=True)
    actions = esc.observe(snap(red(T0)), at(0))
    assert Toast("acme/monolith turned red: c0ffee0", "error", MONOLITH) in actions
    assert not any("Mallory" in str(a) for a in actions)


@pytest.mark.parametrize("escalate_after", [0.0, 60.0])
def test_escalate_after_bounds(escalate_after: float) -> None:
    esc = started(AlertsConfig(escalate_after=escalate_after, repeat_every=600))
    esc.observe(snap(red(T0)), at(0))
    levels = [a for s in range(0, 300) for a in esc.tick(at(s)) if isinstance(a, Level)]
    assert levels == ([] if escalate_after == 0 else [Level(1), Level(2), Level(3)])
    assert esc.level == 3


def test_alerting_modules_stay_headless() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import buildradiator.ui.alerts, buildradiator.ui.notify, buildradiator.ui.hooks\n"
        "import buildradiator.ui.claims\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
