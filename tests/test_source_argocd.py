"""ArgoCD: applications become checks and deployments; a Degraded app is data, not an error.

Payloads follow Argo CD's ``/api/v1/applications`` (api-facts section 8): ``{"metadata":
{"resourceVersion"}, "items": [...]}`` with ``items: null`` for none, history oldest first, the
fields real servers add (uid, managedFields, resources, summary, reconciledAt) and the odd cases
of the issue's "Bad input": an app with no status, unknown enum words, HTML where JSON belongs.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import AuthFailed, BadPayload, NotFound, SourceError
from buildradiator.model import Deployment, DeployState, Health, ServiceCheck, SourceResult
from buildradiator.sources.argocd.apps import repo_of, short
from buildradiator.sources.argocd.config import ArgoCDSource
from buildradiator.sources.argocd.source import ArgoCD
from buildradiator.sources.catalog import make_source
from buildradiator.sources.http import HttpClient

Handler = Callable[[httpx.Request], httpx.Response]
URL = "https://argocd.example.com"
TOKEN = "argo-secret-token-1234"
OLD = "4c1d7e2a9b0f3e6d8c5a7b9e1f2d3c4b5a6e7f80"
NEW = "9f3c2ab18e7d6c5b4a3928170f6e5d4c3b2a1908"
OLDER = "1111111aaaaaaabbbbbbbcccccccdddddddeeeee"


def app(
    name: str = "payments",
    *,
    health: str | None = "Healthy",
    health_message: str | None = None,
    sync: str | None = "Synced",
    history: list[tuple[int, str, str]] | None = None,
    op: dict[str, Any] | None = None,
    namespace: str = "argocd",
    repo_url: str = "https://github.com/acme/payments-deploy.git",
) -> dict[str, Any]:
    """One Application as ``GET /api/v1/applications`` lists it."""
    entries = (
        history
        if history is not None
        else [(7, OLDER, "2026-11-25T09:00:00Z"), (8, OLD, "2026-11-26T10:00:00Z")]
    )
    source = {"repoURL": repo_url, "path": "overlays/prod", "targetRevision": "main"}
    status: dict[str, Any] = {
        "resources": [
            {
                "group": "apps",
                "version": "v1",
                "kind": "Deployment",
                "namespace": name,
                "name": name,
                "status": "Synced",
                "health": {"status": "Healthy"},
            },
        ],
        "sync": {
            "status": sync,
            "comparedTo": {
                "source": source,
                "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            },
            "revision": entries[-1][1] if entries else NEW,
        },
        "health": {"status": health, "lastTransitionTime": "2026-11-26T10:01:30Z"},
        "history": [
            {"revision": rev, "deployedAt": at, "id": i, "source": source, "deployStartedAt": at}
            for i, rev, at in entries
        ],
        "reconciledAt": "2026-11-26T11:58:00Z",
        "sourceType": "Kustomize",
        "summary": {"images": [f"ghcr.io/acme/{name}:{(entries[-1][1] if entries else NEW)[:7]}"]},
        "controllerNamespace": "argocd",
    }
    if health is None:
        del status["health"]["status"]
    if health_message is not None:
        status["health"]["message"] = health_message
    if sync is None:
        del status["sync"]["status"]
    if op is not None:
        status["operationState"] = op
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": "0d7c5bb5-7a0f-4a7c-9d6f-5c3f4b8e2a11",
            "resourceVersion": "184467",
            "generation": 52,
            "creationTimestamp": "2026-10-01T08:00:00Z",
            "labels": {"team": name},
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            "managedFields": [{"manager": "argocd-server", "operation": "Update",
                               "apiVersion": "argoproj.io/v1alpha1", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {
            "source": source,
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            "project": "default",
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
        "status": status,
    }  # fmt: skip


def op_state(
    phase: str,
    *,
    revision: str | None = NEW,
    message: str | None = None,
    started: str = "2026-11-26T11:50:00Z",
    finished: str | None = None,
    with_result: bool = True,
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "operation": {
            "sync": {"revision": revision, "syncStrategy": {"hook": {}}},
            "initiatedBy": {"automated": True},
            "retry": {"limit": 5},
        },
        "phase": phase,
        "startedAt": started,
    }
    if message is not None:
        state["message"] = message
    if finished is not None:
        state["finishedAt"] = finished
    if with_result:
        state["syncResult"] = {"resources": [], "revision": revision, "source": {}}
    return state


def listing(*apps: Any) -> dict[str, Any]:
    return {"metadata": {"resourceVersion": "184470"}, "items": list(apps)}


def config(**kw: Any) -> ArgoCDSource:
    kw.setdefault("url", URL)
    return ArgoCDSource(type="argocd", name="argocd", **kw)


@asynccontextmanager
async def http_for(handler: Handler, clock: FakeClock) -> AsyncIterator[HttpClient]:
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock)
    try:
        yield http
    finally:
        await http.aclose()


def answer(status: int, body: Any = None, *, text: str | None = None,
           content_type: str = "application/json") -> Handler:  # fmt: skip
    def handler(request: httpx.Request) -> httpx.Response:
        content = text.encode() if text is not None else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    return handler


async def poll(handler: Handler, clock: FakeClock, **kw: Any) -> SourceResult:
    async with http_for(handler, clock) as http:
        return await ArgoCD(config(**kw), http).poll()


async def one(item: dict[str, Any], clock: FakeClock, **kw: Any) -> tuple[ServiceCheck, Deployment]:
    result = await poll(answer(200, listing(item)), clock, **kw)
    (check,), (deployment,) = result.services, result.deployments
    return check, deployment


# --- the request ------------------------------------------------------------------------------


async def test_request_carries_projects_selector_and_bearer_token(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=listing())

    await poll(
        handler,
        clock,
        projects=["default", "batch"],
        selector="team=payments,tier!=batch",
        token=SecretStr(TOKEN),
        url=URL + "/",
    )
    (request,) = seen
    assert request.url.path == "/api/v1/applications"
    assert request.url.params.get_list("projects") == ["default", "batch"]
    assert request.url.params["selector"] == "team=payments,tier!=batch"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_no_query_and_no_token_when_none_configured(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=listing(app()))

    async with http_for(handler, clock) as http:
        source = make_source(config(), http)
        assert isinstance(source, ArgoCD) and source.type == "argocd"
        await source.poll()
    assert str(seen[0].url) == f"{URL}/api/v1/applications"
    assert "Authorization" not in seen[0].headers


# --- a healthy fleet and its story ------------------------------------------------------------


async def test_documented_fleet_gives_checks_deployments_and_summary(clock: FakeClock) -> None:
    items = [
        app("checkout"),
        app(
            "payments",
            health="Degraded",
            health_message='Deployment "payments" exceeded its progress deadline',
            op=op_state("Succeeded", revision=OLD, finished="2026-11-26T10:00:00Z",
                        message="successfully synced (all tasks run)"),
        ),
        app("search", sync="OutOfSync"),
        app(
            "ledger",
            health="Progressing",
            sync="OutOfSync",
            op=op_state("Running", message="waiting for healthy state of apps/Deployment/ledger"),
        ),
    ]  # fmt: skip
    result = await poll(answer(200, listing(*items)), clock)
    assert result.summary == (
        "4 applications: 2 healthy, 1 progressing, 1 degraded; 1 syncing, 1 out of sync"
    )
    checks = {c.name: c for c in result.services}
    assert [c.name for c in result.services] == ["checkout", "ledger", "payments", "search"]
    checkout = checks["checkout"]
    assert checkout.kind == "app" and checkout.service == "checkout"
    assert checkout.environment == "prod" and checkout.source == "argocd"
    assert checkout.health is Health.UP and checkout.detail is None
    assert checkout.version == OLD[:7]
    assert checkout.since == datetime(2026, 11, 26, 10, 1, 30, tzinfo=UTC)
    assert checkout.url == f"{URL}/applications/checkout"
    assert checkout.checked_at == clock.now()

    payments = checks["payments"]
    assert payments.health is Health.DOWN
    assert payments.detail == 'Degraded: Deployment "payments" exceeded its progress deadline'
    assert checks["search"].health is Health.UP and checks["search"].detail == "out of sync"
    ledger = checks["ledger"]
    assert ledger.health is Health.WARN
    assert ledger.detail == f"progressing, syncing {NEW[:7]}"

    deployments = {d.service: d for d in result.deployments}
    done = deployments["payments"]
    assert done.state is DeployState.SUCCEEDED
    assert done.provider_state == "Succeeded, Synced"
    assert done.revision == OLD and done.target_revision is None
    assert done.deployed_at == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert done.finished_at == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert done.repo == "acme/payments-deploy"
    assert done.environment == "prod" and done.url == f"{URL}/applications/payments"
    assert done.author == "automated" and done.id == "8"
    running = deployments["ledger"]
    assert running.state is DeployState.RUNNING
    assert running.provider_state == "Running, OutOfSync"
    assert running.revision == OLD and running.target_revision == NEW
    assert running.started_at == datetime(2026, 11, 26, 11, 50, tzinfo=UTC)
    assert running.finished_at is None and running.detail is None
    assert deployments["search"].provider_state == "OutOfSync"
    assert deployments["search"].state is DeployState.SUCCEEDED


async def test_config_names_service_environment_and_pipeline(clock: FakeClock) -> None:
    check, deployment = await one(
        app("payments-eu"), clock, service="payments", environment="eu-prod", pipeline="acme/pay"
    )
    assert check.name == "payments-eu" and check.service == "payments"
    assert check.environment == "eu-prod"
    assert deployment.service == "payments" and deployment.environment == "eu-prod"
    assert deployment.pipeline == "acme/pay"


@pytest.mark.parametrize(
    ("word", "health", "detail"),
    [
        ("Healthy", Health.UP, None),
        ("Progressing", Health.WARN, "progressing"),
        ("Suspended", Health.WARN, "suspended"),
        ("Degraded", Health.DOWN, "degraded"),
        ("Missing", Health.DOWN, "missing"),
        ("Unknown", Health.UNKNOWN, "unknown"),
        (None, Health.UNKNOWN, "no health reported"),
        ("Exploding", Health.UNKNOWN, "health Exploding"),
    ],
)
async def test_health_words(
    clock: FakeClock, word: str | None, health: Health, detail: str
) -> None:
    check, _ = await one(app(health=word), clock)
    assert check.health is health
    assert check.detail == detail


@pytest.mark.parametrize(
    ("phase", "state"),
    [
        ("Running", DeployState.RUNNING),
        ("Terminating", DeployState.RUNNING),
        ("Failed", DeployState.FAILED),
        ("Error", DeployState.FAILED),
        ("Succeeded", DeployState.SUCCEEDED),
        ("Paused", DeployState.UNKNOWN),
    ],
)
async def test_operation_phases(clock: FakeClock, phase: str, state: DeployState) -> None:
    _, deployment = await one(app(op=op_state(phase, message="one or more objects failed")), clock)
    assert deployment.state is state
    assert deployment.provider_state == f"{phase}, Synced"
    if state is DeployState.FAILED:
        assert deployment.detail == "one or more objects failed"
    if state is DeployState.UNKNOWN:
        assert deployment.detail == "sync phase Paused"


async def test_no_operation_state_is_succeeded_with_history_else_unknown(clock: FakeClock) -> None:
    _, deployed = await one(app(), clock)
    assert deployed.state is DeployState.SUCCEEDED and deployed.revision == OLD
    assert deployed.started_at is None and deployed.id == "8"
    check, never = await one(app(history=[], sync="OutOfSync"), clock)
    assert never.state is DeployState.UNKNOWN and never.revision is None
    assert never.detail == "never synced"
    # OutOfSync: the compared revision is main's head, not what runs, so no version is claimed.
    assert check.version is None


async def test_failed_sync_keeps_the_live_revision_and_names_the_target(clock: FakeClock) -> None:
    message = (
        'one or more objects failed to apply, reason: Deployment.apps "payments" is invalid: '
        "spec.template.spec.containers[0].image: Required value"
    )
    check, deployment = await one(
        app(sync="OutOfSync", op=op_state("Failed", message=message,
                                            finished="2026-11-26T11:51:10Z")),
        clock,
    )  # fmt: skip
    assert deployment.state is DeployState.FAILED
    assert deployment.revision == OLD and deployment.target_revision == NEW
    assert deployment.detail == message
    assert deployment.finished_at == datetime(2026, 11, 26, 11, 51, 10, tzinfo=UTC)
    assert deployment.provider_state == "Failed, OutOfSync"
    assert check.health is Health.UP
    assert check.detail == "out of sync, last sync failed"


async def test_target_from_the_requested_operation_when_no_sync_result(clock: FakeClock) -> None:
    _, deployment = await one(app(op=op_state("Running", with_result=False)), clock)
    assert deployment.target_revision == NEW


async def test_requested_sync_not_started_is_queued(clock: FakeClock) -> None:
    item = app(op=op_state("Succeeded", revision=OLD, finished="2026-11-26T10:00:00Z"))
    item["operation"] = {"sync": {"revision": NEW}, "initiatedBy": {"username": "alice"}}
    check, deployment = await one(item, clock)
    assert check.detail == "sync queued"
    assert deployment.state is DeployState.QUEUED
    assert deployment.target_revision == NEW and deployment.author == "alice"


async def test_history_newest_entry_is_the_live_one(clock: FakeClock) -> None:
    entries = [(3, OLDER, "2026-11-20T09:00:00Z"), (4, OLD, "2026-11-24T09:00:00Z"),
               (5, NEW, "2026-11-26T13:00:00.25+01:00")]  # fmt: skip
    check, deployment = await one(app(history=entries), clock)
    assert deployment.revision == NEW and check.version == NEW[:7]
    # Another offset and a fraction of a second, as the API may send.
    assert deployment.deployed_at == datetime(2026, 11, 26, 12, 0, 0, 250000, tzinfo=UTC)


async def test_helm_chart_version_and_tags(clock: FakeClock) -> None:
    chart = app(
        history=[(2, "2.4.1", "2026-11-26T09:00:00Z")], repo_url="https://charts.acme.example"
    )
    chart["status"]["history"][0]["source"] = {"repoURL": "https://charts.acme.example",
                                               "chart": "billing", "targetRevision": "2.4.1"}  # fmt: skip
    check, deployment = await one(chart, clock)
    assert check.version == "2.4.1" and deployment.revision == "2.4.1"
    assert deployment.repo is None and deployment.version is None

    tagged = app()
    tagged["status"]["history"][-1]["source"]["targetRevision"] = "v1.8.2"
    _, deployment = await one(tagged, clock)
    assert deployment.version == "v1.8.2" and deployment.revision == OLD


async def test_multi_source_application(clock: FakeClock) -> None:
    item = app(history=[])
    del item["spec"]["source"]
    item["spec"]["sources"] = [
        {
            "repoURL": "https://gitlab.com/acme/platform/payments-deploy.git",
            "targetRevision": "main",
        },
        {"repoURL": "https://charts.acme.example", "chart": "redis", "targetRevision": "18.1.0"},
    ]
    item["status"]["sync"] = {"status": "Synced", "revisions": [NEW, "18.1.0"]}
    check, deployment = await one(item, clock)
    assert check.version == NEW[:7]
    assert deployment.repo == "acme/platform/payments-deploy"


@pytest.mark.parametrize(
    ("url", "repo"),
    [
        ("https://github.com/acme/payments-deploy.git", "acme/payments-deploy"),
        ("https://github.com/acme/payments-deploy", "acme/payments-deploy"),
        ("git@github.com:acme/search-deploy.git", "acme/search-deploy"),
        ("ssh://git@github.com/acme/x.git", "acme/x"),
        ("https://gitlab.com/acme/group/app.git", "acme/group/app"),
        ("https://charts.acme.example", None),
        ("https://bitbucket.org/acme/x.git", None),
        ("https://github.com/acme", None),
        ("", None),
    ],
)
def test_repo_of(url: str, repo: str | None) -> None:
    assert repo_of(url) == repo


def test_short_only_shortens_commits() -> None:
    assert short(NEW) == NEW[:7]
    assert short("2.4.1") == "2.4.1" and short(None) is None


# --- filters and where apps live --------------------------------------------------------------


async def test_application_globs_filter_by_name_or_namespace(clock: FakeClock) -> None:
    items = [app("payments"), app("payments-eu"), app("checkout"), app("ops", namespace="team-a")]
    result = await poll(answer(200, listing(*items)), clock, applications=["payments*", "team-a/*"])
    assert sorted(c.name for c in result.services) == ["ops", "payments", "payments-eu"]


async def test_app_in_another_namespace_links_with_its_namespace(clock: FakeClock) -> None:
    check, deployment = await one(app("ops", namespace="team-a"), clock, url=URL + "/argo")
    assert check.url == f"{URL}/argo/applications/team-a/ops" == deployment.url


async def test_null_items_means_no_applications(clock: FakeClock) -> None:
    body = {"metadata": {"resourceVersion": "10"}, "items": None}
    result = await poll(answer(200, body), clock, projects=["batch"], selector="team=x")
    assert result.services == () and result.deployments == ()
    assert result.summary == "no applications in project(s) batch matching selector team=x"
    empty = await poll(answer(200, {"metadata": {}}), clock)
    assert empty.summary == "no applications"


# --- bad input: shown for what it is, never a crash, never hiding the others -----------------


async def test_app_without_status_is_unknown_and_others_still_show(clock: FakeClock) -> None:
    fresh = app("newcomer")
    del fresh["status"]
    result = await poll(answer(200, listing(fresh, app("checkout"))), clock)
    checks = {c.name: c for c in result.services}
    assert checks["newcomer"].health is Health.UNKNOWN
    assert checks["newcomer"].detail == "no status reported yet"
    assert checks["checkout"].health is Health.UP
    deployments = {d.service: d for d in result.deployments}
    assert deployments["newcomer"].state is DeployState.UNKNOWN
    assert deployments["newcomer"].detail == "no status reported yet"
    assert deployments["newcomer"].repo == "acme/payments-deploy"
    assert result.summary == "2 applications: 1 healthy, 1 unknown"


async def test_unknown_sync_word_is_shown(clock: FakeClock) -> None:
    check, deployment = await one(app(sync="Drifting"), clock)
    assert check.health is Health.UP and check.detail == "sync Drifting"
    assert deployment.provider_state == "Drifting"


async def test_one_misshapen_app_does_not_hide_the_others(clock: FakeClock) -> None:
    broken = app("broken")
    broken["status"]["history"] = "not a list"
    nameless = app("x")
    del nameless["metadata"]["name"]
    result = await poll(answer(200, listing(broken, nameless, "junk", app("checkout"))), clock)
    checks = {c.name: c for c in result.services}
    assert checks["checkout"].health is Health.UP
    assert checks["broken"].health is Health.UNKNOWN
    assert (checks["broken"].detail or "").startswith("unreadable application: unexpected payload")
    assert "status.history" in (checks["broken"].detail or "")
    assert [c.health for c in result.services].count(Health.UNKNOWN) == 3
    assert [d.service for d in result.deployments] == ["checkout"]


async def test_wrong_types_in_enum_fields_do_not_fail_the_poll(clock: FakeClock) -> None:
    item = app()
    item["status"]["health"]["status"] = 3
    item["status"]["operationState"] = op_state("Running")
    item["status"]["operationState"]["startedAt"] = 12345
    check, deployment = await one(item, clock)
    assert check.health is Health.UNKNOWN and check.detail == f"health 3, syncing {NEW[:7]}"
    assert deployment.state is DeployState.RUNNING and deployment.started_at is None


async def test_untrusted_text_loses_escapes_and_keeps_markup_literal(clock: FakeClock) -> None:
    item = app(
        "pay\x1b[31mments",
        health="Degraded",
        health_message="[bold red]boom[/] \x1b]8;;https://evil.example/\x07link\x1b]8;;\x07\u202e\nnext",
        op=op_state("Failed", message="\x1b[2J[link=https://evil.example]x[/link]"),
    )  # fmt: skip
    check, deployment = await one(item, clock)
    assert check.name == "payments"
    assert check.detail == "Degraded: [bold red]boom[/] link next, last sync failed"
    assert deployment.detail == "[link=https://evil.example]x[/link]"
    for text in (check.name, check.detail, deployment.detail, deployment.service):
        assert text is not None and "\x1b" not in text and "\u202e" not in text


# --- failures of Argo CD itself ---------------------------------------------------------------


async def test_401_with_a_token_names_where_it_came_from_not_the_token(clock: FakeClock) -> None:
    body = {"error": f"invalid session: token {TOKEN} has expired", "code": 16,
            "message": f"invalid session: token {TOKEN} has expired"}  # fmt: skip
    with pytest.raises(AuthFailed) as caught:
        await poll(answer(401, body), clock, token=SecretStr(TOKEN), token_env="ARGOCD_TOKEN")
    message = str(caught.value)
    assert "$ARGOCD_TOKEN" in message and "HTTP 401" in message and "has expired" in message
    assert TOKEN not in message


async def test_401_without_a_token_says_to_configure_one(clock: FakeClock) -> None:
    body = {"error": "no session information", "code": 16, "message": "no session information"}
    with pytest.raises(AuthFailed, match="asked for a token"):
        await poll(answer(401, body), clock)


async def test_403_is_an_auth_error_naming_the_permission(clock: FakeClock) -> None:
    body = {"error": "permission denied", "code": 7, "message": "permission denied"}
    with pytest.raises(AuthFailed) as caught:
        await poll(answer(403, body), clock, token=SecretStr(TOKEN), token_file="/run/argo")
    message = str(caught.value)
    assert "applications, get" in message and "/run/argo" in message and TOKEN not in message


async def test_404_of_a_project_names_it(clock: FakeClock) -> None:
    body = {"error": 'appproject.argoproj.io "shop" not found', "code": 5,
            "message": 'appproject.argoproj.io "shop" not found'}  # fmt: skip
    with pytest.raises(NotFound) as caught:
        await poll(answer(404, body), clock, projects=["shop"])
    assert "project shop not found on argocd.example.com" in str(caught.value)


async def test_404_without_projects_names_the_api_url(clock: FakeClock) -> None:
    with pytest.raises(
        NotFound, match=re.escape("no Argo CD API at https://argocd.example.com/x/api/v1")
    ):
        await poll(answer(404, text="404 page not found", content_type="text/plain"), clock,
                   url=URL + "/x")  # fmt: skip


async def test_400_names_the_selector(clock: FakeClock) -> None:
    body = {"error": "unable to parse requirement", "code": 3,
            "message": "unable to parse requirement: found '('"}  # fmt: skip
    with pytest.raises(SourceError) as caught:
        await poll(answer(400, body), clock, selector="team in (a")
    assert str(caught.value) == (
        "Argo CD rejected selector 'team in (a' (HTTP 400): unable to parse requirement: found '('"
    )


async def test_html_ui_page_where_json_was_expected(clock: FakeClock) -> None:
    page = '<!doctype html><html lang="en"><head><title>Argo CD</title></head><body></body></html>'
    with pytest.raises(BadPayload, match=r"HTML page .*Argo CD server's root"):
        await poll(answer(200, text=page, content_type="text/html"), clock)


@pytest.mark.parametrize(
    "text",
    [
        '{"metadata": {}, "items": [{"metadata": {"name": "pay',
        "",
        '[{"metadata": {"name": "payments"}}]',
        '{"items": "payments"}',
    ],
)
async def test_truncated_or_misshapen_list_is_bad_payload(clock: FakeClock, text: str) -> None:
    with pytest.raises(BadPayload):
        await poll(answer(200, text=text), clock)


async def test_server_error_passes_through(clock: FakeClock) -> None:
    with pytest.raises(SourceError, match="HTTP 503"):
        await poll(answer(503, text="upstream connect error", content_type="text/plain"), clock)
