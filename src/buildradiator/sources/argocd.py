"""Argo CD: each application's health and sync, the revision live, and a sync running or failed
(api-facts section 8).

One request per poll: ``GET {url}/api/v1/applications`` with ``projects=`` (repeated per project)
and ``selector=`` where configured, filtered client-side by the ``applications`` globs. Every
application becomes one ``ServiceCheck`` (``kind="app"``) and one ``Deployment``.

What is *live* comes from ``status.history``, Argo's record of syncs that completed (oldest
first, trimmed to ``revisionHistoryLimit``): its newest entry is the revision running and when it
went live. ``status.sync.revision`` is not that: it is the revision Argo last *compared* against,
i.e. the head of the tracked branch, which for an ``OutOfSync`` app is not deployed at all. The
latest deploy itself is ``status.operationState``: ``Running`` while a sync rolls out, then
``Succeeded``/``Failed``/``Error``, kept until the next sync replaces it.

An application in a bad state is data: a ``Degraded`` app is a check that is down, a failed sync a
failed deployment. Only a failure of Argo CD itself is an error (unreachable, token refused,
a 404 naming what was asked, HTML where JSON was expected -- Argo CD answers its web UI's
``index.html`` for any path it does not serve, so a wrong ``url`` gets HTML, not a 404).

One application whose JSON does not fit (a field of the wrong type) must not hide the others, so
the items are validated one by one and a misfit becomes an ``unknown`` check that says so.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter
from datetime import datetime
from typing import Annotated, Any, ClassVar
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited, SourceError
from buildradiator.model import (
    Deployment,
    DeployState,
    Health,
    ServiceCheck,
    SourceResult,
)
from buildradiator.sources.base import Source, Stamp, describe_validation, parse_iso, safe_url
from buildradiator.sources.http import Response, brief_url, looks_like_html
from buildradiator.sources.prodconfigs import ArgoCDSource
from buildradiator.text import clean_text

# --- vocabulary (api-facts section 8) -----------------------------------------------------------

_HEALTH = {
    "Healthy": Health.UP,
    "Progressing": Health.WARN,
    "Suspended": Health.WARN,
    "Degraded": Health.DOWN,
    "Missing": Health.DOWN,
    "Unknown": Health.UNKNOWN,
}
_PHASES = {
    "Running": DeployState.RUNNING,
    "Terminating": DeployState.RUNNING,
    "Failed": DeployState.FAILED,
    "Error": DeployState.FAILED,
    "Succeeded": DeployState.SUCCEEDED,
}
_SYNC_WORDS = {"Synced": None, "OutOfSync": "out of sync", "Unknown": "sync status unknown"}

SHORT = 7
"""Characters of a commit shown as the version, like ``git log --oneline``."""
_HEX_SHA = re.compile(r"[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?")
_ERROR_TEXT = 200
"""Longest server message quoted in an error (the status bar is one line)."""
_VERSION_REF = re.compile(r"^v?\d+(?:\.\d+)*(?:[-+.][\w.-]*)?$")
"""A ``targetRevision`` that names a version (``v1.4.2``, a chart's ``2.4.1``), not a branch."""


# --- payload shapes: only the fields read, all optional (a just-created app has no status) --------


def _word(value: Any) -> Any:
    # An enum that arrives as a number or a bool is shown as the word it is, not a failed poll.
    if isinstance(value, bool) or value is None:
        return None if value is None else str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) else None


Word = Annotated[str | None, BeforeValidator(_word)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Metadata(_Payload):
    name: Word = None
    namespace: Word = None
    labels: dict[str, Any] | None = None


class AppSource(_Payload):
    repoURL: Word = None
    targetRevision: Word = None
    path: Word = None
    chart: Word = None


class Destination(_Payload):
    server: Word = None
    namespace: Word = None
    name: Word = None


class Spec(_Payload):
    project: Word = None
    source: AppSource | None = None
    sources: list[AppSource] | None = None
    """Multi-source applications (Argo CD 2.6+) have these instead of ``source``."""
    destination: Destination | None = None


class HealthPayload(_Payload):
    status: Word = None
    message: Word = None
    lastTransitionTime: Stamp = None


class SyncPayload(_Payload):
    status: Word = None
    revision: Word = None
    revisions: list[Word] | None = None


class HistoryEntry(_Payload):
    id: int | None = None
    revision: Word = None
    revisions: list[Word] | None = None
    deployedAt: Stamp = None
    deployStartedAt: Stamp = None
    source: AppSource | None = None
    sources: list[AppSource] | None = None


class SyncRequest(_Payload):
    revision: Word = None
    revisions: list[Word] | None = None


class Initiator(_Payload):
    username: Word = None
    automated: bool | None = None


class Operation(_Payload):
    sync: SyncRequest | None = None
    initiatedBy: Initiator | None = None


class SyncResult(_Payload):
    revision: Word = None
    revisions: list[Word] | None = None


class OperationState(_Payload):
    phase: Word = None
    message: Word = None
    startedAt: Stamp = None
    finishedAt: Stamp = None
    syncResult: SyncResult | None = None
    operation: Operation | None = None


class Summary(_Payload):
    images: list[Word] | None = None


class Status(_Payload):
    health: HealthPayload | None = None
    sync: SyncPayload | None = None
    history: list[HistoryEntry] | None = None
    operationState: OperationState | None = None
    summary: Summary | None = None
    controllerNamespace: Word = None
    reconciledAt: Stamp = None


class Application(_Payload):
    metadata: Metadata | None = None
    spec: Spec | None = None
    status: Status | None = None
    operation: Operation | None = None
    """A sync asked for (by a user or auto-sync) that the controller has not started yet; it
    stays set while the sync runs and is cleared when it ends."""


class ApplicationList(_Payload):
    # ``null`` when there are no applications (grpc-gateway drops empty lists to null).
    items: list[Any] | None = None


# --- helpers ----------------------------------------------------------------------------------


def short(revision: str | None) -> str | None:
    """A commit as 7 characters; anything else (a Helm chart version, a tag) as it is."""
    if not revision:
        return None
    return revision[:SHORT] if _HEX_SHA.fullmatch(revision) else revision


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


def _first(single: str | None, many: list[str | None] | None) -> str | None:
    """A revision from the single-source field, else the first of a multi-source list."""
    if single:
        return single
    return next((r for r in many or () if r), None)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class _Live:
    """What runs now, from the newest history entry."""

    def __init__(self, app: Application) -> None:
        status = app.status
        history = list(status.history or ()) if status else []
        # Argo appends; sorting on the id protects "newest last" against a proxy that reorders.
        if history and all(h.id is not None for h in history):
            history.sort(key=lambda h: h.id or 0)
        self.entry = history[-1] if history else None
        self.has_history = bool(history)
        revision = _first(self.entry.revision, self.entry.revisions) if self.entry else None
        sync = status.sync if status else None
        if revision is None and sync and sync.status == "Synced":
            # No history (created by hand, or history trimmed to 0): when in sync, what was
            # compared is what runs.
            revision = _first(sync.revision, sync.revisions)
        self.revision = revision
        self.deployed_at = parse_iso(self.entry.deployedAt) if self.entry else None
        source = None
        if self.entry:
            source = self.entry.source or next(iter(self.entry.sources or ()), None)
        self.source = source


# --- the source -------------------------------------------------------------------------------


class ArgoCD(Source[ArgoCDSource]):
    """Every application of the configured projects / selector / names, health and deploys."""

    type: ClassVar[str] = "argocd"

    @property
    def base(self) -> str:
        return self.config.url.rstrip("/")

    @property
    def environment(self) -> str:
        return self.config.environment or "prod"

    async def poll(self) -> SourceResult:
        response = await self._get_applications()
        try:
            payload = response.json()
        except BadPayload as exc:
            if looks_like_html(response.content):
                raise BadPayload(
                    f"{self._host} answered an HTML page (the Argo CD web UI?) where the API's "
                    f"JSON was expected: is url the Argo CD server's root? "
                    f"({brief_url(response.url)})"
                ) from None
            raise BadPayload(f"Argo CD application list: {exc}") from None
        if not isinstance(payload, dict):
            raise BadPayload(
                "unexpected payload: the application list is not a JSON object "
                f"({brief_url(response.url)})"
            )
        try:
            listing = ApplicationList.model_validate(payload)
        except ValidationError as exc:
            raise BadPayload(describe_validation(exc)) from None

        checks: list[ServiceCheck] = []
        deployments: list[Deployment] = []
        words: list[str] = []
        for raw in listing.items or ():
            name = _raw_name(raw)
            if name is not None and not self._wanted(name, _raw_namespace(raw)):
                continue
            try:
                app = Application.model_validate(raw)
            except ValidationError as exc:
                checks.append(self._unreadable(name, describe_validation(exc)))
                words.append("unreadable")
                continue
            if not (app.metadata and app.metadata.name):
                checks.append(self._unreadable(None, "an application without metadata.name"))
                words.append("unreadable")
                continue
            check, deployment = self._read(app)
            checks.append(check)
            deployments.append(deployment)
            words.append(_summary_word(app, check))
        checks.sort(key=lambda c: str(c.name).casefold())
        deployments.sort(key=lambda d: str(d.service).casefold())
        return SourceResult(
            services=tuple(checks),
            deployments=tuple(deployments),
            summary=self._summary(words, deployments),
        )

    # -- the request ---------------------------------------------------------------------------

    async def _get_applications(self) -> Response:
        params: list[tuple[str, Any]] = [("projects", p) for p in self.config.projects]
        if self.config.selector:
            params.append(("selector", self.config.selector))
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = await self.http.get(
            f"{self.base}/api/v1/applications",
            params=params or None,
            headers=headers,
            timeout=self.config.timeout,
            # Argo CD sends no validators today [api-facts: UNCONFIRMED]; if a proxy in front
            # does, a 304 costs the server nothing.
            conditional=True,
            # Argo CD's answers to these are plain JSON errors; answered here so the message
            # can name the project, the selector or where the token came from.
            verify_ok=(200, 400, 401, 403, 404),
        )
        code = response.status_code
        if code == 200:
            return response
        said = self._server_message(response)
        if code == 401:
            if self.token is None:
                raise AuthFailed(
                    f"{self._host} asked for a token (HTTP 401): set token_env, token_file or "
                    "token_command (an Argo CD account token with read access to applications)"
                )
            raise AuthFailed(
                f"{self._host} refused the token from {self._token_origin} (HTTP 401): "
                f"wrong, expired or revoked{said}"
            )
        if code == 403 and b"rate limit" in response.content[:2000].lower():
            # A proxy or WAF in front of Argo CD (which has no limits of its own) throttling us.
            raise RateLimited(f"rate limited by {self._host} (HTTP 403)")
        if code == 403:
            raise AuthFailed(
                f"{self._host} denied access to applications (HTTP 403): the token from "
                f"{self._token_origin} lacks permission (it needs the RBAC policy "
                f"'applications, get' on the projects watched){said}"
            )
        if code == 404:
            projects = self.config.projects
            if projects:
                named = ", ".join(projects)
                word = "project" if len(projects) == 1 else "projects"
                raise NotFound(
                    f"Argo CD {word} {named} not found on {self._host} (HTTP 404), or no Argo "
                    f"CD API at {brief_url(self.base + '/api/v1/applications')}{said}"
                )
            raise NotFound(
                f"no Argo CD API at {brief_url(self.base + '/api/v1/applications')} "
                f"(HTTP 404): is url the Argo CD server's root?{said}"
            )
        # 400: grpc-gateway's InvalidArgument, i.e. a selector Kubernetes cannot parse.
        asked = []
        if self.config.selector:
            asked.append(f"selector {self.config.selector!r}")
        if self.config.projects:
            asked.append("projects " + ", ".join(self.config.projects))
        what = " and ".join(asked) or "the application list request"
        raise SourceError(f"Argo CD rejected {what} (HTTP 400){said}")

    def _server_message(self, response: Response) -> str:
        """``: <message>`` from Argo's JSON error body (``{"error", "code", "message"}``)."""
        if looks_like_html(response.content):
            return ""
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return ""
        message = body.get("message") or body.get("error") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message.strip():
            return ""
        text = clean_text(message, _ERROR_TEXT)
        token = self.token
        if token and len(token) >= 4:
            text = text.replace(token, "***")
        return f": {text}"

    def _wanted(self, name: str, namespace: str | None) -> bool:
        patterns = self.config.applications
        if not patterns:
            return True
        names = [name] + ([f"{namespace}/{name}"] if namespace else [])
        return any(fnmatch.fnmatchcase(n, p) for p in patterns for n in names)

    # -- one application -----------------------------------------------------------------------

    def _read(self, app: Application) -> tuple[ServiceCheck, Deployment]:
        meta = app.metadata or Metadata()
        name = meta.name or "?"
        url = self._app_url(app)
        status = app.status
        service = self.config.service or name
        if status is None:
            # Just created: the controller has not reconciled it yet.
            words = "no status reported yet"
            return (
                self._check(name, service, Health.UNKNOWN, words, url=url),
                Deployment(
                    source=self.name,
                    service=service,
                    environment=self.environment,
                    state=DeployState.UNKNOWN,
                    detail=words,
                    url=url,
                    repo=self._repo(app, None),
                    pipeline=self.config.pipeline,
                ),
            )
        live = _Live(app)
        deployment = self._deployment(app, service, live, url)
        check = self._check(
            name,
            service,
            *self._health(status, deployment),
            url=url,
            version=short(live.revision),
            since=parse_iso(status.health.lastTransitionTime) if status.health else None,
        )
        return check, deployment

    def _health(self, status: Status, deployment: Deployment) -> tuple[Health, str | None]:
        words: list[str] = []
        health_word = status.health.status if status.health else None
        message = status.health.message if status.health else None
        if health_word is None:
            health = Health.UNKNOWN
            words.append("no health reported")
        elif health_word in _HEALTH:
            health = _HEALTH[health_word]
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
        if sync_word in _SYNC_WORDS:
            if _SYNC_WORDS[sync_word]:
                words.append(str(_SYNC_WORDS[sync_word]))
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

    def _deployment(
        self, app: Application, service: str, live: _Live, url: str | None
    ) -> Deployment:
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
            state = _PHASES.get(phase or "", DeployState.UNKNOWN)
            provider_state = ", ".join(w for w in (phase or "no phase", sync_word) if w)
            started, finished = parse_iso(op.startedAt), parse_iso(op.finishedAt)
            if state.in_flight:
                finished = None
            syncing = None
            if op.syncResult:
                syncing = _first(op.syncResult.revision, op.syncResult.revisions)
            if not syncing and op.operation and op.operation.sync:
                syncing = _first(op.operation.sync.revision, op.operation.sync.revisions)
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
            wanted = _first(asked.sync.revision, asked.sync.revisions) if asked.sync else None
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
            if ref and ref != live.revision and _VERSION_REF.match(ref):
                version = ref
        return Deployment(
            source=self.name,
            service=service,
            environment=self.environment,
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
            repo=self._repo(app, live),
            pipeline=self.config.pipeline,
        )

    def _repo(self, app: Application, live: _Live | None) -> str | None:
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

    def _app_url(self, app: Application) -> str | None:
        meta = app.metadata or Metadata()
        name = meta.name or ""
        home = app.status.controllerNamespace if app.status else None
        namespace = meta.namespace
        # Apps in any namespace (2.5+) live outside Argo CD's own namespace; the UI names them
        # ``/applications/{ns}/{name}``. Argo CD's own namespace is usually ``argocd``.
        if namespace and namespace != (home or "argocd"):
            path = f"/applications/{quote(namespace, safe='')}/{quote(name, safe='')}"
        else:
            path = f"/applications/{quote(name, safe='')}"
        return safe_url(self.base + path)

    def _check(
        self,
        name: str,
        service: str,
        health: Health,
        detail: str | None,
        *,
        url: str | None,
        version: str | None = None,
        since: datetime | None = None,
    ) -> ServiceCheck:
        return ServiceCheck(
            source=self.name,
            name=name,
            service=service,
            kind="app",
            environment=self.environment,
            health=health,
            version=version,
            detail=detail,
            url=url,
            checked_at=self.http.clock.now(),
            since=since,
        )

    def _unreadable(self, name: str | None, why: str) -> ServiceCheck:
        shown = name or "application"
        return self._check(
            shown,
            self.config.service or shown,
            Health.UNKNOWN,
            f"unreadable application: {why}",
            url=None,
        )

    # -- words ---------------------------------------------------------------------------------

    def _summary(self, words: list[str], deployments: list[Deployment]) -> str:
        if not words:
            scope = []
            if self.config.projects:
                scope.append("in project(s) " + ", ".join(self.config.projects))
            if self.config.selector:
                scope.append(f"matching selector {self.config.selector}")
            if self.config.applications:
                scope.append("named " + ", ".join(self.config.applications))
            return "no applications" + (" " + " ".join(scope) if scope else "")
        tally = Counter(words)
        first = [w for w in _SUMMARY_ORDER if tally[w]]
        rest = sorted(w for w in tally if w not in _SUMMARY_ORDER)
        text = f"{_count(len(words), 'application')}: " + ", ".join(
            f"{tally[w]} {w}" for w in first + rest
        )
        states = Counter(d.state for d in deployments)
        extra = []
        if states[DeployState.QUEUED]:
            extra.append(f"{states[DeployState.QUEUED]} sync queued")
        if states[DeployState.RUNNING]:
            extra.append(f"{states[DeployState.RUNNING]} syncing")
        if states[DeployState.FAILED]:
            extra.append(f"{states[DeployState.FAILED]} sync failed")
        drifting = sum(
            1
            for d in deployments
            if not d.state.in_flight and "OutOfSync" in (d.provider_state or "")
        )
        if drifting:
            extra.append(f"{drifting} out of sync")
        return text + ("; " + ", ".join(extra) if extra else "")


_SUMMARY_ORDER = ("healthy", "progressing", "suspended", "degraded", "missing", "unknown")


def _summary_word(app: Application, check: ServiceCheck) -> str:
    """The app's own health word, lower-case (``degraded``), for the summary line."""
    word = app.status.health.status if app.status and app.status.health else None
    if word in _HEALTH:
        return str(word).lower()
    return "unknown" if check.health is Health.UNKNOWN else check.health.value


def _raw_name(raw: Any) -> str | None:
    meta = raw.get("metadata") if isinstance(raw, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name else None


def _raw_namespace(raw: Any) -> str | None:
    meta = raw.get("metadata") if isinstance(raw, dict) else None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return namespace if isinstance(namespace, str) and namespace else None
