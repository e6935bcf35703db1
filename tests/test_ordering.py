"""Ordering, group roll-up and "stale is never green", decided once in the rules."""

from __future__ import annotations

from buildradiator.model import Build, Pipeline, Status
from buildradiator.rules.ordering import (
    GroupState,
    Urgency,
    is_green,
    roll_up,
    units,
    urgency,
)

FRESH: frozenset[str] = frozenset()


def p(
    name: str,
    status: Status,
    *,
    source: str = "ci",
    running: bool = False,
    group: str | None = None,
) -> Pipeline:
    recent = (Build(source=source, pipeline=name, id="1", status=status),)
    flight = (
        (Build(source=source, pipeline=name, id="2", status=Status.RUNNING),) if running else ()
    )
    return Pipeline(
        source=source,
        key=name,
        name=name,
        recent=recent if status is not Status.UNKNOWN else (),
        in_flight=flight,
        group=group,
    )


def test_stale_is_never_green_nor_running_but_red_stays_red() -> None:
    stale = frozenset({"old"})
    assert is_green(p("a", Status.PASSED), FRESH)
    assert not is_green(p("a", Status.PASSED, source="old"), stale)
    assert not is_green(p("a", Status.PASSED, running=True), FRESH)
    assert urgency(p("a", Status.PASSED, source="old"), stale) is Urgency.OTHER
    assert urgency(p("a", Status.PASSED, source="old", running=True), stale) is Urgency.OTHER
    assert urgency(p("a", Status.FAILED, source="old"), stale) is Urgency.RED


def test_red_then_running_then_the_rest_then_green() -> None:
    pipelines = [
        p("green", Status.PASSED),
        p("unknown", Status.UNKNOWN),
        p("running", Status.PASSED, running=True),
        p("red", Status.FAILED, running=True),
        p("canceled", Status.CANCELED),
    ]
    assert [u.name for u in units(pipelines, FRESH)] == [
        "red",
        "running",
        "canceled",
        "unknown",
        "green",
    ]


def test_a_group_rolls_up_into_its_most_urgent_state() -> None:
    stale = frozenset({"old"})
    red = p("r", Status.FAILED)
    stale_red = p("s", Status.FAILED, source="old")
    stale_green = p("t", Status.PASSED, source="old")
    running = p("u", Status.PASSED, running=True)
    green = p("g", Status.PASSED)
    failed = roll_up([green, red, stale_red], stale)
    assert (failed.state, failed.urgency, failed.count) == (GroupState.FAILED, Urgency.RED, 2)
    old_red = roll_up([green, stale_red], stale)
    assert (old_red.state, old_red.urgency, old_red.count) == (GroupState.STALE, Urgency.RED, 1)
    old = roll_up([green, stale_green, running], stale)
    assert (old.state, old.urgency) == (GroupState.STALE, Urgency.OTHER)
    busy = roll_up([green, running], FRESH)
    assert (busy.state, busy.urgency, busy.count) == (GroupState.RUNNING, Urgency.RUNNING, 1)
    calm = roll_up([green, p("h", Status.PASSED)], FRESH)
    assert (calm.state, calm.urgency, calm.count) == (GroupState.PASSED, Urgency.GREEN, 2)
    mixed = roll_up([green, p("c", Status.CANCELED)], FRESH)
    assert (mixed.state, mixed.urgency) == (GroupState.MIXED, Urgency.OTHER)


def test_a_group_is_one_unit_ranked_by_its_roll_up() -> None:
    pipelines = [
        p("alone", Status.PASSED, running=True),
        p("b", Status.PASSED, group="Team"),
        p("a", Status.FAILED, group="Team"),
        p("calm", Status.PASSED),
    ]
    listed = units(pipelines, FRESH)
    assert [(u.name, u.group) for u in listed] == [
        ("Team", "Team"),
        ("alone", None),
        ("calm", None),
    ]
    team = listed[0]
    assert team.rollup is not None and team.rollup.state is GroupState.FAILED
    assert [m.name for m in team.members] == ["a", "b"]  # most urgent member first
