"""Post-deploy verification: after a deploy goes live, its service is watched for a while; a
check going down or a new critical alert in that window marks the deploy suspect.

``suspect_reason`` is the rule, pure. ``DeployWatch`` is the engine's memory of it: once a
deploy is suspect it stays so (a check that recovers does not clear the doubt) until a newer
deploy replaces it, and a restart that forgets it only loses the mark, never data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from buildradiator import fmt
from buildradiator.model import Deployment, DeployState, Health, ServiceCheck
from buildradiator.rules.production import reason, row_key

DownSince = Callable[[ServiceCheck], datetime | None]


def live_since(deployment: Deployment) -> datetime | None:
    """When the live revision went live (what the watch counts from)."""
    if deployment.deployed_at is not None:
        return deployment.deployed_at
    if deployment.state is DeployState.SUCCEEDED and deployment.target_revision is None:
        return deployment.finished_at
    return None


def suspect_reason(
    deployment: Deployment,
    checks: Iterable[ServiceCheck],
    down_since: DownSince,
    now: datetime,
    window: timedelta,
) -> str | None:
    """Why this deploy is suspect now, or ``None``: one of its service's checks went down, or
    a critical alert started, after it went live and within ``window`` of it."""
    live = live_since(deployment)
    if live is None or now - live > window + timedelta(minutes=5) or now < live:
        return None
    key = row_key(deployment.service, deployment.environment)
    revision = fmt.short_sha(deployment.revision) if deployment.revision else "it"
    for check in checks:
        if check.muted or check.health is not Health.DOWN:
            continue
        if row_key(check.service_name, check.environment) != key:
            continue
        since = check.since if check.kind == "alert" else down_since(check)
        if since is None or since < live or since - live > window:
            continue
        after = fmt.format_age((since - live).total_seconds())
        # The check's own verdict with its label ("5xx share 0.034 > 0.01", "HTTP 500").
        what = f"alert {check.name}" if check.kind == "alert" else reason(check)
        return f"{what} {after} after {revision} went live"
    return None


class DeployWatch:
    """The engine's memory of suspect deploys, keyed by tool, service, environment, revision."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._suspect: dict[tuple[str, str, str, str], str] = {}

    def judge(
        self,
        deployments: Iterable[Deployment],
        checks: Iterable[ServiceCheck],
        down_since: DownSince,
        now: datetime,
    ) -> list[Deployment]:
        """The deployments, each with ``suspect`` set where the watch found reason."""
        checks = list(checks)
        out = []
        live_keys = set()
        for deployment in deployments:
            key = (
                deployment.source,
                *row_key(deployment.service, deployment.environment),
                deployment.revision or "",
            )
            live_keys.add(key)
            if key in self._suspect and self._cleared(deployment, checks, now):
                del self._suspect[key]
            reason = self._suspect.get(key) or suspect_reason(
                deployment, checks, down_since, now, self.window
            )
            if reason:
                self._suspect[key] = reason
                deployment = deployment.model_copy(update={"suspect": reason})
            out.append(deployment)
        # A newer deploy replaced the revision: its doubt goes with it.
        for key in [k for k in self._suspect if k not in live_keys]:
            del self._suspect[key]
        return out

    def _cleared(self, deployment: Deployment, checks: list[ServiceCheck], now: datetime) -> bool:
        """The watch is over and the service is not down: the doubt no longer holds releases."""
        live = live_since(deployment)
        if live is None or now - live <= self.window:
            return False
        key = row_key(deployment.service, deployment.environment)
        return not any(
            c.health is Health.DOWN
            and not c.muted
            and row_key(c.service_name, c.environment) == key
            for c in checks
        )

    @property
    def marks(self) -> Mapping[tuple[str, str, str, str], str]:
        return dict(self._suspect)
