"""The derivation's memo of per-pipeline facts (``rules.memo``): a pipeline derived once is not
derived again while its object stays the same, a changed pipeline is derived afresh (never a
stale fact on screen), and the memo holds only the pipelines of the last snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from buildradiator.model import Build, Pipeline, PipelineFacts, Snapshot, Status
from buildradiator.rules import insights
from buildradiator.rules.derive import Derivation
from buildradiator.sources.catalog import parse_config

CONFIG = parse_config(
    '[[sources]]\nname = "ci"\ntype = "cctray"\nurl = "http://ci.example/cc.xml"\n'
    '[sources.names]\n"svc-1" = "Payments"\n'
    '[[groups]]\nname = "core"\npipelines = ["Pay*"]\n'
)
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def pipe(key: str, *statuses: Status, attempt: int = 1) -> Pipeline:
    builds = tuple(
        Build(
            source="ci",
            pipeline=key,
            id=f"{key}-{i}",
            status=s,
            attempt=attempt,
            started_at=T0 - timedelta(minutes=10 * (i + 1)),
            finished_at=T0 - timedelta(minutes=10 * i + 5),
        )
        for i, s in enumerate(statuses)
    )
    return Pipeline(source="ci", key=key, name=key, recent=builds)


def raw(*pipelines: Pipeline, stale: bool = False) -> Snapshot:
    return Snapshot(
        taken_at=T0,
        pipelines=pipelines,
        stale_sources=frozenset({"ci"}) if stale else frozenset(),
    )


def test_the_same_pipeline_object_is_not_derived_again(monkeypatch: pytest.MonkeyPatch) -> None:
    derivation = Derivation(CONFIG)
    red = pipe("svc-1", Status.FAILED, Status.PASSED)
    first = derivation.derive(raw(red), ())
    calls: list[object] = []
    real = insights.pipeline_window

    def counted(pipeline: Pipeline, stale: bool) -> object:
        calls.append(pipeline)
        return real(pipeline, stale)

    monkeypatch.setattr(insights, "pipeline_window", counted)
    again = derivation.derive(raw(red), ())
    assert calls == []
    assert again.broken[0] is first.broken[0]
    assert again == first.model_copy(update={"taken_at": again.taken_at})


def test_a_changed_pipeline_is_derived_afresh() -> None:
    derivation = Derivation(CONFIG)
    before = derivation.derive(raw(pipe("svc-1", Status.FAILED), pipe("svc-2", Status.PASSED)), ())
    assert [w.name for w in before.broken] == ["Payments"]
    assert before.pipelines[0].group == "core"
    # The same key, a new answer: green now, and went green only on a retry.
    after = derivation.derive(
        raw(pipe("svc-1", Status.PASSED, Status.FAILED, attempt=2), pipe("svc-2", Status.PASSED)),
        (),
    )
    assert after.broken == ()
    assert [(f.name, f.retried_to_green) for f in after.flaky] == [("Payments", 1), ("svc-2", 0)]
    assert after.green_since == T0 - timedelta(minutes=5)
    # And red again: the window is the new streak's, not the first one's.
    red_again = pipe("svc-1", Status.FAILED, Status.FAILED, Status.PASSED)
    again = derivation.derive(raw(red_again, pipe("svc-2", Status.PASSED)), ())
    assert [(w.name, w.streak) for w in again.broken] == [("Payments", 2)]
    assert [p.name for p in again.pipelines] == ["Payments", "svc-2"]


def test_the_same_pipeline_turning_stale_is_shown_stale() -> None:
    derivation = Derivation(CONFIG)
    red = pipe("svc-1", Status.FAILED)
    green = pipe("svc-2", Status.PASSED)
    fresh = derivation.derive(raw(green, red), ())
    assert [w.stale for w in fresh.broken] == [False]
    stale = derivation.derive(raw(green, red, stale=True), ())
    assert [w.stale for w in stale.broken] == [True]
    assert stale.pipelines == insights.sort_pipelines(stale.pipelines, frozenset({"ci"}))


def test_the_memo_holds_only_the_pipelines_of_the_last_snapshot() -> None:
    derivation = Derivation(CONFIG)
    many = [pipe(f"svc-{n}", Status.PASSED) for n in range(50)]
    derivation.derive(raw(*many), ())
    assert len(derivation.memo) == 50
    derivation.derive(raw(many[0], pipe("new", Status.FAILED)), ())
    assert len(derivation.memo) == 2
    derivation.derive(raw(), ())
    assert len(derivation.memo) == 0


def test_is_red_never_answers_from_an_entry_of_another_object() -> None:
    derivation = Derivation(CONFIG)
    derivation.derive(raw(pipe("svc-1", Status.FAILED)), ())
    assert derivation.memo.is_red(pipe("svc-1", Status.PASSED)) is False
    assert derivation.memo.is_red(pipe("svc-1", Status.FAILED)) is True


def test_history_and_gate_follow_new_facts_and_new_windows() -> None:
    derivation = Derivation(CONFIG)
    red = pipe("svc-1", Status.FAILED)
    earlier = T0 - timedelta(hours=3)

    def with_facts(*facts: PipelineFacts) -> Snapshot:
        return raw(red).model_copy(update={"facts": facts})

    first = derivation.derive(with_facts(), ())
    assert first.broken[0].since == T0 - timedelta(minutes=5)
    assert [r.text for r in first.gate.reasons] == ["main red: Payments"]  # type: ignore[union-attr]
    known = PipelineFacts(source="ci", key="svc-1", red_since=earlier, red_streak=4)
    second = derivation.derive(with_facts(known), ())
    assert (second.broken[0].since, second.broken[0].streak) == (earlier, 4)
    assert derivation.derive(with_facts(known), ()).broken[0] is second.broken[0]
    # History learns more (a new facts object): the window follows it.
    later = known.model_copy(update={"red_since": earlier - timedelta(hours=1), "red_streak": 5})
    third = derivation.derive(with_facts(later), ())
    assert (third.broken[0].since, third.broken[0].streak) == (earlier - timedelta(hours=1), 5)
    # Another pipeline red instead: the gate names it, not the one before.
    other = pipe("svc-2", Status.FAILED)
    fourth = derivation.derive(raw(other, pipe("svc-1", Status.PASSED)), ())
    assert [r.text for r in fourth.gate.reasons] == ["main red: svc-2"]  # type: ignore[union-attr]
