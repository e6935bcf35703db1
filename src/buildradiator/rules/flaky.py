"""Flaky tests, from history's stored test results. Pure functions, no I/O, no clock.

- **Flaky test.** A test flaked when it failed and passed on the same commit of the same pipeline:
  in two builds (each failed build that was then re-run counts, and was "retried because of it"),
  within one build (Surefire ``flakyFailure``, or the same test twice: failed then passed), or when
  the same commit also had a test run with no failure at all (a clean re-run).
- **Ranking.** By impact: times flaked, builds retried because of it, build time lost.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from buildradiator.model import TestStatus


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One stored test result with its run's context."""

    test_id: int
    status: TestStatus
    duration: float | None
    run_id: int
    pipeline_id: int
    commit: str | None
    at: float


@dataclass(frozen=True, slots=True)
class FlakeEvent:
    """The flakes of one test on one commit of one pipeline."""

    test_id: int
    pipeline_id: int
    times: int
    retried_runs: tuple[int, ...]
    """Runs where it failed (and was not rescued in the run) before passing on the commit."""
    test_seconds: float
    """Time of the in-run reruns (flaky and rescued attempts)."""
    first_at: float
    last_at: float


_PASSING = {TestStatus.PASSED, TestStatus.FLAKY}


def flake_events(rows: Iterable[ResultRow], clean: set[tuple[int, str]]) -> list[FlakeEvent]:
    """Group results by (pipeline, commit, test) and find the flakes; ``clean`` holds the
    (pipeline, commit) pairs that had a test run without any failure."""
    groups: dict[tuple[int, str, int], list[ResultRow]] = defaultdict(list)
    for row in rows:
        commit = row.commit or f"\0run{row.run_id}"  # no commit: only in-run signals count
        groups[(row.pipeline_id, commit, row.test_id)].append(row)
    events: list[FlakeEvent] = []
    for (pipeline_id, commit, test_id), group in groups.items():
        by_run: dict[int, list[ResultRow]] = defaultdict(list)
        for row in group:
            by_run[row.run_id].append(row)
        in_run = 0
        test_seconds = 0.0
        failed_runs: list[int] = []
        passed_somewhere = (pipeline_id, commit) in clean
        times: list[float] = []
        for run_id, results in by_run.items():
            statuses = {r.status for r in results}
            if statuses & _PASSING:
                passed_somewhere = True
            if TestStatus.FLAKY in statuses or (
                TestStatus.FAILED in statuses and TestStatus.PASSED in statuses
            ):
                in_run += 1
                times.extend(r.at for r in results)
                test_seconds += sum(
                    r.duration or 0.0 for r in results if r.status is not TestStatus.PASSED
                )
            elif TestStatus.FAILED in statuses:
                failed_runs.append(run_id)
        retried = failed_runs if passed_somewhere else []
        for run_id in retried:
            times.extend(r.at for r in by_run[run_id])
        if in_run + len(retried) == 0:
            continue
        events.append(
            FlakeEvent(
                test_id=test_id,
                pipeline_id=pipeline_id,
                times=in_run + len(retried),
                retried_runs=tuple(sorted(retried)),
                test_seconds=test_seconds,
                first_at=min(times),
                last_at=max(times),
            )
        )
    return events


@dataclass
class FlakyTally:
    """The events of one test added up; ``History`` turns it into a ``model.FlakyTestInfo``."""

    test_id: int
    times: int = 0
    retried: int = 0
    lost_seconds: float = 0.0
    first_at: float = math.inf
    last_at: float = -math.inf
    pipeline_ids: set[int] = field(default_factory=set)


def rank_flaky(
    events: Iterable[FlakeEvent], run_seconds: dict[int, float], limit: int
) -> list[FlakyTally]:
    """Tests by impact: times flaked, then builds retried, then time lost. ``run_seconds`` gives
    the build duration of a retried run (a run missing from it costs nothing we know of)."""
    tallies: dict[int, FlakyTally] = {}
    for ev in events:
        tally = tallies.setdefault(ev.test_id, FlakyTally(ev.test_id))
        tally.times += ev.times
        tally.retried += len(ev.retried_runs)
        tally.lost_seconds += ev.test_seconds + sum(
            run_seconds.get(r, 0.0) for r in ev.retried_runs
        )
        tally.first_at = min(tally.first_at, ev.first_at)
        tally.last_at = max(tally.last_at, ev.last_at)
        tally.pipeline_ids.add(ev.pipeline_id)
    ranked = sorted(
        tallies.values(), key=lambda t: (-t.times, -t.retried, -t.lost_seconds, t.test_id)
    )
    return ranked[: max(0, limit)]
