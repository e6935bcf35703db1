"""The simulator's HTTP server: a real loopback server, so clients are tested end to end.

Stdlib ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive (the engine's httpx client pools
connections, as it would against GitHub). Every answer is computed under one lock from the
scenario at the current moment; only the deliberate slowness of ``/health/search`` happens outside
it, so a slow answer never holds up the others.

``stop`` must leave nothing behind (warnings are errors in the tests): it stops the accept loop,
shuts down every open keep-alive connection so its handler thread wakes up and ends, joins those
threads and closes the listening socket.
"""

from __future__ import annotations

import collections
import socket
import threading
from datetime import datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from buildradiator.clock import Clock
from buildradiator.simulator.answer import Answer, json_answer, text_answer
from buildradiator.simulator.cctray import cctray_answer
from buildradiator.simulator.github import GitHubApi, Links
from buildradiator.simulator.health import health_answer
from buildradiator.simulator.providers import load_providers
from buildradiator.simulator.scenario import SCRIPT_SECONDS, Moment, Scenario

SLOW_SECONDS = 0.7
"""How long ``/health/search`` takes while the script says it is slow."""

INDEX = """buildradiator simulator: a scripted demo CI on loopback.

  GET /github/repos/acme/{monolith,billing,ledger}/actions/runs   GitHub Actions runs
  GET /github/repos/{o}/{r}/actions/workflows/{id|file}/runs       runs of one workflow
  GET /github/repos/{o}/{r}/actions/runs/{id}/jobs                 jobs of a run
  GET /cctray/cc.xml                                               CCTray feed
  GET /health/{checkout,payments,search}                           health endpoints
"""


class Simulator:
    """The demo CI: ``start`` it, point the radiator at ``base_url``, ``stop`` it."""

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        clock: Clock | None = None,
        loop_seconds: float = SCRIPT_SECONDS,
        start: datetime | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.scenario = Scenario(start or self.clock.now(), loop_seconds)
        self.requests: collections.Counter[str] = collections.Counter()
        self.errors: list[str] = []
        """Unexpected exceptions while answering (each also answered with a 500)."""
        self.slow_seconds = SLOW_SECONDS
        self._host, self._port = host, port
        self._pinned: float | None = None
        self._lock = threading.Lock()
        self.providers = {p.prefix: p for p in load_providers(self.scenario)}
        """Further providers (GitLab, Jenkins...), each answering under ``/{prefix}/``."""
        self.github = GitHubApi(self.scenario)
        """The GitHub API's state (its ``budget`` is the rate limit tests can drain)."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self._stopping.clear()
        self._server = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="buildradiator-simulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() first")
        host, port = self._server.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}"

    # -- time

    def set_time(self, t: float | None) -> None:
        """Pin the script at ``t`` seconds into the current loop; ``None`` follows the clock."""
        self._pinned = t

    def moment(self) -> Moment:
        return self.scenario.moment(self.clock.now(), self._pinned)

    # -- answering

    def answer(self, raw_path: str, headers: Message) -> Answer:
        """The answer to ``GET raw_path``; never raises (a bug becomes a 500 and an ``errors`` entry)."""
        try:
            with self._lock:
                return self._answer(raw_path, headers)
        except Exception as exc:  # a bug in the script must not kill the handler thread
            self.errors.append(f"{raw_path}: {type(exc).__name__}: {exc}")
            return text_answer(500, f"simulator error: {type(exc).__name__}\n")

    def answer_post(self, raw_path: str, headers: Message, body: bytes) -> Answer:
        """The answer to ``POST raw_path``: GitHub's GraphQL endpoint, nothing else."""
        try:
            with self._lock:
                path = unquote(urlsplit(raw_path).path)
                self.requests[path] += 1
                if path != "/github/graphql":
                    return text_answer(405, "read-only, but for /github/graphql\n")
                return self.github.graphql(body, self.moment(), self.clock.now().timestamp())
        except Exception as exc:
            self.errors.append(f"POST {raw_path}: {type(exc).__name__}: {exc}")
            return text_answer(500, f"simulator error: {type(exc).__name__}\n")

    def _answer(self, raw_path: str, headers: Message) -> Answer:
        split = urlsplit(raw_path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        self.requests[path] += 1
        moment = self.moment()
        host = headers.get("Host") or self.base_url.removeprefix("http://")
        links = Links(api=f"http://{host}/github", web=f"http://{host}/web")
        if path.startswith("/github/"):
            return self.github.answer(
                path.removeprefix("/github"),
                query,
                headers.get("If-None-Match"),
                moment,
                self.clock.now().timestamp(),
                links,
            )
        if path == "/cctray/cc.xml":
            return cctray_answer(self.scenario.cctray(moment), links.web)
        if path.startswith("/health/"):
            return health_answer(
                path.removeprefix("/health/"), self.scenario, moment, self.slow_seconds
            )
        prefix = path.split("/", 2)[1] if path.count("/") >= 2 else ""
        if prefix in self.providers:
            return self.providers[prefix].answer(
                path.removeprefix("/" + prefix), query, headers, moment, links.web
            )
        if path.startswith("/web/"):
            # html_url / webUrl targets, so that "open in browser" lands somewhere real.
            title = escape(path.removeprefix("/web/"))
            page = f"<!doctype html><title>{title}</title><h1>Simulated: {title}</h1>\n"
            return text_answer(200, page, "text/html")
        if path == "/":
            return text_answer(200, INDEX)
        if path == "/status":
            return json_answer(200, {"loop": moment.loop, "t": round(moment.t, 3)})
        return text_answer(404, "not found\n")


class _Server(ThreadingHTTPServer):
    """Threads per connection, tracked so that ``close_connections`` can end them all."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], simulator: Simulator
    ) -> None:
        self.simulator = simulator
        self._live: dict[socket.socket, threading.Thread] = {}
        self._live_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="buildradiator-simulator-conn",
            daemon=True,
        )
        with self._live_lock:
            self._live[request] = thread
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._live_lock:
                self._live.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-answer is normal; the default would print a traceback to stderr,
        # right over the radiator's screen in `demo`.
        pass

    def close_connections(self) -> None:
        with self._live_lock:
            live = list(self._live.items())
        for sock, _thread in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler
        for _sock, thread in live:
            thread.join(timeout=5)


MAX_POST = 1024 * 1024
"""Bytes a POST (a GraphQL query) may carry."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "buildradiator-simulator/1"
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK, which cost ~40 ms per small answer (measured on loopback).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_POST:
            self.send_response(411 if not length.isdigit() else 413)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.close_connection = True
            return
        self._serve(with_body=True, posted=self.rfile.read(int(length)))

    def _serve(self, *, with_body: bool, posted: bytes | None = None) -> None:
        simulator = self.server.simulator
        if posted is not None:
            answer = simulator.answer_post(self.path, self.headers, posted)
        else:
            answer = simulator.answer(self.path, self.headers)
        if answer.drop:
            # Not a byte back: the client sees the connection close under it.
            self.close_connection = True
            return
        if answer.delay and simulator._stopping.wait(answer.delay):
            self.close_connection = True
            return
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        if answer.status != 304:
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if with_body and answer.status != 304:
            self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: `demo` runs this server under a full-screen UI.
        pass
