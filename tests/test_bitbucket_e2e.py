"""End to end: the Bitbucket Pipelines source and the engine against the simulator's Bitbucket
Cloud over loopback, and the source's own defences against a fake Bitbucket (MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.config.loading import Config
from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.bitbucket.config import BitbucketSource
from buildradiator.sources.bitbucket.source import BITBUCKET_RATE, BitbucketPipelines
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient

TOKEN = "bb-ATCTT3xFfGN0s3cr3tT0ken"
LIST = "/2.0/repositories/acme/web-portal/pipelines/"


def only(config: Config, kind: str) -> Config:
    kept = [s for s in config.sources if getattr(s, "type", None) == kind]
    return config.model_copy(update={"sources": kept})


def row(snapshot: Snapshot) -> Pipeline:
    matches = [p for p in snapshot.pipelines if p.source == "bitbucket"]
    assert matches, [p.key for p in snapshot.pipelines]
    return matches[0]


async def test_the_bitbucket_story_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(only(parse_config(demo_config_text(sim.base_url)), "bitbucket"))
        try:
            # Grace's pipeline runs Unit tests and Lint side by side.
            sim.set_time(70)
            snap = await engine.poll_all()
            assert snap.source_state("bitbucket").error is None  # type: ignore[union-attr]
            portal = row(snap)
            assert (portal.key, portal.status) == ("acme/web-portal", Status.PASSED)
            assert portal.url == f"{sim.base_url}/web/bitbucket/acme/web-portal/pipelines"
            (running,) = portal.in_flight
            assert running.status is Status.RUNNING and running.stage == "Unit tests, Lint"
            assert running.author == "Grace Kim" and running.message == "Add dark mode toggle"
            assert running.url is not None and running.url.endswith("/pipelines/results/709")

            # Bob's deploy waits at the manual step: green, as Bitbucket says.
            sim.set_time(230)
            snap = await engine.poll_all()
            assert row(snap).in_flight == ()
            assert row(snap).recent[0].provider_status == (
                "paused (waiting for manual step Deploy to production)"
            )

            # Erin's pipeline failed: a broken window naming her and her commit.
            sim.set_time(307)
            snap = await engine.poll_all()
            [window] = [w for w in snap.broken if w.source == "bitbucket"]
            assert window.author == "Erin Walsh" and window.message == "Bump axios to 1.7"

            # Re-run: run 2 of the same pipeline; main stays red until it has passed.
            sim.set_time(320)
            snap = await engine.poll_all()
            portal = row(snap)
            assert portal.status is Status.FAILED
            assert [(b.attempt, b.stage) for b in portal.in_flight] == [(2, "Integration tests")]

            # Green on run 2: green only after a re-run.
            sim.set_time(335)
            snap = await engine.poll_all()
            portal = row(snap)
            assert portal.status is Status.PASSED and portal.last is not None
            assert portal.last.attempt == 2
            assert not [w for w in snap.broken if w.source == "bitbucket"]
            [flaky] = [f for f in snap.flaky if f.pipeline == "acme/web-portal"]
            assert flaky.retried_to_green >= 1
            assert not sim.errors
        finally:
            await engine.aclose()


async def test_an_access_token_reads_the_hourly_limit_from_the_simulator() -> None:
    with Simulator() as sim:
        config = BitbucketSource.model_validate(
            {
                "type": "bitbucket",
                "name": "bitbucket",
                "api_url": f"{sim.base_url}/bitbucket/2.0",
                "workspace": "acme",
                "repositories": ["web-portal", "ghost"],
            }
        ).model_copy(update={"token": SecretStr(TOKEN)})
        http = HttpClient()
        try:
            source = BitbucketPipelines(config, http)
            with pytest.raises(NotFound, match="repository acme/ghost not found"):
                await source.poll()
            one = config.model_copy(update={"repositories": ["web-portal"]})
            result = await BitbucketPipelines(one, http).poll()
            assert [p.key for p in result.pipelines] == ["acme/web-portal"]
            assert result.summary.startswith("1 repo, 0 running, 0 queued")
            rate = http.budget(config.api_url, BITBUCKET_RATE).rate
            assert rate is not None and (rate.limit, rate.remaining) == (1000, None)
        finally:
            await http.aclose()


# --- the source against a fake Bitbucket ------------------------------------------------------


def page(*values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"page": 1, "pagelen": 20, "size": len(values), "values": list(values), **extra}


def pipeline(number: int, result: str = "SUCCESSFUL", **extra: Any) -> dict[str, Any]:
    return {
        "type": "pipeline",
        "uuid": f"{{00000000-0000-4000-8000-{number:012d}}}",
        "build_number": number,
        "run_number": 1,
        "target": {"type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main"},
        "state": {"name": "COMPLETED", "result": {"name": result}},
        "created_on": f"2026-12-06T08:{number % 60:02d}:00Z",
        "completed_on": f"2026-12-06T08:{number % 60:02d}:30Z",
        **extra,
    }


Handler = Callable[[httpx.Request], httpx.Response]


def fake(handler: Handler, clock: FakeClock | None = None, **config: Any) -> BitbucketPipelines:
    settings = {
        "type": "bitbucket",
        "name": "bb",
        "workspace": "acme",
        "repositories": ["web-portal"],
        **config,
    }
    model = BitbucketSource.model_validate(settings).model_copy(update={"token": SecretStr(TOKEN)})
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock)
    return BitbucketPipelines(model, http)


async def test_requests_carry_the_branch_the_sort_and_the_credentials() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=page(pipeline(5)))

    await fake(handle).poll()
    await fake(handle, username="radiator-bot").poll()
    bearer, basic = seen
    assert bearer.url.path == "/2.0/repositories/acme/web-portal/pipelines/"
    query = parse_qs(bearer.url.query.decode())
    assert query == {"target.branch": ["main"], "sort": ["-created_on"], "pagelen": ["20"]}
    assert bearer.headers["authorization"] == f"Bearer {TOKEN}"
    assert basic.headers["authorization"].startswith("Basic ")
    assert TOKEN not in basic.headers["authorization"]  # base64 of user:password


async def test_a_server_refusing_sort_is_asked_again_and_read_from_its_last_page() -> None:
    asked: list[dict[str, list[str]]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        asked.append(query)
        if "sort" in query:
            return httpx.Response(
                400,
                json={
                    "type": "error",
                    "error": {
                        "message": "Bad request",
                        "detail": "Invalid sort attribute provided 'created_on'",
                        "data": {"key": "rest-service.rest-service.invalid-sort-attribute"},
                    },
                },
            )
        if query.get("page") == ["2"]:
            return httpx.Response(200, json=page(pipeline(3), pipeline(4, "FAILED"), size=4))
        return httpx.Response(200, json=page(pipeline(1), pipeline(2), size=4))

    source = fake(handle, pagelen=2)
    result = await source.poll()
    assert "sort" in asked[0] and "sort" not in asked[1] and asked[2]["page"] == ["2"]
    (portal,) = result.pipelines
    assert [b.number for b in portal.recent] == [4, 3, 2, 1]
    assert portal.status is Status.FAILED
    await source.poll()
    assert "sort" not in asked[3]  # remembered


async def test_a_server_ignoring_sort_silently_is_read_from_its_last_page() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if parse_qs(request.url.query.decode()).get("page") == ["3"]:
            return httpx.Response(200, json=page(pipeline(5, "FAILED"), size=5))
        return httpx.Response(200, json=page(pipeline(1), pipeline(2), size=5))

    (portal,) = (await fake(handle, pagelen=2).poll()).pipelines
    assert [b.number for b in portal.recent] == [5, 2, 1]
    assert portal.status is Status.FAILED


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, AuthFailed, "refused the credentials from the config"),
        (403, AuthFailed, r"lacks permission \(it needs Pipelines: read, and access to the repo"),
        (404, NotFound, "repository acme/web-portal not found"),
    ],
)
async def test_refusals_are_in_words_without_the_token(
    status: int, error: type[Exception], words: str
) -> None:
    source = fake(lambda r: httpx.Response(status, json={"type": "error", "error": {}}))
    with pytest.raises(error, match=words) as caught:
        await source.poll()
    assert TOKEN not in str(caught.value)


async def test_429_with_retry_after_blocks_the_host_until_then() -> None:
    clock = FakeClock()
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(429, headers={"Retry-After": "120"}, json={"type": "error"})

    source = fake(handle, clock)
    with pytest.raises(RateLimited) as caught:
        await source.poll()
    assert caught.value.retry_at == clock.now() + timedelta(seconds=120)
    with pytest.raises(RateLimited):
        await source.poll()
    assert len(calls) == 1  # the second poll never left the machine


async def test_429_without_retry_after_leaves_the_backoff_to_the_engine() -> None:
    source = fake(
        lambda r: httpx.Response(429, text="Rate limit for this resource has been exceeded")
    )
    with pytest.raises(RateLimited, match="hourly limit") as caught:
        await source.poll()
    assert caught.value.retry_at is None


async def test_near_the_limit_the_hour_is_spread_out() -> None:
    clock = FakeClock()
    headers = {"X-RateLimit-Limit": "1000", "X-RateLimit-NearLimit": "true"}
    source = fake(lambda r: httpx.Response(200, headers=headers, json=page(pipeline(1))), clock)
    await source.poll()
    rate = source.http.budget(source.config.api_url, BITBUCKET_RATE).rate
    assert rate is not None
    assert (rate.limit, rate.remaining) == (1000, 200)
    assert rate.reset_at == clock.now() + timedelta(hours=1)


async def test_steps_are_read_for_the_newest_in_flight_at_most_a_few_per_poll() -> None:
    running = {"name": "IN_PROGRESS", "stage": {"name": "RUNNING"}}
    paused = {"name": "IN_PROGRESS", "stage": {"name": "PAUSED"}}
    listed = [pipeline(n, state=running, completed_on=None) for n in range(10, 16)]
    listed.append(pipeline(9, state=paused, completed_on=None))
    steps_asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/steps/"):
            steps_asked.append(request.url.path)
            if "000000000015" in request.url.path:
                return httpx.Response(500, text="oops")  # a failed steps read: no stage, no error
            return httpx.Response(
                200, json=page({"name": "Build", "state": {"name": "IN_PROGRESS"}})
            )
        return httpx.Response(200, json=page(*listed))

    source = fake(handle)
    (portal,) = (await source.poll()).pipelines
    assert source.step_requests == 4 and len(steps_asked) == 4
    stages = {b.number: b.stage for b in portal.in_flight}
    assert stages[15] is None and stages[14] == "Build" and stages[10] is None


async def test_a_paused_pipeline_is_read_once_per_pause() -> None:
    paused = {"name": "IN_PROGRESS", "stage": {"name": "PAUSED"}}
    steps = page(
        {"name": "Build", "state": {"name": "COMPLETED", "result": {"name": "SUCCESSFUL"}}},
        {
            "name": "Deploy",
            "trigger": {"type": "pipeline_step_trigger_manual"},
            "state": {"name": "PENDING"},
        },
    )
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path.endswith("/steps/"):
            return httpx.Response(200, json=steps)
        return httpx.Response(200, json=page(pipeline(7, state=paused, completed_on=None)))

    source = fake(handle)
    for _ in range(3):
        (portal,) = (await source.poll()).pipelines
        assert portal.status is Status.PASSED
    assert sum(p.endswith("/steps/") for p in asked) == 1


async def test_an_answer_that_is_not_a_page_is_a_bad_payload() -> None:
    source = fake(lambda r: httpx.Response(200, content=json.dumps({"values": "nope"})))
    with pytest.raises(BadPayload, match="values"):
        await source.poll()


async def test_commit_messages_are_read_once_per_commit_at_most_two_a_poll() -> None:
    listed = [
        pipeline(n, target={
            "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main",
            "commit": {"type": "commit", "hash": f"{n:040x}"},
        })
        for n in range(1, 5)
    ]  # fmt: skip
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if "/commit/" in request.url.path:
            sha = request.url.path.rsplit("/", 1)[1]
            asked.append(sha)
            if int(sha, 16) == 3:
                return httpx.Response(502, text="Bad Gateway")  # may pass: asked again
            if int(sha, 16) == 1:
                return httpx.Response(404, json={"type": "error", "error": {"message": "gone"}})
            return httpx.Response(
                200, json={"type": "commit", "hash": sha, "message": f"C{sha[-1]}\nbody"}
            )
        return httpx.Response(200, json=page(*listed))

    source = fake(handle)
    (first,) = (await source.poll()).pipelines
    assert source.commit_requests == 2
    assert [b.message for b in first.recent] == ["C4", None, None, None]
    (second,) = (await source.poll()).pipelines
    assert [b.message for b in second.recent] == ["C4", None, "C2", None]
    (third,) = (await source.poll()).pipelines
    assert [b.message for b in third.recent] == ["C4", None, "C2", None]
    await source.poll()
    # Each commit once, a gone one (404) too; the one that failed with a 502 is asked again on
    # later polls, within the cap.
    assert asked.count(f"{4:040x}") == 1 and asked.count(f"{2:040x}") == 1
    assert asked.count(f"{1:040x}") == 1 and asked.count(f"{3:040x}") == 4
    assert source.commit_requests <= 2


async def test_credentials_refused_the_commits_stop_asking_and_say_so() -> None:
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if "/commit/" in request.url.path:
            return httpx.Response(403, json={"type": "error", "error": {"message": "scope"}})
        target = {"ref_name": "main", "commit": {"hash": "ab" * 20}}
        return httpx.Response(200, json=page(pipeline(1, target=target)))

    source = fake(handle)
    for _ in range(3):
        result = await source.poll()
        assert result.pipelines[0].status is Status.PASSED
    assert sum("/commit/" in p for p in asked) == 1
    assert "may not read the repository" in result.summary


async def test_a_signed_bitbucket_webhook_pokes_the_bitbucket_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The declared type meets serve's webhooks: a delivery signed the way Bitbucket signs it
    (``X-Hub-Signature: sha256=...``) makes the engine poll that source at once."""
    import hashlib
    import hmac

    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from buildradiator.serve.webhooks import attach_webhooks

    monkeypatch.setenv("BB_HOOK_SECRET", "s3cr3t-hook")
    with Simulator() as sim:
        text = demo_config_text(sim.base_url).replace(
            'repositories = ["web-portal"]',
            'repositories = ["web-portal"]\nwebhook = { secret_env = "BB_HOOK_SECRET" }',
        )
        engine = build_engine(only(parse_config(text), "bitbucket"))
        poked: list[str] = []
        monkeypatch.setattr(engine, "poll_soon", poked.append)
        try:
            receiver = attach_webhooks(engine.config, engine, "<demo>")
            assert receiver is not None and receiver.hooks["bitbucket"].type == "bitbucket"
            app = web.Application()
            receiver.mount(app)
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            try:
                body = json.dumps({"commit_status": {"state": "FAILED"}}).encode()
                digest = hmac.new(b"s3cr3t-hook", body, hashlib.sha256).hexdigest()
                headers = {
                    "X-Event-Key": "repo:commit_status_updated",
                    "X-Request-UUID": "fbd4ec16-0c58-4bea-9ac5-9bd2cfe9a16d",
                    "X-Hub-Signature": f"sha256={digest}",
                }
                base = str(server.make_url("/")).rstrip("/")
                async with httpx.AsyncClient(base_url=base) as client:
                    good = await client.post("/hooks/bitbucket", content=body, headers=headers)
                    forged = {**headers, "X-Hub-Signature": "sha256=" + "0" * 64}
                    bad = await client.post("/hooks/bitbucket", content=body, headers=forged)
                assert (good.status_code, bad.status_code) == (202, 403)
                assert poked == ["bitbucket"]
            finally:
                await server.close()
        finally:
            await engine.aclose()
