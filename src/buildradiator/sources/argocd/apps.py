"""What an Argo CD application says: its health and sync in words (api-facts §8), what runs now,
its deployment, its repository."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from buildradiator.model import (
    Deployment,
    DeployState,
    Health,
)
from buildradiator.sources.argocd.payloads import Application, AppSource, Status
from buildradiator.sources.base import parse_iso

HEALTH = {
    "Healthy": Health.UP,
    "Progressing": Health.WARN,
    "Suspended": Health.WARN,
    "Degraded": Health.DOWN,
    "Missing": Health.DOWN,
    "Unknown": Health.UNKNOWN,
}
PHASES = {
    "Running": DeployState.RUNNING,
    "Terminating": DeployState.RUNNING,
    "Failed": DeployState.FAILED,
    "Error": DeployState.FAILED,
    "Succeeded": DeployState.SUCCEEDED,
}
SYNC_WORDS = {"Synced": None, "OutOfSync": "out of sync", "Unknown": "sync status unknown"}

SHORT = 7
"""Characters of a commit shown as the version, like ``git log --oneline``."""
HEX_SHA = re.compile(r"[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?")
ERROR_TEXT = 200
"""Longest server message quoted in an error (the status bar is one line)."""
VERSION_REF = re.compile(r"^v?\d+(?:\.\d+)*(?:[-+.][\w.-]*)?$")
"""A ``targetRevision`` that names a version (``v1.4.2``, a chart's ``2.4.1``), not a branch."""


def short(revision: str | None) -> str | None:
    """A commit as 7 characters; anything else (a Helm chart version, a tag) as it is."""
    if not revision:
        return None
    return revision[:SHORT] if HEX_SHA.fullmatch(revision) else revision


def repo_of(repo_url: str | None) -> str | None:
    """``owner/name`` from a GitHub or GitLab clone URL (https, ``git@host:`` or ``ssh://``)."""
    if not repo_url:
        return None
    text = repo_url.strip()
    scp = re.match(r"^[\w.-]+@([^:/]+):(.+)$", text)  # git@github.com:acme/x.git
    if scp:
        host, path = scp.group(1), scp.group(2)
    else:
        try:
            parts = urlsplit(text)
        except ValueError:
            return None
        host, path = (parts.hostname or ""), parts.path
    host = host.lower()
    if not any(
        host == known or host.startswith(known.split(".")[0] + ".")
        for known in ("github.com", "gitlab.com")
    ):
        return None
    path = path.strip("/").removesuffix(".git").strip("/")
    # GitLab nests groups (``group/sub/name``): the whole path names the project there.
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2 or not all(re.fullmatch(r"[\w.-]+", s) for s in segments):
        return None
    if host.startswith("github"):
        segments = segments[:2]
    return "/".join(segments)


def first_revision(single: str | None, many: list[str | None] | None) -> str | None:
    """A revision from the single-source field, else the first of a multi-source list."""
    if single:
        return single
    return next((r for r in many or () if r), None)


class Live:
    """What runs now, from the newest history entry."""

    def __init__(self, app: Application) -> None:
        status = app.status
        history = list(status.history or ()) if status else []
        # Argo appends; sorting on the id protects "newest last" against a proxy that reorders.
        if history and all(h.id is not None for h in history):
            history.sort(key=lambda h: h.id or 0)
        self.entry = history[-1] if history else None
        self.has_history = bool(history)
        revision = first_revision(self.entry.revision, self.entry.revisions) if self.entry else None
        sync = status.sync if status else None
        if revision is None and sync and sync.status == "Synced":
            # No history (created by hand, or history trimmed to 0): when in sync, what was
            # compared is what runs.
            revision = first_revision(sync.revision, sync.revisions)
        self.revision = revision
        self.deployed_at = parse_iso(self.entry.deployedAt) if self.entry else None
        source = None
        if self.entry:
            source = self.entry.source or next(iter(self.entry.sources or ()), None)
        self.source = source


def health_of(status: Status, deployment: Deployment) -> tuple[Health, str | None]:
    """An application's health and, unless all is well, why, in words."""
    words: list[str] = []
    health_word = status.health.status if status.health else None
    message = status.health.message if status.health else None
    if health_word is None:
        health = Health.UNKNOWN
        words.append("no health reported")
    elif health_word in HEALTH:
        health = HEALTH[health_word]
        if health is not Health.UP:
            words.append(f"{health_word}: {message}" if message else health_word.lower())
    else:
        # A health status Argo CD (or a custom Lua health check) added later: show the word.
        health = Health.UNKNOWN
        words.append(f"health {health_word}" + (f": {message}" if message else ""))
    sync_word = status.sync.status if status.sync else None
    if deployment.state.in_flight:
        # "out of sync" is what a sync in flight is about to fix: say "syncing" only.
        sync_word = None
    if sync_word in SYNC_WORDS:
        if SYNC_WORDS[sync_word]:
            words.append(str(SYNC_WORDS[sync_word]))
    elif sync_word:
        words.append(f"sync {sync_word}")
    if deployment.state is DeployState.RUNNING:
        target = short(deployment.target_revision)
        words.append(f"syncing {target}" if target else "syncing")
    elif deployment.state is DeployState.QUEUED:
        words.append("sync queued")
    elif deployment.state is DeployState.FAILED:
        words.append("last sync failed")
    return health, ", ".join(words) or None


def deployment_of(
    app: Application,
    service: str,
    live: Live,
    url: str | None,
    *,
    source: str,
    environment: str,
    pipeline: str | None,
) -> Deployment:
    """What an application's sync state says about its deployment (running, queued, failed...)."""
    status = app.status or Status()
    op = status.operationState
    sync_word = status.sync.status if status.sync else None
    target = None
    started = finished = None
    detail = author = None
    deploy_id = None
    if op is None:
        # No sync since the controller last restarted its bookkeeping (or ever): history
        # says whether anything was deployed.
        state = DeployState.SUCCEEDED if live.has_history else DeployState.UNKNOWN
        provider_state = sync_word
        if live.entry is not None and live.entry.id is not None:
            deploy_id = str(live.entry.id)
        if state is DeployState.UNKNOWN:
            detail = "never synced"
    else:
        phase = op.phase
        state = PHASES.get(phase or "", DeployState.UNKNOWN)
        provider_state = ", ".join(w for w in (phase or "no phase", sync_word) if w)
        started, finished = parse_iso(op.startedAt), parse_iso(op.finishedAt)
        if state.in_flight:
            finished = None
        syncing = None
        if op.syncResult:
            syncing = first_revision(op.syncResult.revision, op.syncResult.revisions)
        if not syncing and op.operation and op.operation.sync:
            syncing = first_revision(op.operation.sync.revision, op.operation.sync.revisions)
        if syncing and syncing != live.revision:
            target = syncing
        if state is DeployState.FAILED:
            detail = op.message or f"sync {phase}"
        elif state is DeployState.UNKNOWN:
            detail = f"sync phase {phase}" if phase else "sync phase not reported"
        by = op.operation.initiatedBy if op.operation else None
        if by is not None:
            author = by.username or ("automated" if by.automated else None)
        if state is DeployState.SUCCEEDED and live.entry is not None and live.entry.id:
            deploy_id = str(live.entry.id)
        elif op.startedAt:
            deploy_id = f"sync@{op.startedAt}"
    asked = app.operation
    if asked is not None and not state.in_flight:
        # A sync was asked for after the last one ended and has not started yet.
        state = DeployState.QUEUED
        provider_state = ", ".join(w for w in ("sync requested", sync_word) if w)
        wanted = first_revision(asked.sync.revision, asked.sync.revisions) if asked.sync else None
        target = wanted if wanted and wanted != live.revision else None
        started = finished = None
        detail = None
        deploy_id = None
        by = asked.initiatedBy
        author = (by.username or ("automated" if by.automated else None)) if by else None
    version = None
    if live.source is not None:
        ref = live.source.targetRevision
        # A tag or a chart version names what is live better than a SHA; a branch (``main``,
        # ``HEAD``) only names what was tracked, so it is not a version.
        if ref and ref != live.revision and VERSION_REF.match(ref):
            version = ref
    return Deployment(
        source=source,
        service=service,
        environment=environment,
        id=deploy_id,
        state=state,
        provider_state=provider_state,
        revision=live.revision,
        version=version,
        deployed_at=live.deployed_at,
        target_revision=target,
        started_at=started,
        finished_at=finished,
        author=author,
        detail=detail,
        url=url,
        repo=repo_for(app, live),
        pipeline=pipeline,
    )


def repo_for(app: Application, live: Live | None) -> str | None:
    """The repository an application deploys from (what runs, else what the spec names)."""
    candidates: list[AppSource | None] = []
    if live is not None:
        candidates.append(live.source)
    spec = app.spec
    if spec is not None:
        candidates.append(spec.source)
        candidates.extend(spec.sources or ())
    for source in candidates:
        found = repo_of(source.repoURL) if source else None
        if found:
            return found
    return None
