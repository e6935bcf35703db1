"""Buildbot's words for builds (api-facts §7) and what a build tells: times, who, which revision,
which branch, which attempt."""

from __future__ import annotations

import re
from typing import Any

from buildradiator.model import Status
from buildradiator.sources.buildbot.payloads import BuildPayload

RESULTS: dict[int, tuple[Status, str]] = {
    0: (Status.PASSED, "success"),
    1: (Status.PASSED, "warnings"),
    2: (Status.FAILED, "failure"),
    4: (Status.FAILED, "exception"),
    5: (Status.CANCELED, "retry"),
    6: (Status.CANCELED, "cancelled"),
}
SKIPPED = 3


def build_status(
    results: float | None, complete: bool | None, state: str | None
) -> tuple[Status, str] | None:
    """Our status and word for a build; ``None`` for a skipped build (left out)."""
    if results is None:
        if complete:
            return Status.UNKNOWN, "complete, no result"
        return Status.RUNNING, "building"
    code = int(results)
    if code == SKIPPED:
        return None
    return RESULTS.get(code, (Status.UNKNOWN, f"result {code}"))


_EMAIL = re.compile(r"\s*<[^>]*>\s*$")


def person(value: Any) -> str | None:
    """``Dana Smith <dana@x>`` -> ``Dana Smith``; a list (``owners``) -> its first person."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str) or not value.strip():
        return None
    name = _EMAIL.sub("", value).strip()
    return name or value.strip().strip("<>")


def revision(value: Any) -> str | None:
    """``got_revision``: a string, or ``{codebase: revision}`` with several codebases."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        return next((v for v in value.values() if isinstance(v, str) and v), None)
    return None


def is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def newest_first(build: BuildPayload) -> tuple[float, int]:
    return (-(build.number or 0), -build.buildid)


def branch_of(build: BuildPayload) -> str | None:
    value = build.properties.get("branch")
    return value if isinstance(value, str) and value else None


AUTHOR_PROPERTIES = (
    "author",
    "event.change.author",
    "event.change.owner.name",
    "event.patchSet.uploader.name",
    "owners",
    "owner",
)


def author_of(build: BuildPayload) -> str | None:
    for name in AUTHOR_PROPERTIES:
        found = person(build.properties.get(name))
        if found:
            return found
    return None


def attempts_of(builds: list[BuildPayload]) -> dict[int, int]:
    """Builds that ran the same build request again (after a RETRY) count as further attempts."""
    by_request: dict[int, list[BuildPayload]] = {}
    for build in builds:
        if build.buildrequestid is not None:
            by_request.setdefault(int(build.buildrequestid), []).append(build)
    attempts: dict[int, int] = {}
    for group in by_request.values():
        for index, build in enumerate(sorted(group, key=lambda b: (b.number or 0, b.buildid))):
            attempts[build.buildid] = index + 1
    return attempts
