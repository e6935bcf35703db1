"""History store at scale: a year of builds for 200 pipelines, and the time to answer the screen.

    python bench/history.py [--builds 1000000] [--pipelines 200] [--visible 24] [--db PATH]

Fills a fresh store through the public API (``record_builds`` in poll-sized batches, and
``record_tests`` for every build of a subset of pipelines), with a realistic mix: mostly green,
red streaks that last a few builds until a fix lands, failures that go green on a re-run of the
same commit, cancels, and test suites with a few flaky tests (some Surefire-style reruns).
Then it times what the screen needs, median of ``--runs`` runs each:

- red streak and ETA (p50/p90) for every pipeline,
- the flaky-test ranking (7 days),
- retry share over 7 and 30 days for every pipeline,
- 30-day trends for the visible pipelines, and the detail strip of one.

Target (issue "History that measures"): every fact ready for the screen in under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.model import Build, Status, TestResult, TestStatus

END = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TESTS_PER_SUITE = 40
AUTHORS = [f"Dev {i}" for i in range(40)]


def pipeline_builds(
    rng: random.Random, index: int, count: int, start: datetime, end: datetime
) -> list[Build]:
    """About ``count`` builds of one pipeline between ``start`` and ``end``, oldest first."""
    key = f"team{index % 12}/service-{index}"
    span = (end - start).total_seconds()
    gap = span / count * 1.05  # re-runs add about 5% more builds
    base = rng.uniform(240, 1500)  # this pipeline's typical duration
    out: list[Build] = []
    t = start.timestamp()
    red_left = 0
    number = 0
    while True:
        t += rng.expovariate(1 / gap)
        if t > end.timestamp():
            break
        number += 1
        commit = f"{rng.getrandbits(40):010x}"
        author = rng.choice(AUTHORS)
        duration = base * rng.lognormvariate(0, 0.2)

        def build(
            status: Status,
            attempt: int,
            at: float,
            n: int = number,
            sha: str = commit,
            who: str = author,
            took: float = duration,
        ) -> Build:
            return Build(
                source="gh" if index % 2 else "gitlab",
                pipeline=key,
                id=str(n),
                number=n,
                attempt=attempt,
                branch="main",
                status=status,
                started_at=datetime.fromtimestamp(at - took, UTC),
                finished_at=datetime.fromtimestamp(at, UTC),
                commit=sha,
                author=who,
                message=f"Change {n} to {key}",
                url=f"https://ci.example.com/{key}/{n}/{attempt}",
            )

        roll = rng.random()
        if red_left > 0:
            red_left -= 1
            out.append(build(Status.FAILED, 1, t))
        elif roll < 0.02:  # a broken commit: red until a fix lands a few builds later
            red_left = min(30, int(rng.expovariate(1 / 3)))
            out.append(build(Status.FAILED, 1, t))
        elif roll < 0.07:  # flaky: fails, then the re-run of the same commit passes
            out.append(build(Status.FAILED, 1, t))
            t += duration + rng.uniform(60, 900)
            out.append(build(Status.PASSED, 2, t))
        elif roll < 0.08:
            out.append(build(Status.CANCELED, 1, t))
        else:
            out.append(build(Status.PASSED, 1, t))
    return out


def suite(rng: random.Random, build: Build, flaky_names: list[str]) -> list[TestResult]:
    """A test report for a build: one test fails when the build failed (a flaky one when the
    build was then retried), now and then a Surefire flake."""
    out = [
        TestResult(name=f"test_{i}", classname="suite.Core", status=TestStatus.PASSED,
                   duration=rng.uniform(0.01, 3.0))
        for i in range(TESTS_PER_SUITE)
    ]  # fmt: skip
    if build.status is Status.FAILED:
        name = rng.choice(flaky_names) if rng.random() < 0.6 else "test_0"
        out.append(TestResult(name=name, classname="suite.Flaky", status=TestStatus.FAILED,
                              duration=rng.uniform(1, 30)))  # fmt: skip
    elif rng.random() < 0.03:
        out.append(TestResult(name=rng.choice(flaky_names), classname="suite.Flaky",
                              status=TestStatus.FLAKY, duration=rng.uniform(1, 30)))  # fmt: skip
    return out


def timed(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=1_000_000)
    parser.add_argument("--pipelines", type=int, default=200)
    parser.add_argument("--visible", type=int, default=24, help="pipelines showing trends")
    parser.add_argument("--with-tests", type=int, default=20, help="pipelines with test reports")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", type=Path, help="store path (default: a temp dir, removed)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="brbench-")
        args.db = Path(tmp.name) / "history.sqlite3"
    rng = random.Random(args.seed)
    clock = FakeClock(END)
    store = History.open(args.db, retention_days=args.days + 30, clock=clock)
    start = END - timedelta(days=args.days)
    per_pipeline = args.builds // args.pipelines
    flaky_names = [f"test_flaky_{i}" for i in range(30)]

    keys: list[tuple[str, str]] = []
    total = tests = 0
    gen_s = ingest_s = tests_s = 0.0
    for i in range(args.pipelines):
        t0 = time.perf_counter()
        builds = pipeline_builds(rng, i, per_pipeline, start, END)
        gen_s += time.perf_counter() - t0
        keys.append((builds[0].source, builds[0].pipeline))
        t0 = time.perf_counter()
        for j in range(0, len(builds), 500):  # poll-sized batches
            total += store.record_builds(builds[j : j + 500])
        ingest_s += time.perf_counter() - t0
        if i < args.with_tests:
            reports = [
                (b, suite(rng, b, flaky_names))
                for b in builds
                if b.status in (Status.PASSED, Status.FAILED)
            ]
            t0 = time.perf_counter()
            for b, results in reports:
                tests += store.record_tests(b.source, b.pipeline, b.id, b.commit, results,
                                            build_attempt=b.attempt)  # fmt: skip
            tests_s += time.perf_counter() - t0
        if (i + 1) % 20 == 0:
            print(f"  {i + 1}/{args.pipelines} pipelines, {total:,} builds", file=sys.stderr)
    # What restarting the radiator costs: reopen the file, then answer.
    store.close()
    t0 = time.perf_counter()
    store = History.open(args.db, retention_days=args.days + 30, clock=clock)
    reopen_ms = (time.perf_counter() - t0) * 1000
    size = sum(os.path.getsize(p) for p in (str(args.db), f"{args.db}-wal") if os.path.exists(p))

    visible = keys[: args.visible]
    facts: dict[str, Callable[[], object]] = {
        "red streaks, all": lambda: [store.red_streak(s, p) for s, p in keys],
        "ETA p50/p90, all": lambda: [store.durations(s, p) for s, p in keys],
        "flaky ranking 7d": lambda: store.flaky_tests(window_days=7, limit=20),
        "retry share 7d, all": lambda: [store.retry_share(s, p, 7) for s, p in keys],
        "retry share 30d, all": lambda: [store.retry_share(s, p, 30) for s, p in keys],
        f"trends 30d, {len(visible)} visible": lambda: [store.trends(s, p, 30) for s, p in visible],
        "trends 30d, one (detail)": lambda: store.trends(*keys[0], 30),
        "recent strip, one": lambda: store.recent_strip(*keys[0], 30),
    }
    # First ever: the day rollups of every pipeline are computed from the builds and kept.
    first = {name: timed(fn, 1) for name, fn in facts.items()}
    # After a restart: the kept rollups are read back from the file.
    store.close()
    store = History.open(args.db, retention_days=args.days + 30, clock=clock)
    restart = {name: timed(fn, 1) for name, fn in facts.items()}
    # Steady state: the screen refreshing while polls bring a few new builds.
    warm = {name: timed(fn, args.runs) for name, fn in facts.items()}
    t0 = time.perf_counter()
    pruned = store.prune(force=True)
    prune_ms = (time.perf_counter() - t0) * 1000

    red = sum(1 for s, p in keys if store.red_streak(s, p))
    top = store.flaky_tests(window_days=7, limit=3)
    print(f"builds recorded      {total:,} ({args.pipelines} pipelines, {args.days} days)")
    print(
        f"test results kept    {tests:,} (suites of {TESTS_PER_SUITE}+ on {args.with_tests} pipelines)"
    )
    print(f"generate (Python)    {gen_s:.1f} s")
    print(f"ingest builds        {ingest_s:.1f} s  ({total / max(ingest_s, 1e-9):,.0f} builds/s)")
    print(f"ingest test reports  {tests_s:.1f} s")
    print(f"size on disk         {size / 1e6:.0f} MB")
    print(f"reopen               {reopen_ms:.1f} ms")
    print(f"prune (nothing due)  {prune_ms:.1f} ms, {pruned} rows")
    print(f"{'fact':34} {'first ever':>11} {'restart':>9} {'steady':>9}")
    for name in facts:
        print(f"{name:34} {first[name]:9.1f}ms {restart[name]:7.1f}ms {warm[name]:7.1f}ms")
    skip = "trends 30d, one (detail)"
    print(
        f"{'whole screen (sum, minus detail)':34} {sum(v for k, v in first.items() if k != skip):9.1f}ms"
        f" {sum(v for k, v in restart.items() if k != skip):7.1f}ms"
        f" {sum(v for k, v in warm.items() if k != skip):7.1f}ms"
    )
    print(f"now red: {red} pipelines; top flaky: "
          + ", ".join(f"{t.name} x{t.times_flaked}" for t in top))  # fmt: skip
    store.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
