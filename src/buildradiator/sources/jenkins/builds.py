"""Reading Jenkins builds: epoch times, causes (who started it, what it repeats), branches, job
paths, and the facts of one build with its attempt number."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from buildradiator.model import (
    Status,
    first_line,
)
from buildradiator.sources.jenkins.payloads import BuildPayload, Cause, Revision

# --- status vocabulary (api-facts §3) ---------------------------------------------------------

RESULTS = {
    "SUCCESS": Status.PASSED,
    "UNSTABLE": Status.FAILED,
    "FAILURE": Status.FAILED,
    "ABORTED": Status.CANCELED,
    "NOT_BUILT": Status.UNKNOWN,
}


def build_status(result: str | None, building: bool | None) -> tuple[Status, str]:
    """Our status and the word shown for one Jenkins build."""
    word = (result or "").strip()
    if building or not word:
        return Status.RUNNING, f"building, {word} so far" if word else "building"
    return RESULTS.get(word.upper(), Status.UNKNOWN), word


# --- small readers ----------------------------------------------------------------------------


_REPEATS = re.compile(
    r"(?:rebuilds build|rebuilt|replayed|restarted from build|naginator after build)\s*#(\d+)",
    re.IGNORECASE,
)
_STARTED_BY_USER = re.compile(r"^started by user (.+)$", re.IGNORECASE)


def repeated_build(causes: list[Cause]) -> int | None:
    """The number of the build this one repeats (rebuild, replay, restart, retry), if it says."""
    for cause in causes:
        match = _REPEATS.search(cause.shortDescription or "")
        if match:
            return int(match.group(1))
        kind = (cause.cls or "").lower()
        if cause.upstreamBuild and ("rebuild" in kind or "naginator" in kind or "replay" in kind):
            return int(cause.upstreamBuild)
    return None


def cause_user(causes: list[Cause]) -> str | None:
    for cause in causes:
        if cause.userName:
            return cause.userName
        match = _STARTED_BY_USER.match((cause.shortDescription or "").strip())
        if match:
            return match.group(1)
    return None


def short_branch(name: str | None) -> str | None:
    """``refs/remotes/origin/main`` or ``origin/main`` -> ``main``."""
    if not name:
        return None
    for prefix in ("refs/remotes/origin/", "refs/heads/", "origin/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def job_url(root: str, path: str) -> str:
    """``a/b/c`` -> ``{root}/job/a/job/b/job/c``; each part is one item name, sent encoded (so a
    multibranch branch named ``feature%2Fx`` travels as ``feature%252Fx``, as Jenkins links it)."""
    parts = [p for p in path.strip("/").split("/") if p]
    return root.rstrip("/") + "".join(f"/job/{quote(p, safe='')}" for p in parts)


def pretty_path(path: str) -> str:
    """What the screen calls a job path: the branch's own slashes shown again."""
    return "/".join(unquote(p) for p in path.strip("/").split("/") if p)


# --- turning a job into a pipeline ------------------------------------------------------------


@dataclass
class Facts:
    """What one build says about its source code, before rebuilds inherit from their origin."""

    payload: BuildPayload
    number: int
    causes: list[Cause] = field(default_factory=list)
    commit: str | None = None
    author: str | None = None
    message: str | None = None
    branch: str | None = None
    repeats: int | None = None
    attempt: int = 1
    revisions: list[str] = field(default_factory=list)


def facts_of(build: BuildPayload, number: int) -> Facts:
    causes: list[Cause] = []
    revisions: list[Revision] = []
    for action in build.actions or ():
        if action is None:
            continue
        causes.extend(action.causes or ())
        if action.lastBuiltRevision is not None:
            revisions.append(action.lastBuiltRevision)
    items = [
        item
        for change_set in [*(build.changeSets or ()), build.changeSet]
        if change_set is not None
        for item in change_set.items or ()
    ]
    shas = [r.SHA1 for r in revisions if r.SHA1]
    # A Pipeline with a shared library has one revision per checkout; the change-set item that
    # matches one of them is the project's own commit.
    head = next((i for i in items if i.commitId and i.commitId in shas), None)
    head = head or (items[0] if items else None)
    # Without a change set, the last revision: libraries load before a Pipeline's own checkout.
    commit = (head.commitId if head else None) or (shas[-1] if shas else None)
    author = head.author.fullName if head and head.author else None
    culprits = [c.fullName for c in build.culprits or () if c and c.fullName]
    author = author or (culprits[0] if culprits else None) or cause_user(causes)
    # The branch of the revision that was built, not of a library checked out beside it.
    built = [r for r in revisions if r.SHA1 and r.SHA1 == commit] or revisions
    branch = next((short_branch(b.name) for r in built for b in r.branch or () if b.name), None)
    return Facts(
        payload=build,
        number=number,
        causes=causes,
        commit=commit,
        author=author,
        message=first_line(head.msg or head.comment) if head else None,
        branch=branch,
        repeats=repeated_build(causes),
        revisions=shas,
    )


def with_attempts(facts: list[Facts]) -> None:
    """Attempt numbers and inherited fields for rebuilds, oldest first so that chains add up."""
    by_number = {f.number: f for f in facts}
    for fact in sorted(facts, key=lambda f: f.number):
        if fact.repeats is None or fact.repeats == fact.number:
            continue
        origin = by_number.get(fact.repeats)
        fact.attempt = origin.attempt + 1 if origin and origin.number < fact.number else 2
        if origin is not None:
            if origin.commit and origin.commit in fact.revisions:
                fact.commit, fact.branch = origin.commit, origin.branch or fact.branch
            fact.commit = fact.commit or origin.commit
            fact.message = fact.message or origin.message
            fact.branch = fact.branch or origin.branch
            # A rebuild's own author is whoever clicked; the commit's author is who we name.
            fact.author = origin.author or fact.author
