"""Production as every tool's data becomes it: health checks, alerts and queries, deployments,
release blockers."""

from __future__ import annotations

from enum import StrEnum

from buildradiator.model.values import Frozen, Key, Link, Moment, Untrusted


class Health(StrEnum):
    """The one vocabulary for production checks."""

    UP = "up"
    WARN = "warn"
    DOWN = "down"
    UNKNOWN = "unknown"


class ServiceCheck(Frozen):
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


class Deployment(Frozen):
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


class Blocker(Frozen):
    """One open release blocker: an issue with the blocking label, or a Jira match."""

    source: str
    id: Key
    """``#123``, ``SHOP-42``."""
    title: Untrusted
    url: Link = None
    opened_at: Moment = None
    author: Untrusted | None = None
