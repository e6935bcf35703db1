"""The release gate: one word, GO or HOLD, and the reasons. Pure functions, one per reason.

GO means nothing the radiator watches argues against shipping now: main is green, production
is up, no critical alert fires, no deploy failed or is suspect, no release blocker is open, and
every source it relies on is fresh. Each rule returns its reasons; the gate holds on any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fnmatch import fnmatchcase

from buildradiator.config.loading import ReleaseConfig
from buildradiator.model import (
    Blocker,
    BrokenWindow,
    Deployment,
    DeployState,
    GateReason,
    Health,
    ReleaseGate,
    ServiceCheck,
    Snapshot,
)
from buildradiator.rules.production import service_rows

_TITLES_SHOWN = 3


def gated(window: BrokenWindow, patterns: Sequence[str]) -> bool:
    """Whether a red pipeline holds the release: all do unless ``[release] pipelines`` says."""
    if not patterns:
        return True
    return any(fnmatchcase(window.key, p) or fnmatchcase(window.name, p) for p in patterns)


def main_red(
    broken: Iterable[BrokenWindow],
    patterns: Sequence[str] = (),
    reason_of: Callable[[BrokenWindow], GateReason] | None = None,
) -> list[GateReason]:
    """``reason_of``: ``main_red_reason``, or one that keeps each window's (``rules.memo``)."""
    reason = reason_of or main_red_reason
    return [reason(w) for w in broken if w.kind == "pipeline" and gated(w, patterns)]


def main_red_reason(window: BrokenWindow) -> GateReason:
    return GateReason(kind="main_red", text=f"main red: {window.name}")


def production_down(snapshot: Snapshot) -> list[GateReason]:
    """A service down by its checks (health, query, app); alerts have their own rule."""
    out = []
    for row in service_rows(snapshot):
        down = [c for c in row.checks if c.health is Health.DOWN and c.kind != "alert"]
        if down:
            env = f" ({row.environment})" if row.environment else ""
            why = down[0].detail or "down"
            out.append(GateReason(kind="service_down", text=f"{row.service}{env} down: {why}"))
    return out


def critical_alerts(checks: Iterable[ServiceCheck]) -> list[GateReason]:
    return [
        GateReason(
            kind="critical_alert",
            text=f"critical alert {c.name}" + (f" ({c.service})" if c.service else ""),
        )
        for c in checks
        if c.kind == "alert" and c.health is Health.DOWN and not c.muted
    ]


def bad_deploys(deployments: Iterable[Deployment]) -> list[GateReason]:
    out = []
    for d in deployments:
        env = f" to {d.environment}" if d.environment else ""
        if d.suspect:
            out.append(
                GateReason(
                    kind="deploy_suspect", text=f"deploy of {d.service}{env} suspect: {d.suspect}"
                )
            )
        elif d.state is DeployState.FAILED:
            why = f": {d.detail}" if d.detail else ""
            out.append(
                GateReason(kind="deploy_failed", text=f"deploy of {d.service}{env} failed{why}")
            )
    return out


def blockers_open(blockers: Sequence[Blocker]) -> list[GateReason]:
    if not blockers:
        return []
    titles = "; ".join(f"{b.id} {b.title}" for b in blockers[:_TITLES_SHOWN])
    more = f" (+{len(blockers) - _TITLES_SHOWN} more)" if len(blockers) > _TITLES_SHOWN else ""
    count = f"{len(blockers)} release blocker{'s' if len(blockers) != 1 else ''}"
    return [GateReason(kind="blockers", text=f"{count}: {titles}{more}")]


def stale_sources(snapshot: Snapshot, relied_on: Iterable[str]) -> list[GateReason]:
    stale = sorted(set(relied_on) & snapshot.stale_sources)
    return [GateReason(kind="stale", text=f"no fresh data from {name}") for name in stale]


_NEVER_HOLDS = frozenset({"junit"})


def release_gate(
    snapshot: Snapshot,
    config: ReleaseConfig,
    reason_of: Callable[[BrokenWindow], GateReason] | None = None,
) -> ReleaseGate | None:
    """The verdict on ``snapshot``; ``None`` when there is nothing to judge or it is turned off.
    ``reason_of``: see ``main_red``."""
    if not config.gate:
        return None
    # Every source that could hold a release, whether or not it has said anything yet: one
    # that never answered cannot vouch for GO. (JUnit reports only rank flaky tests.)
    relied_on = (
        {s.name for s in snapshot.sources if s.type not in _NEVER_HOLDS}
        | {p.source for p in snapshot.pipelines}
        | {c.source for c in snapshot.services}
        | {d.source for d in snapshot.deployments}
    )
    if not relied_on:
        return None
    reasons = [
        *main_red(snapshot.broken, config.pipelines, reason_of),
        *production_down(snapshot),
        *critical_alerts(snapshot.services),
        *bad_deploys(snapshot.deployments),
        *blockers_open(snapshot.blockers),
    ]
    if config.hold_on_stale:
        reasons += stale_sources(snapshot, relied_on)
    return ReleaseGate(go=not reasons, reasons=tuple(reasons))


def gate_summary(gate: ReleaseGate, sep: str = " · ") -> str:
    """The reasons in one line, a kind at a time: ``main red: Monolith (+4 more) · ...``.

    Five red pipelines are five reasons in the JSON, but one fact for a reader."""
    by_kind: dict[str, list[GateReason]] = {}
    for item in gate.reasons:
        by_kind.setdefault(item.kind, []).append(item)
    parts = []
    for items in by_kind.values():
        more = f" (+{len(items) - 1} more)" if len(items) > 1 else ""
        parts.append(items[0].text + more)
    return sep.join(parts)
