"""The demo CI simulator: a real loopback server, checked over real HTTP.

Each test pins a moment of the script with ``set_time`` (the clock is a ``FakeClock``) and checks
what a client would see: the API shapes, the ETag/304 and rate-limit behaviour, and the story.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest

from buildradiator.clock import FakeClock
from buildradiator.simulator import Scenario, Simulator, demo_config_text
from buildradiator.simulator.scenario import REPOS, UNTRUSTED_MESSAGE
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.cctray.config import CCTraySource
from buildradiator.sources.github.config import GitHubSource
from buildradiator.sources.health.config import HealthSource
from buildradiator.sources.http import GITHUB_RATE, HttpClient

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
RUN_FIELDS = {
    "id",
    "name",
    "head_branch",
    "head_sha",
    "run_number",
    "run_attempt",
    "previous_attempt_url",
    "event",
    "display_title",
    "status",
    "conclusion",
    "workflow_id",
    "html_url",
    "created_at",
    "updated_at",
    "run_started_at",
    "jobs_url",
    "actor",
    "head_commit",
}
JOB_FIELDS = {
    "id",
    "run_id",
    "head_sha",
    "status",
    "conclusion",
    "started_at",
    "completed_at",
    "name",
    "steps",
    "html_url",
}
RUN_STATUSES = {"requested", "in_progress", "completed", "queued", "pending", "waiting"}
JOB_STATUSES = {"queued", "in_progress", "completed", "waiting", "requested", "pending"}
CONCLUSIONS = {"success", "failure", "neutral", "cancelled", "skipped", "timed_out", None}


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[Simulator]:
    simulator = Simulator(clock=clock)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, timeout=5.0) as c:
        yield c


def runs(client: httpx.Client, repo: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/github/repos/{repo}/actions/runs", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_count"] >= len(body["workflow_runs"])
    return list(body["workflow_runs"])


def latest_completed(client: httpx.Client, repo: str) -> dict[str, Any]:
    return next(r for r in runs(client, repo, branch="main") if r["status"] == "completed")


def jobs(client: httpx.Client, run: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    response = client.get(run["jobs_url"], params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["jobs"])


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


# -- GitHub shapes -----------------------------------------------------------------------------


def test_runs_have_the_documented_fields_and_headers(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(60)
    response = client.get(
        "/github/repos/acme/monolith/actions/runs",
        params={"branch": "main", "per_page": 5, "exclude_pull_requests": "true"},
        headers={"Authorization": "Bearer whatever", "X-GitHub-Api-Version": "2022-11-28"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert re.fullmatch(r'"[0-9a-f]+"', response.headers["etag"])  # strong, not W/
    for name in ("limit", "remaining", "used", "reset", "resource"):
        assert response.headers[f"x-ratelimit-{name}"]
    assert response.headers["x-ratelimit-resource"] == "core"
    body = response.json()
    assert body["total_count"] >= 20
    assert 1 <= len(body["workflow_runs"]) <= 5
    for run in body["workflow_runs"]:
        assert RUN_FIELDS <= run.keys()
        assert run["status"] in RUN_STATUSES
        assert run["conclusion"] in CONCLUSIONS
        assert (run["conclusion"] is None) == (run["status"] != "completed")
        for key in ("created_at", "updated_at", "run_started_at"):
            assert ISO_Z.match(run[key]), run[key]
        assert ISO_Z.match(run["head_commit"]["timestamp"])
        assert run["head_commit"]["id"] == run["head_sha"]
        assert set(run["head_commit"]["author"]) >= {"name", "email"}
        assert run["actor"]["login"]
        assert run["head_branch"] == "main"
        assert run["workflow_id"] == REPOS["acme/monolith"].workflow_id
        assert run["jobs_url"].startswith(sim.base_url + "/github/repos/acme/monolith/")
        assert run["display_title"] == run["head_commit"]["message"].splitlines()[0]


def test_jobs_have_the_documented_fields(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(60)
    for repo in REPOS:
        for run in runs(client, repo, per_page=3):
            for job in jobs(client, run):
                assert JOB_FIELDS <= job.keys()
                assert job["run_id"] == run["id"]
                assert job["head_sha"] == run["head_sha"]
                assert job["status"] in JOB_STATUSES
                assert job["conclusion"] in CONCLUSIONS
                assert ISO_Z.match(job["started_at"])
                assert (job["completed_at"] is None) == (job["status"] != "completed")
                for step in job["steps"]:
                    assert set(step) >= {
                        "name",
                        "status",
                        "conclusion",
                        "number",
                        "started_at",
                        "completed_at",
                    }


def test_branch_status_and_paging_filters(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(60)
    everything = runs(client, "acme/monolith", per_page=100)
    main = runs(client, "acme/monolith", branch="main", per_page=100)
    assert any(r["head_branch"] == "feature/login-sso" for r in everything)
    assert {r["head_branch"] for r in main} == {"main"}
    assert len(everything) == len(main) + 1

    failures = runs(client, "acme/monolith", status="failure", per_page=100)
    assert failures and all(r["conclusion"] == "failure" for r in failures)
    in_flight = runs(client, "acme/ledger", status="in_progress")
    assert [r["status"] for r in in_flight] == ["in_progress"]

    first = client.get("/github/repos/acme/monolith/actions/runs", params={"per_page": 2})
    assert len(first.json()["workflow_runs"]) == 2
    assert 'rel="next"' in first.headers["link"]
    second = client.get(
        "/github/repos/acme/monolith/actions/runs", params={"per_page": 2, "page": 2}
    )
    ids = [r["id"] for r in first.json()["workflow_runs"] + second.json()["workflow_runs"]]
    assert ids == [r["id"] for r in everything[:4]]
    # Newest first.
    created = [r["created_at"] for r in everything]
    assert created == sorted(created, reverse=True)


def test_workflow_runs_by_id_or_file_name(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(100)
    ledger = REPOS["acme/ledger"]
    by_id = client.get(f"/github/repos/acme/ledger/actions/workflows/{ledger.workflow_id}/runs")
    by_file = client.get(f"/github/repos/acme/ledger/actions/workflows/{ledger.workflow_file}/runs")
    assert by_id.status_code == by_file.status_code == 200
    assert by_id.json()["workflow_runs"] == by_file.json()["workflow_runs"]
    assert by_id.json()["workflow_runs"][0]["name"] == "Build and deploy"
    missing = client.get("/github/repos/acme/ledger/actions/workflows/nope.yml/runs")
    assert missing.status_code == 404


def test_unknown_repo_run_and_path_are_github_404s(client: httpx.Client) -> None:
    for path in (
        "/github/repos/acme/nope/actions/runs",
        "/github/repos/acme/monolith/actions/runs/12345/jobs",
        "/github/repos/acme/monolith/actions/runs/99999999999999",
        "/github/repos/acme/monolith/nothing-here",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        body = response.json()
        assert body["message"] == "Not Found"
        assert body["documentation_url"].startswith("https://docs.github.com/")


# -- ETag, 304 and the rate limit --------------------------------------------------------------


def test_etag_gives_304_that_costs_no_quota(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(60)
    url = "/github/repos/acme/billing/actions/runs"
    first = client.get(url, params={"branch": "main"})
    remaining = int(first.headers["x-ratelimit-remaining"])
    etag = first.headers["etag"]

    again = client.get(url, params={"branch": "main"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert int(again.headers["x-ratelimit-remaining"]) == remaining

    weak = client.get(url, params={"branch": "main"}, headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304

    plain = client.get(url, params={"branch": "main"})
    assert plain.status_code == 200
    assert int(plain.headers["x-ratelimit-remaining"]) == remaining - 1
    assert int(plain.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"]) + 1

    # The story moves on: the old ETag no longer matches.
    sim.set_time(120)
    moved = client.get(url, params={"branch": "main"}, headers={"If-None-Match": etag})
    assert moved.status_code == 200
    assert moved.headers["etag"] != etag


def test_spent_quota_is_403_until_the_hourly_reset(
    sim: Simulator, client: httpx.Client, clock: FakeClock
) -> None:
    url = "/github/repos/acme/ledger/actions/runs"
    client.get(url)
    reset = int(client.get(url).headers["x-ratelimit-reset"])
    assert 0 < reset - clock.now().timestamp() <= 3600
    sim.github.budget.remaining = 1
    assert client.get(url).status_code == 200
    limited = client.get(url)
    assert limited.status_code == 403
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert "rate limit" in limited.json()["message"]
    clock.advance(3601)
    fresh = client.get(url)
    assert fresh.status_code == 200
    assert int(fresh.headers["x-ratelimit-remaining"]) == 4999


async def test_the_engines_http_client_gets_a_free_304(sim: Simulator, clock: FakeClock) -> None:
    sim.set_time(60)
    http = HttpClient(httpx.AsyncClient(), clock=clock)
    try:
        url = f"{sim.base_url}/github/repos/acme/monolith/actions/runs"
        params = {"branch": "main", "per_page": 10}
        first = await http.get(url, params=params, conditional=True, rate_headers=GITHUB_RATE)
        second = await http.get(url, params=params, conditional=True, rate_headers=GITHUB_RATE)
    finally:
        await http.aclose()
    assert not first.not_modified
    assert second.not_modified
    assert second.content == first.content
    assert first.rate is not None and second.rate is not None
    assert second.rate.remaining == first.rate.remaining


# -- the story ---------------------------------------------------------------------------------


def test_monolith_goes_red_with_mallory_and_green_after_the_revert(
    sim: Simulator, client: httpx.Client
) -> None:
    sim.set_time(20)
    assert latest_completed(client, "acme/monolith")["conclusion"] == "success"

    sim.set_time(60)
    broken = latest_completed(client, "acme/monolith")
    assert broken["conclusion"] == "failure"
    assert broken["head_commit"]["author"]["name"] == "Mallory"
    assert broken["head_sha"].startswith("c0ffee0") and len(broken["head_sha"]) == 40
    assert broken["display_title"] == "Fix login flow"
    by_name = {job["name"]: job for job in jobs(client, broken)}
    assert by_name["integration"]["conclusion"] == "failure"
    assert by_name["build"]["conclusion"] == "success"

    sim.set_time(110)
    completed = [
        r for r in runs(client, "acme/monolith", branch="main") if r["status"] == "completed"
    ]
    assert [r["conclusion"] for r in completed[:2]] == ["failure", "failure"]
    assert completed[0]["head_commit"]["author"]["name"] != "Mallory"
    assert completed[1]["head_commit"]["author"]["name"] == "Mallory"

    sim.set_time(140)
    fixed = latest_completed(client, "acme/monolith")
    assert fixed["conclusion"] == "success"
    assert fixed["head_commit"]["author"]["name"] == "Dana Smith"
    assert fixed["display_title"] == "Revert login flow change"


def test_billing_goes_green_only_after_a_retry(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(155)
    failed = latest_completed(client, "acme/billing")
    assert (failed["conclusion"], failed["run_attempt"]) == ("failure", 1)

    sim.set_time(210)
    retried = latest_completed(client, "acme/billing")
    assert retried["conclusion"] == "success"
    assert retried["run_attempt"] == 2
    assert retried["id"] == failed["id"]
    assert retried["previous_attempt_url"].endswith(f"/actions/runs/{retried['id']}/attempts/1")
    assert retried["run_started_at"] > retried["created_at"]

    first = client.get(retried["previous_attempt_url"]).json()
    assert (first["run_attempt"], first["conclusion"]) == (1, "failure")
    assert first["head_sha"] == retried["head_sha"]
    assert first["previous_attempt_url"] is None

    latest = jobs(client, retried)
    assert {job["run_attempt"] for job in latest} == {2}
    assert all(job["conclusion"] == "success" for job in latest)
    every = jobs(client, retried, filter="all")
    assert {job["run_attempt"] for job in every} == {1, 2}
    assert any(j["run_attempt"] == 1 and j["conclusion"] == "failure" for j in every)


def test_ledger_queues_then_runs_its_jobs_in_order(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(20)
    queued = runs(client, "acme/ledger", branch="main")[0]
    assert (queued["status"], queued["conclusion"]) == ("queued", None)
    assert {job["status"] for job in jobs(client, queued)} == {"queued"}

    sim.set_time(60)
    running = runs(client, "acme/ledger", branch="main")[0]
    assert running["id"] == queued["id"]
    assert running["status"] == "in_progress"
    states = [(job["name"], job["status"]) for job in jobs(client, running)]
    assert states == [("build", "completed"), ("test", "in_progress"), ("deploy", "queued")]
    test_job = jobs(client, running)[1]
    assert "in_progress" in {step["status"] for step in test_job["steps"]}

    sim.set_time(100)
    done = runs(client, "acme/ledger", branch="main")[0]
    assert (done["id"], done["status"], done["conclusion"]) == (
        queued["id"],
        "completed",
        "success",
    )
    assert 60 <= seconds_between(done["created_at"], done["updated_at"]) <= 120


def test_history_has_durations_and_retries(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(0)
    for repo in ("acme/monolith", "acme/billing"):
        past = runs(client, repo, branch="main", per_page=100)
        assert len(past) >= 20
        assert all(r["status"] == "completed" for r in past)
        durations = [seconds_between(r["run_started_at"], r["updated_at"]) for r in past]
        assert all(200 <= d <= 660 for d in durations), durations
        assert len({r["head_commit"]["author"]["name"] for r in past}) >= 3
        numbers = [r["run_number"] for r in past]
        assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers)
    billing = runs(client, "acme/billing", per_page=100)
    assert sum(r["run_attempt"] == 2 for r in billing) >= 2


def test_a_new_loop_looks_like_new_builds(
    sim: Simulator, client: httpx.Client, clock: FakeClock
) -> None:
    sim.set_time(None)
    clock.advance(590)
    before = runs(client, "acme/ledger")[0]
    clock.advance(60)  # into loop 1, 50 s in
    after = runs(client, "acme/ledger")[0]
    assert after["id"] > before["id"]
    assert after["run_number"] > before["run_number"]
    assert after["created_at"] > before["created_at"]
    assert client.get("/status").json()["loop"] == 1
    # Loop 0's runs are still listed, as past builds.
    assert before["id"] in {r["id"] for r in runs(client, "acme/ledger", per_page=100)}


def test_the_untrusted_message_comes_through_byte_exact(
    sim: Simulator, client: httpx.Client
) -> None:
    sim.set_time(290)
    response = client.get("/github/repos/acme/billing/actions/runs", params={"branch": "main"})
    newest = response.json()["workflow_runs"][0]
    assert newest["head_commit"]["message"] == UNTRUSTED_MESSAGE
    assert newest["head_commit"]["message"] == 'Merge "[bold red]x[/]" \x1b[31m'
    assert newest["conclusion"] == "success"
    assert b'Merge \\"[bold red]x[/]\\" \\u001b[31m' in response.content


# -- CCTray ------------------------------------------------------------------------------------


def parse_cctray(client: httpx.Client) -> dict[str, ET.Element]:
    response = client.get("/cctray/cc.xml")
    assert response.status_code == 200
    assert "xml" in response.headers["content-type"]
    root = ET.fromstring(response.content)
    assert root.tag == "Projects"
    return {project.attrib["name"]: project for project in root.findall("Project")}


def test_cctray_feed_shape_and_story(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(20)
    projects = parse_cctray(client)
    assert set(projects) == {"platform/core-master", "mobile-app", "docs-site"}
    for project in projects.values():
        for attribute in ("activity", "lastBuildStatus", "lastBuildTime", "webUrl"):
            assert project.attrib[attribute]
        assert project.attrib["activity"] in {"Sleeping", "Building", "CheckingModifications"}
        assert project.attrib["lastBuildStatus"] in {"Success", "Failure", "Exception", "Unknown"}
        datetime.fromisoformat(project.attrib["lastBuildTime"])
    assert projects["docs-site"].attrib["lastBuildTime"].endswith("+02:00")
    assert projects["mobile-app"].attrib["lastBuildStatus"] == "Success"

    sim.set_time(150)
    projects = parse_cctray(client)
    assert projects["platform/core-master"].attrib["activity"] == "Building"

    sim.set_time(200)
    label_before = projects["platform/core-master"].attrib["lastBuildLabel"]
    projects = parse_cctray(client)
    assert projects["platform/core-master"].attrib["activity"] == "Sleeping"
    assert projects["platform/core-master"].attrib["lastBuildLabel"] != label_before

    sim.set_time(400)  # act 2
    mobile = parse_cctray(client)["mobile-app"]
    assert mobile.attrib["lastBuildStatus"] == "Failure"
    messages = mobile.findall("messages/message")
    assert ("Breakers", "mallory") in {(m.attrib["kind"], m.attrib["text"]) for m in messages}


def test_cctray_drops_the_connection_for_a_while(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(290)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/cctray/cc.xml")
    sim.set_time(20)
    assert client.get("/cctray/cc.xml").status_code == 200
    assert sim.requests["/cctray/cc.xml"] == 2


# -- health ------------------------------------------------------------------------------------


def test_checkout_is_a_spring_boot_actuator(client: httpx.Client) -> None:
    response = client.get("/health/checkout")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "UP"
    assert body["components"]["db"]["status"] == "UP"
    assert body["version"]


def test_payments_fails_with_500_warns_and_recovers(sim: Simulator, client: httpx.Client) -> None:
    sim.set_time(20)
    ok = client.get("/health/payments")
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/health+json")
    body = ok.json()
    assert body["status"] == "pass"
    assert body["releaseId"] and body["version"]
    check = body["checks"]["postgres:responseTime"][0]
    assert {"status", "observedValue", "observedUnit", "time"} <= check.keys()

    sim.set_time(245)
    down = client.get("/health/payments")
    assert down.status_code == 500
    assert down.json()["status"] == "fail"

    sim.set_time(268)  # the fix rolls out
    assert client.get("/health/payments").json()["status"] == "warn"

    sim.set_time(277)
    back = client.get("/health/payments")
    assert (back.status_code, back.json()["status"]) == (200, "pass")


def test_search_says_ok_and_is_slow_for_part_of_the_loop(
    sim: Simulator, client: httpx.Client
) -> None:
    sim.set_time(20)
    fast = client.get("/health/search")
    assert (fast.status_code, fast.text) == (200, "OK")
    assert fast.headers["content-type"].startswith("text/plain")
    assert sim.answer("/health/search", Message()).delay == 0

    sim.set_time(450)
    started = time.perf_counter()
    slow = client.get("/health/search")
    slow_seconds = time.perf_counter() - started
    assert (slow.status_code, slow.text) == (200, "OK")
    assert slow_seconds >= 0.6
    assert sim.answer("/health/search", Message()).delay == sim.slow_seconds


def test_unknown_paths_are_404(client: httpx.Client) -> None:
    assert client.get("/health/nope").status_code == 404
    assert client.get("/nothing").status_code == 404


# -- config, counting, lifecycle ---------------------------------------------------------------


def test_demo_config_parses_and_points_at_the_simulator(sim: Simulator) -> None:
    config = parse_config(demo_config_text(sim.base_url, interval=2.5), "demo.toml")
    assert config.radiator.interval == 2.5
    kinds = [type(source) for source in config.sources]
    assert kinds.count(GitHubSource) == 1 and kinds.count(CCTraySource) == 1
    github = next(s for s in config.sources if isinstance(s, GitHubSource))
    assert github.api_url == sim.base_url + "/github"
    assert github.all_repos == list(REPOS)
    assert github.branch == "main"
    cctray = next(s for s in config.sources if isinstance(s, CCTraySource))
    assert cctray.url == sim.base_url + "/cctray/cc.xml"
    health = {s.service: s for s in config.sources if isinstance(s, HealthSource)}
    assert set(health) == {"checkout", "payments", "search"}
    assert health["search"].url == sim.base_url + "/health/search"
    # The slow search must cross the warning line, the others must not.
    assert health["search"].warn_latency_ms is not None
    assert health["search"].warn_latency_ms < sim.slow_seconds * 1000


def test_requests_are_counted_per_path(sim: Simulator, client: httpx.Client) -> None:
    client.get("/github/repos/acme/ledger/actions/runs", params={"per_page": 1})
    client.get("/github/repos/acme/ledger/actions/runs", params={"per_page": 2})
    client.get("/health/checkout")
    assert sim.requests["/github/repos/acme/ledger/actions/runs"] == 2
    assert sim.requests["/health/checkout"] == 1
    assert sum(sim.requests.values()) == 3


def test_stop_frees_the_port_even_with_a_connection_open(clock: FakeClock) -> None:
    simulator = Simulator(clock=clock)
    simulator.start()
    port = int(simulator.base_url.rsplit(":", 1)[1])
    with httpx.Client(base_url=simulator.base_url) as keep_alive:
        assert keep_alive.get("/health/checkout").status_code == 200
        started = time.perf_counter()
        simulator.stop()
        assert time.perf_counter() - started < 2
        with pytest.raises(httpx.TransportError):
            keep_alive.get("/health/checkout")
    # The port is free again: a new simulator can listen on it (the closed connections may sit
    # in TIME_WAIT, which any server with SO_REUSEADDR, like ours, may ignore).
    with Simulator(clock=clock, port=port) as again, httpx.Client(base_url=again.base_url) as c:
        assert again.base_url.endswith(f":{port}")
        assert c.get("/health/checkout").status_code == 200
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    simulator.stop()  # twice is harmless
    with pytest.raises(RuntimeError):
        _ = simulator.base_url


def test_a_shorter_loop_stretches_the_script(clock: FakeClock) -> None:
    with (
        Simulator(clock=clock, loop_seconds=60) as simulator,
        httpx.Client(base_url=simulator.base_url) as client,
    ):
        simulator.set_time(6)  # = 60 s into the 600 s script
        assert (
            latest_completed(client, "acme/monolith")["head_commit"]["author"]["name"] == "Mallory"
        )
        simulator.set_time(29)  # = 290 s: the feed drops connections
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/cctray/cc.xml")


def test_every_loop_settles_before_the_next_and_ids_only_grow() -> None:
    start = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    scenario = Scenario(start, 300)
    for repo in REPOS:
        plans = [p for loop in range(-1, 4) for p in scenario.plans(loop)[repo]]
        by_creation = sorted(plans, key=lambda p: p.created_at)
        assert [p.id for p in by_creation] == sorted(p.id for p in plans)
        assert [p.number for p in by_creation] == sorted(p.number for p in plans)
        for loop in range(-1, 4):
            for plan in scenario.plans(loop)[repo]:
                assert plan.attempts[-1].ended_at < scenario.at(loop + 1, 0)
                if loop >= 0:
                    assert plan.created_at >= scenario.at(loop, 0)
    late = scenario.moment(start + timedelta(days=2))
    assert late.loop == 576
    assert (
        scenario.runs("acme/ledger", late)[0].plan.id
        > scenario.runs("acme/ledger", scenario.moment(start))[0].plan.id
    )


def test_the_simulator_does_not_import_textual() -> None:
    code = "import sys, buildradiator.simulator; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
