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
9. green since when, once nothing is broken;
10. the flaky ranking with the tests providers call flaky folded in;
11. the release gate (GO / HOLD and why);
12. the ``[[targets]]``;
13. privacy (``privacy = true``): author names removed, once, from everything.

``Derivation`` is the engine's deriver: it keeps what no API says and only a watcher of every poll
knows (when each service was first seen down, when the last broken window closed, the deploy
watch's memory) and applies ``derive`` with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from buildradiator.config.loading import Config
from buildradiator.model import (
    BrokenWindow,
    Health,
    PipelineFacts,
    ReportedFlake,
    Snapshot,
    SourceResult,
)
from buildradiator.rules import insights
from buildradiator.rules.deploywatch import DeployWatch
from buildradiator.rules.facts import merge_reported, with_eta, with_history
from buildradiator.rules.gate import release_gate
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

    def observe(self, results: Iterable[SourceResult], now: datetime) -> None:
        """After each poll: remember when each service was first seen down and when the last
        broken window closed."""
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
        broken = bool(down) or any(insights.red_streak(p) for p in pipelines)
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
) -> Snapshot:
    """The snapshot every view shows, from the engine's raw one (see the module docstring)."""
    now = raw.taken_at
    facts = {(f.source, f.key): f for f in raw.facts}
    names = {s.name: s.names for s in config.sources}
    groups = [(g.name, tuple(g.pipelines)) for g in config.groups]
    pipelines = [
        insights.label(insights.with_estimates(p), names.get(p.source, {}), groups)
        for p in raw.pipelines
    ]
    if facts:
        pipelines = [with_eta(p, facts.get((p.source, p.key))) for p in pipelines]
    deployments = watch.judge(
        with_drift(raw.deployments, pipelines),
        raw.services,
        lambda c: observed.down_since.get(insights.service_key(c)),
        now,
    )
    broken = insights.broken_windows(
        pipelines, raw.services, raw.stale_sources, observed.down_since, deployments
    )
    if facts:
        broken = _with_history(broken, facts)
    snapshot = Snapshot(
        taken_at=now,
        title=raw.title,
        pipelines=insights.sort_pipelines(pipelines, raw.stale_sources),
        services=raw.services,
        sources=raw.sources,
        broken=broken,
        flaky=insights.flaky_summaries(pipelines),
        green_since=None if broken else insights.green_since(pipelines, observed.recovered_at),
        stale_sources=raw.stale_sources,
        facts=raw.facts,
        flaky_tests=merge_reported(raw.flaky_tests, reported, now),
        deployments=tuple(deployments),
        blockers=raw.blockers,
        notices=raw.notices,
    )
    snapshot = snapshot.model_copy(update={"gate": release_gate(snapshot, config.release)})
    targets = evaluate(config.targets, snapshot, config.groups)
    snapshot = snapshot.model_copy(update={"targets": targets})
    return anonymise(snapshot) if config.radiator.privacy else snapshot


def _with_history(
    broken: tuple[BrokenWindow, ...], facts: Mapping[tuple[str, str], PipelineFacts]
) -> tuple[BrokenWindow, ...]:
    windows = [with_history(w, facts.get((w.source, w.key))) for w in broken]
    return tuple(sorted(windows, key=lambda w: w.since.timestamp() if w.since else 1e18))


class Derivation:
    """The engine's deriver for one config: ``observe`` after every poll, ``derive`` for every
    snapshot (see the module docstring)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.observed = Observed()
        self.watch = DeployWatch(timedelta(minutes=config.release.verify_minutes))

    def observe(self, results: Iterable[SourceResult], now: datetime) -> None:
        self.observed.observe(results, now)

    def derive(self, raw: Snapshot, reported: Sequence[ReportedFlake]) -> Snapshot:
        return derive(raw, reported, config=self.config, observed=self.observed, watch=self.watch)
