"""The browser view's WebSocket against a hostile web page, over real loopback sockets.

Any page a user visits can make their browser open ``ws://127.0.0.1:8686/ws``: the browser sends
the page's ``Origin``, and a server that does not check it hands the page a radiator process
to read and type into. Here the attacker is that browser: a WebSocket client sending the
``Origin`` of a foreign page, or none at all, many times over."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from buildradiator.clock import FakeClock
from buildradiator.config.share import ServeConfig
from buildradiator.errors import ConfigError
from buildradiator.serve.limits import Limits
from buildradiator.serve.origins import NotAnOrigin, Origins, canonical_origin
from buildradiator.serve.server import Board, RadiatorServer, browser_mount
from buildradiator.sources.catalog import parse_config
from fake_session import Marks, hello, install, wait_for_file
from snapshot_fixtures import green_estate

ROOMY = Limits(rate=1000.0, burst=1000, keepalive=5.0, write_timeout=5.0)
EVIL = "http://evil.example"


@pytest.fixture
def marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Marks:
    return install(tmp_path, monkeypatch)


@asynccontextmanager
async def browser_server(**kwargs: object) -> AsyncIterator[RadiatorServer]:
    board = Board(FakeClock())
    board.publish(green_estate())
    mount = browser_mount("Acme radiator")
    async with RadiatorServer(board, port=0, limits=ROOMY, browser=mount, **kwargs) as server:  # type: ignore[arg-type]
        yield server


@asynccontextmanager
async def http_from(source: str = "127.0.0.1") -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
    # unsafe: keep cookies from an IP address, as a browser does
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        yield session


async def handshake(
    session: aiohttp.ClientSession, url: str, origin: str | None
) -> int | aiohttp.ClientWebSocketResponse:
    """The upgrade's answer: the socket when it was accepted, else the refusal's status."""
    try:
        return await session.ws_connect(url, origin=origin)
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status


async def test_a_foreign_page_cannot_open_the_browser_view(marks: Marks) -> None:
    async with browser_server() as server, http_from() as http:
        ws_url = server.url.replace("http:", "ws:") + "/ws"
        port = server.port
        foreign = [
            EVIL,
            "null",  # a sandboxed iframe, a file:// page
            f"http://127.0.0.1:{port + 1}",  # another local service, another origin
            f"https://127.0.0.1:{port}",
            f"http://127.0.0.1.evil.example:{port}",
            f"http://localhost.evil.example:{port}",
            "",
        ]
        for origin in [*foreign, None]:
            answer = await handshake(http, ws_url, origin)
            assert answer == 403, (origin, answer)
        # The page's own origin, as the browser on this machine sends it, is let in.
        for own in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
            ws = await handshake(http, ws_url, own)
            assert not isinstance(ws, int), (own, ws)
            assert "argv" in await hello(ws)
            await ws.close()
    assert marks.started_count() == 2  # the two own-origin sessions, nothing else
    await wait_for_file(marks.quit)


async def test_forty_sockets_from_a_foreign_page_start_no_process(marks: Marks) -> None:
    async with browser_server() as server, http_from() as http:
        ws_url = server.url.replace("http:", "ws:") + "/ws"
        answers = await asyncio.gather(*(handshake(http, ws_url, EVIL) for _ in range(40)))
        # Refused, every one: by the Origin check, or (beyond 32 connections at once from one
        # address) by the connection limits before that.
        assert set(answers) <= {403, 503}, answers
        assert answers.count(403) >= 32
        assert (await http.get(server.url + "/healthz")).status == 200
    assert marks.started_count() == 0


async def test_one_address_gets_a_few_sessions_and_others_still_get_theirs(marks: Marks) -> None:
    async with browser_server() as server:
        ws_url = server.url.replace("http:", "ws:") + "/ws"
        own = f"http://127.0.0.1:{server.port}"
        async with http_from("127.0.0.1") as greedy, http_from("127.0.0.2") as other:
            opened = []
            for _ in range(4):
                ws = await handshake(greedy, ws_url, own)
                assert not isinstance(ws, int), ws
                await hello(ws)
                opened.append(ws)
            # The fifth from the same address is refused before any process starts...
            assert await handshake(greedy, ws_url, own) == 429
            assert marks.started_count() == 4
            # ...and another screen is not.
            ws = await handshake(other, ws_url, own)
            assert not isinstance(ws, int), ws
            assert "argv" in await hello(ws)
            for each in [*opened, ws]:
                await each.close()


async def test_with_a_token_the_socket_and_every_page_want_it(marks: Marks) -> None:
    async with browser_server(token="tv-t0ken") as server, http_from() as http:
        ws_url = server.url.replace("http:", "ws:") + "/ws"
        own = server.url
        # The right Origin is not enough: no token, no page, no statics, no session.
        assert await handshake(http, ws_url, own) == 401
        for path in ("/", "/?mode=wall", "/static/js/textual.js", "/static/css/xterm.css"):
            assert (await http.get(server.url + path)).status == 401, path
        # The token, as a header (a script) or as the cookie a browser was given:
        ws = await http.ws_connect(ws_url, origin=own, headers={"Authorization": "Bearer tv-t0ken"})
        assert "argv" in await hello(ws)
        await ws.close()
        page = await http.get(server.url + "/?token=tv-t0ken")
        assert page.status == 200 and "Acme radiator" in await page.text()
        assert (await http.get(server.url + "/static/js/textual.js")).status == 200
        ws = await http.ws_connect(ws_url, origin=own)  # the cookie goes along
        assert "argv" in await hello(ws)
        await ws.close()
        # A token does not stand in for the Origin check: a foreign page is refused all the same.
        refused = await handshake(http, ws_url, EVIL)
        assert refused == 403
    assert marks.started_count() == 2


async def test_a_configured_origin_opens_it_as_a_proxy_would(marks: Marks) -> None:
    board = Board(FakeClock())
    board.publish(green_estate())
    async with (
        browser_server(allowed_origins=["https://radiator.example.com"]) as server,
        http_from() as http,
    ):
        ws_url = server.url.replace("http:", "ws:") + "/ws"
        # A TLS proxy on this machine forwarding the browser's Host is answered too.
        proxied = {"Host": "radiator.example.com"}
        assert (await http.get(server.url + "/snapshot.json", headers=proxied)).status == 200
        for origin in ("https://radiator.example.com", "https://RADIATOR.example.com:443"):
            ws = await handshake(http, ws_url, origin)
            assert not isinstance(ws, int), (origin, ws)
            await hello(ws)
            await ws.close()
        for origin in ("http://radiator.example.com", "https://radiator.example.com:8443"):
            assert await handshake(http, ws_url, origin) == 403, origin


async def test_a_wildcard_bind_knows_the_addresses_and_names_it_is_reached_by(
    marks: Marks,
) -> None:
    board = Board(FakeClock())
    board.publish(green_estate())
    mount = browser_mount("t")
    async with (
        RadiatorServer(board, host="0.0.0.0", port=0, limits=ROOMY, browser=mount) as server,
        http_from() as http,
    ):
        port = server.port
        # A TV on the network reaches it by one of the machine's addresses, or by its name.
        via = f"ws://127.0.0.2:{port}/ws"
        for origin in (f"http://127.0.0.2:{port}", f"http://{socket.gethostname()}:{port}"):
            ws = await handshake(http, via, origin)
            assert not isinstance(ws, int), (origin, ws)
            await hello(ws)
            await ws.close()
        # Another address than the one the browser is on, a name of someone else's: refused.
        for origin in (f"http://127.0.0.3:{port}", f"http://evil.example:{port}", EVIL):
            assert await handshake(http, via, origin) == 403, origin


# -- the rules, without sockets ------------------------------------------------------------------


def test_origins_are_compared_in_canonical_form() -> None:
    assert canonical_origin("HTTPS://Radiator.Example.COM:443/") == "https://radiator.example.com"
    assert (
        canonical_origin("http://radiator.example.com:8686") == "http://radiator.example.com:8686"
    )
    assert canonical_origin("http://[0:0:0:0:0:0:0:1]:80") == "http://[::1]"
    for bad in ("null", "", "radiator.example.com", "ftp://x", "https://u:p@x", "https://x/app",
                "https://x?q=1", "https://x:99999", "file:///etc/passwd"):  # fmt: skip
        with pytest.raises(NotAnOrigin):
            canonical_origin(bad)


def test_loopback_bind_allows_its_own_address_and_localhost_only() -> None:
    origins = Origins("127.0.0.1")
    local = ("127.0.0.1", 8686)
    assert origins.allows("http://127.0.0.1:8686", local)
    assert origins.allows("http://localhost:8686", local)
    assert origins.allows("http://LOCALHOST:8686", local)
    for other in (None, "", "null", "http://127.0.0.1:8687", "https://127.0.0.1:8686",
                  f"http://{socket.gethostname()}:8686", "http://127.0.0.2:8686",
                  "http://localhost.:8687", "http://evil.example:8686"):  # fmt: skip
        assert not origins.allows(other, local), other
    # IPv6 loopback, and an IPv4 peer as a dual-stack socket names it.
    assert Origins("::1").allows("http://[::1]:9000", ("::1", 9000))
    assert Origins("::1").allows("http://localhost:9000", ("::1", 9000))
    assert Origins("::").allows("http://10.0.0.5:9000", ("::ffff:10.0.0.5", 9000))


def test_allowed_origins_in_the_config_are_checked_and_canonical() -> None:
    config = parse_config('[serve]\nallowed_origins = ["HTTPS://Radiator.example.com/"]\n')
    assert config.serve.allowed_origins == ["https://radiator.example.com"]
    for bad, words in (
        ('["*"]', "every web page"),
        ('["https://radiator.example.com/app"]', "no path"),
        ('["radiator.example.com"]', "http:// or https://"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_config(f"[serve]\nallowed_origins = {bad}\n", "c.toml")
        rendered = caught.value.problems[0].render()
        assert "serve.allowed_origins" in rendered and words in rendered, rendered
    assert ServeConfig().allowed_origins == []


# -- DNS rebinding: a page whose name now resolves to 127.0.0.1 ------------------------------------


async def test_a_rebound_name_reads_nothing_from_a_loopback_server() -> None:
    """A page at http://evil.example:8686 whose name the attacker re-points at 127.0.0.1 is,
    to the browser, same-origin with the radiator: only the Host header it sends gives it away."""
    board = Board(FakeClock())
    board.publish(green_estate())
    async with (
        RadiatorServer(board, port=0, limits=ROOMY) as server,
        http_from() as http,
    ):
        port = server.port
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}"):
            for path in ("/snapshot.json", "/cc.xml", "/metrics", "/", "/healthz"):
                answer = await http.get(server.url + path, headers={"Host": host})
                assert answer.status == 421, (host, path, answer.status)
                assert "acme/monolith" not in await answer.text()
        # The names and addresses a browser on this machine uses are answered.
        for host in (
            f"127.0.0.1:{port}",
            f"localhost:{port}",
            "localhost",
            f"127.0.0.1:{port + 1}",
        ):
            answer = await http.get(server.url + "/snapshot.json", headers={"Host": host})
            assert answer.status == 200, host


def test_a_loopback_server_answers_requests_addressed_to_loopback_only() -> None:
    origins = Origins("127.0.0.1", ["https://radiator.example.com"])
    for host in ("127.0.0.1:8686", "127.0.0.2", "localhost", "LOCALHOST.:1", "[::1]:8686",
                 "radiator.example.com", "radiator.example.com:443"):  # fmt: skip
        assert origins.addressed_here(host), host
    for host in (None, "", "evil.example", "evil.example:8686", "localhost.evil.example",
                 "127.0.0.1.nip.io:8686", "[::1", "[::1]x", "a:b:c", "localhost:http"):  # fmt: skip
        assert not origins.addressed_here(host), host
    # Beyond loopback, screens use names we cannot know: the token guards it there.
    assert Origins("0.0.0.0").addressed_here("radiator.corp.example:8686")


async def test_the_header_deadline_spares_a_websocket_but_not_a_refused_one(marks: Marks) -> None:
    board = Board(FakeClock())
    board.publish(green_estate())
    limits = Limits(rate=1000.0, burst=1000, header_timeout=0.3, keepalive=60.0)
    mount = browser_mount("t")
    async with (
        RadiatorServer(board, port=0, limits=limits, browser=mount) as server,
        http_from() as http,
    ):
        ws = await handshake(http, server.url.replace("http:", "ws:") + "/ws", server.url)
        assert not isinstance(ws, int), ws
        await hello(ws)
        await asyncio.sleep(3 * limits.header_timeout)  # frames, not request heads: no deadline
        await ws.send_str('["ping", "still here"]')
        pong = await asyncio.wait_for(ws.receive(), 5)
        assert pong.data == '["pong", "still here"]'
        await ws.close()
        # A refused upgrade, then a request head trickled on the same connection: cut off.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(
                b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n"
            )
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 403")
            writer.write(b"GET /snapshot.json HTTP/1.1\r\nX-Slow: ")
            closed = False
            for _ in range(50):
                try:
                    writer.write(b"a")
                    await writer.drain()
                    if b"" == await asyncio.wait_for(reader.read(65536), 0.1):
                        closed = True
                        break
                except TimeoutError:
                    continue
                except ConnectionError:
                    closed = True
                    break
            assert closed
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
