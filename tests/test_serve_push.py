"""Screens attached to ``serve`` hear of a new snapshot the moment it is published: a request
for ``/snapshot.json`` with the ETag it has and ``Prefer: wait=N`` is answered when the next
snapshot comes (or with 304 after N seconds), over a real socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from buildradiator.clock import Clock
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
