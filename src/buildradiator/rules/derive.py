"""From what the sources said to what every view shows, in one place and in order.

The engine collects a raw snapshot (each source's pipelines, checks, deployments and blockers as
polled, each source's freshness, and history's facts) and hands it here; ``derive`` returns the
snapshot the views, the exports and the cache read:

1. display names and groups from the config, and each in-flight build's typical duration;
2. ETAs from history where the provider gives none;
3. drift of each deployment behind its pipeline's main;
4. the post-deploy watch (a deploy followed by a service going down is suspect);
5. the broken windows (a red main, a service down, a failed or suspect deploy; stale never green);
6. history's streak for each red main (red since, who broke it, the commit range);
7. pipelines ordered red first, then running, then the rest, then green (stale data is never
   running nor green: ``rules.ordering``);
8. the retry painkiller per pipeline;
9. green since when, once nothing is broken and every source is fresh;
10. the flaky ranking with the tests providers call flaky folded in;
11. the release gate (GO / HOLD and why);
12. the ``[[targets]]``;
13. privacy (``privacy = true``): author names removed, once, from everything.

``Derivation`` is the engine's deriver: it keeps what no API says and only a watcher of every poll
knows (when each service was first seen down, when the last broken window closed, the deploy
watch's memory) and applies ``derive`` with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from buildradiator.config.loading import Config
from buildradiator.model import (
    BrokenWindow,
    Health,
    Pipeline,
    PipelineFacts,
    ReportedFlake,
    Snapshot,
    SourceResult,
)
from buildradiator.rules import insights
from buildradiator.rules.deploywatch import DeployWatch
from buildradiator.rules.facts import merge_reported, with_eta, with_history
from buildradiator.rules.gate import main_red_reason, release_gate
from buildradiator.rules.memo import PipelineMemo, SortKey
from buildradiator.rules.privacy import anonymise
from buildradiator.rules.production import with_drift
from buildradiator.rules.targets import evaluate


@dataclass
class Observed:
    """What the rules remember between snapshots, from watching every poll."""

    down_since: dict[tuple[str, str], datetime] = field(default_factory=dict)
    """Per service check (``insights.service_key``): when it was first seen down."""
    recovered_at: datetime | None = None
    """When the last broken window closed."""
    was_broken: bool = False

    def observe(
        self,
        results: Iterable[SourceResult],
        now: datetime,
        is_red: Callable[[Pipeline], bool] | None = None,
    ) -> None:
        """After each poll: remember when each service was first seen down and when the last
        broken window closed. ``is_red``: whether a pipeline's main is red (``red_streak``)."""
        red = is_red or (lambda p: bool(insights.red_streak(p)))
        results = list(results)
        down = set()
        for check in (c for r in results for c in r.services):
            key = insights.service_key(check)
            if check.health is Health.DOWN and not check.muted:
                down.add(key)
                self.down_since.setdefault(key, check.checked_at or now)
        for key in list(self.down_since):
            if key not in down:
                del self.down_since[key]
        pipelines = [p for r in results for p in r.pipelines]
        broken = bool(down) or any(red(p) for p in pipelines)
        if self.was_broken and not broken:
            self.recovered_at = now
        self.was_broken = broken


def derive(
    raw: Snapshot,
    reported: Sequence[ReportedFlake],
    *,
    config: Config,
    observed: Observed,
    watch: DeployWatch,
    memo: PipelineMemo | None = None,
) -> Snapshot:
    """The snapshot every view shows, from the engine's raw one (see the module docstring).
    ``memo`` keeps each pipeline's derived facts while its object stays the same."""
    now = raw.taken_at
    stale = raw.stale_sources
    facts = {(f.source, f.key): f for f in raw.facts}
    memo = memo if memo is not None else memo_for(config)
    derived = memo.derive_all(raw.pipelines)
    pipelines = [d.shown for d in derived]
    if facts:
        pipelines = [with_eta(p, facts.get((p.source, p.key))) for p in pipelines]
    deployments = watch.judge(
        with_drift(raw.deployments, pipelines, stale),
        raw.services,
        lambda c: observed.down_since.get(insights.service_key(c)),
        now,
    )
    broken = insights.broken_windows(
        (w for d in derived if (w := d.window(d.shown.source in stale)) is not None),
        raw.services,
        stale,
        observed.down_since,
        deployments,
    )
    if facts:
        broken = _with_history(broken, facts, memo)
    snapshot = Snapshot(
        taken_at=now,
        title=raw.title,
        pipelines=_in_order(pipelines, [d.key(d.shown.source in stale) for d in derived]),
        services=raw.services,
        sources=raw.sources,
        broken=broken,
        flaky=insights.sort_flaky(d.flaky for d in derived if d.flaky is not None),
        # Green since when: only while nothing is broken and every source is current (stale
        # is never green, nor green since anything).
        green_since=None
        if broken or stale
        else insights.latest_start((d.green_start for d in derived), observed.recovered_at),
        stale_sources=raw.stale_sources,
        facts=raw.facts,
        flaky_tests=merge_reported(raw.flaky_tests, reported, now),
        deployments=tuple(deployments),
        blockers=raw.blockers,
        delivery=raw.delivery,
        delivery_at=raw.delivery_at,
        notices=raw.notices,
    )
    gate = release_gate(
        snapshot, config.release, lambda w: memo.once(w, "gate", None, lambda: main_red_reason(w))
    )
    snapshot = snapshot.model_copy(update={"gate": gate})
    targets = evaluate(config.targets, snapshot, config.groups)
    snapshot = snapshot.model_copy(update={"targets": targets})
    return anonymise(snapshot) if config.radiator.privacy else snapshot


def memo_for(config: Config) -> PipelineMemo:
    """A memo of derived pipeline facts for ``config``'s display names and groups."""
    names = {s.name: s.names for s in config.sources}
    groups = [(g.name, tuple(g.pipelines)) for g in config.groups]
    return PipelineMemo(names, groups)


def _in_order(pipelines: Sequence[Pipeline], keys: Sequence[SortKey]) -> tuple[Pipeline, ...]:
    """``insights.sort_pipelines``, from each pipeline's key (``memo.Derived.key``)."""
    order = sorted(range(len(pipelines)), key=keys.__getitem__)
    return tuple(pipelines[i] for i in order)


def _with_history(
    broken: tuple[BrokenWindow, ...],
    facts: Mapping[tuple[str, str], PipelineFacts],
    memo: PipelineMemo,
) -> tuple[BrokenWindow, ...]:
    windows = [_history_of(w, facts.get((w.source, w.key)), memo) for w in broken]
    return tuple(sorted(windows, key=lambda w: w.since.timestamp() if w.since else 1e18))


class Derivation:
    """The engine's deriver for one config: ``observe`` after every poll, ``derive`` for every
    snapshot (see the module docstring)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.observed = Observed()
        self.watch = DeployWatch(timedelta(minutes=config.release.verify_minutes))
        self.memo = memo_for(config)

    def observe(self, results: Iterable[SourceResult], now: datetime) -> None:
        self.observed.observe(results, now, self.memo.is_red)

    def derive(self, raw: Snapshot, reported: Sequence[ReportedFlake]) -> Snapshot:
        return derive(
            raw,
            reported,
            config=self.config,
            observed=self.observed,
            watch=self.watch,
            memo=self.memo,
        )


def _history_of(
    window: BrokenWindow, facts: PipelineFacts | None, memo: PipelineMemo
) -> BrokenWindow:
    return memo.once(window, "history", facts, lambda: with_history(window, facts))
