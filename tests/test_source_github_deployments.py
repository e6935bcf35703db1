"""The GitHub Deployments source against a fake GitHub speaking the documented REST shapes:
deployments, their statuses (newest first) and the compare API, with the extra fields, nulls,
odd offsets and error pages real servers send."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import AuthFailed, BadPayload, NotFound, RateLimited, ServerError
from buildradiator.model import Deployment, DeployState
from buildradiator.sources.github_deployments.config import GitHubDeploymentsSource
from buildradiator.sources.github_deployments.source import GitHubDeployments
from buildradiator.sources.http import HttpClient

TOKEN = "ghp_d3pl0yT0kenValue0123456789abcdef"
API = "https://api.github.com"
REPO = "acme/shop"
BASE = f"/repos/{REPO}"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
RATE = {
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4990",
    "x-ratelimit-used": "10",
    "x-ratelimit-reset": str(int((NOW + timedelta(minutes=30)).timestamp())),
    "x-ratelimit-resource": "core",
}
LIVE_SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
NEW_SHA = "f00dfeed00112233445566778899aabbccddeeff"
OLD_SHA = "0123456789abcdef0123456789abcdef01234567"
HOSTILE = 'helm says "[bold red]boom[/]" \x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07x'


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def user(login: str, kind: str = "User") -> dict[str, Any]:
    return {
        "login": login,
        "id": 583231,
        "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
        "type": kind,
        "site_admin": False,
    }


def deployment(
    ident: int, sha: str, created: datetime, env: str = "production", **fields: Any
) -> dict[str, Any]:
    """One deployment as ``GET /repos/{o}/{r}/deployments`` lists it."""
    url = f"{API}{BASE}/deployments/{ident}"
    item = {
        "url": url,
        "id": ident,
        "node_id": f"DE_kwDOAB{ident}",
        "sha": sha,
        "ref": "main",
        "task": "deploy",
        "payload": {"image": f"ghcr.io/acme/shop:{sha[:12]}"},
        "original_environment": env,
        "environment": env,
        "description": "Deploy request from CI",
        "creator": user("release-bot", "Bot"),
        "created_at": iso(created),
        "updated_at": iso(created),
        "statuses_url": f"{url}/statuses",
        "repository_url": f"{API}{BASE}",
        "transient_environment": False,
        "production_environment": env == "production",
        "performed_via_github_app": None,
    }
    item.update(fields)
    return item


def status(ident: int, state: str, created: datetime | str | None, **fields: Any) -> dict[str, Any]:
    """One status as ``GET .../deployments/{id}/statuses`` lists it."""
    stamp = iso(created) if isinstance(created, datetime) else created
    item = {
        "url": f"{API}{BASE}/deployments/1/statuses/{ident}",
        "id": ident,
        "node_id": f"DES_kwDOAB{ident}",
        "state": state,
        "creator": user("release-bot", "Bot"),
        "description": "",
        "environment": "production",
        "target_url": f"https://ci.example.com/deploys/{ident}",
        "created_at": stamp,
        "updated_at": stamp,
        "deployment_url": f"{API}{BASE}/deployments/1",
        "repository_url": f"{API}{BASE}",
        "environment_url": "https://shop.example.com",
        "log_url": f"https://github.com/{REPO}/actions/runs/{ident}",
        "performed_via_github_app": None,
    }
    item.update(fields)
    return item


def commit(
    sha: str, committed: str | None, authored: str = "2026-11-26T07:00:00Z"
) -> dict[str, Any]:
    return {
        "sha": sha,
        "node_id": "C_kwDOAB",
        "commit": {
            "author": {"name": "Erin Walsh", "email": "erin@acme.example", "date": authored},
            "committer": {"name": "GitHub", "email": "noreply@github.com", "date": committed},
            "message": "Add invoice rounding\n\nLonger body.",
            "tree": {"sha": sha[::-1], "url": f"{API}{BASE}/git/trees/{sha[::-1]}"},
            "url": f"{API}{BASE}/git/commits/{sha}",
            "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned", "signature": None},
        },
        "url": f"{API}{BASE}/commits/{sha}",
        "html_url": f"https://github.com/{REPO}/commit/{sha}",
        "author": user("erin"),
        "committer": user("web-flow"),
        "parents": [{"sha": LIVE_SHA, "url": "x", "html_url": "y"}],
    }


def comparison(ahead: int, commits: list[dict[str, Any]], state: str = "ahead") -> dict[str, Any]:
    return {
        "url": f"{API}{BASE}/compare/{LIVE_SHA}...main",
        "html_url": f"https://github.com/{REPO}/compare/{LIVE_SHA}...main",
        "permalink_url": "https://github.com/acme/shop/compare/acme:a1b2c3d...acme:f00dfee",
        "diff_url": "x.diff",
        "patch_url": "x.patch",
        "base_commit": commit(LIVE_SHA, "2026-11-26T06:00:00Z"),
        "merge_base_commit": commit(LIVE_SHA, "2026-11-26T06:00:00Z"),
        "status": state,
        "ahead_by": ahead,
        "behind_by": 0,
        "total_commits": ahead,
        "commits": commits,
        "files": [{"filename": "app.py", "status": "modified", "additions": 1, "deletions": 0}],
    }


def gh(payload: Any, code: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        code,
        content=json.dumps(payload).encode(),
        headers={"content-type": "application/json; charset=utf-8", **RATE, **headers},
    )


def not_found() -> httpx.Response:
    return gh({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404)


Handler = Callable[[httpx.Request], httpx.Response]


class FakeGitHub:
    """Routes by path (deployments also by ``environment``); anything else is GitHub's 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[httpx.Request] = []

    def route(self, path: str, payload: Any = None, code: int = 200, **headers: str) -> None:
        self.routes[path] = lambda request: gh(payload, code, **headers)

    def deployments(self, env: str, items: list[dict[str, Any]], **headers: str) -> None:
        self.route(f"{BASE}/deployments?{env}", items, **headers)

    def statuses(self, ident: int, items: list[dict[str, Any]], **headers: str) -> None:
        self.route(f"{BASE}/deployments/{ident}/statuses", items, **headers)

    def compare(self, payload: Any, code: int = 200, sha: str = LIVE_SHA) -> None:
        self.route(f"{BASE}/compare/{sha}...main", payload, code)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/deployments"):
            path += "?" + request.url.params.get("environment", "")
        handler = self.routes.get(path)
        return handler(request) if handler else not_found()

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


@pytest.fixture
def fake() -> FakeGitHub:
    """Production: the newest deployment is rolling out; the one before it is live."""
    fake = FakeGitHub()
    fake.deployments(
        "production",
        [
            deployment(903, NEW_SHA, ago(minutes=3)),
            deployment(902, LIVE_SHA, ago(hours=2, minutes=5)),
            deployment(901, OLD_SHA, ago(days=1)),
        ],
        etag='W/"deployments-v1"',
    )
    fake.statuses(
        903,
        [
            status(9033, "in_progress", ago(minutes=2), description="Rolling out"),
            status(9031, "queued", ago(minutes=3)),
        ],
    )
    fake.statuses(
        902,
        [
            status(9023, "success", ago(hours=2), description="Deployed"),
            status(9022, "in_progress", ago(hours=2, minutes=4)),
        ],
    )
    fake.statuses(
        901, [status(9014, "inactive", ago(hours=2)), status(9013, "success", ago(days=1))]
    )
    oldest = "2026-11-26T10:30:00+02:00"  # 08:30 UTC, another offset than Z
    fake.compare(
        comparison(
            7, [commit(f"{i:040x}", oldest if i == 0 else iso(ago(hours=1))) for i in range(7)]
        )
    )
    return fake


@pytest.fixture
async def http(fake: FakeGitHub, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def make(http: HttpClient, *, token: str | None = TOKEN, **fields: Any) -> GitHubDeployments:
    config: dict[str, Any] = {
        "type": "github_deployments",
        "name": "deploys",
        "repo": REPO,
        "environments": ["production"],
        **fields,
    }
    if token is not None:
        config.setdefault("token_env", "GITHUB_TOKEN")
        config["token"] = SecretStr(token)
    return GitHubDeployments(GitHubDeploymentsSource.model_validate(config), http)


async def only(source: GitHubDeployments) -> Deployment:
    (found,) = (await source.poll()).deployments
    return found


# --- the realistic story ----------------------------------------------------------------------


async def test_a_deploy_in_progress_over_the_live_one_with_drift(
    http: HttpClient, fake: FakeGitHub
) -> None:
    result = await make(http).poll()

    (found,) = result.deployments
    assert found.source == "deploys"
    assert found.service == "shop"  # the repository's name, without a configured service
    assert found.environment == "production"
    assert found.id == "903"
    assert found.state is DeployState.RUNNING
    assert found.provider_state == "in_progress"
    # What is live is the older deployment whose latest status is success.
    assert found.revision == LIVE_SHA
    assert found.version == "main"
    assert found.deployed_at == ago(hours=2)
    assert found.target_revision == NEW_SHA
    assert found.started_at == ago(minutes=3)
    assert found.finished_at is None
    assert found.author == "release-bot"
    assert found.detail is None
    assert found.url == f"https://github.com/{REPO}/actions/runs/9033"
    assert found.repo == REPO and found.pipeline == REPO
    assert found.behind_by == 7
    assert found.oldest_undeployed_at == datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
    assert result.summary == "production: a1b2c3d live 2h ago, 7 commits behind, deploying"


async def test_requests_headers_and_where_the_lookups_stop(
    http: HttpClient, fake: FakeGitHub
) -> None:
    await make(http).poll()

    # Statuses stop at the first success: the deployment before it is never asked about.
    assert fake.paths() == [
        f"{BASE}/deployments",
        f"{BASE}/deployments/903/statuses",
        f"{BASE}/deployments/902/statuses",
        f"{BASE}/compare/{LIVE_SHA}...main",
    ]
    listing, statuses = fake.requests[0], fake.requests[1]
    assert dict(listing.url.params) == {"environment": "production", "per_page": "10"}
    assert dict(statuses.url.params) == {"per_page": "5"}
    for request in fake.requests:
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_a_second_poll_is_conditional_and_reads_the_same(
    http: HttpClient, fake: FakeGitHub
) -> None:
    source = make(http)
    first = await source.poll()
    fake.route(f"{BASE}/deployments?production", None, 304, etag='W/"deployments-v1"')

    second = await source.poll()

    listing = [r for r in fake.requests if r.url.path.endswith("/deployments")]
    assert "If-None-Match" not in listing[0].headers
    assert listing[1].headers["If-None-Match"] == 'W/"deployments-v1"'
    assert second.deployments == first.deployments


async def test_the_newest_succeeded_is_live_and_has_no_target(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.statuses(
        903, [status(9034, "success", ago(minutes=1)), status(9031, "queued", ago(minutes=3))]
    )
    fake.compare(comparison(0, [], "identical"), sha=NEW_SHA)

    result = await make(http).poll()

    (found,) = result.deployments
    assert found.state is DeployState.SUCCEEDED
    assert found.revision == NEW_SHA
    assert found.target_revision is None
    assert found.deployed_at == found.finished_at == ago(minutes=1)
    assert found.behind_by == 0
    assert found.oldest_undeployed_at is None
    assert result.summary == "production: f00dfee live 1m ago, up to date"
    assert f"{BASE}/deployments/902/statuses" not in fake.paths()


async def test_a_tag_is_the_version_and_a_sha_ref_is_not(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.deployments(
        "production",
        [
            deployment(903, NEW_SHA, ago(minutes=3), ref="v2.4.0"),
            deployment(902, LIVE_SHA, ago(hours=2), ref=LIVE_SHA),
        ],
    )
    fake.statuses(903, [status(9034, "success", ago(minutes=1))])
    fake.compare(comparison(0, [], "identical"), sha=NEW_SHA)
    assert (await only(make(http))).version == "v2.4.0"

    fake.statuses(903, [status(9035, "failure", ago(minutes=1))])
    assert (await only(make(http))).version is None


async def test_a_failed_deploy_says_why_and_keeps_the_older_commit_live(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.statuses(
        903,
        [
            status(9034, "failure", ago(minutes=1), description="helm upgrade failed: timed out"),
            status(9033, "in_progress", ago(minutes=2)),
        ],
    )
    result = await make(http).poll()

    (found,) = result.deployments
    assert found.state is DeployState.FAILED
    assert found.provider_state == "failure"
    assert found.detail == "helm upgrade failed: timed out"
    assert found.finished_at == ago(minutes=1)
    assert found.revision == LIVE_SHA and found.target_revision == NEW_SHA
    assert result.summary == "production: a1b2c3d live 2h ago, 7 commits behind, deploy failed"


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("queued", DeployState.QUEUED),
        ("pending", DeployState.QUEUED),
        ("in_progress", DeployState.RUNNING),
        ("error", DeployState.FAILED),
        ("failure", DeployState.FAILED),
        ("SUCCESS", DeployState.SUCCEEDED),
    ],
)
async def test_every_documented_state_word(
    http: HttpClient, fake: FakeGitHub, word: str, state: DeployState
) -> None:
    fake.statuses(903, [status(9034, word, ago(minutes=1), description=None)])
    fake.compare(comparison(0, [], "identical"), sha=NEW_SHA)

    found = await only(make(http))

    assert found.state is state
    assert found.provider_state == word
    if state is DeployState.FAILED:
        # No description: the word itself is the reason.
        assert found.detail == f"deployment {word}"


async def test_a_deployment_without_statuses_is_unknown_in_words(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.statuses(903, [])
    result = await make(http).poll()

    (found,) = result.deployments
    assert found.state is DeployState.UNKNOWN
    assert found.provider_state is None
    assert found.detail == "no status reported"
    assert found.revision == LIVE_SHA  # the older deployment is still live
    assert result.summary == "production: a1b2c3d live 2h ago, 7 commits behind, no status reported"


async def test_a_deactivated_newest_deployment_is_unknown(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.statuses(
        903, [status(9035, "inactive", ago(minutes=1)), status(9034, "success", ago(minutes=2))]
    )

    result = await make(http).poll()

    (found,) = result.deployments
    assert found.state is DeployState.UNKNOWN
    assert found.provider_state == "inactive"
    assert found.detail == "deactivated"
    # It did finish (successfully) before someone deactivated it.
    assert found.finished_at == ago(minutes=2)
    assert result.summary.endswith(", deactivated")


async def test_an_unknown_state_word_is_unknown_and_kept(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.statuses(903, [status(9035, "rolling_back", ago(minutes=1))])

    result = await make(http).poll()

    (found,) = result.deployments
    assert found.state is DeployState.UNKNOWN
    assert found.provider_state == "rolling_back"
    assert found.detail is not None and "rolling_back" in found.detail
    assert result.summary.endswith(", state unknown")


async def test_an_environment_without_deployments(http: HttpClient, fake: FakeGitHub) -> None:
    # GitHub answers an empty list for an environment it never deployed to (not a 404).
    fake.deployments("qa", [])
    result = await make(http, environments=["production", "qa"]).poll()

    production, qa = result.deployments
    assert production.state is DeployState.RUNNING
    assert qa.environment == "qa"
    assert qa.state is DeployState.UNKNOWN
    assert qa.detail == "no deployments yet"
    assert qa.id is None and qa.revision is None
    assert qa.url == f"https://github.com/{REPO}/deployments"
    assert result.summary.endswith("; qa: no deployments yet")


async def test_status_lookups_stop_after_five_failures(http: HttpClient, fake: FakeGitHub) -> None:
    items = [deployment(800 + i, NEW_SHA, ago(hours=i + 1)) for i in range(8)]
    fake.deployments("production", items)
    for i in range(8):
        fake.statuses(800 + i, [status(i, "success" if i == 7 else "failure", ago(hours=i))])

    result = await make(http).poll()

    (found,) = result.deployments
    assert found.state is DeployState.FAILED
    assert found.revision is None and found.deployed_at is None
    assert found.behind_by is None
    lookups = [p for p in fake.paths() if p.endswith("/statuses")]
    assert len(lookups) == 5
    assert not [p for p in fake.paths() if "/compare/" in p]
    assert result.summary == "production: deploy failed"


async def test_an_unsorted_list_with_other_offsets_still_finds_the_newest(
    http: HttpClient, fake: FakeGitHub
) -> None:
    # Oldest first, and the newest written with a -08:00 offset.
    newest = deployment(903, NEW_SHA, ago(minutes=3))
    newest["created_at"] = (
        (NOW - timedelta(minutes=3))
        .astimezone(datetime.fromisoformat("2026-01-01T00:00:00-08:00").tzinfo)
        .isoformat()
    )
    fake.deployments(
        "production",
        [deployment(901, OLD_SHA, ago(days=1)), newest, deployment(902, LIVE_SHA, ago(hours=2))],
    )
    fake.statuses(903, [status(9031, "queued", "2026-11-26T11:57:00.123456789Z")])

    found = await only(make(http))

    assert found.id == "903"
    assert found.state is DeployState.QUEUED
    assert found.started_at == ago(minutes=3)
    assert found.revision == LIVE_SHA


# --- drift ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [404, 422])
async def test_a_live_commit_github_no_longer_knows_costs_only_the_drift(
    http: HttpClient, fake: FakeGitHub, code: int
) -> None:
    fake.compare({"message": "No common ancestor between a1b2c3d and main."}, code)

    result = await make(http).poll()

    (found,) = result.deployments
    assert found.behind_by is None and found.oldest_undeployed_at is None
    assert found.revision == LIVE_SHA
    assert result.summary == (
        "production: a1b2c3d live 2h ago, drift unknown (a1b2c3d not found on main), deploying"
    )


async def test_a_compare_that_fails_costs_only_the_drift(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.routes[f"{BASE}/compare/{LIVE_SHA}...main"] = lambda r: httpx.Response(
        502, text="<!doctype html><title>Unicorn!</title>"
    )
    result = await make(http).poll()

    assert result.deployments[0].behind_by is None
    assert "drift unknown (compare failed)" in result.summary


@pytest.mark.parametrize("word", ["identical", "behind"])
async def test_nothing_waits_when_main_is_not_ahead(
    http: HttpClient, fake: FakeGitHub, word: str
) -> None:
    payload = comparison(0, [], word)
    payload["behind_by"] = 2 if word == "behind" else 0
    fake.compare(payload)

    found = await only(make(http))

    assert found.behind_by == 0
    assert found.oldest_undeployed_at is None


async def test_diverged_counts_the_commits_ahead_and_falls_back_to_the_author_date(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.compare(comparison(3, [commit("e" * 40, None, "2026-11-26T05:15:00.5-01:00")], "diverged"))

    found = await only(make(http))

    assert found.behind_by == 3
    assert found.oldest_undeployed_at == datetime(2026, 11, 26, 6, 15, 0, 500000, tzinfo=UTC)


async def test_environments_sharing_a_live_commit_share_one_compare(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.deployments("staging", [deployment(950, LIVE_SHA, ago(hours=3), env="staging")])
    fake.statuses(950, [status(9501, "success", ago(hours=3))])

    result = await make(http, environments=["production", "staging"], branch="main").poll()

    assert [d.behind_by for d in result.deployments] == [7, 7]
    assert len([p for p in fake.paths() if "/compare/" in p]) == 1
    assert result.summary == (
        "production: a1b2c3d live 2h ago, 7 commits behind, deploying; "
        "staging: a1b2c3d live 3h ago, 7 commits behind"
    )


async def test_a_branch_with_a_slash_is_compared_whole(http: HttpClient, fake: FakeGitHub) -> None:
    fake.route(
        f"{BASE}/compare/{LIVE_SHA}...release/2.x",
        comparison(2, [commit("d" * 40, iso(ago(hours=5)))]),
    )

    found = await only(make(http, branch="release/2.x"))

    assert found.behind_by == 2
    assert found.oldest_undeployed_at == ago(hours=5)


# --- config -----------------------------------------------------------------------------------


async def test_configured_service_environment_and_pipeline(
    http: HttpClient, fake: FakeGitHub
) -> None:
    found = await only(
        make(http, service="storefront", environment="prod", pipeline="acme/shop:ci.yml")
    )

    assert found.service == "storefront"
    assert found.environment == "prod"  # one environment: the configured name shows
    assert found.pipeline == "acme/shop:ci.yml"
    # GitHub is still asked about its own environment name.
    assert fake.requests[0].url.params["environment"] == "production"


async def test_a_github_enterprise_server_links_to_its_own_pages(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.statuses(
        903,
        [status(9035, "queued", ago(minutes=1), log_url=None, target_url="", environment_url=None)],
    )
    config = {"api_url": "https://ghe.acme.example/api/v3"}
    fake.routes = {k.replace(BASE, f"/api/v3{BASE}"): v for k, v in fake.routes.items()}

    found = await only(make(http, **config))

    assert found.url == f"https://ghe.acme.example/{REPO}/deployments"


async def test_url_prefers_log_then_target_then_environment(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.statuses(903, [status(9035, "queued", ago(minutes=1), log_url="javascript:alert(1)")])
    assert (await only(make(http))).url == "https://ci.example.com/deploys/9035"

    fake.statuses(903, [status(9036, "queued", ago(minutes=1), log_url=None, target_url=None)])
    assert (await only(make(http))).url == "https://shop.example.com"


# --- bad input --------------------------------------------------------------------------------


async def test_untrusted_text_is_cleaned_and_kept_out_of_the_summary(
    http: HttpClient, fake: FakeGitHub
) -> None:
    newest = deployment(903, NEW_SHA, ago(minutes=3), creator=user("evil\x1b[2J\x07bot"))
    fake.deployments("production", [newest, deployment(902, LIVE_SHA, ago(hours=2))])
    fake.statuses(903, [status(9034, "failure", ago(minutes=1), description=HOSTILE)])

    result = await make(http).poll()

    (found,) = result.deployments
    assert found.detail is not None
    assert "\x1b" not in found.detail and "\x07" not in found.detail
    assert "evil.example" not in found.detail
    # Markup stays literal text: the views show it with rich.text.Text, never as markup.
    assert '"[bold red]boom[/]"' in found.detail
    assert found.author == "evilbot"
    assert "boom" not in result.summary and "\x1b" not in result.summary


async def test_nulls_and_odd_types_where_the_docs_allow_them(
    http: HttpClient, fake: FakeGitHub
) -> None:
    newest = deployment(
        903, NEW_SHA, ago(minutes=3), creator=None, payload="legacy string payload", ref=None
    )
    fake.deployments("production", [newest, deployment(902, LIVE_SHA, ago(hours=2))])
    fake.statuses(903, [status(9034, "in_progress", None, description=None)])

    found = await only(make(http))

    assert found.state is DeployState.RUNNING
    assert found.author is None


async def test_a_sha_that_is_not_a_sha_never_escapes_its_path_segment(
    http: HttpClient, fake: FakeGitHub
) -> None:
    odd = "../../evil?x=1#\x1b[31m"
    fake.deployments("production", [deployment(902, odd, ago(hours=2))])

    result = await make(http).poll()

    compare = [r for r in fake.requests if "/compare/" in r.url.path]
    assert compare[0].url.path.startswith(f"{BASE}/compare/")
    assert compare[0].url.raw_path.decode().count("/") == BASE.count("/") + 2
    assert "\x1b" not in result.summary
    assert "drift unknown" in result.summary


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!DOCTYPE html><html><body>Sign in to GitHub</body></html>", "HTML page"),
        (b'[{"id": 903, "sha": "f00d', "invalid JSON"),
        (b'{"message": "Moved Permanently"}', "unexpected payload"),
        (b'[{"id": "not a number"}]', "unexpected payload"),
    ],
)
async def test_answers_that_are_not_a_deployment_list_are_bad_payloads(
    http: HttpClient, fake: FakeGitHub, body: bytes, words: str
) -> None:
    fake.routes[f"{BASE}/deployments?production"] = lambda r: httpx.Response(200, content=body)

    with pytest.raises(BadPayload) as raised:
        await make(http).poll()
    assert words in str(raised.value)


# --- errors -----------------------------------------------------------------------------------


async def test_an_unknown_repository_is_named(http: HttpClient, fake: FakeGitHub) -> None:
    fake.routes.clear()
    with pytest.raises(NotFound) as raised:
        await make(http).poll()
    assert str(raised.value) == (
        "repository acme/shop not found on api.github.com (or the token cannot see it)"
    )


async def test_a_refused_token_is_named_by_its_origin_never_by_value(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.route(f"{BASE}/deployments?production", {"message": "Bad credentials"}, 401)
    with pytest.raises(AuthFailed) as raised:
        await make(http).poll()
    assert "$GITHUB_TOKEN" in str(raised.value) and "HTTP 401" in str(raised.value)
    assert TOKEN not in str(raised.value)

    with pytest.raises(AuthFailed) as raised:
        await make(http, token=None).poll()
    assert "set token_env" in str(raised.value)


async def test_403_without_permission_vs_403_rate_limit(http: HttpClient, fake: FakeGitHub) -> None:
    fake.route(
        f"{BASE}/deployments/903/statuses",
        {"message": "Resource not accessible by personal access token"},
        403,
    )
    with pytest.raises(AuthFailed) as raised:
        await make(http).poll()
    message = str(raised.value)
    assert "denied access to acme/shop (HTTP 403)" in message
    assert "read access to Deployments" in message and "$GITHUB_TOKEN" in message
    assert TOKEN not in message

    fake.route(
        f"{BASE}/deployments?production",
        {"message": "API rate limit exceeded for user ID 1."},
        403,
        **{"x-ratelimit-remaining": "0"},
    )
    with pytest.raises(RateLimited) as limited:
        await make(http).poll()
    assert limited.value.retry_at is not None
    assert TOKEN not in str(limited.value)


async def test_a_server_error_on_the_list_fails_the_poll_in_words(
    http: HttpClient, fake: FakeGitHub
) -> None:
    fake.routes[f"{BASE}/deployments?production"] = lambda r: httpx.Response(
        503, text="<html><body>No server is currently available</body></html>"
    )
    with pytest.raises(ServerError) as raised:
        await make(http).poll()
    assert "HTTP 503" in str(raised.value) and TOKEN not in str(raised.value)


async def test_a_deployment_deleted_between_requests_reads_as_without_statuses(
    http: HttpClient, fake: FakeGitHub
) -> None:
    del fake.routes[f"{BASE}/deployments/903/statuses"]

    found = await only(make(http))

    assert found.state is DeployState.UNKNOWN
    assert found.detail == "no status reported"
    assert found.revision == LIVE_SHA
