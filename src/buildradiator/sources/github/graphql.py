"""Which of many repositories changed since the last poll, in one GraphQL request per hundred.

Polling a large estate over REST costs one request per repository per cycle: with ETags most are
answered 304 and cost no quota, but each still costs a round trip and about 1.5 ms of CPU, so
2,000 repositories cost 3 s of CPU a cycle. Here one query asks, for up to ``BATCH``
repositories at once (one alias each), for the head commit of the watched branch and the GitHub
Actions check suites on it (status, conclusion, last update). That is each repository's
*fingerprint*: when it is the one seen last time, nothing on that branch moved, and the
repository's pipelines from the last poll stand. Only repositories whose fingerprint changed (a
push, a run starting, finishing or re-run), that have a run in flight (its stage moves), or that
the query could not read, are read over REST as before, so the screen shows exactly what the
REST path shows.

GraphQL has no anonymous access: without a token the source stays on REST. Its quota is its own
(5,000 points an hour; a query like ours costs about one point per hundred repositories), kept
apart from REST's in the HTTP client's budgets. Names and shapes are GitHub's GraphQL schema:
``Repository.ref(qualifiedName:)``, ``Ref.target`` (a ``Commit``: ``oid``, ``checkSuites(first:,
filterBy: {appId:})``), ``CheckSuite`` (``databaseId``, ``status``, ``conclusion``,
``updatedAt``) and ``rateLimit`` (``cost``, ``limit``, ``remaining``, ``resetAt``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from buildradiator.model import Pipeline

BATCH = 100
"""Repositories per query (aliases); GitHub's node limit is far above what this asks."""
SUITES = 20
"""Check suites read on each head commit: one per workflow that ran on it."""
ACTIONS_APP_ID = 15368
"""The GitHub Actions app: its check suites are the workflow runs (others are other CI apps)."""
FULL_SWEEP = 600.0
"""Seconds between polls that read every repository over REST anyway: a re-run of an older
commit does not move the head commit, the sweep finds it."""

Fingerprint = tuple[str, tuple[tuple[Any, ...], ...]]
"""A head commit and its suites: (oid, ((id, status, conclusion, updated), ...))."""


@dataclass(frozen=True)
class Batch:
    """One query and the repositories its aliases stand for, in order."""

    repos: tuple[str, ...]
    body: bytes


def batches(repos: Sequence[str], branch: str, size: int = BATCH) -> list[Batch]:
    """The queries for ``repos`` (``owner/name``) on ``branch``. Names travel as variables,
    never spliced into the query text."""
    found = []
    for start in range(0, len(repos), size):
        chunk = tuple(repos[start : start + size])
        params = ["$ref: String!"]
        fields = []
        variables: dict[str, Any] = {"ref": f"refs/heads/{branch}"}
        for i, repo in enumerate(chunk):
            owner, name = repo.split("/", 1)
            params += [f"$o{i}: String!", f"$n{i}: String!"]
            variables[f"o{i}"], variables[f"n{i}"] = owner, name
            fields.append(f"r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...head }}")
        query = (
            f"query({', '.join(params)}) {{ rateLimit {{ cost limit remaining resetAt }} "
            + " ".join(fields)
            + " } fragment head on Repository { ref(qualifiedName: $ref) { target { oid "
            f"... on Commit {{ checkSuites(first: {SUITES}, filterBy: {{appId: {ACTIONS_APP_ID}}}) "
            "{ nodes { databaseId status conclusion updatedAt } } } } } }"
        )
        body = json.dumps({"query": query, "variables": variables}).encode("utf-8")
        found.append(Batch(chunk, body))
    return found


@dataclass(frozen=True)
class Reading:
    """What one answer says: each repository's fingerprint (``None`` when the answer could not
    tell: an error for its alias, a missing branch, a shape we do not know) and the quota."""

    fingerprints: dict[str, Fingerprint | None]
    cost: int | None = None
    remaining: int | None = None
    limit: int | None = None
    reset_at: str | None = None


def read(batch: Batch, doc: Any) -> Reading:
    """Fingerprints from one answer. Never raises: anything unexpected leaves that repository
    unknown (it is then read over REST, which says what is wrong in words)."""
    data = doc.get("data") if isinstance(doc, Mapping) else None
    data = data if isinstance(data, Mapping) else {}
    prints: dict[str, Fingerprint | None] = {}
    for i, repo in enumerate(batch.repos):
        prints[repo] = _fingerprint(data.get(f"r{i}"))
    rate = data.get("rateLimit")
    rate = rate if isinstance(rate, Mapping) else {}
    return Reading(
        prints,
        cost=_int(rate.get("cost")),
        remaining=_int(rate.get("remaining")),
        limit=_int(rate.get("limit")),
        reset_at=rate.get("resetAt") if isinstance(rate.get("resetAt"), str) else None,
    )


def _fingerprint(repository: Any) -> Fingerprint | None:
    if not isinstance(repository, Mapping):
        return None  # null: not found, or an error for this alias
    ref = repository.get("ref")
    if not isinstance(ref, Mapping):
        return None  # no such branch (an empty repository, a renamed default branch)
    target = ref.get("target")
    if not isinstance(target, Mapping) or not isinstance(target.get("oid"), str):
        return None
    suites = target.get("checkSuites")
    nodes = suites.get("nodes") if isinstance(suites, Mapping) else None
    if not isinstance(nodes, list):
        return None
    seen = []
    for node in nodes:
        if isinstance(node, Mapping):
            seen.append(
                tuple(str(node.get(k)) for k in ("databaseId", "status", "conclusion", "updatedAt"))
            )
    return target["oid"], tuple(sorted(seen))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class HeadWatch:
    """Each repository's fingerprint when it was last read, with what was read then."""

    seen: dict[str, tuple[Fingerprint, list[Pipeline]]] = field(default_factory=dict)
    prints: dict[str, Fingerprint | None] = field(default_factory=dict)
    swept_at: float = -math.inf

    def unchanged(
        self, prints: dict[str, Fingerprint | None], now: float
    ) -> dict[str, list[Pipeline]]:
        """Given this poll's fingerprints: the repositories not to read, with their pipelines.
        A repository is read when its fingerprint is new or unknown, when it has a run in
        flight (its stage moves), and every ``FULL_SWEEP`` seconds."""
        self.prints = prints
        if not prints or now - self.swept_at >= FULL_SWEEP:
            if prints:
                self.swept_at = now
            return {}
        found = {}
        for repo, fingerprint in prints.items():
            last = self.seen.get(repo)
            if fingerprint is None or last is None or last[0] != fingerprint:
                continue
            if any(p.in_flight for p in last[1]):
                continue
            found[repo] = last[1]
        return found

    def remember(self, repo: str, pipelines: list[Pipeline]) -> None:
        """``repo`` was read now: keep what was read under this poll's fingerprint (taken
        before the read, so a change in between is read again next time, never missed)."""
        fingerprint = self.prints.get(repo)
        if fingerprint is None:
            self.seen.pop(repo, None)
        else:
            self.seen[repo] = (fingerprint, pipelines)
