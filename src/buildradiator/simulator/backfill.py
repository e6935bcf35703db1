"""A few weeks of made-up history for the demo, so trends, ETAs, retry shares and the flaky
ranking have real shapes from the first minute.

The live simulator only reaches back an hour or so. ``backfill`` writes plausible older builds
straight into a history store, under the very pipeline keys the real sources reported on their
first poll, ending before the oldest build those sources returned. Deterministic (seeded), so
two demos look alike.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import median

from buildradiator.history import History
from buildradiator.model import (
    Build,
    Deployment,
    Pipeline,
    StageTime,
    Status,
    TestResult,
    TestStatus,
)
from buildradiator.simulator.backfill_delivery import backfill_deliveries

AUTHORS = ("Alice Nguyen", "Bob Okafor", "Chen Wei", "Dana Smith", "Erin Walsh", "Farid Haddad")
MESSAGES = (
    "Bump dependencies",
    "Refactor session handling",
    "Add retry to payment client",
    "Fix flaky date test",
    "Speed up asset pipeline",
    "Tidy logging",
    "Update translations",
)
FLAKY_TESTS = (("LoginTest", "testRedirect"), ("CartSpec", "addsItem"), ("SearchIT", "ranks"))


def backfill(
    history: History,
    pipelines: Sequence[Pipeline],
    *,
    now: datetime,
    days: int = 21,
    seed: int = 7,
    deployments: Sequence[Deployment] = (),
) -> int:
    """Write ``days`` of history for each pipeline, and its deliveries (``backfill_delivery``);
    returns the number of builds written."""
    rng = random.Random(seed)  # noqa: S311 - made-up demo data, not security
    written = 0
    for index, pipeline in enumerate(pipelines):
        written += _one(history, pipeline, now, days, rng, FLAKY_TESTS[index % len(FLAKY_TESTS)])
    backfill_deliveries(history, pipelines, deployments, now=now, seed=seed)
    return written


def _one(
    history: History,
    pipeline: Pipeline,
    now: datetime,
    days: int,
    rng: random.Random,
    flaky: tuple[str, str],
) -> int:
    known = [b for b in pipeline.recent if b.finished_at]
    durations = [d for b in known if (d := b.duration_seconds)]
    typical = median(durations) if durations else 300.0
    # Stages as the source names them (if it does), in the shares its newest build had; drawn
    # from a generator of their own so the rest of the history stays as it always was.
    template = next((b.stages for b in known if b.stages), ())
    jitter = random.Random(f"stages:{pipeline.source}:{pipeline.key}")  # noqa: S311 - demo data
    end = min((b.finished_at for b in known if b.finished_at), default=now) - timedelta(hours=1)
    t = now - timedelta(days=days)
    builds: list[Build] = []
    runs: list[tuple[Build, tuple[TestResult, ...]]] = []
    red_left = 0
    n = 0
    while True:
        t += timedelta(hours=rng.uniform(1.0, 5.0))
        if t >= end:
            break
        n += 1
        if red_left == 0 and rng.random() < 0.05:
            red_left = rng.randint(1, 4)  # a red spell of a few builds
        commit = f"{rng.getrandbits(40):010x}"
        status = Status.FAILED if red_left else Status.PASSED
        red_left = max(0, red_left - 1)
        retried = status is Status.PASSED and rng.random() < 0.1
        build_id = f"history-{n}"
        attempts = [(1, Status.FAILED), (2, Status.PASSED)] if retried else [(1, status)]
        start = t
        for attempt, outcome in attempts:
            took = typical * rng.uniform(0.8, 1.3)
            build = Build(
                source=pipeline.source,
                pipeline=pipeline.key,
                id=build_id,
                number=n,
                attempt=attempt,
                branch=pipeline.branch,
                status=outcome,
                created_at=start,
                started_at=start,
                finished_at=start + timedelta(seconds=took),
                commit=commit,
                author=rng.choice(AUTHORS),
                message=rng.choice(MESSAGES),
                stages=_stages(template, took, jitter),
            )
            builds.append(build)
            if retried:
                verdict = TestStatus.FAILED if outcome is Status.FAILED else TestStatus.PASSED
                runs.append((build, (TestResult(flaky[1], flaky[0], verdict, 1.5),)))
            start = start + timedelta(seconds=took + 60)
        t = start
    written = history.record_builds(builds)
    for build, results in runs:
        history.record_tests(
            build.source,
            build.pipeline,
            build.id,
            build.commit,
            results,
            build_attempt=build.attempt,
            at=build.finished_at,
        )
    return written


def _stages(
    template: tuple[StageTime, ...], took: float, rng: random.Random
) -> tuple[StageTime, ...]:
    """``template``'s stages scaled to a build of ``took`` seconds, each a little apart."""
    total = sum(s.seconds for s in template)
    if not total:
        return ()
    return tuple(
        StageTime(name=s.name, seconds=took * s.seconds / total * rng.uniform(0.85, 1.15))
        for s in template
    )
