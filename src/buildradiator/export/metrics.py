"""The snapshot in Prometheus exposition format (``/metrics``), so Prometheus and Grafana keep
the org-wide history and alerting the radiator itself does not.

Built with prometheus_client: a collector turns one snapshot into metric families in a fresh
registry on every scrape, so nothing is global and every value comes from the snapshot (no
counters that would need the process to live). Conventions:

- every name starts with ``buildradiator_``; times are ``..._timestamp_seconds`` (Unix
  seconds), ages and durations seconds, shares 0..1;
- states are enum-style sets: ``pipeline_status{status="failed"} 1`` and a 0 for every other
  status, so ``== 1`` alerts and ``sum by (status)`` panels both work;
- a value the snapshot does not know is left out, never exported as 0 (0 would claim it);
- label values are text from CI: prometheus_client escapes quotes, backslashes and newlines, and
  every value is cleaned of control characters first (not every model field is ``Untrusted``);
- two series with the same labels would make Prometheus reject the whole scrape, so the first
  (for checks: the worst) wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import InfoMetricFamily, Metric
from pydantic import ValidationError

from buildradiator.config.share import TargetConfig
from buildradiator.export.delivery_metrics import delivery_metrics
from buildradiator.export.gauges import PREFIX, Gauge, flag, label, timestamp
from buildradiator.model import (
    BrokenWindow,
    DeployState,
    Freshness,
    Health,
    Pipeline,
    PipelineFacts,
    ServiceCheck,
    Snapshot,
    Status,
)
from buildradiator.rules.production import WORST, service_rows

CONTENT_TYPE = CONTENT_TYPE_LATEST
TOP_FLAKY_TESTS = 20
"""Per-test series for the worst flaky tests only: every test ever flaky would be unbounded."""

_P = ("source", "pipeline")
_CHECK = ("source", "check", "service", "environment", "kind")
_DEPLOY = ("source", "service", "environment")
_SOURCE = ("source", "type")
_TARGET = ("target", "measure", "scope")
_HEALTH_RANK = {h: i for i, h in enumerate(WORST)}


def metrics_text(snapshot: Snapshot, now: datetime) -> bytes:
    """The exposition of ``snapshot``; ``now`` only turns moments into ages."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot, now))
    return generate_latest(registry)


class SnapshotCollector:
    """A prometheus_client collector over one snapshot."""

    def __init__(self, snapshot: Snapshot, now: datetime) -> None:
        self.snapshot = snapshot
        self.now = now

    def collect(self) -> Iterator[Metric]:
        yield from self._overall()
        yield from self._pipelines()
        yield from self._flaky_tests()
        yield from self._services()
        yield from self._deployments()
        yield from self._release()
        yield from self._sources()
        yield from self._targets()
        yield from delivery_metrics(self.snapshot)

    def _overall(self) -> Iterable[Metric]:
        snap = self.snapshot
        taken = Gauge("snapshot_timestamp_seconds", "When the engine took the snapshot shown.")
        taken.add((), timestamp(snap.taken_at))
        age = Gauge("snapshot_age_seconds", "How old the snapshot shown is.")
        age.add((), max(0.0, (self.now - snap.taken_at).total_seconds()))
        broken = Gauge(
            "broken_windows",
            "Things broken now: red main pipelines, services down, failed or suspect deploys.",
            ("kind",),
        )
        for kind in ("pipeline", "service", "deploy"):
            broken.add((kind,), sum(1 for w in snap.broken if w.kind == kind))
        return (taken.metric, age.metric, broken.metric)

    def _pipelines(self) -> Iterable[Metric]:
        snap = self.snapshot
        info = InfoMetricFamily(
            PREFIX + "pipeline",
            "One per watched pipeline: its display name, branch and group.",
            labels=_P,
        )
        status = Gauge(
            "pipeline_status",
            "1 for the status of the pipeline's last finished build, 0 for the others.",
            (*_P, "status"),
        )
        stale = Gauge(
            "pipeline_stale", "1 when the pipeline's source is stale (last status shown).", _P
        )
        running = Gauge("pipeline_running", "Builds of the pipeline running now.", _P)
        queued = Gauge("pipeline_queued", "Builds of the pipeline queued now.", _P)
        last = Gauge(
            "pipeline_last_build_timestamp_seconds",
            "When the pipeline's last build finished (else started).",
            _P,
        )
        red_since = Gauge(
            "pipeline_red_since_seconds",
            "How long the pipeline has been red (since its first failing build of the streak);"
            " 0 when not red, absent when red since an unknown time.",
            _P,
        )
        streak = Gauge(
            "pipeline_red_streak", "Failed builds in a row, newest first; 0 when not red.", _P
        )
        duration = Gauge(
            "pipeline_build_duration_seconds",
            "Build duration quantiles of the pipeline's recent builds (from history).",
            (*_P, "quantile"),
        )
        retry = Gauge(
            "pipeline_retry_share",
            "Share (0..1) of the green builds in the window that needed a retry (from history).",
            (*_P, "window"),
        )
        seen: set[tuple[str, str]] = set()
        for p in snap.pipelines:
            ids = (label(p.source), label(p.key))
            if ids in seen:
                continue
            seen.add(ids)
            info.add_metric(
                ids, {"name": label(p.name), "branch": label(p.branch), "group": label(p.group)}
            )
            for s in Status:
                status.add((*ids, s.value), flag(p.status is s))
            stale.add(ids, flag(p.source in snap.stale_sources))
            running.add(ids, sum(1 for b in p.in_flight if b.status is Status.RUNNING))
            queued.add(ids, sum(1 for b in p.in_flight if b.status is Status.QUEUED))
            if p.last is not None:
                last.add(ids, timestamp(p.last.finished_at or p.last.started_at))
            facts = snap.facts_of(p.source, p.key)
            since, count = self._red(p, facts)
            red_since.add(ids, since)
            streak.add(ids, count)
            if facts is not None:
                duration.add((*ids, "0.5"), facts.p50_seconds)
                duration.add((*ids, "0.9"), facts.p90_seconds)
                retry.add((*ids, "7d"), facts.retry_share_7d)
                retry.add((*ids, "30d"), facts.retry_share_30d)
        return (
            info,
            *(g.metric for g in (status, stale, running, queued, last, red_since, streak)),
            duration.metric,
            retry.metric,
        )

    def _red(self, p: Pipeline, facts: PipelineFacts | None) -> tuple[float | None, int]:
        """How long red (seconds) and how many failures in a row: the broken window knows
        best, then history, then the builds the source sent."""
        if p.status is not Status.FAILED:
            return 0.0, 0
        window = self._window("pipeline", p.source, p.key)
        failing = []
        for build in p.recent:
            if build.status is not Status.FAILED:
                break
            failing.append(build)
        since = (
            (window.since if window else None)
            or (facts.red_since if facts else None)
            or failing[-1].finished_at
        )
        count = (window.streak if window else 0) or (facts.red_streak if facts else 0)
        age = max(0.0, (self.now - since).total_seconds()) if since else None
        return age, count or len(failing)

    def _window(self, kind: str, source: str, key: str) -> BrokenWindow | None:
        for window in self.snapshot.broken:
            if window.kind == kind and window.source == source and window.key == key:
                return window
        return None

    def _flaky_tests(self) -> Iterable[Metric]:
        tests = self.snapshot.flaky_tests
        count = Gauge("flaky_tests", "Tests that failed and passed on the same commit lately.")
        count.add((), len(tests))
        top = Gauge(
            "flaky_test_times_flaked",
            f"How often each of the {TOP_FLAKY_TESTS} most flaky tests flaked lately.",
            ("classname", "name"),
        )
        for test in sorted(tests, key=lambda t: -t.times_flaked)[:TOP_FLAKY_TESTS]:
            top.add((test.classname, test.name), test.times_flaked)
        return (count.metric, top.metric)

    def _services(self) -> Iterable[Metric]:
        snap = self.snapshot
        up = Gauge(
            "service_up",
            "1 when every check of the service in the environment is up (muted alerts aside).",
            ("service", "environment"),
        )
        health = Gauge(
            "service_health",
            "1 for the service's worst check health (up, warn, down, unknown), 0 for the others.",
            ("service", "environment", "health"),
        )
        stale = Gauge(
            "service_stale",
            "1 when every source of the service's checks is stale.",
            ("service", "environment"),
        )
        for row in service_rows(snap):
            if not row.checks:
                continue  # deployments only, or only muted alerts: nothing says up or down
            ids = (row.service, row.environment)
            up.add(ids, flag(row.health is Health.UP))
            for h in Health:
                health.add((*ids, h.value), flag(row.health is h))
            stale.add(ids, flag(row.stale))
        check_up = Gauge("service_check_up", "1 when the check is up, else 0.", _CHECK)
        muted = Gauge(
            "service_check_muted", "1 for a silenced or inhibited alert (never counted).", _CHECK
        )
        latency = Gauge(
            "service_check_latency_seconds", "How long the check's request took.", _CHECK
        )
        for check in sorted(snap.services, key=lambda c: _HEALTH_RANK[c.health]):
            key = _check_ids(check)
            check_up.add(key, flag(check.health is Health.UP))
            muted.add(key, flag(bool(check.muted)))
            if check.latency_ms is not None:
                latency.add(key, check.latency_ms / 1000.0)
        return (
            up.metric,
            health.metric,
            stale.metric,
            check_up.metric,
            muted.metric,
            latency.metric,
        )

    def _deployments(self) -> Iterable[Metric]:
        behind = Gauge(
            "deployment_behind_commits", "Commits on main not live yet in the environment.", _DEPLOY
        )
        running = Gauge("deployment_in_progress", "1 while a deploy is queued or running.", _DEPLOY)
        failed = Gauge("deployment_failed", "1 when the latest deploy failed.", _DEPLOY)
        suspect = Gauge(
            "deployment_suspect", "1 when the post-deploy watch finds the deploy suspect.", _DEPLOY
        )
        live = Gauge(
            "deployment_live_timestamp_seconds",
            "When what runs in the environment went live.",
            _DEPLOY,
        )
        for d in self.snapshot.deployments:
            ids = (d.source, d.service, d.environment)
            behind.add(ids, d.behind_by)
            running.add(ids, flag(d.state.in_flight))
            failed.add(ids, flag(d.state is DeployState.FAILED))
            suspect.add(ids, flag(bool(d.suspect)))
            live.add(ids, timestamp(d.deployed_at))
        return (behind.metric, running.metric, failed.metric, suspect.metric, live.metric)

    def _release(self) -> Iterable[Metric]:
        snap = self.snapshot
        blockers = Gauge("release_blockers", "Open release blockers.")
        blockers.add((), len(snap.blockers))
        yield blockers.metric
        if snap.gate is None:
            return  # nothing the gate could judge: no GO/HOLD to claim
        go = Gauge("release_gate_go", "1 when the release gate says GO, 0 for HOLD.")
        go.add((), flag(snap.gate.go))
        reasons = Gauge("release_gate_hold_reasons", "Reasons the release is on hold.", ("kind",))
        kinds = sorted({r.kind for r in snap.gate.reasons})
        for kind in kinds:
            reasons.add((kind,), sum(1 for r in snap.gate.reasons if r.kind == kind))
        yield go.metric
        yield reasons.metric

    def _sources(self) -> Iterable[Metric]:
        up = Gauge(
            "source_up",
            "1 when the source's last poll succeeded, else 0 (also while only the last run's"
            " cache is shown: no poll of this run has succeeded).",
            _SOURCE,
        )
        stale = Gauge(
            "source_stale", "1 when the source's last good data is older than its limit.", _SOURCE
        )
        success = Gauge(
            "source_last_success_timestamp_seconds", "When the source was last read.", _SOURCE
        )
        error = Gauge(
            "source_error",
            "1 for the kind of the source's current error (absent: none).",
            (*_SOURCE, "kind"),
        )
        remaining = Gauge(
            "source_rate_remaining", "API requests left in the source's rate quota.", _SOURCE
        )
        limit = Gauge("source_rate_limit", "The source's API rate quota.", _SOURCE)
        reset = Gauge(
            "source_rate_reset_timestamp_seconds", "When the source's rate quota resets.", _SOURCE
        )
        for s in self.snapshot.sources:
            ids = (s.name, s.type)
            polled = s.last_success is not None and s.freshness is not Freshness.CACHED
            up.add(ids, flag(s.error is None and polled))
            stale.add(ids, flag(s.stale or s.name in self.snapshot.stale_sources))
            success.add(ids, timestamp(s.last_success))
            if s.error is not None:
                error.add((*ids, s.error_kind or "error"), 1.0)
            if s.rate is not None:
                remaining.add(ids, s.rate.remaining)
                limit.add(ids, s.rate.limit)
                reset.add(ids, timestamp(s.rate.reset_at))
        return tuple(g.metric for g in (up, stale, success, error, remaining, limit, reset))

    def _targets(self) -> Iterable[Metric]:
        value = Gauge(
            "target_value",
            "A target's measure now, in its unit: a share 0..1, seconds or a count.",
            _TARGET,
        )
        goal = Gauge("target_goal", "A target's goal, in the unit of target_value.", _TARGET)
        met = Gauge(
            "target_met", "1 when the target is met, 0 when not (absent: unknown).", _TARGET
        )
        for t in self.snapshot.targets:
            ids = (t.name, t.measure, t.scope)
            value.add(ids, t.value)
            goal.add(ids, _goal(t.measure, t.goal))
            if t.met is not None:
                met.add(ids, flag(t.met))
        return (value.metric, goal.metric, met.metric)


def _check_ids(check: ServiceCheck) -> tuple[str, ...]:
    return (check.source, check.name, check.service_name, check.environment or "", check.kind)


def _goal(measure: str, goal: str) -> float | None:
    """The goal as a number in the measure's unit, read the way the config reads it."""
    try:
        return TargetConfig(measure=measure, goal=goal).threshold
    except ValidationError:
        return None
