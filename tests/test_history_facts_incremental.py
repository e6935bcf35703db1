"""History's facts are recomputed for the pipelines that got new builds, not for all of them
(``history.facts.FULL_EVERY``): never a stale fact for a changed pipeline, every pipeline's
facts again at least every ``FULL_EVERY`` seconds, and none kept for pipelines gone."""

from __future__ import annotations

from datetime import timedelta

from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.history.facts import FULL_EVERY, HistoryFacts
from buildradiator.model import Build, Pipeline, SourceResult, Status


def result(clock: FakeClock, **statuses: tuple[Status, ...]) -> SourceResult:
    now = clock.now()
    pipelines = tuple(
        Pipeline(
            source="ci",
            key=key,
            name=key,
            recent=tuple(
                Build(
                    source="ci",
                    pipeline=key,
                    id=str(len(builds) - i),
                    status=s,
                    commit=f"c{len(builds) - i}",
                    started_at=now - timedelta(minutes=10 * i + 9),
                    finished_at=now - timedelta(minutes=10 * i),
                )
                for i, s in enumerate(builds)
            ),
        )
        for key, builds in statuses.items()
    )
    return SourceResult(pipelines=pipelines)


def poll(facts: HistoryFacts, answer: SourceResult) -> None:
    facts.record("ci", answer)
    facts.refresh(("ci", p.key) for p in answer.pipelines)


def test_only_the_changed_pipeline_is_recomputed_and_it_is_never_stale() -> None:
    clock = FakeClock()
    facts = HistoryFacts(History.memory(clock=clock))
    poll(facts, result(clock, a=(Status.PASSED,), b=(Status.PASSED,)))
    before = facts.current().per_pipeline
    assert before[("ci", "a")].red_streak == 0
    clock.advance(10)
    poll(facts, result(clock, a=(Status.FAILED, Status.PASSED), b=(Status.PASSED,)))
    after = facts.current().per_pipeline
    assert after[("ci", "a")].red_streak == 1 and after[("ci", "a")].red_since is not None
    assert after[("ci", "b")] is before[("ci", "b")]  # nothing new: not computed again


def test_every_pipeline_is_recomputed_at_least_every_full_every() -> None:
    clock = FakeClock()
    facts = HistoryFacts(History.memory(clock=clock))
    poll(facts, result(clock, a=(Status.PASSED,), b=(Status.PASSED,)))
    b = facts.current().per_pipeline[("ci", "b")]
    clock.advance(FULL_EVERY + 1)
    poll(facts, result(clock, a=(Status.FAILED, Status.PASSED), b=(Status.PASSED,)))
    assert facts.current().per_pipeline[("ci", "b")] is not b
    assert facts.current().per_pipeline[("ci", "b")] == b


def test_facts_of_pipelines_gone_are_dropped() -> None:
    clock = FakeClock()
    facts = HistoryFacts(History.memory(clock=clock))
    poll(facts, result(clock, a=(Status.PASSED,), b=(Status.PASSED,)))
    clock.advance(10)
    poll(facts, result(clock, a=(Status.FAILED, Status.PASSED)))
    assert set(facts.current().per_pipeline) == {("ci", "a")}
    assert facts.current().per_pipeline[("ci", "a")].red_streak == 1


def test_a_write_by_anyone_else_recomputes_everything() -> None:
    clock = FakeClock()
    history = History.memory(clock=clock)
    facts = HistoryFacts(history)
    poll(facts, result(clock, a=(Status.PASSED,), b=(Status.PASSED,)))
    clock.advance(10)
    other = result(clock, b=(Status.FAILED, Status.PASSED))
    history.record_builds(other.pipelines[0].recent)  # e.g. a backfill, not through ``record``
    facts.refresh([("ci", "a"), ("ci", "b")])
    assert facts.current().per_pipeline[("ci", "b")].red_streak == 1
