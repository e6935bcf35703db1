"""What every provider's test report turns into: one run's ``TestResult``s, one per test.

GitLab's ``test_report`` and Jenkins' ``testReport`` list cases suite by suite; the same test may
appear more than once. ``fold_results`` says what that means (see its docstring), so that every
provider counts a rerun, a flake and a failure the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from buildradiator.model import TestResult, TestStatus

MAX_CASES = 50_000
"""Test cases taken from one report; a bigger one is left out whole (a cut one could hide a
failure and make the run look clean)."""
TEST_NAME_LIMIT = 300


class Case(NamedTuple):
    """One test case of a provider's report, before ``fold_results``."""

    suite: str
    classname: str
    name: str
    status: TestStatus
    duration: float | None


def seconds(value: float | None) -> float | None:
    """A duration that is a finite, non-negative number, else unknown."""
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def fold_results(cases: Iterable[Case]) -> tuple[TestResult, ...]:
    """The results of one run, one test at a time.

    A test may show more than once in one report. Within one suite (one job, one test class) it
    was run again: if its entries end in a pass after a failure it was rerun until it passed --
    a flake, kept as a failed attempt 1 and a passed attempt 2 -- and if they end in a failure
    it failed. In *different* suites (matrix jobs, parallel stages) the runs are different
    environments, not reruns: a failure in any of them is a failure, never "rescued" by a pass
    elsewhere, so that a test broken on one platform does not rank as flaky.
    """
    by_test: dict[tuple[str, str], dict[str, list[Case]]] = {}
    for case in cases:
        by_test.setdefault((case.classname, case.name), {}).setdefault(case.suite, []).append(case)
    results: list[TestResult] = []
    for (classname, name), suites in by_test.items():
        outcomes = [_outcome(runs) for runs in suites.values()]
        for wanted in (TestStatus.FAILED, TestStatus.FLAKY, TestStatus.PASSED, TestStatus.SKIPPED):
            chosen = next((o for o in outcomes if o[0] is wanted), None)
            if chosen is not None:
                break
        assert chosen is not None  # every outcome is one of the four
        status, failed_time, passed_time = chosen
        if status is TestStatus.FLAKY:
            results.append(TestResult(name, classname, TestStatus.FAILED, failed_time, 1))
            results.append(TestResult(name, classname, TestStatus.PASSED, passed_time, 2))
        else:
            duration = failed_time if status is TestStatus.FAILED else passed_time
            results.append(TestResult(name, classname, status, duration))
    return tuple(results)


def _outcome(runs: list[Case]) -> tuple[TestStatus, float | None, float | None]:
    """(status, time of the failed runs, time of the last run) of one test in one suite;
    ``FLAKY`` stands for "failed, then passed on a rerun"."""
    ran = [r for r in runs if r.status is not TestStatus.SKIPPED]
    if not ran:
        return TestStatus.SKIPPED, None, runs[0].duration
    last = ran[-1]
    failures = [r for r in ran if r.status is TestStatus.FAILED]
    failed_time = (
        sum(r.duration for r in failures if r.duration is not None)
        if any(r.duration is not None for r in failures)
        else None
    )
    if last.status is TestStatus.PASSED and failures:
        return TestStatus.FLAKY, failed_time, last.duration
    if last.status is TestStatus.FAILED:
        return TestStatus.FAILED, last.duration, None
    return TestStatus.PASSED, None, last.duration
