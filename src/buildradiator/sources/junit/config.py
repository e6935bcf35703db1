"""The ``[[sources]]`` table of JUnit reports."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from buildradiator.config.base import SourceBase, check_http_url


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
