"""What ``/`` and ``h`` ask of Main branches: a filter by words, and hiding passing units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from buildradiator import fmt
from buildradiator.model import Pipeline, Status


@dataclass(frozen=True)
class Finder:
    """What ``/`` and ``h`` ask for: words every shown unit must match, and whether to hide
    passing ones. A unit is a lone pipeline or a whole group (kept or dropped as one, so a
    group's "1 of 3 failed" never lies about members that were filtered away)."""

    query: str = ""
    hide_passing: bool = False

    @property
    def active(self) -> bool:
        return bool(self.query.strip()) or self.hide_passing

    def words(self, p: Pipeline, stale: bool) -> str:
        """Everything a search may name: name, group, branch, authors, status words."""
        parts = [p.name, p.key, p.group or "", p.branch or "", p.status.value]
        parts += [b.author or "" for b in (*p.recent[:1], *p.in_flight)]
        parts += [b.status.value for b in p.in_flight]
        if stale:
            parts.append("stale")
        if p.status is Status.FAILED:
            parts.append("red")
        elif p.status is Status.PASSED:
            parts.append("green")
        return " ".join(parts).lower()

    def keeps(self, members: Sequence[Pipeline], stale_sources: frozenset[str]) -> bool:
        if self.hide_passing and all(
            m.status is Status.PASSED and not m.in_flight and m.source not in stale_sources
            for m in members
        ):
            return False
        terms = self.query.lower().split()
        if not terms:
            return True
        text = " ".join(self.words(m, m.source in stale_sources) for m in members)
        return all(term in text for term in terms)

    def describe(self, ascii: bool = False) -> str:
        notes = []
        if self.hide_passing:
            notes.append("passing hidden")
        if self.query.strip():
            notes.append(f"filter: {self.query.strip()}")
        return fmt.SEPARATOR[ascii].join(notes)
