"""``POST /hooks/<source>``: each provider's real event shape and signature scheme, over a real
socket. Good deliveries poke the source; bad, missing, replayed and oversized ones are refused
with one word and counted with their reason; a delivery sent twice is acted on once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from buildradiator.serve.signatures import REPLAY_WINDOW
from buildradiator.serve.webhooks import MAX_BODY, Hook, WebhookReceiver

SECRET = b"It's a Secret to Everybody"

# Bodies in the providers' documented shapes (trimmed to the fields we read or route on).
WORKFLOW_RUN = {
    "action": "completed",
    "workflow_run": {
        "id": 30433642,
        "name": "Build",
        "head_branch": "main",
        "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
        "run_number": 562,
        "run_attempt": 1,
        "event": "push",
        "status": "completed",
        "conclusion": "failure",
        "html_url": "https://github.com/octo-org/octo-repo/actions/runs/30433642",
    },
    "repository": {"full_name": "octo-org/octo-repo"},
}
PIPELINE_HOOK = {
    "object_kind": "pipeline",
    "object_attributes": {
        "id": 31,
        "ref": "main",
        "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
        "status": "failed",
        "stages": ["build", "test", "deploy"],
        "created_at": "2016-08-12 15:23:28 UTC",
        "finished_at": "2016-08-12 15:26:29 UTC",
        "duration": 63,
    },
    "project": {"id": 1, "path_with_namespace": "gitlab-org/gitlab-test"},
}
BUILD_FINISHED = {
    "event": "build.finished",
    "build": {"id": "f62a1b4d", "number": 42, "state": "failed", "branch": "main"},
    "pipeline": {"slug": "my-pipeline"},
    "sender": {"id": "8a7693f8", "name": "Some Person"},
}
WORKFLOW_COMPLETED = {
    "id": "3888f21b-eaa7-38e3-8f3d-75a63bba8895",
    "type": "workflow-completed",
    "happened_at": "2021-09-01T22:49:34.317Z",
    "workflow": {"id": "fda08377", "name": "welcome", "status": "failed"},
    "pipeline": {"id": "1285fe1d", "number": 130},
    "project": {"slug": "github/circleci/webhook-test", "name": "webhook-test"},
}
JENKINS_NOTIFICATION = {
    "name": "asgard",
    "url": "job/asgard/",
    "build": {
        "full_url": "http://localhost:8080/job/asgard/18/",
        "number": 18,
        "phase": "COMPLETED",
        "status": "FAILURE",
        "url": "job/asgard/18/",
        "scm": {"branch": "origin/main", "commit": "c6d86dc654b12425e706bcf951adfe5a8627a517"},
    },
}
ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "status": "firing",
    "receiver": "buildradiator",
    "alerts": [{"status": "firing", "labels": {"alertname": "HighErrorRate"}}],
}


BITBUCKET = {  # repo:commit_status_updated: what Pipelines sends as a build's state changes
    "commit_status": {
        "key": "abc123", "type": "build", "state": "FAILED", "name": "Pipeline #42 for main",
        "refname": "main", "url": "https://bitbucket.org/acme/shop/pipelines/results/42",
        "commit": {"hash": "bcbb5ec396a2c0f828686f14fac9b80b780504f2"},
    },
    "repository": {"full_name": "acme/shop", "uuid": "{b0d5ba5e-0000-4000-8000-000000000001}"},
}  # fmt: skip
AZURE = {  # a service hook's build.complete
    "subscriptionId": "00000000-0000-0000-0000-000000000000",
    "notificationId": 4,
    "id": "4a5d99d6-1c75-4e53-91b9-ee80057d4ce3",
    "eventType": "build.complete",
    "publisherId": "tfs",
    "resource": {"id": 2, "buildNumber": "ConsumerAddressModule_20150407.2", "status": "completed", "result": "failed"},
}  # fmt: skip


def _hmac(message: bytes) -> str:
    return hmac.new(SECRET, message, hashlib.sha256).hexdigest()


def signed(kind: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The headers the provider sends with ``body``."""
    if kind == "github":
        return {
            "X-GitHub-Event": "workflow_run",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "X-Hub-Signature-256": "sha256=" + _hmac(body),
        }
    if kind == "gitlab":
        return {
            "X-Gitlab-Event": "Pipeline Hook",
            "X-Gitlab-Token": SECRET.decode(),
            "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
        }
    if kind == "buildkite":
        stamp = str(int(now if now is not None else time.time()))
        signature = _hmac(stamp.encode() + b"." + body)
        return {
            "X-Buildkite-Event": "build.finished",
            "X-Buildkite-Signature": f"timestamp={stamp},signature={signature}",
        }
    if kind == "bitbucket":
        return {
            "X-Event-Key": "repo:commit_status_updated",
            "X-Request-UUID": "fbd4ec16-0c58-4bea-9ac5-9bd2cfe9a16d",
            "X-Hub-Signature": "sha256=" + _hmac(body),
        }
    if kind == "azure":
        return {"Authorization": "Basic " + base64.b64encode(b"radiator:" + SECRET).decode()}
    if kind == "circleci":
        return {
            "Circleci-Event-Type": "workflow-completed",
            "circleci-signature": "v1=" + _hmac(body),
        }
    return {"Authorization": "Bearer " + SECRET.decode()}


BODIES: dict[str, dict[str, Any]] = {
    "github": WORKFLOW_RUN,
    "gitlab": PIPELINE_HOOK,
    "buildkite": BUILD_FINISHED,
    "circleci": WORKFLOW_COMPLETED,
    "jenkins": JENKINS_NOTIFICATION,
    "alertmanager": ALERTMANAGER,
    "bitbucket": BITBUCKET,
    "azure": AZURE,
}


class Rig:
    def __init__(self, receiver: WebhookReceiver, client: httpx.AsyncClient) -> None:
        self.receiver, self.client = receiver, client
        self.poked: list[str] = []

    async def post(
        self, source: str, body: bytes, headers: dict[str, str], **kw: Any
    ) -> httpx.Response:
        return await self.client.post(f"/hooks/{source}", content=body, headers=headers, **kw)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    hooks = {kind: Hook(kind, kind, SECRET) for kind in BODIES}
    hooks["open"] = Hook("open", "github", None)
    poked: list[str] = []
    receiver = WebhookReceiver(hooks, poked.append, rate=1000, burst=1000)
    app = web.Application()
    receiver.mount(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with httpx.AsyncClient(base_url=str(server.make_url("/")).rstrip("/")) as client:
        r = Rig(receiver, client)
        r.poked = poked
        yield r
    await server.close()


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_a_signed_delivery_pokes_its_source(rig: Rig, kind: str) -> None:
    body = json.dumps(BODIES[kind]).encode()
    response = await rig.post(kind, body, signed(kind, body))
    assert (response.status_code, response.text) == (202, "accepted\n")
    assert rig.poked == [kind]
    counts = rig.receiver.counts[kind]
    assert counts.accepted == 1 and not counts.refused and counts.last_event is not None


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_a_tampered_body_is_refused(rig: Rig, kind: str) -> None:
    body = json.dumps(BODIES[kind]).encode()
    headers = signed(kind, body)
    if kind in ("gitlab", "jenkins", "alertmanager"):  # the secret itself is the signature
        headers = {k: v.replace("Secret", "secret") for k, v in headers.items()}
    if kind == "azure":
        headers = {"Authorization": "Basic " + base64.b64encode(b"radiator:guess").decode()}
    response = await rig.post(kind, body + b"\n", headers)
    assert (response.status_code, response.text) == (403, "refused\n")
    assert rig.poked == []
    assert rig.receiver.counts[kind].refused == {"bad signature": 1}


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_an_unsigned_delivery_is_refused(rig: Rig, kind: str) -> None:
    body = json.dumps(BODIES[kind]).encode()
    response = await rig.post(kind, body, {"Content-Type": "application/json"})
    assert (response.status_code, response.text) == (403, "refused\n")
    assert rig.receiver.counts[kind].refused == {"unsigned": 1}
    assert rig.poked == []


async def test_unsigned_is_taken_only_where_the_config_says_so(rig: Rig) -> None:
    body = json.dumps(WORKFLOW_RUN).encode()
    response = await rig.post("open", body, {"X-GitHub-Event": "workflow_run"})
    assert response.status_code == 202 and rig.poked == ["open"]


async def test_a_replayed_buildkite_delivery_is_refused(rig: Rig) -> None:
    body = json.dumps(BUILD_FINISHED).encode()
    old = signed("buildkite", body, now=time.time() - REPLAY_WINDOW - 60)
    response = await rig.post("buildkite", body, old)
    assert (response.status_code, response.text) == (403, "refused\n")
    assert rig.receiver.counts["buildkite"].refused == {"replayed": 1}


async def test_a_delivery_sent_twice_is_acted_on_once(rig: Rig) -> None:
    body = json.dumps(WORKFLOW_RUN).encode()
    for _ in range(3):
        response = await rig.post("github", body, signed("github", body))
        assert response.status_code == 202
    assert rig.poked == ["github"]
    assert rig.receiver.counts["github"].duplicates == 2


async def test_an_oversized_body_is_refused_without_reading_it_all(rig: Rig) -> None:
    body = b'{"pad": "' + b"x" * (MAX_BODY + 10) + b'"}'
    response = await rig.post("github", body, signed("github", body))
    assert (response.status_code, response.text) == (413, "refused\n")

    async def trickle() -> AsyncIterator[bytes]:  # no Content-Length: chunked, and too long
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"x" * 65536

    response = await rig.client.post(
        "/hooks/github", content=trickle(), headers=signed("github", b"")
    )
    assert response.status_code == 413
    assert rig.receiver.counts["github"].refused == {"too large": 2}
    assert rig.poked == []


async def test_an_unknown_source_reads_like_any_refusal(rig: Rig) -> None:
    body = json.dumps(WORKFLOW_RUN).encode()
    unknown = await rig.post("no-such-source", body, signed("github", body))
    forged = await rig.post("github", body, {"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert (unknown.status_code, unknown.text) == (forged.status_code, forged.text)
    assert rig.receiver.refused_unknown == 1


async def test_jenkins_may_carry_its_secret_in_the_url(rig: Rig) -> None:
    body = json.dumps(JENKINS_NOTIFICATION).encode()
    response = await rig.post("jenkins", body, {}, params={"token": SECRET.decode()})
    assert response.status_code == 202 and rig.poked == ["jenkins"]
    wrong = await rig.post("jenkins", body + b" ", {}, params={"token": "guess"})
    assert wrong.status_code == 403


async def test_a_ping_is_counted_and_polls_nothing(rig: Rig) -> None:
    body = b'{"zen": "Design for failure.", "hook_id": 1}'
    headers = {**signed("github", body), "X-GitHub-Event": "ping", "X-GitHub-Delivery": "p-1"}
    response = await rig.post("github", body, headers)
    assert response.status_code == 202 and rig.poked == []
    assert rig.receiver.counts["github"].last_event_name == "ping"


async def test_each_address_is_rate_limited() -> None:
    poked: list[str] = []
    receiver = WebhookReceiver(
        {"github": Hook("github", "github", SECRET)}, poked.append, rate=0.01, burst=2
    )
    app = web.Application()
    receiver.mount(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient(base_url=str(server.make_url("/")).rstrip("/")) as client:
            body = json.dumps(WORKFLOW_RUN).encode()
            codes = [
                (
                    await client.post("/hooks/github", content=body, headers=signed("github", body))
                ).status_code
                for _ in range(4)
            ]
    finally:
        await server.close()
    assert codes == [202, 202, 429, 429]
    assert receiver.counts["github"].refused == {"rate limited": 2}


def test_a_source_type_without_webhooks_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="cctray sources take no webhooks"):
        WebhookReceiver({"feed": Hook("feed", "cctray", SECRET)}, print)


GITHUB = '[[sources]]\ntype = "github"\nname = "gh"\nrepos = ["octo-org/octo-repo"]\n'


def test_a_webhook_needs_a_secret_or_says_unsigned() -> None:
    from buildradiator.errors import ConfigError
    from buildradiator.sources.catalog import parse_config

    with pytest.raises(ConfigError, match="a webhook needs its secret"):
        parse_config(GITHUB + "webhook = { }\n")
    with pytest.raises(ConfigError, match="contradict"):
        parse_config(GITHUB + 'webhook = { secret_env = "HOOK", unsigned = true }\n')
    assert parse_config(GITHUB + "webhook = { unsigned = true }\n").sources[0].webhook


def test_the_secret_is_read_by_serve_only_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from buildradiator.config.loading import read_webhook_secret
    from buildradiator.errors import ConfigError
    from buildradiator.sources.catalog import parse_config

    config = parse_config(GITHUB + 'webhook = { secret_env = "HOOK_SECRET" }\n')  # loads unset
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    with pytest.raises(
        ConfigError, match=r"source gh webhook\.secret_env: .*HOOK_SECRET is not set"
    ):
        read_webhook_secret(config.sources[0])
    monkeypatch.setenv("HOOK_SECRET", "hunter2-webhook")
    secret = read_webhook_secret(config.sources[0])
    assert secret is not None and secret.get_secret_value() == "hunter2-webhook"
    assert "hunter2" not in repr(config.sources[0]) + str(secret)
