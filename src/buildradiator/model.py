"""The domain objects: what sources produce and what the views show.

Everything here is immutable. A ``Snapshot`` is the whole state at one moment; the engine builds a
new one whenever anything changes and the views only ever read it.

Text that comes from CI (commit messages, names, branches) is typed ``Untrusted``: on the way in
it loses what ``text.scrub`` removes (escape sequences, controls, invisible and bidi characters,
surrogates, noncharacters) and overlong tails; identifiers are typed ``Key`` (scrubbed, whole). It is still *text*: the views must show it with ``rich.text.Text``
and never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

from buildradiator.text import clean_key, clean_text
from buildradiator.urls import redact


def first_line(message: str | None) -> str | None:
    """The subject line of a commit message."""
    if message is None:
        return None
    return message.strip().splitlines()[0] if message.strip() else ""


Untrusted = Annotated[str, AfterValidator(clean_text)]
"""Text from a server, shown on one line: scrubbed, folded, cut (``text.clean_text``)."""
Key = Annotated[str, AfterValidator(clean_key)]
"""An identifier from a server (a pipeline key, a build id): scrubbed, never cut."""

EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_SECONDS = 30 * 86400.0
"""The longest duration or estimate believed: a month (a build that long is no build)."""


def _moment(value: datetime | None) -> datetime | None:
    # Go's zero time (year 1), 9999-12-31 and other sentinels mean "not known": no arithmetic
    # on them may overflow a screen.
    return value if value is not None and EARLIEST <= value < LATEST else None


def _seconds(value: float | None) -> float | None:
    return value if value is not None and 0 < value <= MAX_SECONDS else None


def _link(value: str | None) -> str | None:
    return redact(value) if value else value


Link = Annotated[str | None, AfterValidator(_link)]
"""A URL from a server: redacted (``urls.redact``) before it reaches a screen, a cache file,
the history or an export."""
Moment = Annotated[AwareDatetime | None, AfterValidator(_moment)]
"""A time from a server or from history: ``None`` outside 1971-2200 (a sentinel, a mistake)."""
Seconds = Annotated[float | None, AfterValidator(_seconds)]
"""A duration or an estimate: ``None`` when not a positive finite number up to a month."""


class Status(StrEnum):
    """The one vocabulary for pipelines and builds, whatever the provider."""

    PASSED = "passed"
    FAILED = "failed"
    RUNNING = "running"
    QUEUED = "queued"
    CANCELED = "canceled"
    UNKNOWN = "unknown"

    @property
    def in_flight(self) -> bool:
        return self in (Status.RUNNING, Status.QUEUED)


class TestStatus(StrEnum):
    """What became of one test in one run."""

    __test__ = False  # not a pytest test class, despite the name

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    FLAKY = "flaky"
    """Passed, but only after failing within the same build (Surefire ``flakyFailure``)."""


@dataclass(frozen=True, slots=True)
class TestResult:
    """One test in one run, from JUnit XML or a provider's test API."""

    __test__ = False

    name: str
    classname: str
    status: TestStatus
    duration: float | None = None
    """Seconds, when reported."""
    attempt: int = 1
    """1, or 2, 3... when the same test appears again in the same run (a rerun)."""


class Health(StrEnum):
    """The one vocabulary for production checks."""

    UP = "up"
    WARN = "warn"
    DOWN = "down"
    UNKNOWN = "unknown"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Build(_Frozen):
    """One build (a workflow run, a pipeline, a Jenkins build...), finished or in flight."""

    source: str
    """The config name of the source that reported it."""
    pipeline: Key
    """The key of the pipeline it belongs to (``Pipeline.key``)."""
    id: Key
    """The provider's id for it, unique within the pipeline."""
    number: int | None = None
    attempt: int = 1
    """1 for the first attempt; GitHub's ``run_attempt``, a Jenkins rebuild, a GitLab retry."""
    branch: Untrusted | None = None
    status: Status
    provider_status: Untrusted | None = None
    """The provider's own finer word, e.g. ``timed_out`` or Jenkins ``UNSTABLE``."""
    created_at: Moment = None
    started_at: Moment = None
    finished_at: Moment = None
    commit: Untrusted | None = None
    author: Untrusted | None = None
    message: Untrusted | None = None
    """The first line of the commit message."""
    url: Link = None
    stage: Untrusted | None = None
    """For builds in flight: the job or stage running now (or waited for)."""
    estimated_seconds: Seconds = None
    """The provider's own estimate of the duration, where it gives one (Jenkins)."""

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return max(0.0, (self.finished_at - self.started_at).total_seconds())
        return None


class Pipeline(_Frozen):
    """One watched branch of one pipeline: the thing a row of "Main branches" shows."""

    source: str
    key: Key
    """Unique within the source, stable across polls, e.g. ``acme/monolith`` or ``acme/x:ci.yml``."""
    name: Untrusted
    """What the screen calls it."""
    branch: Untrusted | None = None
    url: Link = None
    group: str | None = None
    """The ``[[groups]]`` entry it belongs to, if any (from the config, so trusted)."""
    recent: tuple[Build, ...] = ()
    """Completed builds, newest first (as many as the source fetched)."""
    in_flight: tuple[Build, ...] = ()
    """Running and queued builds, newest first."""

    @property
    def last(self) -> Build | None:
        return self.recent[0] if self.recent else None

    @property
    def status(self) -> Status:
        """The status of the last completed build; ``unknown`` when there is none."""
        return self.recent[0].status if self.recent else Status.UNKNOWN


class ServiceCheck(_Frozen):
    """One production check: a health URL, an alert, a query, an Argo CD application."""

    source: str
    name: Untrusted
    """What the check is called: the service (health), the alert name, the query's label."""
    environment: Untrusted | None = None
    health: Health
    service: Untrusted | None = None
    """The service it belongs to on the Production panel; ``None``: ``name`` is the service."""
    kind: str = "health"
    """``health``, ``alert``, ``query`` or ``app`` (Argo CD)."""
    http_status: int | None = None
    latency_ms: float | None = None
    version: Untrusted | None = None
    """The version or release id the body names, if any."""
    detail: Untrusted | None = None
    """Why, in words: ``body status DOWN``, ``HTTP 503``, ``812 ms (> 500 ms)``."""
    url: Link = None
    checked_at: Moment = None
    since: Moment = None
    """When it entered its state, where the source says (an alert's ``startsAt``)."""
    severity: Untrusted | None = None
    """An alert's ``severity`` label."""
    muted: Untrusted | None = None
    """Why an alert does not count: ``silenced``/``inhibited`` (shown apart, never counted)."""
    value: float | None = None
    """A query's value (``nan`` stays ``None`` with the reason in ``detail``)."""
    unit: Untrusted | None = None

    @property
    def service_name(self) -> str:
        return self.service or self.name


class DeployState(StrEnum):
    """The one vocabulary for a deploy, whatever the tool."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def in_flight(self) -> bool:
        return self in (DeployState.QUEUED, DeployState.RUNNING)


class Deployment(_Frozen):
    """What runs in one environment of one service, and the latest deploy to it.

    ``revision``/``version``/``deployed_at`` describe what is live (the last deploy that
    succeeded); ``state``/``target_revision``/``started_at``/``finished_at`` describe the latest
    deploy, which may still be running or may have failed (then what is live is older)."""

    source: str
    service: Untrusted
    environment: Untrusted | None = None
    id: Key | None = None
    """The provider's id of the latest deploy."""
    state: DeployState
    provider_state: Untrusted | None = None
    """The tool's own word: GitHub ``in_progress``, Argo CD ``Running``/``OutOfSync``..."""
    revision: Untrusted | None = None
    """The commit live now."""
    version: Untrusted | None = None
    """A human name for what is live (a tag, a ref, a release id), if different."""
    deployed_at: Moment = None
    """When what is live went live."""
    target_revision: Untrusted | None = None
    """The commit the latest deploy rolls out (running or failed); ``None`` if it is the live one."""
    started_at: Moment = None
    finished_at: Moment = None
    author: Untrusted | None = None
    detail: Untrusted | None = None
    """Why, in words: the failure message, ``no status reported yet``."""
    url: Link = None
    repo: Key | None = None
    """``owner/name`` it was built from, where known."""
    pipeline: Key | None = None
    """The pipeline key whose main it ships (config), for drift from history."""
    behind_by: int | None = None
    """Commits on main that are not live yet (compare API), if known."""
    oldest_undeployed_at: Moment = None
    """When the oldest of those commits was made."""
    suspect: Untrusted | None = None
    """Set by the engine's post-deploy watch: why this deploy is suspect."""


class Blocker(_Frozen):
    """One open release blocker: an issue with the blocking label, or a Jira match."""

    source: str
    id: Key
    """``#123``, ``SHOP-42``."""
    title: Untrusted
    url: Link = None
    opened_at: Moment = None
    author: Untrusted | None = None


class ReportedFlake(_Frozen):
    """A test a provider itself calls flaky (CircleCI insights, Buildkite Test Engine)."""

    source: str
    pipeline: Key
    """The key of the pipeline it belongs to."""
    classname: Untrusted = ""
    name: Untrusted
    times_flaked: int = 1
    first_seen: Moment = None
    last_seen: Moment = None
    job: Untrusted | None = None
    url: Link = None


class GateReason(_Frozen):
    """One reason the release is on hold."""

    kind: str
    """``main_red``, ``service_down``, ``critical_alert``, ``deploy_failed``, ``deploy_suspect``,
    ``blockers``, ``stale``."""
    text: Untrusted
    """The reason in words, e.g. ``main red: Monolith (since 14:02)``."""


class ReleaseGate(_Frozen):
    """One word, GO or HOLD, and why."""

    go: bool
    reasons: tuple[GateReason, ...] = ()

    @property
    def word(self) -> str:
        return "GO" if self.go else "HOLD"


class RateInfo(_Frozen):
    """What the API said about our quota on its last answer."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: AwareDatetime | None = None


class TestRun(_Frozen):
    """The test results of one finished build (a provider's test API, or JUnit XML)."""

    __test__ = False

    source: str
    pipeline: Key
    build_id: Key
    attempt: int = 1
    commit: Untrusted | None = None
    finished_at: Moment = None
    results: tuple[TestResult, ...] = ()


class SourceResult(_Frozen):
    """What one poll of one source produced."""

    pipelines: tuple[Pipeline, ...] = ()
    services: tuple[ServiceCheck, ...] = ()
    test_runs: tuple[TestRun, ...] = ()
    """Test results of finished builds; a source sends each run once (or again: it is
    recorded once)."""
    deployments: tuple[Deployment, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    flaky_reports: tuple[ReportedFlake, ...] = ()
    """Tests the provider itself ranks as flaky (its whole current list, each poll)."""
    summary: str = ""
    """One line for ``check``: what was found, e.g. ``3 pipelines, 1 running``."""


class Freshness(StrEnum):
    """Whether a source's data on screen is current: one definition for every view and export.

    Anything but ``fresh`` is *stale* (``SourceState.stale``): it is shown with its age and it
    never counts as green."""

    FRESH = "fresh"
    """The last poll succeeded within the source's limit."""
    WAITING = "waiting"
    """No data yet: the first poll has not answered (or never succeeded)."""
    CACHED = "cached"
    """The last run's data, read from the cache at start-up; no poll of this run confirmed it."""
    STALE = "stale"
    """The last poll failed, or the last good data is older than the source's limit."""


class SourceState(_Frozen):
    """How one source is doing, as the status bar shows it."""

    name: str
    type: str
    last_success: AwareDatetime | None = None
    last_attempt: AwareDatetime | None = None
    error: str | None = None
    error_kind: str | None = None
    stale: bool = False
    """Not fresh (``freshness`` says why): shown greyed with its age, never counts green."""
    freshness: Freshness = Freshness.FRESH
    next_poll: AwareDatetime | None = None
    rate: RateInfo | None = None
    webhook_at: AwareDatetime | None = None
    """When ``serve`` last took a webhook event for this source (it then polls it at once);
    ``None``: no event yet, or no webhook."""


class FlakySummary(_Frozen):
    """Per pipeline: recent green builds that needed a retry (GitHub ``run_attempt > 1``)."""

    source: str
    pipeline: Key
    name: Untrusted
    retried_to_green: int
    green: int


class BrokenWindow(_Frozen):
    """Something that must be impossible to miss: a red main or a production check down."""

    kind: str
    """``pipeline``, ``service`` or ``deploy`` (a failed or suspect deploy)."""
    source: str
    key: Key
    name: Untrusted
    since: Moment = None
    """When it broke: the finish of the first failing build of the streak, or the first failed check."""
    commit: Untrusted | None = None
    author: Untrusted | None = None
    message: Untrusted | None = None
    """The first line of the commit message (a red main); for a service or a deploy, the same
    words as ``reason`` (kept for readers of the JSON from before ``reason``)."""
    reason: Untrusted | None = None
    """Why a service is down or a deploy suspect, with its label: ``5xx share 0.034 > 0.01 2m
    after abc1234 went live``, ``alert PaymentsHighErrorRate: ...``, ``HTTP 500``."""
    streak: int = 1
    """How many builds in a row have failed."""
    url: Link = None
    stale: bool = False
    last_green_commit: Untrusted | None = None
    """With ``newest_commit``: the commit range where the culprit is (from history)."""
    newest_commit: Untrusted | None = None


class PipelineFacts(_Frozen):
    """What history knows of one pipeline that no CI API says (see ``facts.py``)."""

    source: str
    key: Key
    strip: tuple[Status, ...] = ()
    """Statuses of the recent recorded builds, newest first."""
    p50_seconds: Seconds = None
    p90_seconds: Seconds = None
    retried_7d: int = 0
    green_7d: int = 0
    retry_share_7d: float | None = None
    """Share of the green builds of the last 7 days that needed a retry."""
    retry_minutes_7d: float = 0.0
    """Build minutes spent on retries in the last 7 days."""
    retried_30d: int = 0
    green_30d: int = 0
    retry_share_30d: float | None = None
    retry_minutes_30d: float = 0.0
    green_share: tuple[float | None, ...] = ()
    """Daily, oldest first (30 days): share of the time main was green."""
    mttr_seconds: tuple[float | None, ...] = ()
    p50_trend: tuple[float | None, ...] = ()
    p90_trend: tuple[float | None, ...] = ()
    flakes: tuple[int, ...] = ()
    red_since: Moment = None
    red_streak: int = 0
    broke_commit: Untrusted | None = None
    broke_author: Untrusted | None = None
    broke_message: Untrusted | None = None
    broke_url: Link = None
    last_green_commit: Untrusted | None = None
    newest_red_commit: Untrusted | None = None


class FlakyTestInfo(_Frozen):
    """One flaky test (failed and passed on the same commit), ranked by impact."""

    classname: Untrusted
    name: Untrusted
    times_flaked: int
    retried_builds: int
    """Builds that failed because of it and had to be re-run."""
    lost_seconds: float
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    pipelines: tuple[str, ...] = ()
    """``source:pipeline`` where it flaked."""


class TargetStatus(_Frozen):
    """One ``[[targets]]`` goal now: its value, whether it is met, and how it moved."""

    name: str
    """From the config (trusted): ``main green >= 95% (7 d)``."""
    measure: str
    scope: str
    """What it covers: a pipeline, a group, a service, or ``all``."""
    goal: str
    """As the config wrote it: ``>= 95%``."""
    window_days: int
    value: float | None = None
    """In the measure's unit: a share 0..1, seconds, or a count; ``None`` while unknown."""
    previous: float | None = None
    """The same measure over the window before, for the trend."""
    met: bool | None = None
    """``None`` while the value is unknown."""
    trend: tuple[float | None, ...] = ()
    """Daily values, oldest first, where the measure has them (sparkline)."""


class Snapshot(_Frozen):
    """The whole state at one moment. Immutable; the engine publishes a new one on every change."""

    taken_at: AwareDatetime
    title: str = "buildradiator"
    pipelines: tuple[Pipeline, ...] = ()
    services: tuple[ServiceCheck, ...] = ()
    sources: tuple[SourceState, ...] = ()
    broken: tuple[BrokenWindow, ...] = ()
    flaky: tuple[FlakySummary, ...] = ()
    green_since: Moment = None
    """When nothing is broken: since when (best known)."""
    stale_sources: frozenset[str] = frozenset()
    facts: tuple[PipelineFacts, ...] = ()
    """History's facts per pipeline (empty without a history store)."""
    flaky_tests: tuple[FlakyTestInfo, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    gate: ReleaseGate | None = None
    """``None`` when the config watches nothing the gate could judge."""
    targets: tuple[TargetStatus, ...] = ()
    notices: tuple[str, ...] = ()
    """What the user must know that is no source's state, in plain words (the history file was
    damaged and moved aside...). Shown on screen and by ``check``."""

    def facts_of(self, source: str, key: str) -> PipelineFacts | None:
        for facts in self.facts:
            if facts.source == source and facts.key == key:
                return facts
        return None

    def source_state(self, name: str) -> SourceState | None:
        for state in self.sources:
            if state.name == name:
                return state
        return None

    @property
    def in_flight(self) -> tuple[Build, ...]:
        return tuple(b for p in self.pipelines for b in p.in_flight)
