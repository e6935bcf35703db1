"""Argo CD's API (api-facts section 8), as the simulator speaks it, under ``/argocd``.

``url = http://127.0.0.1:PORT/argocd`` works like ``https://argocd.example.com``: the API is
``/argocd/api/v1/applications`` (``projects=`` repeatable, ``selector=`` a Kubernetes label
selector), and every other path answers the web UI's ``index.html`` with a 200, as the real
server does, so the radiator's links to ``/argocd/applications/{name}`` land on a page and a
client pointed at a wrong path gets HTML, not a 404.

The story, in script seconds of every loop (``prodstory``):

- ``payments`` (project ``default``): a sync (auto-sync, initiated by the controller) rolls out
  ``prodstory.revision("payments", loop)`` (``PAYMENTS_SYNC``: ``operationState.phase``
  ``Running``, health ``Progressing``, sync ``OutOfSync``); it ``Succeeded`` at its end and a
  history entry is added; the app is ``Degraded`` (its Deployment exceeded its progress
  deadline) while its health check fails (``PAYMENTS_HEALTH_FAILS``). Then the fix,
  ``revision("payments-fix", loop)``, is synced the same way (``PAYMENTS_FIX``) and the app is
  ``Healthy`` again. The revisions of earlier loops stay in ``status.history``, the newest
  ``HISTORY_LIMIT`` of them (Argo's ``revisionHistoryLimit``).
- ``checkout``: ``Healthy``, ``Synced``, deployed before the demo started.
- ``search``: ``Healthy`` but ``OutOfSync`` (main moved on, auto-sync is off).
- ``billing-worker`` (project ``batch``, a Helm chart): ``Healthy``, ``Synced``.

Faithful where clients can tell: the list is ``{"metadata": {"resourceVersion"}, "items"}`` with
``items: null`` when nothing matches; applications carry ``metadata`` (uid, resourceVersion,
generation, labels, finalizers), ``spec`` (source, destination, project, syncPolicy) and
``status`` (resources, sync with comparedTo, health, history oldest first, reconciledAt,
operationState with syncResult, sourceType, summary.images, controllerNamespace); errors are
grpc-gateway's ``{"error", "code", "message"}``; timestamps RFC 3339 in whole seconds, ``Z``.
Anonymous access is on (``users.anonymous.enabled``), so the demo needs no token; an
``Authorization`` header that is not a bearer token is refused with a 401.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

from buildradiator.simulator import prodstory
from buildradiator.simulator.answer import Answer, iso_z, json_answer, text_answer
from buildradiator.simulator.scenario import Moment, Scenario
from buildradiator.simulator.sourceblock import source_block

PREFIX = "argocd"
HISTORY_LIMIT = 10
"""Argo CD's default ``revisionHistoryLimit``: older entries drop off the front."""
CONTROLLER_NAMESPACE = "argocd"
SERVER = "https://kubernetes.default.svc"
INDEX = (
    '<!doctype html><html lang="en"><head><meta charset="UTF-8"><title>Argo CD</title>'
    '<base href="/"></head><body><noscript><p>Your browser does not support JavaScript. '
    "Please enable JavaScript to view the site. Alternatively, Argo CD can be used with the "
    '<a href="https://argoproj.github.io/argo-cd/cli_installation/">Argo CD CLI</a>.</p>'
    '</noscript><div id="app"></div><script src="main.js"></script></body></html>\n'
)


@dataclass(frozen=True)
class AppPlan:
    name: str
    project: str
    labels: dict[str, str]
    repo_url: str
    path: str | None
    target: str
    """``spec.source.targetRevision``: a branch, or a chart version."""
    namespace: str
    image: str
    chart: str | None = None
    auto_sync: bool = True
    kind: str = "Deployment"


@dataclass
class Deploy:
    """One completed sync: a history entry."""

    id: int
    revision: str
    started: datetime
    finished: datetime


@dataclass
class AppState:
    """What one application says at one moment."""

    plan: AppPlan
    health: str
    health_since: datetime
    sync: str
    compared: str
    """``status.sync.revision``: what the last comparison was made against."""
    history: list[Deploy]
    phase: str
    op_revision: str
    op_started: datetime
    op_finished: datetime | None
    op_message: str
    health_message: str | None = None
    resources: list[dict[str, Any]] = field(default_factory=list)


def _kustomize_app(
    name: str, labels: dict[str, str], repo_url: str, path: str, *, auto_sync: bool = True
) -> AppPlan:
    """An app of project ``default`` deploying ``path`` on ``main`` of ``repo_url`` to the
    namespace of its name, from the image of its name."""
    image = f"ghcr.io/acme/{name}"
    return AppPlan(
        name, "default", labels, repo_url, path, "main", name, image, auto_sync=auto_sync
    )


SHOP = {"app.kubernetes.io/part-of": "shop"}
PAYMENTS = _kustomize_app(
    "payments",
    {"team": "payments", "tier": "api", **SHOP},
    "https://github.com/acme/payments-deploy.git",
    "overlays/prod",
)
CHECKOUT = _kustomize_app(
    "checkout",
    {"team": "checkout", "tier": "web", **SHOP},
    "https://github.com/acme/checkout-deploy.git",
    "k8s/prod",
)
SEARCH = _kustomize_app(
    "search",
    {"team": "search", "tier": "api"},
    "git@github.com:acme/search-deploy.git",
    "deploy/prod",
    auto_sync=False,  # OutOfSync until someone syncs it
)
BILLING_WORKER = AppPlan(
    "billing-worker",
    "batch",
    {"team": "billing", "tier": "batch"},
    "https://charts.acme.example",
    None,
    "2.4.1",
    "billing",
    "ghcr.io/acme/billing-worker",
    chart="billing-worker",
    kind="CronJob",
)
APPS = (PAYMENTS, CHECKOUT, SEARCH, BILLING_WORKER)


def _uid(*key: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "buildradiator-argocd:" + repr(key)))


# -- the story ---------------------------------------------------------------------------------


class ArgoStory:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    def state(self, plan: AppPlan, moment: Moment) -> AppState:
        if plan is PAYMENTS:
            return self._payments(moment)
        return self._settled(plan)

    def _payments(self, moment: Moment) -> AppState:
        loop, s = moment.loop, moment.script_t
        at = self.scenario.at
        sync, fails, fix = (
            prodstory.PAYMENTS_SYNC,
            prodstory.PAYMENTS_HEALTH_FAILS,
            prodstory.PAYMENTS_FIX,
        )
        # Two syncs a loop (its revision, then the fix); those finished are history.
        done = [
            d
            for n in range(loop - HISTORY_LIMIT, loop + 1)
            for d in self._payments_deploys(n)
            if d.finished <= moment.now
        ]
        history = done[-HISTORY_LIMIT:]
        if s < sync[0]:
            since = at(loop - 1, fix[1])
        elif s < fails[0]:
            since = at(loop, sync[1])
        else:
            since = at(loop, fix[1])
        state = _healthy(PAYMENTS, history, since)
        for span, service in ((sync, "payments"), (fix, "payments-fix")):
            if prodstory.within(s, span):
                target = prodstory.revision(service, loop)
                state.health, state.health_since = "Progressing", at(loop, span[0])
                state.health_message = (
                    "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."
                )
                state.sync, state.compared = "OutOfSync", target
                state.phase, state.op_revision = "Running", target
                state.op_started, state.op_finished = at(loop, span[0]), None
                state.op_message = "waiting for healthy state of apps/Deployment/payments"
        if prodstory.within(s, fails):
            state.health, state.health_since = "Degraded", at(loop, fails[0])
            state.health_message = 'Deployment "payments" exceeded its progress deadline'
        return state

    def _payments_deploys(self, loop: int) -> list[Deploy]:
        """The loop's syncs: its revision, then the fix."""
        at = self.scenario.at
        return [
            Deploy(1000 + 2 * loop + k, prodstory.revision(service, loop), at(loop, b), at(loop, e))
            for k, (service, (b, e)) in enumerate(
                (("payments", prodstory.PAYMENTS_SYNC), ("payments-fix", prodstory.PAYMENTS_FIX))
            )
        ]

    def _settled(self, plan: AppPlan) -> AppState:
        """An app whose last sync was before the demo began (a few of them, an hour apart)."""
        offset = {CHECKOUT.name: 2, SEARCH.name: 3, BILLING_WORKER.name: 5}[plan.name]
        start = self.scenario.start.replace(microsecond=0)
        history = []
        for k in range(4):
            finished = start - timedelta(hours=offset + 24 * (3 - k))
            revision = f"2.{k + 1}.{k}" if plan.chart else prodstory.revision(plan.name, -100 + k)
            history.append(Deploy(40 + k, revision, finished - timedelta(seconds=48), finished))
        if plan.chart:
            history[-1].revision = plan.target
        state = _healthy(plan, history, history[-1].finished)
        if plan is SEARCH:
            # main moved on after the last manual sync; auto-sync is off, so it waits.
            state.sync, state.compared = "OutOfSync", prodstory.revision(plan.name, -99)
        return state


def _healthy(plan: AppPlan, history: list[Deploy], since: datetime) -> AppState:
    """``plan`` healthy since ``since`` and synced to its last deploy, which succeeded."""
    live = history[-1]
    return AppState(
        plan=plan,
        health="Healthy",
        health_since=since,
        sync="Synced",
        compared=live.revision,
        history=history,
        phase="Succeeded",
        op_revision=live.revision,
        op_started=live.started,
        op_finished=live.finished,
        op_message="successfully synced (all tasks run)",
    )


# -- payloads ----------------------------------------------------------------------------------


def _source(plan: AppPlan) -> dict[str, Any]:
    source: dict[str, Any] = {"repoURL": plan.repo_url, "targetRevision": plan.target}
    if plan.chart:
        source["chart"] = plan.chart
        source["helm"] = {"releaseName": plan.name, "valueFiles": ["values-prod.yaml"]}
    elif plan.path:
        source["path"] = plan.path
    return source


def _destination(plan: AppPlan) -> dict[str, Any]:
    return {"server": SERVER, "namespace": plan.namespace}


def _resources(state: AppState) -> list[dict[str, Any]]:
    plan = state.plan
    workload_health: dict[str, Any] = {"status": state.health}
    if state.health_message:
        workload_health["message"] = state.health_message
    group = "batch" if plan.kind == "CronJob" else "apps"
    return [
        {
            "version": "v1",
            "kind": "Service",
            "namespace": plan.namespace,
            "name": plan.name,
            "status": "Synced",
            "health": {"status": "Healthy"},
        },
        {
            "group": group,
            "version": "v1",
            "kind": plan.kind,
            "namespace": plan.namespace,
            "name": plan.name,
            "status": state.sync,
            "health": workload_health,
        },
        {
            "version": "v1",
            "kind": "ConfigMap",
            "namespace": plan.namespace,
            "name": f"{plan.name}-config",
            "status": "Synced",
        },
    ]


def _image(plan: AppPlan, revision: str) -> str:
    tag = revision if plan.chart else revision[:7]
    return f"{plan.image}:{tag}"


def application_json(state: AppState, now: datetime) -> dict[str, Any]:
    plan = state.plan
    running = state.phase == "Running"
    sync_policy: dict[str, Any] = {"syncOptions": ["CreateNamespace=true"]}
    if plan.auto_sync:
        sync_policy["automated"] = {"prune": True, "selfHeal": True}
    operation_request: dict[str, Any] = {
        "sync": {"revision": state.op_revision, "syncStrategy": {"hook": {}}},
        "initiatedBy": {"automated": True} if plan.auto_sync else {"username": "admin"},
        "retry": {"limit": 5} if plan.auto_sync else {},
    }
    operation_state: dict[str, Any] = {
        "operation": operation_request,
        "phase": state.phase,
        "message": state.op_message,
        "syncResult": {
            "resources": [
                {
                    "group": r.get("group", ""),
                    "version": r["version"],
                    "kind": r["kind"],
                    "namespace": r["namespace"],
                    "name": r["name"],
                    "status": "Synced",
                    "message": f"{r['kind'].lower()}/{r['name']} configured",
                    "hookPhase": "Running" if running else "Succeeded",
                    "syncPhase": "Sync",
                }
                for r in _resources(state)
            ],
            "revision": state.op_revision,
            "source": _source(plan),
        },
        "startedAt": iso_z(state.op_started),
    }
    if state.op_finished is not None:
        operation_state["finishedAt"] = iso_z(state.op_finished)
    health: dict[str, Any] = {
        "status": state.health,
        "lastTransitionTime": iso_z(state.health_since),
    }
    if state.health_message:
        health["message"] = state.health_message
    app: dict[str, Any] = {
        "metadata": {
            "name": plan.name,
            "namespace": CONTROLLER_NAMESPACE,
            "uid": _uid("app", plan.name),
            # Changes on every reconcile, as a Kubernetes object's does.
            "resourceVersion": str(int(now.timestamp()) % 100_000_000),
            "generation": 40 + len(state.history),
            "creationTimestamp": iso_z(state.history[0].started - timedelta(days=30)),
            "labels": dict(plan.labels),
            "annotations": {"notifications.argoproj.io/subscribe.on-sync-failed.slack": "deploys"},
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "source": _source(plan),
            "destination": _destination(plan),
            "project": plan.project,
            "syncPolicy": sync_policy,
            "revisionHistoryLimit": HISTORY_LIMIT,
        },
        "status": {
            "resources": _resources(state),
            "sync": {
                "status": state.sync,
                "comparedTo": {"source": _source(plan), "destination": _destination(plan)},
                "revision": state.compared,
            },
            "health": health,
            "history": [
                {
                    "revision": d.revision,
                    "deployedAt": iso_z(d.finished),
                    "id": d.id,
                    "source": _source(plan),
                    "deployStartedAt": iso_z(d.started),
                    "initiatedBy": {"automated": True} if plan.auto_sync else {"username": "admin"},
                }
                for d in state.history
            ],
            "reconciledAt": iso_z(now - timedelta(seconds=int(now.timestamp()) % 180)),
            "operationState": operation_state,
            "sourceType": "Helm" if plan.chart else "Kustomize",
            "summary": {"images": [_image(plan, state.history[-1].revision)]},
            "controllerNamespace": CONTROLLER_NAMESPACE,
        },
    }
    if running:
        # The requested operation stays on the app until the controller finishes it.
        app["operation"] = operation_request
    return app


# -- label selectors (the subset of Kubernetes' syntax people write) -----------------------------

_TERM = re.compile(
    r"^\s*(?:(?P<not>!)\s*(?P<absent>[\w./-]+)"
    r"|(?P<key>[\w./-]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[\w.-]*)"
    r"|\s+(?P<set>in|notin)\s*\((?P<values>[^)]*)\))?)\s*$"
)


def _terms(selector: str) -> list[str] | None:
    """Split on commas outside parentheses; ``None`` for unbalanced parentheses."""
    terms, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    if depth:
        return None
    terms.append(current)
    return terms


def selector_matches(selector: str, labels: dict[str, str]) -> bool | None:
    """Whether ``labels`` match; ``None`` when the selector does not parse."""
    if not selector.strip():
        return True
    terms = _terms(selector)
    if terms is None:
        return None
    verdict = True
    for term in terms:
        found = _TERM.match(term)
        if not found:
            return None
        if found["absent"]:
            verdict &= found["absent"] not in labels
            continue
        key = found["key"]
        if found["op"]:
            equal = labels.get(key) == found["value"]
            verdict &= not equal if found["op"] == "!=" else equal
        elif found["set"]:
            values = {v.strip() for v in found["values"].split(",") if v.strip()}
            inside = labels.get(key) in values
            verdict &= inside if found["set"] == "in" else not inside
        else:
            verdict &= key in labels
    return verdict


# -- the API -----------------------------------------------------------------------------------


class ArgoSim:
    prefix = PREFIX

    def __init__(self, scenario: Scenario) -> None:
        self.story = ArgoStory(scenario)

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="argocd",
            type="argocd",
            url=f"{base_url.rstrip('/')}/{PREFIX}",
            projects=["default"],
            environment="prod",
        )

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        if not path.startswith("/api/"):
            # The UI is a single-page app: the server answers index.html for every other path.
            return text_answer(200, INDEX, "text/html")
        auth = headers.get("Authorization")
        if auth is not None and not auth.startswith("Bearer "):
            return _error(401, 16, "invalid session: token is malformed")
        parts = [p for p in path.removeprefix("/api/").split("/") if p]
        if parts == ["version"]:
            return json_answer(200, {"Version": "v2.13.1+af54ef8"})
        if parts[:2] == ["v1", "applications"] and len(parts) == 2:
            return self._list(query, moment)
        if parts[:2] == ["v1", "applications"] and len(parts) == 3:
            for plan in APPS:
                if plan.name == parts[2]:
                    return json_answer(
                        200, application_json(self.story.state(plan, moment), moment.now)
                    )
            return _error(404, 5, f'applications.argoproj.io "{parts[2]}" not found')
        return _error(404, 5, "Not Found")

    def _list(self, query: dict[str, list[str]], moment: Moment) -> Answer:
        projects = [p for value in query.get("projects", []) for p in value.split(",") if p]
        selector = (query.get("selector") or [""])[-1]
        items = []
        for plan in APPS:
            if projects and plan.project not in projects:
                continue
            matches = selector_matches(selector, plan.labels)
            if matches is None:
                return _error(400, 3, f'unable to parse requirement: found "{selector}"')
            if matches:
                items.append(application_json(self.story.state(plan, moment), moment.now))
        version = str(1_000_000 + moment.loop * 1000 + int(moment.script_t))
        # grpc-gateway writes an empty repeated field as null.
        return json_answer(200, {"metadata": {"resourceVersion": version}, "items": items or None})


def _error(status: int, code: int, message: str) -> Answer:
    return json_answer(status, {"error": message, "code": code, "message": message})


def make(scenario: Scenario) -> ArgoSim:
    return ArgoSim(scenario)
