"""A big CI estate for the benchmarks, in the real API shapes, served over loopback or through
``httpx.MockTransport``.

The simulator's providers have fixed, small estates (three repositories, a handful of CCTray
projects), so the benchmarks bring their own: ``GitHubEstate`` (N repositories, one workflow each,
answering ``/repos/{o}/{r}/actions/runs`` as GitHub does: strong ``ETag``, ``If-None-Match`` -> 304
that costs no quota, the ``x-ratelimit-*`` headers and a 403 once the hourly quota is spent) and
``CCTrayEstate`` (feeds of N projects, as Jenkins' ccxml plugin writes them, no validators).
The answer bodies reuse the simulator's pieces (``cctray_xml``, ``strong_etag``, ``RateBudget``).

``EstateServer`` serves both on 127.0.0.1 from a thread; ``serve_in_child`` runs it in another
process, so that the benchmark's CPU figures are the radiator's alone. ``/control/change?n=K``
changes K pipelines (round robin), which is how a benchmark makes "something happened".
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from buildradiator.simulator.answer import etag_matches, iso_z, strong_etag
from buildradiator.simulator.cctray import cctray_xml
from buildradiator.simulator.github import RateBudget
from buildradiator.simulator.scenario import CCProject

Reply = tuple[int, list[tuple[str, str]], bytes]
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AUTHORS = [("Ada Lovelace", "ada"), ("Grace Hopper", "grace"), ("Linus T", "linus"),
           ("Barbara Liskov", "barbara"), ("Ken Thompson", "ken")]  # fmt: skip


class GitHubEstate:
    """``repos`` repositories ``acme/service-{i}``, each with ``runs`` recent runs on main."""

    def __init__(self, repos: int, *, runs: int = 5, limit: int = 5000) -> None:
        self.repos = repos
        self.runs = runs
        self.version = [0] * repos
        self.budget = RateBudget(limit=limit, remaining=limit)
        self.requests = 0
        self.not_modified = 0
        self.quota_spent = 0
        self.limited = 0
        """403s sent because the quota was spent."""
        self._bodies: dict[tuple[int, int], tuple[bytes, str]] = {}
        self._changes = 0
        self.graphql_queries = 0
        self.graphql_points = 0

    def change(self, count: int = 1) -> list[int]:
        """A new run finishes on ``count`` repositories (round robin); every third is red."""
        changed = []
        for _ in range(count):
            index = self._changes % self.repos
            self._changes += 1
            self.version[index] += 1
            changed.append(index)
        return changed

    def status_of(self, index: int) -> str:
        return "failure" if (index + self.version[index]) % 3 == 0 else "success"

    def _body(self, index: int) -> tuple[bytes, str]:
        key = (index, self.version[index])
        cached = self._bodies.get(key)
        if cached is None:
            repo = f"acme/service-{index}"
            newest = 1000 + self.version[index]
            runs = [
                run_payload(repo, index, newest - k, self._conclusion(index, newest - k))
                for k in range(self.runs)
            ]
            body = json.dumps(
                {"total_count": newest, "workflow_runs": runs}, indent=2, ensure_ascii=False
            ).encode()
            cached = self._bodies[key] = (body, strong_etag(body))
            self._bodies.pop((index, self.version[index] - 1), None)
        return cached

    def _conclusion(self, index: int, number: int) -> str:
        return "failure" if (index + number - 1000) % 3 == 0 else "success"

    def answer(self, path: str, if_none_match: str | None, now: float) -> Reply:
        """``GET {path}`` at unix time ``now``, as GitHub would answer it."""
        self.requests += 1
        self.budget.refresh(now)
        parts = [p for p in path.split("/") if p]
        common = [
            ("x-github-api-version-selected", "2022-11-28"),
            ("x-github-request-id", f"BENCH:{self.requests:08X}"),
            ("cache-control", "private, max-age=60, s-maxage=60"),
        ]
        index = _repo_index(parts)
        if index is None or index >= self.repos:
            body = json.dumps({"message": "Not Found", "status": "404"}).encode()
            return 404, [("Content-Type", "application/json"), *common], body
        body, etag = self._body(index)
        if etag_matches(if_none_match, etag):
            self.not_modified += 1  # GitHub does not count a 304 against the primary limit
            return 304, [("ETag", etag), *common, *self.budget.headers()], b""
        if self.budget.remaining <= 0:
            self.limited += 1
            limited = json.dumps(
                {
                    "message": "API rate limit exceeded for user ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                }
            ).encode()
            return (
                403,
                [("Content-Type", "application/json"), *common, *self.budget.headers()],
                limited,
            )
        self.budget.remaining -= 1
        self.quota_spent += 1
        headers = [("Content-Type", "application/json; charset=utf-8"), ("ETag", etag), *common]
        return 200, headers + self.budget.headers(), body

    def graphql(self, body: bytes, now: float) -> Reply:
        """``POST /graphql`` as GitHub answers the radiator's batch query: per alias the head
        commit on main and its check suite (the newest run), and ``rateLimit`` in points."""
        self.requests += 1
        self.graphql_queries += 1
        variables = json.loads(body).get("variables", {})
        data: dict[str, Any] = {}
        i = 0
        while f"o{i}" in variables:
            name = str(variables.get(f"n{i}", ""))
            tail = name.removeprefix("service-")
            index = int(tail) if tail.isdigit() else -1
            if 0 <= index < self.repos:
                newest = 1000 + self.version[index]
                run_id = 9_000_000_000 + index * 100_000 + newest
                suite = {
                    "databaseId": run_id + 7_000_000_000,
                    "status": "COMPLETED",
                    "conclusion": self._conclusion(index, newest).upper(),
                    "updatedAt": iso_z(START + timedelta(minutes=newest - 994)),
                }
                data[f"r{i}"] = {
                    "ref": {"target": {"oid": f"{run_id:040x}", "checkSuites": {"nodes": [suite]}}}
                }
            else:
                data[f"r{i}"] = None
            i += 1
        cost = max(1, -(-i // 100))
        self.graphql_points += cost
        data["rateLimit"] = {"cost": cost, "limit": 5000, "remaining": 5000, "resetAt": None}
        return 200, [("Content-Type", "application/json")], json.dumps({"data": data}).encode()


def _repo_index(parts: list[str]) -> int | None:
    # /repos/acme/service-{i}/actions/runs  (the api_url's path prefix, if any, comes first)
    if "repos" not in parts:
        return None
    at = parts.index("repos")
    rest = parts[at + 1 :]
    if len(rest) != 4 or rest[2:] != ["actions", "runs"] or not rest[1].startswith("service-"):
        return None
    tail = rest[1].removeprefix("service-")
    return int(tail) if tail.isdigit() else None


def run_payload(repo: str, index: int, number: int, conclusion: str) -> dict[str, Any]:
    """One completed workflow run, with the fields GitHub sends (api-facts section 1)."""
    run_id = 9_000_000_000 + index * 100_000 + number
    created = START + timedelta(minutes=number - 1000, seconds=index % 60)
    name, login = AUTHORS[(index + number) % len(AUTHORS)]
    sha = f"{run_id:040x}"
    api = f"https://api.github.com/repos/{repo}/actions/runs/{run_id}"
    user = {"login": login, "id": 5_000_000 + index, "type": "User", "site_admin": False}
    return {
        "id": run_id,
        "name": "CI",
        "node_id": f"WFR_kwLO{run_id}",
        "head_branch": "main",
        "head_sha": sha,
        "path": ".github/workflows/ci.yml",
        "display_title": f"Change {number} to {repo}",
        "run_number": number,
        "event": "push",
        "status": "completed",
        "conclusion": conclusion,
        "workflow_id": 160_000 + index,
        "check_suite_id": run_id + 7_000_000_000,
        "url": api,
        "html_url": f"https://github.com/{repo}/actions/runs/{run_id}",
        "pull_requests": [],
        "created_at": iso_z(created),
        "updated_at": iso_z(created + timedelta(minutes=6)),
        "actor": user,
        "run_attempt": 1,
        "referenced_workflows": [],
        "run_started_at": iso_z(created + timedelta(seconds=4)),
        "triggering_actor": user,
        "jobs_url": f"{api}/jobs",
        "logs_url": f"{api}/logs",
        "previous_attempt_url": None,
        "head_commit": {
            "id": sha,
            "tree_id": sha[::-1],
            "message": f"Change {number} to {repo}\n\nBody of the commit message.",
            "timestamp": iso_z(created - timedelta(seconds=30)),
            "author": {"name": name, "email": f"{login}@example.com"},
            "committer": {"name": "GitHub", "email": "noreply@github.com"},
        },
        "repository": {"id": 700_000 + index, "full_name": repo, "private": True},
    }


class CCTrayEstate:
    """``projects`` projects split over ``feeds`` feeds (``/cctray/{k}/cc.xml``)."""

    def __init__(self, projects: int, feeds: int = 1) -> None:
        self.projects = projects
        self.feeds = max(1, min(feeds, projects or 1))
        self.label = [100 + i % 37 for i in range(projects)]
        self.requests = 0
        self._changes = 0
        self._bodies: dict[int, bytes] = {}

    def change(self, count: int = 1) -> list[int]:
        changed = []
        for _ in range(count):
            index = self._changes % max(1, self.projects)
            self._changes += 1
            self.label[index] += 1
            self._bodies.pop(index % self.feeds, None)
            changed.append(index)
        return changed

    def status_of(self, index: int) -> str:
        return "Failure" if self.label[index] % 3 == 0 else "Success"

    def body(self, feed: int) -> bytes:
        cached = self._bodies.get(feed)
        if cached is None:
            projects = [
                CCProject(
                    name=f"team-{i % 12}/job-{i}",
                    activity="Sleeping",
                    last_build_status=self.status_of(i),
                    last_build_label=str(self.label[i]),
                    last_build_time=START + timedelta(minutes=self.label[i]),
                )
                for i in range(feed, self.projects, self.feeds)
            ]
            cached = self._bodies[feed] = cctray_xml(projects, "http://ci.example.com/job")
        return cached

    def answer(self, path: str) -> Reply:
        self.requests += 1
        parts = [p for p in path.split("/") if p]
        if len(parts) == 3 and parts[0] == "cctray" and parts[1].isdigit() and parts[2] == "cc.xml":
            feed = int(parts[1])
            if feed < self.feeds:
                return 200, [("Content-Type", "application/xml; charset=utf-8")], self.body(feed)
        return 404, [("Content-Type", "text/plain")], b"not found\n"


@dataclass
class Estate:
    github: GitHubEstate
    cctray: CCTrayEstate

    def answer(self, raw_path: str, if_none_match: str | None) -> Reply:
        split = urlsplit(raw_path)
        path = split.path
        if path.startswith("/github/"):
            return self.github.answer(path.removeprefix("/github"), if_none_match, time.time())
        if path.startswith("/cctray/"):
            return self.cctray.answer(path)
        if path == "/control/change":
            query = parse_qs(split.query)
            n = int(query.get("n", ["1"])[0])
            which = query.get("what", ["both"])[0]
            changed: dict[str, list[int]] = {}
            if which in ("both", "github") and self.github.repos:
                changed["github"] = self.github.change(n)
            if which in ("both", "cctray") and self.cctray.projects:
                changed["cctray"] = self.cctray.change(n)
            return 200, [("Content-Type", "application/json")], json.dumps(changed).encode()
        if path == "/control/stats":
            stats = {
                "github_requests": self.github.requests,
                "github_quota": self.github.quota_spent,
                "graphql_queries": self.github.graphql_queries,
                "graphql_points": self.github.graphql_points,
                "cctray_requests": self.cctray.requests,
            }
            return 200, [("Content-Type", "application/json")], json.dumps(stats).encode()
        return 404, [("Content-Type", "text/plain")], b"not found\n"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        with self.server.lock:
            status, headers, body = self.server.estate.answer(
                self.path, self.headers.get("If-None-Match")
            )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        with self.server.lock:
            if self.path.endswith("/graphql"):
                status, headers, data = self.server.estate.github.graphql(body, time.time())
            else:
                status, headers, data = 404, [("Content-Type", "text/plain")], b"not found\n"
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up is normal


class EstateServer:
    """The estate on 127.0.0.1 (a thread of this process); ``with EstateServer(...) as s``."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self._server = _Server(estate)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> EstateServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _child(repos: int, projects: int, feeds: int, conn: Any) -> None:
    estate = Estate(GitHubEstate(repos, limit=10**9), CCTrayEstate(projects, feeds))
    with EstateServer(estate) as server:
        conn.send(server.base_url)
        conn.recv()  # until the parent says stop (or goes away)


class ChildServer:
    """The estate served from another process, so its CPU never counts as the radiator's."""

    def __init__(self, *, repos: int = 0, projects: int = 0, feeds: int = 1) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(
            target=_child, args=(repos, projects, feeds, child_conn), daemon=True
        )
        self.base_url = ""

    def __enter__(self) -> ChildServer:
        self._proc.start()
        self.base_url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=5)
        self._conn.close()


def config_text(
    base_url: str,
    *,
    repos: int = 0,
    repos_per_source: int = 50,
    projects: int = 0,
    feeds: int = 1,
    interval: float = 30.0,
    token: bool = True,
    batch: str = "auto",
) -> str:
    """A config watching the estate: GitHub sources of up to ``repos_per_source`` repositories
    each, and one CCTray source per feed."""
    lines = ["[radiator]", f"interval = {interval:g}", ""]
    for start in range(0, repos, repos_per_source):
        names = ", ".join(
            f'"acme/service-{i}"' for i in range(start, min(repos, start + repos_per_source))
        )
        lines += [
            "[[sources]]",
            f'name = "gh-{start // repos_per_source}"',
            'type = "github"',
            f'api_url = "{base_url}/github"',
            f"repos = [{names}]",
            "per_page = 5",
            f'batch = "{batch}"',
            *(['token_env = "BENCH_GITHUB_TOKEN"'] if token else []),
            "",
        ]
    for feed in range(feeds if projects else 0):
        lines += ["[[sources]]", f'name = "cc-{feed}"', 'type = "cctray"',
                  f'url = "{base_url}/cctray/{feed}/cc.xml"', ""]  # fmt: skip
    return "\n".join(lines)


def load(text: str) -> Any:
    """Parse a bench config with a dummy token in the environment (never a real one)."""
    import os

    from buildradiator.sources.catalog import parse_config

    os.environ.setdefault("BENCH_GITHUB_TOKEN", "ghp_bench_not_a_real_token")
    return parse_config(text, "<bench>")


def median_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    mid = len(ordered) // 2
    value = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return value * 1000


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def timed_call(fn: Callable[[], Any]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall
