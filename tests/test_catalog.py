"""The provider declarations and what is derived from them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from buildradiator.errors import SourceError
from buildradiator.simulator.providers import NAMES
from buildradiator.sources.base import Provider, Source
from buildradiator.sources.catalog import PROVIDERS, SOURCE_TYPES, TYPES, make_source, url_of
from buildradiator.sources.github import PROVIDER as GITHUB
from buildradiator.sources.github.config import GitHubSource
from buildradiator.sources.http import HttpClient


def test_types_are_declared_once_each() -> None:
    types = [p.type for p in PROVIDERS]
    assert len(types) == len(set(types))
    assert list(SOURCE_TYPES) == types


@pytest.mark.parametrize("provider", PROVIDERS, ids=[p.type for p in PROVIDERS])
def test_each_declaration_names_a_source_and_a_url_field(provider: Provider) -> None:
    cls = provider.load()
    assert issubclass(cls, Source)
    if provider.url_field:
        assert provider.url_field in provider.config.model_fields or isinstance(
            getattr(provider.config, provider.url_field, None), property
        ), provider.url_field


def test_a_declaration_must_match_its_config_type() -> None:
    with pytest.raises(TypeError, match="Literal"):
        Provider("gitlab", GitHubSource, "buildradiator.sources.github.source:GitHubActions")
    with pytest.raises(ValueError, match="module:Class"):
        Provider("github", GitHubSource, "GitHubActions")


def test_the_union_validates_each_declared_model() -> None:
    found = TYPES.adapter.validate_python({"type": "github", "name": "g", "repo": "acme/shop"})
    assert isinstance(found, GitHubSource)


def test_url_of_reads_the_declared_field() -> None:
    config = GitHubSource(
        type="github", name="g", repo="acme/shop", api_url="https://ghes.example.com/api/v3"
    )
    assert GITHUB.url_field == "api_url"
    assert url_of(config) == "https://ghes.example.com/api/v3"


async def test_make_source_builds_the_declared_class() -> None:
    config = GitHubSource(type="github", name="g", repo="acme/shop")
    http = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    )
    source = make_source(config, http)
    await http.aclose()
    assert source.type == "github" and type(source).provider is GITHUB


def test_the_simulator_list_comes_from_the_declarations() -> None:
    assert NAMES == tuple(p.simulator for p in PROVIDERS if p.simulator)
    assert "sim_gitlab" in NAMES


@pytest.mark.parametrize(
    ("status", "token", "words"),
    [
        (401, None, "api.github.com asked for a token (HTTP 401): set token_env"),
        (401, "t0k3n", "refused the token from $GH_TOKEN (HTTP 401)"),
        (403, "t0k3n", "denied access to repository acme/shop (HTTP 403): the token from "
         "$GH_TOKEN lacks permission (it needs read access to Actions)"),
        (403, None, "denied access to repository acme/shop (HTTP 403) without a token"),
        (404, "t0k3n", "repository acme/shop not found on api.github.com"),
    ],
)  # fmt: skip
async def test_the_one_request_path_words_a_status_and_sends_the_auth_hook(
    status: int, token: str | None, words: str
) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={"message": "no"})

    config = GitHubSource(
        type="github",
        name="g",
        repo="acme/shop",
        token_env="GH_TOKEN",
        token=SecretStr(token) if token else None,
    )
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(answer)))
    try:
        with pytest.raises(SourceError) as caught:
            await make_source(config, http).poll()
    finally:
        await http.aclose()
    assert words in str(caught.value)
    assert (token or "never") not in str(caught.value)
    sent = seen[0].headers.get("authorization")
    assert sent == (f"Bearer {token}" if token else None)


SRC = Path(__file__).resolve().parent.parent / "src" / "buildradiator"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_configuration_never_imports_the_sources() -> None:
    for path in (SRC / "config").rglob("*.py"):
        upward = {m for m in _imports(path) if m.startswith("buildradiator.sources")}
        assert not upward, (path.name, upward)


def test_a_provider_folder_imports_only_the_shared_sources_modules_and_itself() -> None:
    shared = {"base", "flakes", "http", "payload", "production", "ratelimits", "reading"}
    shared |= {"stages", "testreports", "wire", "xmlsafe"}
    for provider in PROVIDERS:
        folder = SRC / "sources" / provider.type
        for path in folder.glob("*.py"):
            for module in _imports(path):
                parts = module.split(".")
                if parts[:2] != ["buildradiator", "sources"] or len(parts) < 3:
                    continue
                # GitHub Deployments shares the API's version and web address with GitHub.
                allowed = (
                    shared
                    | {provider.type}
                    | ({"github"} if provider.type == "github_deployments" else set())
                )
                assert parts[2] in allowed, (str(path.relative_to(SRC)), module)


@pytest.mark.parametrize("provider", PROVIDERS, ids=[p.type for p in PROVIDERS])
def test_each_source_module_imports_on_its_own(provider: Provider) -> None:
    module = provider.source.partition(":")[0]
    code = f"import {module}; import buildradiator.sources.catalog"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


async def test_words_naming_an_unknown_placeholder_still_say_what_failed() -> None:
    from buildradiator.errors import NotFound
    from buildradiator.sources.base import Words
    from buildradiator.sources.github.source import GitHubActions

    class Odd(GitHubActions):
        status_words = {404: Words(NotFound, "{what} is gone{nobody} from {host}")}

    config = GitHubSource(type="github", name="g", repo="acme/shop")
    http = HttpClient(
        httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    )
    try:
        with pytest.raises(NotFound, match=r"^repository acme/shop is gone from api\.github\.com$"):
            await Odd(config, http).poll()
    finally:
        await http.aclose()
