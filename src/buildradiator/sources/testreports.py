"""What every provider's test report turns into: one run's ``TestResult``s, one per test.

GitLab's ``test_report`` and Jenkins' ``testReport`` list cases suite by suite; the same test may
appear more than once. ``fold_results`` says what that means (see its docstring), so that every
provider counts a rerun, a flake and a failure the same way.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited, SourceError
from buildradiator.model import Build, TestResult, TestRun, TestStatus
from buildradiator.text import clean_text

log = logging.getLogger("buildradiator.sources.testreports")

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


class ReportCase(Protocol):
    """A test case as a provider's payload model reads it (aliases map the API's own keys)."""

    @property
    def classname(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def seconds(self) -> float | None: ...


class ReportSuite(Protocol):
    """A suite of a provider's test report: its name and its cases."""

    @property
    def name(self) -> str | None: ...
    @property
    def cases(self) -> Sequence[ReportCase | None] | None: ...


def report_cases(
    suites: Iterable[ReportSuite | None] | None, words: Mapping[str, TestStatus]
) -> list[Case]:
    """The cases of a report, suite by suite: text cleaned, the class defaulting to the suite,
    the status from ``words`` (the CI's case words, lower case), nameless cases and unknown words
    left out. A report of more than ``MAX_CASES`` is a bad payload."""
    cases: list[Case] = []
    for suite in suites or ():
        if suite is None:
            continue
        suite_name = clean_text(suite.name or "", TEST_NAME_LIMIT)
        for case in suite.cases or ():
            if case is None:
                continue
            status = words.get((case.status or "").strip().lower())
            name = clean_text(case.name or "", TEST_NAME_LIMIT)
            if status is None or not name:
                continue
            classname = clean_text(case.classname or "", TEST_NAME_LIMIT) or suite_name
            cases.append(Case(suite_name, classname, name, status, seconds(case.seconds)))
            if len(cases) > MAX_CASES:
                raise BadPayload(f"test report has more than {MAX_CASES} cases")
    return cases


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


MAX_REPORTS = 3
"""Reports read per poll at most: a source catches up on older builds a few at a time."""
MAX_REPORT_TRIES = 3
"""Polls on which a report that failed to load (5xx, timeout) is tried again."""

Key = TypeVar("Key", bound=Hashable)


class ReportReader(Generic[Key]):
    """Which finished builds' test reports were read, and reading the next few.

    Each build's report is read once (``key`` says what "the same build" is: GitLab re-reads a
    retried pipeline, whose report changes with each attempt). A report that could not be read
    for a passing reason is tried again on a later poll, up to ``MAX_REPORT_TRIES``; one that can
    never be read (bad payload, gone, forbidden) is given up at once. A rate limit ends the
    poll's reading: the rest waits. A failing report never fails the poll.
    """

    def __init__(self, key: Callable[[Build], Key]) -> None:
        self.key = key
        self.done: set[Key] = set()
        self.tries: dict[Key, int] = {}

    async def read(
        self,
        source: str,
        builds: Iterable[Build],
        fetch: Callable[[Build], Awaitable[tuple[TestResult, ...]]],
        *,
        newest: Callable[[Build], Any],
        describe: Callable[[Build], str],
    ) -> list[TestRun]:
        """The test runs of up to ``MAX_REPORTS`` builds whose report was not read yet,
        newest (by ``newest``) first."""
        waiting = sorted(
            (b for b in builds if self.key(b) not in self.done), key=newest, reverse=True
        )
        runs: list[TestRun] = []
        for build in waiting[:MAX_REPORTS]:
            key = self.key(build)
            try:
                results = await fetch(build)
            except RateLimited:
                break  # no quota left: the rest waits for a later poll
            except SourceError as exc:
                tries = self.tries.get(key, 0) + 1
                if tries >= MAX_REPORT_TRIES or isinstance(exc, BadPayload | NotFound | AuthFailed):
                    self.tries.pop(key, None)
                    self.done.add(key)
                else:
                    self.tries[key] = tries
                log.info("test report of %s not read: %s", describe(build), exc)
                continue
            self.tries.pop(key, None)
            self.done.add(key)
            if results:
                runs.append(
                    TestRun(
                        source=source,
                        pipeline=build.pipeline,
                        build_id=build.id,
                        attempt=build.attempt,
                        commit=build.commit,
                        finished_at=build.finished_at,
                        results=results,
                    )
                )
        return runs

    def forget(self, gone: Callable[[Key], bool]) -> None:
        """Drop the builds that fell off the lists polled: memory stays bounded."""
        for key in [k for k in self.done if gone(k)]:
            self.done.discard(key)
        for key in [k for k in self.tries if gone(k)]:
            del self.tries[key]
