"""``POST /hooks/<source>`` with the right secret and a hostile body, over a real socket: the
delivery is still taken (it only says "poll now"), the answer is one word, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from buildradiator.serve.webhooks import MAX_BODY, Hook, WebhookReceiver

SECRET = b"hostile-hook-secret"
DEEP = b"[" * (MAX_BODY // 2 - 1) + b"]" * (MAX_BODY // 2 - 1)
"""Nested a half million deep, under the body cap: Python's JSON reader gives up with a
``RecursionError``, which is no ``ValueError``."""
DEEP_OBJECT = b'{"id":' * 100_000 + b"1" + b"}" * 100_000


def headers(kind: str, body: bytes) -> dict[str, str]:
    """The provider's own signature over ``body``: the sender knows the secret."""
    if kind == "circleci":
        digest = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        return {"Circleci-Event-Type": "workflow-completed", "circleci-signature": "v1=" + digest}
    if kind == "azure":
        return {"Authorization": "Basic " + base64.b64encode(b"radiator:" + SECRET).decode()}
    return {"Authorization": "Bearer " + SECRET.decode()}  # jenkins, alertmanager


@pytest.fixture
async def hooks() -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    kinds = ("circleci", "azure", "jenkins", "alertmanager")
    poked: list[str] = []
    receiver = WebhookReceiver(
        {kind: Hook(kind, kind, SECRET) for kind in kinds}, poked.append, rate=1000, burst=1000
    )
    app = web.Application()
    receiver.mount(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("/")).rstrip("/")
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield client, poked
    await server.close()


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize("kind", ["circleci", "azure", "jenkins", "alertmanager"])
async def test_a_signed_body_nested_too_deep_is_still_a_delivery(
    hooks: tuple[httpx.AsyncClient, list[str]], kind: str, body: bytes
) -> None:
    """Each of these providers' checks reads the body's JSON for an id or an event name: a
    body nested too deep raised ``RecursionError`` out of the handler, the sender got a 500
    and the poll it asked for never happened."""
    client, poked = hooks
    answer = await client.post(f"/hooks/{kind}", content=body, headers=headers(kind, body))
    assert (answer.status_code, answer.text.strip()) == (202, "accepted")
    assert poked == [kind]


@pytest.mark.parametrize(
    "stamp", ["١٧٦٤٩٨٠٠٠٠", "１７６４９８００００", "²³"], ids=["arabic", "fullwidth", "super"]
)
async def test_a_buildkite_timestamp_in_other_digits_is_refused_in_one_word(stamp: str) -> None:
    """Anyone, with no secret at all: a timestamp of digits Python counts as digits but ASCII
    does not hold raised ``UnicodeEncodeError`` out of the check, a 500 and a traceback in the
    log for each request."""
    poked: list[str] = []
    receiver = WebhookReceiver({"bk": Hook("bk", "buildkite", SECRET)}, poked.append)
    app = web.Application()
    receiver.mount(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("/")).rstrip("/")
        async with httpx.AsyncClient(base_url=base) as client:
            value = f"timestamp={stamp},signature={'0' * 64}".encode()
            answer = await client.post(
                "/hooks/bk", content=b"{}", headers={"X-Buildkite-Signature": value}
            )
    finally:
        await server.close()
    assert (answer.status_code, answer.text.strip()) == (403, "refused")
    assert receiver.counts["bk"].refused == {"bad signature": 1}
    assert poked == []
