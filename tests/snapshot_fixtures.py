"""Example Snapshots for the UI tests: a red estate and an all-green one.

Times are fixed relative to ``FakeClock()``'s start (2026-11-26 12:00 UTC) so rendered ages and
ETAs are stable in snapshot SVGs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from buildradiator.model import (
    BrokenWindow,
    Build,
    FlakySummary,
    FlakyTestInfo,
    Health,
    Pipeline,
    PipelineFacts,
    RateInfo,
    ServiceCheck,
    Snapshot,
    SourceState,
    Status,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MARKUP_MESSAGE = "[bold red]boom[/] [link=http://x]y[/link]"


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def build(
    pipeline: str,
    number: int,
    status: Status,
    *,
    source: str = "gh",
    finished: float | None = None,
    started: float | None = None,
    author: str = "Frank",
    message: str = "Bump deps",
    commit: str = "a1b2c3d4e5f60718",
    stage: str | None = None,
    estimate: float | None = None,
    branch: str = "main",
) -> Build:
    start = ago(started) if started is not None else (ago(finished + 300) if finished else None)
    return Build(
        source=source,
        pipeline=pipeline,
        id=str(number),
        number=number,
        branch=branch,
        status=status,
        created_at=start,
        started_at=start if status is not Status.QUEUED else None,
        finished_at=ago(finished) if finished is not None else None,
        commit=commit,
        author=author,
        message=message,
        url=f"https://ci.example/{pipeline}/{number}",
        stage=stage,
        estimated_seconds=estimate,
    )


def pipeline(
    key: str,
    recent: tuple[Build, ...],
    in_flight: tuple[Build, ...] = (),
    *,
    source: str = "gh",
    branch: str = "main",
) -> Pipeline:
    return Pipeline(
        source=source,
        key=key,
        name=key,
        branch=branch,
        url=f"https://ci.example/{key}",
        recent=recent,
        in_flight=in_flight,
    )


def red_estate(message: str = "Fix login flow") -> Snapshot:
    """A red main with a 3-build streak, a service down, builds in flight and a stale source."""
    monolith = pipeline(
        "acme/monolith",
        (
            build(
                "acme/monolith",
                9103,
                Status.FAILED,
                finished=14 * 60,
                author="Mallory",
                message=message,
                commit="c0ffee0123456789",
            ),
            build("acme/monolith", 9102, Status.FAILED, finished=40 * 60, author="Mallory"),
            build("acme/monolith", 9101, Status.FAILED, finished=60 * 60),
        ),
        (
            build(
                "acme/monolith",
                9104,
                Status.RUNNING,
                started=372,
                stage="integration",
                estimate=600,
                author="Dana",
            ),
        ),
    )
    billing = pipeline("acme/billing", (build("acme/billing", 311, Status.PASSED, finished=180),))
    ledger = pipeline(
        "acme/ledger",
        (build("acme/ledger", 77, Status.PASSED, finished=3600, author="Gita"),),
        (
            build(
                "acme/ledger",
                78,
                Status.QUEUED,
                started=120,
                stage="waiting for agent",
                author="Gita",
            ),
        ),
    )
    docs = pipeline(
        "docs-site", (build("docs-site", 40, Status.PASSED, finished=3 * 3600, author="Ivan"),)
    )
    core = pipeline(
        "platform/core",
        (
            build(
                "platform/core",
                212,
                Status.CANCELED,
                finished=2 * 3600,
                source="jenkins",
                author="Olga",
            ),
        ),
        (
            build(
                "platform/core",
                213,
                Status.RUNNING,
                started=200,
                stage="unit",
                source="jenkins",
                author="Olga",
            ),
        ),
        source="jenkins",
        branch="master",
    )
    reports = pipeline(
        "acme/reports",
        (
            build(
                "acme/reports", 12, Status.PASSED, finished=1200, source="buildkite", author="Hana"
            ),
        ),
        source="buildkite",
    )
    services = (
        ServiceCheck(
            source="health",
            name="checkout",
            environment="prod",
            health=Health.UP,
            http_status=200,
            latency_ms=41.2,
            version="v2026.11.3",
            url="https://checkout.example/health",
        ),
        ServiceCheck(
            source="health",
            name="payments",
            environment="prod",
            health=Health.DOWN,
            http_status=503,
            latency_ms=120,
            detail="body status DOWN",
            url="https://payments.example/health",
        ),
        ServiceCheck(
            source="health",
            name="search",
            environment="prod",
            health=Health.WARN,
            http_status=200,
            latency_ms=812,
            detail="812 ms (> 500 ms)",
        ),
    )
    sources = (
        SourceState(
            name="gh",
            type="github",
            last_success=ago(4),
            last_attempt=ago(4),
            rate=RateInfo(limit=5000, remaining=4812),
        ),
        SourceState(name="jenkins", type="jenkins", last_success=ago(12), last_attempt=ago(12)),
        SourceState(name="health", type="health", last_success=ago(9), last_attempt=ago(9)),
        SourceState(
            name="buildkite",
            type="buildkite",
            last_success=ago(300),
            last_attempt=ago(31),
            error="connection refused",
            error_kind="unreachable",
            stale=True,
        ),
    )
    broken = (
        BrokenWindow(
            kind="pipeline",
            source="gh",
            key="acme/monolith",
            name="acme/monolith",
            since=ago(14 * 60 + 32),
            commit="c0ffee0123456789",
            author="Mallory",
            message=message,
            streak=3,
            url="https://ci.example/acme/monolith/9103",
        ),
        BrokenWindow(
            kind="service",
            source="health",
            key="payments",
            name="payments",
            since=ago(7 * 60),
            message="body status DOWN",
        ),
    )
    flaky = (
        FlakySummary(
            source="gh", pipeline="acme/billing", name="acme/billing", retried_to_green=2, green=14
        ),
        FlakySummary(
            source="gh", pipeline="acme/ledger", name="acme/ledger", retried_to_green=1, green=9
        ),
        FlakySummary(
            source="gh", pipeline="docs-site", name="docs-site", retried_to_green=0, green=20
        ),
    )
    return Snapshot(
        taken_at=NOW,
        pipelines=(monolith, billing, ledger, docs, core, reports),
        services=services,
        sources=sources,
        broken=broken,
        flaky=flaky,
        stale_sources=frozenset({"buildkite"}),
    )


LAST_GREEN = "9e8d7c6b5a493827"
NEWEST_RED = "c0ffee0123456789"


def _wave(days: int, base: float, swing: float, step: int) -> tuple[float, ...]:
    """A deterministic daily series with a visible shape (no randomness: SVGs stay stable)."""
    return tuple(base + swing * ((i * step) % 7) / 6 for i in range(days))


def history_facts() -> tuple[tuple[PipelineFacts, ...], tuple[FlakyTestInfo, ...]]:
    """What a history store would say of the red estate: monolith red for 3 builds after a long
    green run, billing retried to green now and then, three flaky tests."""
    p50 = _wave(30, 380.0, 120.0, 3)
    monolith = PipelineFacts(
        source="gh",
        key="acme/monolith",
        strip=(Status.FAILED,) * 3 + (Status.PASSED,) * 4 + (Status.FAILED,) + (Status.PASSED,) * 8,
        p50_seconds=372.0,
        p90_seconds=581.0,
        retried_7d=2,
        green_7d=11,
        retry_share_7d=2 / 11,
        retry_minutes_7d=38.0,
        retried_30d=5,
        green_30d=48,
        retry_share_30d=5 / 48,
        retry_minutes_30d=95.0,
        green_share=(None, None, *tuple(1.0 - 0.05 * (i * 5 % 4) for i in range(28))),
        mttr_seconds=tuple(None if i % 4 else 1800.0 + 600 * (i % 3) for i in range(30)),
        p50_trend=(None, *p50[1:]),
        p90_trend=(None, *tuple(v * 1.5 for v in p50[1:])),
        flakes=tuple((i * 3) % 5 for i in range(30)),
        red_since=ago(14 * 60 + 32),
        red_streak=3,
        broke_commit="a1b2c3d4e5f60718",
        broke_author="Frank",
        broke_message="Bump deps",
        broke_url="https://ci.example/acme/monolith/9101",
        last_green_commit=LAST_GREEN,
        newest_red_commit=NEWEST_RED,
    )
    billing = PipelineFacts(
        source="gh",
        key="acme/billing",
        strip=(Status.PASSED,) * 10,
        p50_seconds=170.0,
        p90_seconds=240.0,
        retried_7d=3,
        green_7d=14,
        retry_share_7d=3 / 14,
        retry_minutes_7d=142.0,
        retried_30d=6,
        green_30d=60,
        retry_share_30d=0.1,
        retry_minutes_30d=300.0,
        green_share=(1.0,) * 30,
        p50_trend=_wave(30, 160.0, 30.0, 2),
        p90_trend=_wave(30, 230.0, 40.0, 2),
        flakes=(0,) * 25 + (1, 0, 2, 1, 3),
    )
    ledger = PipelineFacts(source="gh", key="acme/ledger", green_7d=9, retried_7d=0)
    tests = (
        FlakyTestInfo(
            classname="com.acme.billing.LoginTest",
            name="testRedirect",
            times_flaked=12,
            retried_builds=9,
            lost_seconds=2 * 3600 + 5 * 60,
            first_seen=ago(6 * 86400),
            last_seen=ago(2 * 3600),
            pipelines=("gh:acme/billing", "gh:acme/monolith"),
        ),
        FlakyTestInfo(
            classname="tests.test_cart.CartSpec",
            name=MARKUP_MESSAGE,
            times_flaked=7,
            retried_builds=4,
            lost_seconds=40 * 60,
            first_seen=ago(3 * 86400),
            last_seen=ago(50 * 60),
            pipelines=("gh:acme/monolith",),
        ),
        FlakyTestInfo(
            classname="",
            name="test_ledger_rounds_half_even_under_a_very_long_name_indeed",
            times_flaked=2,
            retried_builds=1,
            lost_seconds=0.0,
            first_seen=ago(86400),
            last_seen=ago(20 * 3600),
            pipelines=("gh:gone/renamed",),
        ),
    )
    return (monolith, billing, ledger), tests


def red_estate_with_history() -> Snapshot:
    """The red estate as the engine publishes it with a history store: facts, flaky tests, and
    the commit range on the broken window."""
    snap = red_estate()
    facts, tests = history_facts()
    broken = (
        snap.broken[0].model_copy(
            update={"last_green_commit": LAST_GREEN, "newest_commit": NEWEST_RED}
        ),
        *snap.broken[1:],
    )
    return snap.model_copy(update={"facts": facts, "flaky_tests": tests, "broken": broken})


def green_estate() -> Snapshot:
    """Everything passing and fresh; green for 3h 12m."""
    pipelines = (
        pipeline(
            "acme/monolith",
            (build("acme/monolith", 9110, Status.PASSED, finished=600, author="Dana"),),
        ),
        pipeline("acme/billing", (build("acme/billing", 311, Status.PASSED, finished=180),)),
        pipeline(
            "docs-site", (build("docs-site", 40, Status.PASSED, finished=3 * 3600, author="Ivan"),)
        ),
    )
    services = (
        ServiceCheck(
            source="health",
            name="checkout",
            environment="prod",
            health=Health.UP,
            http_status=200,
            latency_ms=41,
            version="v2026.11.3",
        ),
        ServiceCheck(
            source="health",
            name="payments",
            environment="prod",
            health=Health.UP,
            http_status=200,
            latency_ms=88,
            version="v2026.11.2",
        ),
    )
    sources = (
        SourceState(name="gh", type="github", last_success=ago(4), last_attempt=ago(4)),
        SourceState(name="health", type="health", last_success=ago(9), last_attempt=ago(9)),
    )
    flaky = (
        FlakySummary(
            source="gh", pipeline="acme/billing", name="acme/billing", retried_to_green=0, green=14
        ),
    )
    return Snapshot(
        taken_at=NOW,
        pipelines=pipelines,
        services=services,
        sources=sources,
        flaky=flaky,
        green_since=ago(3 * 3600 + 12 * 60),
    )


TEAMS = ("acme", "platform", "mobile", "data", "web", "infra", "payments", "search")
AUTHORS = ("Mallory", "Dana", "Frank", "Gita", "Ivan", "Olga", "Hana", "Tariq")


def big_estate(count: int, red: bool = True) -> Snapshot:
    """``count`` pipelines, deterministic. Red: every fourth one failing (a bad day: a shared
    library broke), every ninth running, one group with a red member, one service down.
    Green: all passing, a few running, green for 3d 4h."""
    pipelines: list[Pipeline] = []
    for i in range(count):
        key = f"{TEAMS[i % len(TEAMS)]}/svc-{i:03d}"
        author = AUTHORS[i % len(AUTHORS)]
        failing = red and i % 4 == 1
        status = Status.FAILED if failing else Status.PASSED
        recent = (build(key, 100 + i, status, finished=60 * (i % 50 + 1), author=author),)
        flight: tuple[Build, ...] = ()
        if i % 9 == 4 and (red or i % 36 == 4):
            flight = (
                build(key, 200 + i, Status.RUNNING, started=60 + i, estimate=600, author=author),
            )
        p = pipeline(key, recent, flight)
        if i < 3 and count > 3:
            p = p.model_copy(update={"group": "Core team"})
        pipelines.append(p)
    health = Health.DOWN if red else Health.UP
    services = (
        ServiceCheck(
            source="health", name="payments", environment="prod", health=health, http_status=503
        )
        if red
        else ServiceCheck(
            source="health", name="payments", environment="prod", health=health, http_status=200
        ),
        ServiceCheck(
            source="health", name="checkout", environment="prod", health=Health.UP, http_status=200
        ),
    )
    first_red = next((p for p in pipelines if p.status is Status.FAILED), None)
    broken: tuple[BrokenWindow, ...] = ()
    if red and first_red is not None:
        last = first_red.recent[0]
        broken = (
            BrokenWindow(
                kind="pipeline",
                source="gh",
                key=first_red.key,
                name=first_red.name,
                since=ago(2 * 3600 + 5 * 60 + 9),
                commit=last.commit,
                author=last.author,
                message="Upgrade the shared HTTP client",
                streak=4,
            ),
            BrokenWindow(kind="service", source="health", key="payments", name="payments"),
        )
    sources = (
        SourceState(name="gh", type="github", last_success=ago(4), last_attempt=ago(4)),
        SourceState(name="health", type="health", last_success=ago(9), last_attempt=ago(9)),
    )
    return Snapshot(
        taken_at=NOW,
        pipelines=tuple(pipelines),
        services=services,
        sources=sources,
        broken=broken,
        green_since=None if red else ago(3 * 86400 + 4 * 3600 + 20 * 60),
    )


def big_green_estate(count: int) -> Snapshot:
    return big_estate(count, red=False)
