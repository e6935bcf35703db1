"""JUnit XML reports, from files on disk and from URLs (CI artifacts), as test runs.

This source shows no pipeline: it only feeds history, where a test that failed and passed on the
same commit (or within one report: Surefire ``flakyFailure``) ranks as flaky. Parsing is
``junit.parse_junit``'s; what is here is reading reports cheaply and only once:

- **One report, one run.** A report's identity is the SHA-256 of its bytes, not its path or
  validator: the same XML read again (a ``touch``, a re-published artifact, a restart) is the
  same run, and history records it once. Each run is emitted once per process; the memory of
  what was emitted is bounded (``_REMEMBERED`` digests, oldest forgotten first, and history
  replaces a run recorded twice, so forgetting costs a rewrite, never a duplicate).
- **Unchanged costs nothing.** A file whose mtime and size are as last seen is not read again
  (nor is a broken one re-parsed); a URL is fetched with its ``ETag``/``Last-Modified`` and a
  304 is "nothing new".
- **One bad report costs only itself.** A file or URL that is not XML, too big, missing or
  unreachable is named in the summary and the others still count. Only when every report
  fails does the poll raise a ``SourceError`` -- and a glob that matches nothing is not a
  failure: reports appear when a build writes them.

Reading and parsing run in a worker thread: a 20 MB report takes a second to parse, and the
event loop also draws the screen.
"""

from __future__ import annotations

import asyncio
import dataclasses
import glob
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from buildradiator.errors import BadPayload, NotFound, SourceError
from buildradiator.model import SourceResult, TestResult, TestRun, TestStatus
from buildradiator.sources.base import XML, Source, Words
from buildradiator.sources.http import HttpClient, redact
from buildradiator.sources.junit import PROVIDER
from buildradiator.sources.junit.config import JUnitSource
from buildradiator.sources.junit.parse import MAX_TOTAL_BYTES, parse_junit
from buildradiator.text import clean_text

log = logging.getLogger(__name__)

_REMEMBERED = 4096
"""Digests of emitted reports kept; far more than one poll ever sees."""
_NAMED_FAILURES = 3
"""Failures named in a summary; the rest are counted."""


@dataclass(frozen=True, slots=True)
class Counts:
    """What one report held, for the summary (kept so an unchanged report is not re-parsed)."""

    tests: int = 0
    failed: int = 0
    flaky: int = 0

    @classmethod
    def of(cls, results: Iterable[TestResult]) -> Counts:
        by_test: dict[tuple[str, str], set[TestStatus]] = {}
        for r in results:
            by_test.setdefault((r.classname, r.name), set()).add(r.status)
        passing = {TestStatus.PASSED, TestStatus.FLAKY}
        return cls(
            tests=sum(1 for s in by_test.values() if s != {TestStatus.SKIPPED}),
            failed=sum(1 for s in by_test.values() if TestStatus.FAILED in s and not s & passing),
            flaky=sum(
                1
                for s in by_test.values()
                if TestStatus.FLAKY in s or {TestStatus.FAILED, TestStatus.PASSED} <= s
            ),
        )


@dataclass(frozen=True, slots=True)
class _FileState:
    """The last look at one file: its (mtime_ns, size), and its digest or why it failed."""

    stamp: tuple[int, int]
    digest: str | None = None
    error: SourceError | None = None


@dataclass(slots=True)
class _Outcome:
    """One report's part of a poll."""

    digest: str | None = None
    counts: Counts | None = None
    run: TestRun | None = None
    """Set only for a report not emitted before."""
    error: SourceError | None = None
    deferred: bool = False
    """Left for the next poll: this poll's read budget was spent."""


class JUnitReports(Source[JUnitSource]):
    """JUnit XML files (globs) and URLs; see the module docstring."""

    provider = PROVIDER
    accept = XML
    status_words = {404: Words(NotFound, "not found (HTTP 404): {url}")}

    def __init__(self, config: JUnitSource, http: HttpClient) -> None:
        super().__init__(config, http)
        self.pipeline = config.pipeline or config.name
        self._emitted: OrderedDict[str, Counts] = OrderedDict()
        # URL reports are parsed in worker threads side by side: they share ``_emitted``.
        self._lock = threading.Lock()
        self._files: dict[str, _FileState] = {}
        self._url_digest: dict[str, str] = {}
        self.reads = 0
        """Files read from disk so far (tests check that unchanged files are not)."""

    async def poll(self) -> SourceResult:
        files = asyncio.to_thread(self._scan_files) if self.config.paths else _nothing()
        outcomes, matched, considered = await files
        outcomes += await asyncio.gather(*(self._fetch(url) for url in self.config.urls))
        return self._result(outcomes, matched, considered)

    # -- files ------------------------------------------------------------------------------

    def _scan_files(self) -> tuple[list[_Outcome], int, int]:
        """Every matched file's outcome (runs in a worker thread), with how many matched."""
        paths = _expand(self.config.paths)
        matched = len(paths)
        if matched > self.config.max_files:
            log.warning(
                "junit %s: %d files match; reading the first %d",
                self.name,
                matched,
                self.config.max_files,
            )
            paths = paths[: self.config.max_files]
        budget = MAX_TOTAL_BYTES
        outcomes: list[_Outcome] = []
        states: dict[str, _FileState] = {}
        for path in paths:
            outcome, state, spent = self._file(path, budget)
            budget -= spent
            outcomes.append(outcome)
            if state is not None:
                states[path] = state
        # Only the files that still match are remembered: the memory is as big as one scan.
        self._files = states
        return outcomes, matched, len(paths)

    def _file(self, path: str, budget: int) -> tuple[_Outcome, _FileState | None, int]:
        shown = clean_text(path, 300)
        try:
            st = os.stat(path)
        except OSError as exc:  # vanished between the glob and now, or unreadable directory
            return _Outcome(error=SourceError(f"cannot read {shown}: {exc.strerror}")), None, 0
        stamp = (st.st_mtime_ns, st.st_size)
        known = self._files.get(path)
        if known is not None and known.stamp == stamp:
            # Unchanged since the last look: neither read nor parsed again.
            if known.error is not None:
                return _Outcome(error=known.error), known, 0
            counts = self._known(known.digest)
            if counts is not None:
                return _Outcome(known.digest, counts), known, 0
        if st.st_size > self.config.max_bytes:
            error = BadPayload(
                f"{shown} is too large ({st.st_size >> 10} KiB > {self.config.max_bytes >> 10} KiB)"
            )
            return _Outcome(error=error), _FileState(stamp, error=error), 0
        if st.st_size > budget and budget < MAX_TOTAL_BYTES:
            return _Outcome(deferred=True), None, 0
        try:
            with open(path, "rb") as f:
                self.reads += 1
                data = f.read(self.config.max_bytes + 1)
        except OSError as exc:
            return _Outcome(error=SourceError(f"cannot read {shown}: {exc.strerror}")), None, 0
        if len(data) > self.config.max_bytes:  # it grew after the stat
            error = BadPayload(f"{shown} is too large (> {self.config.max_bytes >> 10} KiB)")
            return _Outcome(error=error), _FileState(stamp, error=error), len(data)
        when = datetime.fromtimestamp(st.st_mtime, tz=UTC)
        outcome = self._report(data, shown, when)
        state = _FileState(stamp, digest=outcome.digest, error=outcome.error)
        return outcome, state, len(data)

    # -- URLs -------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        return self._basic_or_bearer(self.config.username)

    async def _fetch(self, url: str) -> _Outcome:
        shown = redact(url)
        try:
            response = await self._get(url, what=f"report {shown}")
        except SourceError as exc:
            return _Outcome(error=exc)
        digest = self._url_digest.get(url)
        counts = self._known(digest) if response.not_modified else None
        if counts is not None:
            return _Outcome(digest, counts)
        if len(response.content) > self.config.max_bytes:
            limit = self.config.max_bytes >> 10
            return _Outcome(error=BadPayload(f"report {shown} is too large (> {limit} KiB)"))
        when = _http_date(response.headers.get("last-modified"))
        outcome = await asyncio.to_thread(self._report, response.content, f"report {shown}", when)
        if outcome.digest is not None:
            self._url_digest[url] = outcome.digest
        return outcome

    # -- both -------------------------------------------------------------------------------

    def _known(self, digest: str | None) -> Counts | None:
        """The counts of a report already emitted, else ``None``."""
        if digest is None:
            return None
        with self._lock:
            counts = self._emitted.get(digest)
            if counts is not None:
                self._emitted.move_to_end(digest)
            return counts

    def _report(self, data: bytes, shown: str, when: datetime | None) -> _Outcome:
        """One report's bytes: already emitted (by digest), or parsed into a new run."""
        digest = hashlib.sha256(data).hexdigest()
        counts = self._known(digest)
        if counts is not None:
            return _Outcome(digest, counts)
        try:
            results = parse_junit(data, what=shown)
        except BadPayload as exc:
            return _Outcome(error=exc)
        counts = Counts.of(results)
        with self._lock:
            self._emitted[digest] = counts
            while len(self._emitted) > _REMEMBERED:
                self._emitted.popitem(last=False)
        if not results:
            return _Outcome(digest, counts)  # a valid report of no tests: nothing to record
        now = self.http.clock.now()
        run = TestRun(
            source=self.config.pipeline_source or self.name,
            pipeline=self.pipeline,
            build_id=f"junit-{digest[:24]}",
            commit=self.config.commit,
            # The file's mtime (or Last-Modified) says when the tests ran; one from the future
            # (another machine's clock) is taken as now.
            finished_at=min(when, now) if when is not None else None,
            results=tuple(results),
        )
        return _Outcome(digest, counts, run)

    def _result(self, outcomes: list[_Outcome], matched: int, considered: int) -> SourceResult:
        errors = [o.error for o in outcomes if o.error is not None]
        good = [o for o in outcomes if o.counts is not None]
        deferred = sum(1 for o in outcomes if o.deferred)
        if errors and not good and not deferred:
            raise _all_failed(errors)
        # The same report reached twice (two paths, a path and a URL) counts once.
        reports = {
            o.digest: o.counts for o in good if o.digest is not None and o.counts is not None
        }
        total = Counts(
            tests=sum(c.tests for c in reports.values()),
            failed=sum(c.failed for c in reports.values()),
            flaky=sum(c.flaky for c in reports.values()),
        )
        runs: dict[str, TestRun] = {}
        for o in outcomes:
            if o.run is not None:
                runs.setdefault(o.run.build_id, o.run)
        parts = [_plural(len(reports), "report")]
        if runs:
            parts[0] += f" ({len(runs)} new)"
        parts.append(_plural(total.tests, "test"))
        if total.failed:
            parts.append(f"{total.failed} failed")
        parts.append(f"{total.flaky} flaky")
        summary = ", ".join(parts)
        if not outcomes:
            summary = (
                "no reports yet (nothing matches "
                + ", ".join(clean_text(p, 200) for p in self.config.paths)
                + ")"
            )
        if considered < matched:
            summary += f"; read the first {considered} of {matched} files"
        if deferred:
            summary += f"; {deferred} left for the next poll"
        if errors:
            summary += f"; {len(errors)} unreadable: " + _name_failures(errors)
        return SourceResult(test_runs=tuple(runs.values()), summary=summary)


async def _nothing() -> tuple[list[_Outcome], int, int]:
    return [], 0, 0


def _expand(patterns: Iterable[str]) -> list[str]:
    """The files the glob patterns match, in name order, each once."""
    seen: dict[str, None] = {}
    for pattern in patterns:
        for match in sorted(glob.glob(os.path.expanduser(pattern), recursive=True)):
            if match not in seen and os.path.isfile(match):
                seen[match] = None
    return list(seen)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _name_failures(errors: list[SourceError]) -> str:
    named = "; ".join(str(e) for e in errors[:_NAMED_FAILURES])
    more = len(errors) - _NAMED_FAILURES
    return named + (f"; and {more} more" if more > 0 else "")


def _all_failed(errors: list[SourceError]) -> SourceError:
    """One error for a poll where every report failed: the error itself when there was one,
    else the shared kind (all 404s stay ``NotFound``) with every report named."""
    if len(errors) == 1:
        return errors[0]
    message = f"all {len(errors)} reports failed: " + _name_failures(errors)
    first = errors[0]
    if all(type(e) is type(first) for e in errors):
        return dataclasses.replace(first, message=message)
    return SourceError(message)
