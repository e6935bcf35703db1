"""Pure functions from the latest results to the facts the views show.

No I/O, no clock of their own: everything they need is passed in, so each fact is tested on a
known input. The engine calls ``derive`` once per published snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from fnmatch import fnmatchcase
from statistics import median

from buildradiator.model import (
    BrokenWindow,
    Build,
    Deployment,
    FlakySummary,
    Health,
    Pipeline,
    ServiceCheck,
    Status,
)
from buildradiator.rules.ordering import Urgency, urgency
from buildradiator.rules.production import row_key


def red_streak(pipeline: Pipeline) -> tuple[Build, ...]:
    """The failed builds of the current red streak, newest first (empty when main is not red).

    Canceled builds neither start nor end a streak: a cancel on top of a red main leaves it red.
    """
    streak: list[Build] = []
    for build in pipeline.recent:
        if build.status is Status.FAILED:
            streak.append(build)
        elif build.status is Status.CANCELED:
            continue
        else:
            break
    if pipeline.recent and pipeline.recent[0].status is not Status.FAILED:
        return ()
    return tuple(streak)


def pipeline_window(pipeline: Pipeline, stale: bool) -> BrokenWindow | None:
    """A red main as a broken window: since the first failing build of the streak, and by whom."""
    streak = red_streak(pipeline)
    if not streak:
        return None
    first = streak[-1]
    return BrokenWindow(
        kind="pipeline",
        source=pipeline.source,
        key=pipeline.key,
        name=pipeline.name,
        since=first.finished_at or first.started_at or first.created_at,
        commit=first.commit,
        author=first.author,
        message=first.message,
        streak=len(streak),
        url=first.url,
        stale=stale,
    )


def service_window(
    check: ServiceCheck, down_since: datetime | None, stale: bool
) -> BrokenWindow | None:
    if check.health is not Health.DOWN or check.muted:
        return None
    # An alert names its service: "payments" down because of "alert X: ...".
    name = check.service_name
    message = check.detail
    if check.kind == "alert":
        message = f"alert {check.name}: {check.detail}" if check.detail else f"alert {check.name}"
    return BrokenWindow(
        kind="service",
        source=check.source,
        key=f"{check.name}@{check.environment or ''}",
        name=name,
        since=(check.since if check.kind == "alert" else None) or down_since or check.checked_at,
        message=message,
        reason=message,
        url=check.url,
        stale=stale,
    )


def deploy_window(deployment: Deployment, stale: bool) -> BrokenWindow | None:
    """A suspect deploy: production went bad right after it went live."""
    if not deployment.suspect:
        return None
    env = f" ({deployment.environment})" if deployment.environment else ""
    return BrokenWindow(
        kind="deploy",
        source=deployment.source,
        key=f"{deployment.service}@{deployment.environment or ''}",
        name=f"{deployment.service}{env}",
        since=deployment.deployed_at or deployment.finished_at,
        commit=deployment.revision,
        author=deployment.author,
        message=deployment.suspect,
        reason=deployment.suspect,
        url=deployment.url,
        stale=stale,
    )


def service_key(check: ServiceCheck) -> tuple[str, str]:
    return (check.source, f"{check.name}@{check.environment or ''}")


def pipeline_windows(
    pipelines: Iterable[Pipeline], stale_sources: frozenset[str]
) -> list[BrokenWindow]:
    """The pipelines' broken windows (``pipeline_window``), in pipeline order."""
    return [
        w for p in pipelines if (w := pipeline_window(p, p.source in stale_sources)) is not None
    ]


def broken_windows(
    of_pipelines: Iterable[BrokenWindow],
    services: Iterable[ServiceCheck],
    stale_sources: frozenset[str],
    down_since: Mapping[tuple[str, str], datetime],
    deployments: Iterable[Deployment] = (),
) -> tuple[BrokenWindow, ...]:
    """Every broken window, oldest first (the one that has waited longest leads the banner):
    the pipelines' (``pipeline_windows``; the rules pass them remembered per pipeline), the
    services' and the deployments'."""
    windows = list(of_pipelines)
    windows += _one_per_service(services, stale_sources, down_since)
    windows += [
        w for d in deployments if (w := deploy_window(d, d.source in stale_sources)) is not None
    ]
    return tuple(sorted(windows, key=lambda w: w.since.timestamp() if w.since else float("inf")))


def _one_per_service(
    services: Iterable[ServiceCheck],
    stale_sources: frozenset[str],
    down_since: Mapping[tuple[str, str], datetime],
) -> list[BrokenWindow]:
    """One window per service and environment, however many of its checks are down (its
    health URL, its error-rate query, its Argo CD app, its alert): the banner names payments
    once, from its first check that went down, and counts the rest."""
    groups: dict[tuple[str, str], list[BrokenWindow]] = {}
    for check in services:
        window = service_window(
            check, down_since.get(service_key(check)), check.source in stale_sources
        )
        if window is not None:
            groups.setdefault(row_key(check.service_name, check.environment), []).append(window)
    out = []
    for windows in groups.values():
        windows.sort(key=lambda w: (w.since.timestamp() if w.since else float("inf"), w.key))
        first = windows[0]
        if len(windows) > 1:
            more = f" (+{len(windows) - 1} more down)"
            first = first.model_copy(
                update={
                    "message": (first.message or "down") + more,
                    # Stale only when every check saying so is.
                    "stale": all(w.stale for w in windows),
                }
            )
        out.append(first)
    return out


def green_streak_start(pipeline: Pipeline) -> datetime | None:
    """When this pipeline's current run of green builds began (its oldest green build we know)."""
    start = None
    for build in pipeline.recent:
        if build.status is Status.FAILED:
            break
        if build.status is Status.PASSED:
            start = build.finished_at or start
    return start


def green_since(pipelines: Iterable[Pipeline], recovered_at: datetime | None) -> datetime | None:
    """Since when everything has been green: the latest start of any pipeline's green streak,
    or the moment the engine saw the last broken window close, whichever is later."""
    return latest_start((green_streak_start(p) for p in pipelines), recovered_at)


def latest_start(
    starts: Iterable[datetime | None], recovered_at: datetime | None
) -> datetime | None:
    """``green_since`` from each pipeline's ``green_streak_start``."""
    known = [s for s in starts if s is not None]
    if recovered_at is not None:
        known.append(recovered_at)
    return max(known) if known else None


def flaky_summaries(pipelines: Iterable[Pipeline]) -> tuple[FlakySummary, ...]:
    """Per pipeline: recent green builds that went green only on a retry (attempt > 1)."""
    return sort_flaky(s for p in pipelines if (s := flaky_summary(p)) is not None)


def flaky_summary(pipeline: Pipeline) -> FlakySummary | None:
    """One pipeline's recent green builds and how many went green only on a retry; ``None``
    without a green build."""
    green = [b for b in pipeline.recent if b.status is Status.PASSED]
    if not green:
        return None
    return FlakySummary(
        source=pipeline.source,
        pipeline=pipeline.key,
        name=pipeline.name,
        retried_to_green=sum(1 for b in green if b.attempt > 1),
        green=len(green),
    )


def sort_flaky(summaries: Iterable[FlakySummary]) -> tuple[FlakySummary, ...]:
    """Most retried to green first, then by name."""
    return tuple(sorted(summaries, key=lambda f: (-f.retried_to_green, f.name)))


def typical_duration(pipeline: Pipeline) -> float | None:
    """Median duration of the recent successful builds, the basis of an ETA."""
    durations = [
        d for b in pipeline.recent if b.status is Status.PASSED and (d := b.duration_seconds)
    ]
    return median(durations) if durations else None


def with_estimates(pipeline: Pipeline) -> Pipeline:
    """The pipeline with every in-flight build given an estimate where the provider gave none."""
    if not pipeline.in_flight or all(b.estimated_seconds for b in pipeline.in_flight):
        return pipeline
    typical = typical_duration(pipeline)
    if typical is None:
        return pipeline
    builds = tuple(
        b if b.estimated_seconds else b.model_copy(update={"estimated_seconds": typical})
        for b in pipeline.in_flight
    )
    return pipeline.model_copy(update={"in_flight": builds})


_ORDER = {
    Status.FAILED: 0,
    Status.RUNNING: 1,
    Status.QUEUED: 2,
    Status.UNKNOWN: 3,
    Status.CANCELED: 4,
    Status.PASSED: 5,
}


def sort_pipelines(
    pipelines: Iterable[Pipeline], stale_sources: frozenset[str] = frozenset()
) -> tuple[Pipeline, ...]:
    """Red first, then running, then the rest, then green (``ordering.urgency``: stale data is
    never running nor green); queued, unknown, canceled in that order among the rest; by name
    within each."""
    return tuple(sorted(pipelines, key=lambda p: sort_key(p, stale_sources)))


def sort_key(pipeline: Pipeline, stale_sources: frozenset[str]) -> tuple[int, int, str]:
    """Where ``sort_pipelines`` puts a pipeline."""
    level = urgency(pipeline, stale_sources)
    return (level, _ORDER[pipeline.status] if level is Urgency.OTHER else 0, pipeline.name.lower())


def label(
    pipeline: Pipeline,
    names: Mapping[str, str],
    groups: Sequence[tuple[str, Sequence[str]]],
) -> Pipeline:
    """The pipeline with its configured display name and group.

    ``names`` is the source's ``names`` table, keyed by pipeline key or name. A group pattern
    matches the display name, the provider's name, or ``source:name``.
    """
    display = names.get(pipeline.key) or names.get(pipeline.name) or pipeline.name
    candidates = (
        display,
        pipeline.name,
        f"{pipeline.source}:{display}",
        f"{pipeline.source}:{pipeline.name}",
    )
    group = next(
        (
            name
            for name, patterns in groups
            if any(fnmatchcase(c, pattern) for pattern in patterns for c in candidates)
        ),
        # A group the source itself reports (a central radiator's) stands unless ours says.
        pipeline.group,
    )
    if display == pipeline.name and group == pipeline.group:
        return pipeline
    return pipeline.model_copy(update={"name": display, "group": group})
