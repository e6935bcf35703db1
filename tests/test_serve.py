"""``buildradiator serve``'s HTTP side against snapshots we publish by hand, over real loopback
sockets: the endpoints, ETags, auth, health, and the bad clients that must cost nobody else
anything (floods, huge headers, slow and never-reading clients, too many connections)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from buildradiator.cli import main
from buildradiator.clock import FakeClock
from buildradiator.config.share import ServeConfig
from buildradiator.export import cctray as export_cctray
from buildradiator.export import metrics as export_metrics
from buildradiator.export.document import to_json
from buildradiator.instance import ID, INSTANCE_HEADER
from buildradiator.model import Snapshot, SourceState
from buildradiator.serve.limits import Limits, TokenBuckets
from buildradiator.serve.origins import Origins
from buildradiator.serve.server import (
    Board,
    RadiatorServer,
    RedactingHandler,
    ServeError,
    browser_mount,
    exposure_warning,
    health_of,
    local_url,
    resolve_token,
    serve,
)
from snapshot_fixtures import big_estate, green_estate, red_estate

ROOMY = Limits(rate=1000.0, burst=1000, keepalive=5.0, write_timeout=5.0)
"""Limits no well-behaved test client reaches: each test tightens the one it is about."""
TOKEN = "s3cret-t0ken-value"


@asynccontextmanager
async def served(
    snapshot: Snapshot | None = None,
    *,
    limits: Limits = ROOMY,
    token: str | None = None,
    clock: FakeClock | None = None,
) -> AsyncIterator[tuple[Board, RadiatorServer]]:
    board = Board(clock or FakeClock())
    if snapshot is not None:
        board.publish(snapshot)
    async with RadiatorServer(board, port=0, token=token, limits=limits) as server:
        yield board, server


def client(server: RadiatorServer, *, source: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client whose connections come from ``source`` (127.0.0.0/8 is all loopback on
    Linux): the server tells clients apart by address, as it would screens on a network."""
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=server.url, transport=transport, timeout=5.0)


async def raw(
    server: RadiatorServer, data: bytes, *, source: str = "127.0.0.1", timeout: float = 5.0
) -> bytes:
    """Send bytes on a fresh connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, local_addr=(source, 0))
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        await writer.wait_closed()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# -- the endpoints -----------------------------------------------------------------------------


async def test_snapshot_json_is_the_status_document_with_a_strong_etag() -> None:
    snap = green_estate()
    async with served(snap) as (board, server), client(server) as http:
        answer = await http.get("/snapshot.json")
        assert answer.status_code == 200
        assert answer.content == to_json(snap).encode("utf-8")
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        assert answer.headers["Cache-Control"] == "no-cache"
        assert answer.headers[INSTANCE_HEADER] == ID
        etag = answer.headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")

        for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = await http.get("/snapshot.json", headers={"If-None-Match": header})
            assert again.status_code == 304, header
            assert again.content == b""
            assert again.headers["ETag"] == etag
            assert again.headers[INSTANCE_HEADER] == ID
        other = await http.get("/snapshot.json", headers={"If-None-Match": '"stale-etag"'})
        assert other.status_code == 200 and other.content == answer.content

        # A new snapshot: the old ETag no longer matches, the new document comes whole.
        red = red_estate()
        board.publish(red)
        changed = await http.get("/snapshot.json", headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.content == to_json(red).encode("utf-8")
        assert changed.headers["ETag"] != etag


async def test_cc_xml_is_the_cctray_export_with_an_etag() -> None:
    snap = red_estate()
    async with served(snap) as (_, server), client(server) as http:
        answer = await http.get("/cc.xml")
        assert answer.status_code == 200
        assert answer.content == export_cctray.cc_xml(snap)
        assert answer.headers["Content-Type"] == export_cctray.CONTENT_TYPE
        assert answer.headers[INSTANCE_HEADER] == ID
        cached = await http.get("/cc.xml", headers={"If-None-Match": answer.headers["ETag"]})
        assert cached.status_code == 304 and cached.content == b""


async def test_metrics_parse_and_render_at_most_once_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []
    real = export_metrics.metrics_text

    def counted(snapshot: Snapshot, now: object) -> bytes:
        calls.append(now)
        return real(snapshot, now)  # type: ignore[arg-type]

    monkeypatch.setattr(export_metrics, "metrics_text", counted)
    clock = FakeClock()
    async with served(red_estate(), clock=clock) as (board, server), client(server) as http:
        answer = await http.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == export_metrics.CONTENT_TYPE
        assert answer.headers["Cache-Control"] == "no-cache"
        names = {family.name for family in text_string_to_metric_families(answer.text)}
        assert any(name.startswith("buildradiator_") for name in names), names
        await http.get("/metrics")
        assert len(calls) == 1  # the same second, the same snapshot: the cached text
        clock.advance(1.0)
        await http.get("/metrics")
        assert len(calls) == 2
        board.publish(green_estate())
        await http.get("/metrics")
        assert len(calls) == 3


async def test_head_answers_the_headers_without_the_body() -> None:
    snap = green_estate()
    async with served(snap) as (_, server), client(server) as http:
        for path in ("/snapshot.json", "/cc.xml", "/healthz", "/"):
            get = await http.get(path)
            head = await http.head(path)
            assert head.status_code == 200, path
            assert head.content == b""
            assert head.headers["Content-Length"] == str(len(get.content)), path
            assert head.headers.get("ETag") == get.headers.get("ETag")
            assert head.headers[INSTANCE_HEADER] == ID


async def test_anything_but_get_and_head_is_405_with_allow() -> None:
    async with served(green_estate()) as (_, server), client(server) as http:
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            for path in ("/snapshot.json", "/healthz", "/", "/no-such-thing"):
                answer = await http.request(method, path)
                assert answer.status_code == 405, (method, path)
                assert answer.headers["Allow"] == "GET, HEAD"
                assert answer.headers[INSTANCE_HEADER] == ID


async def test_index_lists_the_endpoints_and_unknown_paths_are_404() -> None:
    async with served(green_estate()) as (_, server), client(server) as http:
        index = await http.get("/")
        assert index.status_code == 200
        assert index.headers["Content-Type"].startswith("text/plain")
        for path in ("/snapshot.json", "/cc.xml", "/metrics", "/healthz"):
            assert path in index.text
        missing = await http.get("/nope")
        assert missing.status_code == 404
        assert missing.headers[INSTANCE_HEADER] == ID


async def test_before_the_first_snapshot_the_data_endpoints_say_so() -> None:
    async with served(None) as (_, server), client(server) as http:
        for path in ("/snapshot.json", "/cc.xml", "/metrics", "/healthz"):
            answer = await http.get(path)
            assert answer.status_code == 503, path
            assert "snapshot" in answer.text
            assert answer.headers[INSTANCE_HEADER] == ID


async def test_the_browser_view_is_mounted_at_the_root_with_the_servers_own_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from buildradiator.serve import browser as webview

    mounted: list[dict[str, object]] = []
    real = webview.add_browser

    def spy(app: object, **kwargs: object) -> None:
        mounted.append(kwargs)
        real(app, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(webview, "add_browser", spy)
    board = Board(FakeClock())
    board.publish(green_estate())
    mount = browser_mount("Acme builds", max_sessions_per_address=2)
    async with (
        RadiatorServer(
            board,
            port=0,
            token=TOKEN,
            limits=ROOMY,
            browser=mount,
            allowed_origins=["https://radiator.example.com"],
        ) as server,
        client(server) as http,
    ):
        [kwargs] = mounted
        origins = kwargs.pop("origins")
        assert kwargs == {
            "url": server.url,
            "token": TOKEN,  # handed to each session on a pipe
            "title": "Acme builds",
            "max_sessions_per_address": 2,
        }
        assert origins is server.origins
        assert origins.allowed == {"https://radiator.example.com"}
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert (await http.get("/")).status_code == 401  # the page is guarded too
        page = await http.get("/", params={"token": TOKEN}, follow_redirects=True)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert "Acme builds" in page.text
        assert page.headers[INSTANCE_HEADER] == ID
        assert (await http.get("/snapshot.json")).status_code == 200  # the data is still ours


def test_local_url_reaches_a_wildcard_address_over_loopback() -> None:
    assert local_url("127.0.0.1", 8686) == "http://127.0.0.1:8686"
    assert local_url("0.0.0.0", 1) == "http://127.0.0.1:1"
    assert local_url("::", 2) == "http://[::1]:2"
    assert local_url("fe80::1", 3) == "http://[fe80::1]:3"
    assert local_url("radiator.lan", 4) == "http://radiator.lan:4"


# -- health --------------------------------------------------------------------------------------


async def test_healthz_is_200_while_fresh_and_503_naming_stale_sources() -> None:
    async with served(green_estate()) as (board, server), client(server) as http:
        fresh = await http.get("/healthz")
        assert (fresh.status_code, fresh.text) == (200, "ok\n")
        assert fresh.headers["Content-Type"] == "text/plain; charset=utf-8"

        board.publish(red_estate())  # buildkite: stale, its last poll refused
        down = await http.get("/healthz")
        assert down.status_code == 503
        assert "failing: buildkite" in down.text
        # Unauthenticated, so sources are named but their errors (hosts, URLs) are not told.
        assert "connection refused" not in down.text


def test_health_names_stale_failing_and_never_polled_sources_in_words() -> None:
    snap = green_estate()
    when = snap.taken_at
    sources = (
        SourceState(name="gh", type="github", last_success=when, last_attempt=when),
        SourceState(name="jenkins", type="cctray", last_success=when, stale=True),
        SourceState(name="gitlab", type="gitlab", error="HTTP 500 from gitlab.internal"),
        SourceState(name="new", type="health"),
    )
    healthy, words = health_of(snap.model_copy(update={"sources": sources}))
    assert not healthy
    assert words.splitlines() == [
        "not fresh: 3 of 4 sources",
        "failing: gitlab",
        "stale: jenkins",
        "not polled yet: new",
    ]
    assert health_of(snap.model_copy(update={"sources": sources[:1]})) == (True, "ok\n")


# -- auth ----------------------------------------------------------------------------------------


async def test_a_token_guards_every_endpoint_but_healthz() -> None:
    async with served(green_estate(), token=TOKEN) as (_, server), client(server) as http:
        for path in ("/snapshot.json", "/cc.xml", "/metrics", "/"):
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                refused = await http.get(path, headers=headers)
                assert refused.status_code == 401, (path, headers)
                assert refused.headers["WWW-Authenticate"].startswith("Bearer")
                assert refused.headers[INSTANCE_HEADER] == ID
                assert TOKEN not in refused.text
            ok = await http.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200, path
            lower = await http.get(path, headers={"Authorization": f"bearer {TOKEN}"})
            assert lower.status_code == 200
        health = await http.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok\n")


async def test_a_browser_trades_the_token_in_the_address_for_a_cookie() -> None:
    async with served(green_estate(), token=TOKEN) as (_, server), client(server) as http:
        wrong = await http.get("/", params={"token": "nope"})
        assert wrong.status_code == 401
        traded = await http.get("/", params={"token": TOKEN, "mode": "wall"})
        assert traded.status_code == 303
        assert traded.headers["Location"] == "/?mode=wall"  # the token left the address
        cookie = traded.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # httpx keeps the cookie: the page and the data now answer without a header.
        assert (await http.get("/")).status_code == 200
        assert (await http.get("/snapshot.json")).status_code == 200
        # The token in the address works only on the page, not on the data endpoints.
        async with client(server, source="127.0.0.5") as other:
            plain = await other.get("/snapshot.json", params={"token": TOKEN})
            assert plain.status_code == 401


def test_resolve_token_reads_the_variable_and_refuses_a_missing_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert resolve_token(None) is None
    monkeypatch.setenv("RADIATOR_TOKEN", f"  {TOKEN}\n")
    assert resolve_token("RADIATOR_TOKEN") == TOKEN
    for value in (None, "", "   "):
        if value is None:
            monkeypatch.delenv("RADIATOR_TOKEN")
        else:
            monkeypatch.setenv("RADIATOR_TOKEN", value)
        with pytest.raises(ServeError) as caught:
            resolve_token("RADIATOR_TOKEN")
        assert "$RADIATOR_TOKEN" in str(caught.value)


def test_serve_with_an_unset_token_variable_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NO_SUCH_RADIATOR_TOKEN", raising=False)
    config = tmp_path / "c.toml"
    config.write_text('[serve]\ntoken_env = "NO_SUCH_RADIATOR_TOKEN"\nbrowser = false\n')
    assert main(["serve", "--config", str(config), "--port", "0"]) == 2
    assert "NO_SUCH_RADIATOR_TOKEN" in capsys.readouterr().err


def test_view_runs_the_radiator_fed_by_a_serving_radiator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from buildradiator.ui import view

    calls: list[tuple[object, ...]] = []

    def fake_run_view(
        url: str,
        token_env: str | None,
        *,
        mode: str | None,
        ascii: bool,
        theme: str | None,
        token_fd: int | None,
    ) -> int:
        calls.append((url, token_env, mode, ascii, theme, token_fd))
        return 0

    monkeypatch.setattr(view, "run_view", fake_run_view)
    argv = ["view", "--url", "http://central:8686", "--token-env", "TOK", "--mode", "wall"]
    assert main([*argv, "--ascii", "--theme", "dark"]) == 0
    assert main(["view", "--url", "http://central:8686", "--token-fd", "7"]) == 0
    assert calls == [
        ("http://central:8686", "TOK", "wall", True, "dark", None),
        ("http://central:8686", None, None, calls[1][3], None, 7),
    ]
    with pytest.raises(SystemExit):
        main(["view"])  # --url is required


def test_listening_beyond_loopback_warns_louder_without_a_token() -> None:
    assert exposure_warning(ServeConfig(), has_token=False) is None
    assert exposure_warning(ServeConfig(host="::1"), has_token=False) is None
    open_ = exposure_warning(ServeConfig(host="0.0.0.0", port=9000), has_token=False)
    assert open_ is not None and "0.0.0.0:9000" in open_ and "WITHOUT A TOKEN" in open_
    guarded = exposure_warning(ServeConfig(host="10.1.2.3"), has_token=True)
    assert guarded is not None and "10.1.2.3:8686" in guarded
    assert "visible to the network" in guarded and "WITHOUT" not in guarded


def test_aiohttp_log_lines_lose_the_token_and_tracebacks() -> None:
    seen: list[logging.LogRecord] = []

    class Target(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    ours = logging.getLogger("buildradiator.test-serve")
    theirs = logging.getLogger("aiohttp.test-serve")
    target = Target()
    ours.addHandler(target)
    theirs.addHandler(RedactingHandler(TOKEN, [target]))
    theirs.propagate = ours.propagate = False
    try:
        try:
            raise ValueError(f"header {TOKEN}")
        except ValueError:
            theirs.exception("Error handling %s", f"Bearer {TOKEN}")
            ours.exception("our own failure")
    finally:
        ours.removeHandler(target)
        theirs.handlers.clear()
    aiohttp_line, our_line = seen
    assert aiohttp_line.getMessage() == "Error handling Bearer *** (ValueError)"
    assert aiohttp_line.exc_info is None
    assert TOKEN not in logging.Formatter().format(aiohttp_line)
    assert our_line.exc_info is not None  # our own lines keep their tracebacks


# -- bad clients -----------------------------------------------------------------------------


async def test_huge_headers_are_refused_and_others_are_served() -> None:
    async with served(green_estate()) as (_, server), client(server) as http:
        huge_field = b"GET /snapshot.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000
        assert status_of(await raw(server, huge_field + b"\r\n\r\n")) in (400, 431)
        huge_line = b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        assert status_of(await raw(server, huge_line)) in (400, 414, 431)
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(500))
        answer = await raw(server, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n")
        assert status_of(answer) in (400, 431)
        assert (await http.get("/snapshot.json")).status_code == 200


async def test_a_flood_gets_429_while_another_screen_gets_200() -> None:
    clock = FakeClock()  # the buckets refill only when the test says so
    limits = Limits(rate=2.0, burst=5, keepalive=5.0)
    async with served(green_estate(), limits=limits, clock=clock) as (_, server):
        async with client(server, source="127.0.0.2") as flood, client(server) as screen:
            answers = [await flood.get("/snapshot.json") for _ in range(12)]
            codes = [a.status_code for a in answers]
            assert codes == [200] * 5 + [429] * 7
            limited = answers[-1]
            assert limited.headers["Retry-After"] == "1"
            assert limited.headers[INSTANCE_HEADER] == ID
            assert (await flood.get("/healthz")).status_code == 429  # healthz is no way around
            assert (await screen.get("/snapshot.json")).status_code == 200
            clock.advance(1.0)  # two more tokens
            assert (await flood.get("/snapshot.json")).status_code == 200


def test_token_buckets_stay_bounded_under_many_addresses() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=10.0, burst=20, monotonic=lambda: now[0])
    buckets.MAX_ADDRESSES = 100
    for i in range(1000):
        assert buckets.take(f"10.0.{i // 256}.{i % 256}") == 0.0
        now[0] += 0.5  # long enough for every bucket to be full again
    assert len(buckets) <= 101
    for _ in range(20):
        buckets.take("10.9.9.9")
    assert buckets.take("10.9.9.9") == pytest.approx(0.1)


async def test_a_slow_loris_is_cut_off_and_never_delays_others() -> None:
    limits = Limits(rate=1000.0, burst=1000, keepalive=1.0)
    async with served(green_estate(), limits=limits) as (_, server), client(server) as http:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /snapshot.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        closed_after: float | None = None
        served_in: list[float] = []
        try:
            while time.monotonic() - started < 3.0:
                # Trickle one byte of a header every 100 ms (a valid request, never finished)...
                writer.write(b"a")
                await writer.drain()
                # ...while a screen asks for the snapshot and must get it at once.
                t0 = time.monotonic()
                answer = await http.get("/snapshot.json")
                served_in.append(time.monotonic() - t0)
                assert answer.status_code == 200
                try:
                    data = await asyncio.wait_for(reader.read(1), 0.1)
                except TimeoutError:
                    continue
                if data == b"":
                    closed_after = time.monotonic() - started
                    break
        except ConnectionError:
            closed_after = time.monotonic() - started
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
        assert closed_after is not None and closed_after < 2.5, closed_after
        # Served again and again while the trickling request held its connection: a server that
        # waited on it would have answered once, after cutting it off.
        assert len(served_in) >= 3, served_in


async def test_a_client_that_never_reads_is_cut_off_and_never_delays_others() -> None:
    snap = big_estate(600)  # ~800 KB a document: a few fill every buffer on the way
    limits = Limits(rate=1000.0, burst=1000, keepalive=5.0, write_timeout=1.5)
    async with served(snap, limits=limits) as (_, server), client(server) as http:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
        _reader, writer = await asyncio.open_connection(sock=sock)
        # Forty pipelined requests, and never a byte read.
        writer.write(b"GET /snapshot.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 40)
        await writer.drain()
        try:
            await asyncio.sleep(0.2)
            assert server.open_connections >= 1
            for _ in range(5):
                answer = await http.get("/healthz")
                assert answer.status_code == 200
                # ...answered while the stuck connection is still open beside httpx's own.
                assert server.open_connections >= 2
            full = await http.get("/snapshot.json")
            assert full.status_code == 200 and len(full.content) > 500_000
            # The stuck connection is cut once its answer sat unread for write_timeout.
            deadline = time.monotonic() + 3.0
            while server.open_connections > 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert server.open_connections <= 1  # only httpx's pooled connection is left
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass


async def test_connections_beyond_max_clients_get_503_and_slots_come_back() -> None:
    limits = Limits(rate=1000.0, burst=1000, keepalive=5.0, max_clients=3)
    async with served(green_estate(), limits=limits) as (_, server):
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
        try:
            while server.open_connections < 3:
                await asyncio.sleep(0.01)
            # (/healthz would be answered: it keeps a reserve of slots beyond max_clients.)
            refused = await raw(server, b"GET /snapshot.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert status_of(refused) == 503
            assert b"Retry-After: 5" in refused
            assert f"{INSTANCE_HEADER}: {ID}".encode() in refused
            assert refused.endswith(b"too many connections to this radiator; try again shortly\n")
        finally:
            for _, writer in idle[:1]:
                writer.close()
                await writer.wait_closed()
        try:
            deadline = time.monotonic() + 2.0
            while server.open_connections >= 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            again = await raw(
                server, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            assert status_of(again) == 200
        finally:
            for _, writer in idle[1:]:
                writer.close()
                await writer.wait_closed()


# -- the loop: engine and server together ---------------------------------------------------


class FakeEngine:
    """Publishes what the test feeds it, in the server's loop, as ``Engine.run`` does."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.feed: asyncio.Queue[Snapshot] = asyncio.Queue()
        self.closed = False

    async def run(self, publish: object) -> None:
        try:
            while True:
                publish(await self.feed.get())  # type: ignore[operator]
        finally:
            self.closed = True


async def test_serve_runs_the_engine_and_the_server_in_one_loop() -> None:
    engine = FakeEngine()
    ready: asyncio.Future[RadiatorServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(engine, host="127.0.0.1", port=0, token=None, limits=ROOMY, ready=ready.set_result)  # type: ignore[arg-type]
    )
    try:
        server = await asyncio.wait_for(ready, 5)
        async with client(server) as http:
            assert (await http.get("/healthz")).status_code == 503
            snap = green_estate()
            await engine.feed.put(snap)
            for _ in range(100):
                answer = await http.get("/snapshot.json")
                if answer.status_code == 200:
                    break
                await asyncio.sleep(0.01)
            assert answer.content == to_json(snap).encode("utf-8")
            assert (await http.get("/healthz")).status_code == 200
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert engine.closed
    # The port is free again: the server went down with the engine.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_the_token_is_in_no_repr_a_traceback_or_log_line_could_show() -> None:
    from buildradiator.serve.browser import BrowserSettings
    from buildradiator.serve.server import Served

    served = Served(url="http://127.0.0.1:1", origins=Origins(), token=TOKEN)
    settings = BrowserSettings("http://127.0.0.1:1", TOKEN, "t", Origins(), 1, 1)
    for thing in (served, settings):
        assert TOKEN not in repr(thing) and TOKEN not in str(thing)
