"""Screens attached to ``serve`` hear of a new snapshot the moment it is published: a request
for ``/snapshot.json`` with the ETag it has and ``Prefer: wait=N`` is answered when the next
snapshot comes (or with 304 after N seconds), over a real socket."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from buildradiator.clock import Clock
from buildradiator.model import Snapshot
from buildradiator.serve.board import Board
from buildradiator.serve.server import RadiatorServer
from snapshot_fixtures import green_estate, red_estate


@pytest.fixture
async def board_and_url() -> AsyncIterator[tuple[Board, str]]:
    board = Board(Clock())
    board.publish(green_estate())
    server = RadiatorServer(board, host="127.0.0.1", port=0)
    await server.start()
    try:
        yield board, server.url
    finally:
        await server.aclose()


async def _etag(client: httpx.AsyncClient, url: str) -> str:
    return (await client.get(f"{url}/snapshot.json")).headers["ETag"]


async def test_a_waiting_screen_hears_of_the_next_snapshot_at_once(
    board_and_url: tuple[Board, str],
) -> None:
    board, url = board_and_url
    async with httpx.AsyncClient(timeout=30) as client:
        etag = await _etag(client, url)
        started = time.monotonic()
        waiting = asyncio.create_task(
            client.get(f"{url}/snapshot.json", headers={"If-None-Match": etag, "Prefer": "wait=20"})
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()  # held: nothing new yet
        board.publish(red_estate())
        answer = await waiting
        took = time.monotonic() - started
    assert answer.status_code == 200 and answer.headers["ETag"] != etag
    assert answer.headers["Preference-Applied"] == "wait=20"
    assert "acme/monolith" in answer.text and took < 5


async def test_with_nothing_new_the_wait_ends_in_304(board_and_url: tuple[Board, str]) -> None:
    _board, url = board_and_url
    async with httpx.AsyncClient(timeout=30) as client:
        etag = await _etag(client, url)
        started = time.monotonic()
        answer = await client.get(
            f"{url}/snapshot.json", headers={"If-None-Match": etag, "Prefer": "wait=1"}
        )
        took = time.monotonic() - started
    assert answer.status_code == 304 and 0.9 <= took < 5


async def test_without_prefer_or_with_an_old_etag_the_answer_is_immediate(
    board_and_url: tuple[Board, str],
) -> None:
    _board, url = board_and_url
    async with httpx.AsyncClient(timeout=30) as client:
        etag = await _etag(client, url)
        started = time.monotonic()
        plain = await client.get(f"{url}/snapshot.json", headers={"If-None-Match": etag})
        old = await client.get(
            f"{url}/snapshot.json", headers={"If-None-Match": '"old"', "Prefer": "wait=20"}
        )
        silly = await client.get(
            f"{url}/snapshot.json", headers={"If-None-Match": etag, "Prefer": "wait=1e999"}
        )
    assert (plain.status_code, old.status_code, silly.status_code) == (304, 200, 304)
    assert time.monotonic() - started < 3


async def test_a_stopped_engine_ends_the_wait(board_and_url: tuple[Board, str]) -> None:
    board, url = board_and_url
    async with httpx.AsyncClient(timeout=30) as client:
        etag = await _etag(client, url)
        waiting = asyncio.create_task(
            client.get(f"{url}/snapshot.json", headers={"If-None-Match": etag, "Prefer": "wait=20"})
        )
        await asyncio.sleep(0.2)
        board.stopped("RuntimeError (the traceback is in the server's log)")
        answer = await waiting
    assert answer.status_code == 200 and '"running": false' in answer.text


async def test_a_screen_reading_serve_hears_of_news_at_once_not_on_its_interval(
    board_and_url: tuple[Board, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from buildradiator import instance
    from buildradiator.assemble import build_engine
    from buildradiator.sources.catalog import parse_config

    central = instance.ID  # serve and screen share a process: the screen takes another name
    monkeypatch.setattr(instance, "ID", "another-radiator")
    board, url = board_and_url
    config = parse_config(
        f'[[sources]]\ntype = "radiator"\nname = "central"\nurl = "{url}"\ninterval = 60\n'
    )
    screen = build_engine(config)
    seen: list[tuple[float, Snapshot]] = []
    task = asyncio.create_task(screen.run(lambda s: seen.append((time.monotonic(), s))))
    try:
        for _ in range(200):  # its first answer: the green estate
            if seen and any(p.key == "acme/monolith" for p in seen[-1][1].pipelines):
                break
            await asyncio.sleep(0.02)
        assert screen.slots["central"].source.pushes
        await asyncio.sleep(0.5)  # now waiting at the server with the snapshot it has
        published = time.monotonic()
        monkeypatch.setattr(instance, "ID", central)  # the central one renders its document
        board.publish(red_estate())
        monkeypatch.setattr(instance, "ID", "another-radiator")
        for _ in range(250):
            if any(s.broken for _, s in seen):
                break
            await asyncio.sleep(0.02)
        arrived = next(t for t, s in seen if s.broken)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await screen.aclose()
    assert arrived - published < 2.0  # polling alone: up to a minute
    assert "news pushed by the server" in screen.slots["central"].result.summary


async def test_against_a_server_that_does_not_push_it_polls_and_says_so() -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from buildradiator.document import snapshot_doc
    from buildradiator.rules.verdict import overall
    from buildradiator.sources.catalog import parse_config
    from buildradiator.sources.http import HttpClient
    from buildradiator.sources.radiator.source import RadiatorFeed

    doc = snapshot_doc(green_estate(), overall=overall(green_estate()))
    body = json.dumps({**doc, "via": ["an-older-radiator"]}).encode()  # not this process

    async def old_serve(request: web.Request) -> web.Response:  # ETags, no Prefer: wait
        return web.Response(body=body, headers={"ETag": '"v1"', "Content-Type": "application/json"})

    app = web.Application()
    app.router.add_get("/snapshot.json", old_serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    http = HttpClient()
    try:
        config = parse_config(
            f'[[sources]]\ntype = "radiator"\nname = "old"\nurl = "{server.make_url("/")}"\n'
        )
        source = RadiatorFeed(config.sources[0], http)
        result = await source.poll()
    finally:
        await http.aclose()
        await server.close()
    assert not source.pushes
    assert "polled (the server does not push)" in result.summary
