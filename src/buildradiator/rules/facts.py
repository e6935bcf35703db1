"""History's facts applied to what the sources said: a red main's streak reaching back past
what the API returned (and past a restart), ETAs from the median of successful builds, and the
flaky ranking with the tests providers call flaky themselves folded in. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from buildradiator.model import (
    BrokenWindow,
    Build,
    FlakyTestInfo,
    Pipeline,
    PipelineFacts,
    ReportedFlake,
)

FLAKY_LIMIT = 20
"""Flaky tests ranked in a snapshot."""


def with_history(window: BrokenWindow, facts: PipelineFacts | None) -> BrokenWindow:
    """A red main as history knows it: the streak may reach back past what the API returned
    (and past a restart), so history's first failing build and count win when they are older."""
    if facts is None or facts.red_since is None or window.kind != "pipeline":
        return window
    if window.since is not None and window.since <= facts.red_since:
        return window.model_copy(
            update={
                "last_green_commit": facts.last_green_commit,
                "newest_commit": facts.newest_red_commit,
            }
        )
    return window.model_copy(
        update={
            "since": facts.red_since,
            "streak": max(window.streak, facts.red_streak),
            "commit": facts.broke_commit,
            "author": facts.broke_author,
            "message": facts.broke_message,
            "url": facts.broke_url or window.url,
            "last_green_commit": facts.last_green_commit,
            "newest_commit": facts.newest_red_commit,
        }
    )


def with_eta(pipeline: Pipeline, facts: PipelineFacts | None) -> Pipeline:
    """In-flight builds without a provider estimate get the median of successful builds."""
    if facts is None or facts.p50_seconds is None or not pipeline.in_flight:
        return pipeline
    if all(b.estimated_seconds for b in pipeline.in_flight):
        return pipeline
    builds: tuple[Build, ...] = tuple(
        b if b.estimated_seconds else b.model_copy(update={"estimated_seconds": facts.p50_seconds})
        for b in pipeline.in_flight
    )
    return pipeline.model_copy(update={"in_flight": builds})


def merge_reported(
    ranked: Iterable[FlakyTestInfo], reported: Iterable[ReportedFlake], now: datetime
) -> tuple[FlakyTestInfo, ...]:
    """The history ranking with the tests providers call flaky themselves (CircleCI insights,
    Buildkite Test Engine) folded in: one entry per test, the larger count of the two, the
    pipelines of both; ranked again by impact (times flaked, builds retried, time lost)."""
    reported = list(reported)
    if not reported:
        return tuple(ranked)
    merged: dict[tuple[str, str], FlakyTestInfo] = {(t.classname, t.name): t for t in ranked}
    for flake in reported:
        key = (flake.classname, flake.name)
        where = f"{flake.source}:{flake.pipeline}"
        first = flake.first_seen or flake.last_seen or now
        last = flake.last_seen or now
        known = merged.get(key)
        if known is None:
            merged[key] = FlakyTestInfo(
                classname=flake.classname,
                name=flake.name,
                times_flaked=max(1, flake.times_flaked),
                retried_builds=0,
                lost_seconds=0.0,
                first_seen=min(first, last),
                last_seen=last,
                pipelines=(where,),
            )
            continue
        merged[key] = known.model_copy(
            update={
                "times_flaked": max(known.times_flaked, flake.times_flaked),
                "first_seen": min(known.first_seen, first),
                "last_seen": max(known.last_seen, last),
                "pipelines": tuple(sorted({*known.pipelines, where})),
            }
        )
    ranked_all = sorted(
        merged.values(),
        key=lambda t: (-t.times_flaked, -t.retried_builds, -t.lost_seconds, t.classname, t.name),
    )
    return tuple(ranked_all[:FLAKY_LIMIT])
