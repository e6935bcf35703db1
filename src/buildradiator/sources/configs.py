"""The ``[[sources]]`` tables: one pydantic model per provider, all forbidding unknown keys.

Keys mean the same everywhere: ``url`` (a server or feed), ``api_url`` (an API base),
``repo``/``branch``, and ``token_env`` / ``token_file`` / ``token_command`` for the secret.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from buildradiator.config.base import SourceBase, Strict, check_http_url
from buildradiator.sources.prodconfigs import (
    AlertmanagerSource,
    ArgoCDSource,
    BlockersSource,
    GitHubDeploymentsSource,
    PrometheusSource,
)


class GitLabSource(SourceBase):
    """GitLab CI pipelines on a ref, gitlab.com or self-managed."""

    type: Literal["gitlab"]
    api_url: str = "https://gitlab.com/api/v4"
    """The API base of a self-managed server: ``https://gitlab.example.com/api/v4``."""
    project: str | None = None
    """A project id (``1234``) or path (``group/subgroup/project``)."""
    projects: list[str] = Field(default_factory=list)
    branch: str = "main"
    """The ref whose pipelines are watched."""
    per_page: int = Field(default=20, ge=1, le=100)

    _check_api = field_validator("api_url")(classmethod(lambda cls, v: check_http_url(v)))

    @model_validator(mode="after")
    def _some_project(self) -> GitLabSource:
        if not self.project and not self.projects:
            raise ValueError('name a project with project = "group/name" (or projects = [...])')
        return self

    @property
    def all_projects(self) -> list[str]:
        head = [self.project] if self.project else []
        return head + [p for p in self.projects if p != self.project]


class JenkinsSource(SourceBase):
    """Jenkins jobs by name, in folders, and branches of multibranch jobs."""

    type: Literal["jenkins"]
    url: str
    """The Jenkins root, e.g. ``https://jenkins.example.com`` (or ``.../jenkins``)."""
    jobs: list[str] = Field(min_length=1)
    """Job paths: ``monolith``, ``team/folder/job``; a multibranch job's branch:
    ``shop/main`` (the branch is the last part; ``feature%2Fx`` for a slash in it)."""
    username: str | None = None
    """Basic auth user; the API token comes from token_env / token_file / token_command."""
    builds: int = Field(default=10, ge=1, le=100)
    """How many recent builds to read per job (one request per job using ``tree=``)."""

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))


class BuildkiteSource(SourceBase):
    """Buildkite pipelines of an organisation (REST v2)."""

    type: Literal["buildkite"]
    api_url: str = "https://api.buildkite.com"
    organization: str = Field(min_length=1)
    """The organisation slug."""
    pipelines: list[str] = Field(default_factory=list)
    """Pipeline slugs or glob patterns (``payments-*``); default: all of the organisation."""
    branch: str = "main"
    per_page: int = Field(default=20, ge=1, le=100)
    test_suites: dict[str, str] = Field(default_factory=dict)
    """Test Engine suites whose flaky tests count for a pipeline: ``{ suite-slug =
    "pipeline-slug" }`` (needs the ``read_suites`` scope)."""

    _check_api = field_validator("api_url")(classmethod(lambda cls, v: check_http_url(v)))


class CircleCISource(SourceBase):
    """CircleCI (API v2) projects: pipelines on a branch, their workflows and jobs."""

    type: Literal["circleci"]
    api_url: str = "https://circleci.com"
    """The server root (``/api/v2`` is appended); a CircleCI server install's URL."""
    projects: list[str] = Field(min_length=1)
    """Project slugs: ``gh/org/repo``, ``bb/org/repo`` or ``circleci/ORG-ID/PROJECT-ID``."""
    branch: str = "main"
    flaky_tests: bool = True
    """Also read each project's flaky-tests insight (at most every ``flaky_every`` seconds)."""
    flaky_every: float = Field(default=600.0, ge=60.0, le=86400.0)

    _check_api = field_validator("api_url")(classmethod(lambda cls, v: check_http_url(v)))

    @field_validator("projects")
    @classmethod
    def _slugs(cls, value: list[str]) -> list[str]:
        for slug in value:
            if not re.fullmatch(r"[\w.-]+/[\w.-]+/[\w.-]+", slug):
                raise ValueError(f"{slug!r} must look like vcs/org/repo, e.g. gh/acme/api")
        return value


class BuildbotSource(SourceBase):
    """Buildbot (REST API v2) builders and their builds."""

    type: Literal["buildbot"]
    url: str
    """The Buildbot root, e.g. ``https://buildbot.example.com`` (``/api/v2`` is appended)."""
    builders: list[str] = Field(default_factory=list)
    """Builder names or glob patterns; default: all builders (or those with ``tags``)."""
    tags: list[str] = Field(default_factory=list)
    """Only builders carrying one of these tags."""
    branch: str | None = None
    """Only builds whose ``branch`` property is this; default: any branch."""
    builds: int = Field(default=10, ge=1, le=100)

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))


class JUnitSource(SourceBase):
    """JUnit XML reports (files on disk or CI artifacts by URL), fed to the flaky-test ranking.

    A report is read once per change; each distinct report is one test run. It shows no
    pipeline of its own: its runs count for ``pipeline``."""

    type: Literal["junit"]
    pipeline: str | None = Field(default=None, min_length=1, max_length=200)
    """The pipeline key the runs belong to (``acme/monolith``), so the flaky tests they reveal
    are ranked under that pipeline; default: the source's name."""
    pipeline_source: str | None = None
    """The name of the source that shows ``pipeline`` (e.g. ``github``), so the flakes count for
    that pipeline's row; default: this source."""
    paths: list[str] = Field(default_factory=list)
    """Glob patterns of report files (``~`` expands, ``**`` recurses), e.g.
    ``~/src/monolith/target/surefire-reports/TEST-*.xml``."""
    urls: list[str] = Field(default_factory=list)
    """Report URLs (a CI artifact serving the XML itself). The token goes as
    ``Authorization: Bearer``, or with ``username`` as Basic auth."""
    username: str | None = None
    """Basic auth user for ``urls`` (Jenkins); the password is the token."""
    commit: str | None = Field(default=None, min_length=1, max_length=100)
    """The commit every report was built from, when known and fixed: failures and passes of a
    test across reports then count as flakes. Default: unknown, and only flakes within one
    report count (Surefire ``flakyFailure``, a test failed then passed)."""
    max_files: int = Field(default=500, ge=1, le=10_000)
    """Files looked at, at most (the first in name order): a glob that matches a whole disk
    must not stall a poll."""
    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024)
    """Size limit of one report in bytes (at most 20 MiB, the parser's own limit); a larger
    file is refused unread. URLs are also held to the HTTP client's 10 MiB."""

    @field_validator("urls")
    @classmethod
    def _urls_shape(cls, value: list[str]) -> list[str]:
        return [check_http_url(url) for url in value]

    @model_validator(mode="after")
    def _some_report(self) -> JUnitSource:
        if not self.paths and not self.urls:
            raise ValueError('name reports with paths = ["dir/TEST-*.xml"] or urls = [...]')
        return self


class RadiatorFeedSource(SourceBase):
    """Another radiator's ``/snapshot.json`` (``buildradiator serve``): show what a central
    radiator collects without polling the CI APIs again."""

    type: Literal["radiator"]
    url: str
    """The other radiator's address, e.g. ``http://radiator.internal:8686`` (``/snapshot.json``
    is appended unless the URL already names it)."""
    only: list[str] = Field(default_factory=list)
    """Only these of its sources (glob patterns over source names); default: all."""

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))


__all__ = [
    "AlertmanagerSource",
    "ArgoCDSource",
    "BlockersSource",
    "GitHubDeploymentsSource",
    "PrometheusSource",
    "RadiatorFeedSource",
    "SourceBase",
    "Strict",
]
