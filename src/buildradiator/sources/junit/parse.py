"""JUnit XML reports (files on disk or build artifacts) turned into ``TestResult`` rows.

The shapes read (api-facts §11): an optional ``<testsuites>`` root, ``<testsuite>`` elements that
may nest, and ``<testcase classname name time>`` with ``failure``/``error``/``skipped`` children.
Maven Surefire's reruns add ``flakyFailure``/``flakyError`` (a test that passed on a rerun: a
flake) and ``rerunFailure``/``rerunError`` (a test that failed every time). pytest's
``--junitxml`` is the same shape with a ``pytest`` suite.

The rule: ``failure``/``error`` (or a ``rerun*`` without them) = failed; ``skipped`` = skipped;
``flaky*`` without a failure = flaky; otherwise passed. The same test twice in one report is kept
twice, as attempts 1, 2, ...

Reports come from CI, so they are parsed by ``xmlsafe.parse_xml`` (no DTDs, no entities) with a
size cap checked before parsing: a 100 MB file is refused at once, never read into a tree.
"""

from __future__ import annotations

import glob
import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path
from xml.etree.ElementTree import Element

from buildradiator.errors import BadPayload
from buildradiator.model import TestResult, TestStatus
from buildradiator.sources.xmlsafe import local_name, parse_xml
from buildradiator.text import clean_text

log = logging.getLogger(__name__)

MAX_REPORT_BYTES = 20 * 1024 * 1024
"""One report; big suites write a few MB, so 20 MB leaves room and bounds memory (~10x in a tree)."""
MAX_FILES = 500
"""Files read by one ``collect_junit``: a glob that matches a whole disk must not stall a poll."""
MAX_TOTAL_BYTES = 100 * 1024 * 1024
NAME_LIMIT = 300

_FAILED = {"failure", "error"}
_RERUN = {"rerunFailure", "rerunError"}
_FLAKY = {"flakyFailure", "flakyError"}


def parse_junit(data: bytes, *, what: str) -> list[TestResult]:
    """The test results in one JUnit XML report, or ``BadPayload`` saying why not.

    ``what`` names the report in messages (a path or a URL without its token)."""
    root = parse_xml(data, what=what, max_bytes=MAX_REPORT_BYTES)
    if local_name(root.tag) not in ("testsuites", "testsuite", "testcase"):
        raise BadPayload(f"{what} is XML but not a JUnit report (no testsuites or testsuite)")
    results: list[TestResult] = []
    attempts: dict[tuple[str, str], int] = {}
    # Walk suites ourselves (not root.iter) to know each test's enclosing suite name, which
    # stands in for a missing classname. Iterative: nesting depth comes from the file.
    stack = [(root, "")]
    while stack:
        element, suite = stack.pop()
        tag = local_name(element.tag)
        if tag == "testcase":
            result = _testcase(element, suite, attempts)
            if result is not None:
                results.append(result)
            continue
        if tag in ("testsuites", "testsuite"):
            name = element.get("name", suite) if tag == "testsuite" else suite
            stack.extend((child, name) for child in reversed(list(element)))
    return results


def _testcase(
    element: Element, suite: str, attempts: dict[tuple[str, str], int]
) -> TestResult | None:
    name = clean_text(element.get("name", ""), NAME_LIMIT)
    if not name:
        return None  # a testcase without a name cannot be followed across runs
    classname = clean_text(element.get("classname") or suite, NAME_LIMIT)
    children = {local_name(child.tag) for child in element if isinstance(child.tag, str)}
    if children & (_FAILED | _RERUN):
        status = TestStatus.FAILED
    elif "skipped" in children:
        status = TestStatus.SKIPPED
    elif children & _FLAKY:
        status = TestStatus.FLAKY
    else:
        status = TestStatus.PASSED
    key = (classname, name)
    attempts[key] = attempts.get(key, 0) + 1
    return TestResult(
        name=name,
        classname=classname,
        status=status,
        duration=parse_time(element.get("time")),
        attempt=attempts[key],
    )


def parse_time(value: str | None) -> float | None:
    """``"1,234.567"`` -> 1234.567 seconds; anything that is not a finite, non-negative number
    (empty, ``NaN``, ``-1``, words) -> ``None``."""
    if not value:
        return None
    try:
        seconds = float(value.replace(",", "").strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def collect_junit(globs: Iterable[str]) -> list[TestResult]:
    """Every test result in the files the globs match (``**`` recurses, ``~`` expands).

    A file that is too large or not a JUnit report is skipped with a warning; the others still
    count. At most ``MAX_FILES`` files and ``MAX_TOTAL_BYTES`` are read. A test found in several
    files (a rerun written as a new report) is numbered on as attempts 2, 3, ..."""
    paths: list[str] = []
    seen: set[str] = set()
    for pattern in globs:
        for match in sorted(glob.glob(os.path.expanduser(pattern), recursive=True)):
            if match not in seen and os.path.isfile(match):
                seen.add(match)
                paths.append(match)
    if len(paths) > MAX_FILES:
        log.warning("junit: %d files match; reading the first %d", len(paths), MAX_FILES)
        paths = paths[:MAX_FILES]
    results: list[TestResult] = []
    attempts: dict[tuple[str, str], int] = {}
    budget = MAX_TOTAL_BYTES
    for path in paths:
        try:
            data = _read_bounded(Path(path), min(MAX_REPORT_BYTES, budget))
            budget -= len(data)
            parsed = parse_junit(data, what=path)
        except (OSError, BadPayload) as exc:
            log.warning("junit: skipping %s: %s", path, exc)
            continue
        for r in parsed:
            key = (r.classname, r.name)
            attempts[key] = attempts.get(key, 0) + 1
            results.append(TestResult(r.name, r.classname, r.status, r.duration, attempts[key]))
        if budget <= 0:
            log.warning("junit: read %d MB of reports; stopping there", MAX_TOTAL_BYTES >> 20)
            break
    return results


def _read_bounded(path: Path, limit: int) -> bytes:
    """The file's bytes, or ``BadPayload`` when it is larger than ``limit``: checked before
    reading, and the read itself stops at ``limit + 1`` bytes (the file may grow meanwhile)."""
    if path.stat().st_size > limit:
        raise BadPayload(
            f"{path} is too large ({path.stat().st_size >> 10} KiB > {limit >> 10} KiB)"
        )
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise BadPayload(f"{path} is too large (> {limit >> 10} KiB)")
    return data
