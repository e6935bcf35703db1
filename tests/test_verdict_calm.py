"""What a screen says when nothing is broken, decided once in ``rules.verdict``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from buildradiator.model import (
    Build,
    Freshness,
    GateReason,
    Pipeline,
    ReleaseGate,
    Snapshot,
    SourceState,
    Status,
)
from buildradiator.rules.verdict import Calm, calm, gate_word, headline_word, stopped

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GREEN = Pipeline(
    source="ci",
    key="a",
    name="a",
    recent=(Build(source="ci", pipeline="a", id="1", status=Status.PASSED),),
)
HOLD = ReleaseGate(go=False, reasons=(GateReason(kind="blockers", text="1 blocker"),))


def snap(freshness: Freshness = Freshness.FRESH, **kw: object) -> Snapshot:
    state = SourceState(
        name="ci",
        type="github",
        last_success=NOW - timedelta(minutes=5),
        freshness=freshness,
        stale=freshness is not Freshness.FRESH,
    )
    return Snapshot(taken_at=NOW, pipelines=(GREEN,), sources=(state,), **kw)  # type: ignore[arg-type]


def test_each_calm_state_and_its_headline() -> None:
    assert (calm(None), headline_word(None)) == (Calm.WAITING, "WAITING")
    assert (calm(snap()), headline_word(snap())) == (Calm.GREEN, "ALL GREEN")
    held = snap(gate=HOLD)
    assert (calm(held), headline_word(held), gate_word(held)) == (Calm.HOLD, "HOLD", "HOLD")
    cached = snap(Freshness.CACHED)
    assert (calm(cached), headline_word(cached)) == (Calm.CACHED, "UNKNOWN")
    old = snap(Freshness.STALE)
    assert (calm(old), headline_word(old)) == (Calm.UNKNOWN, "UNKNOWN")


def test_a_gate_that_judged_nothing_is_waiting_not_go() -> None:
    waiting = Snapshot(
        taken_at=NOW, sources=(SourceState(name="ci", type="github"),), gate=ReleaseGate(go=True)
    )
    assert gate_word(waiting) == "waiting"
    assert gate_word(snap()) is None


def test_once_the_engine_stopped_nothing_is_current() -> None:
    after = stopped(snap(gate=ReleaseGate(go=True)), NOW)
    assert after.stale_sources == frozenset({"ci"})
    assert all(s.error == "engine stopped" and s.stale for s in after.sources)
    assert after.gate is not None and not after.gate.go
    assert calm(after) is not Calm.GREEN
