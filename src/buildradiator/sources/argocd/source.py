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
from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from buildradiator.errors import AuthFailed, BadPayload, NotFound, SourceError
from buildradiator.fmt import plural
from buildradiator.model import (
    Deployment,
    DeployState,
    Health,
    ServiceCheck,
    SourceResult,
)
from buildradiator.sources.argocd import PROVIDER
from buildradiator.sources.argocd.apps import (
    ERROR_TEXT,
    HEALTH,
    Live,
    deployment_of,
    health_of,
    repo_for,
    short,
)
from buildradiator.sources.argocd.config import ArgoCDSource
from buildradiator.sources.argocd.payloads import Application, ApplicationList, Metadata
from buildradiator.sources.base import Source, Words, describe_validation, parse_iso, safe_url
from buildradiator.sources.http import Response, brief_url, looks_like_html
from buildradiator.text import clean_text

# --- the source -------------------------------------------------------------------------------


class ArgoCD(Source[ArgoCDSource]):
    """Every application of the configured projects / selector / names, health and deploys."""

    provider = PROVIDER
    status_words = {
        401: Words(
            AuthFailed,
            "{host} asked for a token (HTTP 401): set token_env, token_file or token_command "
            "(an Argo CD account token with read access to applications)",
            "{host} refused the token from {origin} (HTTP 401): wrong, expired or revoked{said}",
        ),
        403: Words(
            AuthFailed,
            "{host} denied access to applications (HTTP 403): set token_env, token_file or "
            "token_command (an Argo CD account token with read access to applications)",
            "{host} denied access to applications (HTTP 403): the token from {origin} lacks "
            "permission (it needs the RBAC policy 'applications, get' on the projects watched)",
        ),
    }

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
        # Argo CD sends no validators today [api-facts: UNCONFIRMED]; if a proxy in front does,
        # a 304 costs the server nothing. A 400 and a 404 come back as answers: what they mean
        # depends on the selector and the projects asked for.
        response = await self._get(
            f"{self.base}/api/v1/applications", params, ok=(200, 400, 404), what="applications"
        )
        code = response.status_code
        if code == 200:
            return response
        said = self._server_says(response)
        api = brief_url(self.base + "/api/v1/applications")
        if code == 404:
            projects = self.config.projects
            if projects:
                named = ", ".join(projects)
                word = "project" if len(projects) == 1 else "projects"
                raise NotFound(
                    f"Argo CD {word} {named} not found on {self._host} (HTTP 404), or no Argo "
                    f"CD API at {api}{said}"
                )
            raise NotFound(
                f"no Argo CD API at {api} (HTTP 404): is url the Argo CD server's root?{said}"
            )
        # 400: grpc-gateway's InvalidArgument, i.e. a selector Kubernetes cannot parse.
        asked = []
        if self.config.selector:
            asked.append(f"selector {self.config.selector!r}")
        if self.config.projects:
            asked.append("projects " + ", ".join(self.config.projects))
        what = " and ".join(asked) or "the application list request"
        raise SourceError(f"Argo CD rejected {what} (HTTP 400){said}")

    def _server_says(self, response: Response) -> str:
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
        return f": {clean_text(self._without_secrets(message), ERROR_TEXT)}"

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
                    repo=repo_for(app, None),
                    pipeline=self.config.pipeline,
                ),
            )
        live = Live(app)
        deployment = deployment_of(
            app,
            service,
            live,
            url,
            source=self.name,
            environment=self.environment,
            pipeline=self.config.pipeline,
        )
        check = self._check(
            name,
            service,
            *health_of(status, deployment),
            url=url,
            version=short(live.revision),
            since=parse_iso(status.health.lastTransitionTime) if status.health else None,
        )
        return check, deployment

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
        text = f"{plural(len(words), 'application')}: " + ", ".join(
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
    if word in HEALTH:
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
