"""Production, per service and environment: what the checks, alerts, queries and deploys say
together. Pure functions over a snapshot; the views, the exports and the release gate share them.

Tools name environments differently (Argo CD's ``prod``, GitHub's ``production``), so rows are
matched on a folded name (``env_key``); the row shows the first spelling it met.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from buildradiator.model import Deployment, DeployState, Health, Pipeline, ServiceCheck, Snapshot

_ALIASES = {
    "production": "prod",
    "prd": "prod",
    "live": "prod",
    "stage": "staging",
    "stg": "staging",
    "development": "dev",
}
WORST = (Health.DOWN, Health.WARN, Health.UNKNOWN, Health.UP)
_RANK = {health: index for index, health in enumerate(WORST)}


def env_key(environment: str | None) -> str:
    folded = (environment or "").strip().lower()
    return _ALIASES.get(folded, folded)


def row_key(service: str, environment: str | None) -> tuple[str, str]:
    return (service.strip().lower(), env_key(environment))


@dataclass(frozen=True)
class ServiceRow:
    """One service in one environment, everything known about it."""

    service: str
    environment: str | None
    health: Health
    checks: tuple[ServiceCheck, ...]
    """The checks that count, worst first."""
    muted: tuple[ServiceCheck, ...]
    """Silenced or inhibited alerts: shown apart, never counted."""
    deployment: Deployment | None
    stale: bool
    """Its health rests on old data only (every source it is judged by is stale; see
    ``_judged_by``): never shown nor counted as up."""
    stale_source: str | None = None
    """When stale: the source whose age the row shows (the first of those it is judged by)."""
    deploy_stale: bool = False
    """What is live, and the drift, come from a deploy tool whose data is not current: a
    deploy may have gone out since (shown as the last word, with its age, never as now)."""

    @property
    def suspect(self) -> str | None:
        """Why the deploy live here is suspect (the engine's post-deploy watch), if it is."""
        return self.deployment.suspect if self.deployment is not None else None

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it is not up, in words, worst first: ``deploy suspect: ...``, ``HTTP 500``,
        ``alert X: summary``."""
        suspect = (f"deploy suspect: {self.suspect}",) if self.suspect else ()
        return suspect + tuple(reason(c) for c in self.checks if c.health is not Health.UP)


def counted_health(row: ServiceRow) -> Health:
    """The health a row counts as in a tally (``2 down``): old data is unknown, whatever it said
    (it never counts as up, nor as down)."""
    return Health.UNKNOWN if row.stale else row.health


def deploy_health(row: ServiceRow) -> Health:
    """The health a view shows for a row once its deploy is counted: a suspect deploy is DOWN,
    a failed deploy at least WARN (never UP); otherwise the checks' health."""
    d = row.deployment
    if d is None:
        return row.health
    if d.suspect:
        return Health.DOWN
    if d.state is DeployState.FAILED and row.health is Health.UP:
        return Health.WARN
    return row.health


def reason(check: ServiceCheck) -> str:
    """One check's verdict in words, naming the check when it is not the service itself."""
    detail = check.detail or check.health.value
    if check.kind == "alert":
        return f"alert {check.name}: {detail}" if check.detail else f"alert {check.name}"
    if check.kind == "query":
        return f"{check.name} {detail}"
    if check.name != check.service_name:
        return f"{check.name}: {detail}"
    return detail


def worst(healths: Iterable[Health]) -> Health:
    ranked = sorted(healths, key=_RANK.__getitem__)
    return ranked[0] if ranked else Health.UNKNOWN


def service_rows(snapshot: Snapshot) -> list[ServiceRow]:
    """Every service/environment, worst first, then by name."""
    checks: dict[tuple[str, str], list[ServiceCheck]] = {}
    names: dict[tuple[str, str], tuple[str, str | None]] = {}
    for check in snapshot.services:
        key = row_key(check.service_name, check.environment)
        checks.setdefault(key, []).append(check)
        names.setdefault(key, (check.service_name, check.environment))
    deploys: dict[tuple[str, str], Deployment] = {}
    for each in snapshot.deployments:
        key = row_key(each.service, each.environment)
        names.setdefault(key, (each.service, each.environment))
        # Two tools deploying one service: the one with news (running, failed) wins.
        if key not in deploys or _deploy_rank(each) < _deploy_rank(deploys[key]):
            deploys[key] = each
    rows = []
    for key, (service, environment) in names.items():
        mine = checks.get(key, [])
        counted = sorted(
            (c for c in mine if not c.muted), key=lambda c: (_RANK[c.health], c.name.lower())
        )
        deployed = deploys.get(key)
        judges = _judged_by(mine, counted, deployed)
        stale = bool(judges) and judges <= snapshot.stale_sources
        rows.append(
            ServiceRow(
                service=service,
                environment=environment,
                # A suspect deploy is a broken window: its row is down, whatever the checks
                # say since (a check that recovered does not clear the doubt; see verify.py).
                health=(
                    Health.DOWN
                    if deployed is not None and deployed.suspect
                    else worst(c.health for c in counted)
                    if counted
                    else Health.UNKNOWN
                ),
                checks=tuple(counted),
                muted=tuple(c for c in mine if c.muted),
                deployment=deployed,
                stale=stale,
                stale_source=min(judges) if stale else None,
                deploy_stale=deployed is not None and deployed.source in snapshot.stale_sources,
            )
        )
    rows.sort(
        key=lambda r: (
            _RANK[r.health] if r.checks or r.suspect else 2.5,
            r.service.lower(),
            env_key(r.environment),
        )
    )
    return rows


def _judged_by(
    mine: list[ServiceCheck], counted: list[ServiceCheck], deployed: Deployment | None
) -> set[str]:
    """The sources a row's health rests on: the row is stale when all of them are.

    The health is judged by the counted checks (and a suspect deploy, which makes it down); a
    deploy tool says what is live, nothing about health, and a muted alert is not counted, so
    neither keeps a row whose checks went stale from reading "up". A row judged by nothing
    (only a deploy, only muted alerts) rests on all its sources."""
    judges = {c.source for c in counted}
    if deployed is not None and deployed.suspect:
        judges.add(deployed.source)
    if not judges:
        judges = {c.source for c in mine} | ({deployed.source} if deployed else set())
    return judges


def _deploy_rank(deployment: Deployment) -> int:
    if deployment.suspect:
        return 0
    return {DeployState.FAILED: 1, DeployState.RUNNING: 2, DeployState.QUEUED: 3}.get(
        deployment.state, 4
    )


def same_commit(a: str | None, b: str | None) -> bool:
    """Full and abbreviated SHAs of one commit match (at least 7 characters)."""
    if not a or not b:
        return False
    a, b = a.lower(), b.lower()
    return len(min(a, b, key=len)) >= 7 and (a.startswith(b) or b.startswith(a))


def drift_from_builds(deployment: Deployment, pipeline: Pipeline) -> Deployment:
    """Commits behind main from the pipeline's builds, when the deploy tool has no compare API.

    The builds newer than the one of the live commit carry the commits not live yet; when the
    live commit is not among the builds we know, drift stays unknown rather than guessed."""
    if deployment.behind_by is not None or not deployment.revision:
        return deployment
    # Newest first: what is still running, then the finished builds (each newest first).
    builds = (*pipeline.in_flight, *pipeline.recent)
    newer: dict[str, datetime | None] = {}
    for build in builds:
        if same_commit(build.commit, deployment.revision):
            oldest = min((t for t in newer.values() if t is not None), default=None)
            return deployment.model_copy(
                update={"behind_by": len(newer), "oldest_undeployed_at": oldest}
            )
        if build.commit:
            when = build.created_at or build.started_at
            seen = newer.get(build.commit)
            newer[build.commit] = min(seen, when) if seen and when else (seen or when)
    return deployment


def with_drift(
    deployments: Iterable[Deployment],
    pipelines: Iterable[Pipeline],
    stale_sources: frozenset[str] = frozenset(),
) -> list[Deployment]:
    """Each deployment with drift filled in from its pipeline's builds where it has none.

    Only from builds on fresh data: a CI source that stopped answering an hour ago does not
    know what main did since, so its last builds would count a drift (``0 behind``) nobody
    has seen; it stays unknown rather than guessed."""
    by_key: dict[str, Pipeline] = {}
    for each in pipelines:
        if each.source not in stale_sources:
            by_key.setdefault(each.key, each)
    out = []
    for deployment in deployments:
        built = by_key.get(deployment.pipeline or deployment.repo or "")
        out.append(drift_from_builds(deployment, built) if built else deployment)
    return out


def current_drift(deployment: Deployment, stale_sources: frozenset[str]) -> int | None:
    """How far the deployment is behind main, when that is known now: ``None`` when its
    drift is unknown or its deploy tool's word is not current."""
    return None if deployment.source in stale_sources else deployment.behind_by


def most_behind(deployments: Iterable[Deployment], stale_sources: frozenset[str]) -> float | None:
    """The most commits any of ``deployments`` is behind main, of those known now."""
    behind = [b for d in deployments if (b := current_drift(d, stale_sources)) is not None]
    return float(max(behind)) if behind else None
