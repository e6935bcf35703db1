"""Production on the wall: one tile per service and environment, and the release gate's HOLD."""

from __future__ import annotations

from datetime import datetime

from buildradiator import fmt
from buildradiator.model import Deployment, DeployState, Health, Snapshot
from buildradiator.rules.gate import gate_summary
from buildradiator.rules.production import ServiceRow, deploy_health, reason
from buildradiator.rules.verdict import gate_word
from buildradiator.ui.widgets.palette import HEALTH_STYLE
from buildradiator.ui.widgets.stale import stale_words
from buildradiator.ui.widgets.tile import GREEN, OTHER, RED, Tile


def service_tile(row: ServiceRow, snapshot: Snapshot, now: datetime, ascii: bool) -> Tile:
    """One service in one environment: its worst check, or a suspect or failed deploy."""
    key = f"service\x1f{row.service}\x1f{row.environment or ''}"
    env = f" ({row.environment})" if row.environment else ""
    name = f"{row.service}{env}"
    d = row.deployment
    if row.stale:
        rank = RED if row.health is Health.DOWN else OTHER
        was = f"last: {fmt.health_label(row.health, ascii)}" if row.health is Health.DOWN else ""
        words = stale_words(snapshot, row.stale_source, now) if row.stale_source else "stale"
        word, _, age = words.partition(" ")
        title = f"{fmt.STALE_GLYPH} {name}"
        return Tile(key, rank, "stale", title, f"{word.upper()} {age}".rstrip(), was)
    worst = row.checks[0] if row.checks else None
    code = str(worst.http_status) if worst and worst.http_status is not None else ""
    word = f"{row.health.value.upper()} {code}".rstrip() if row.checks else "NO CHECKS"
    # The first reason in words; a bare "down" would only repeat the word above it.
    worded = [
        reason(c)
        for c in row.checks
        if c.health is not Health.UP and (c.detail or c.kind != "health")
    ]
    detail = worded[0] if worded else (worst.version or "" if worst else "")
    health = deploy_health(row)
    if d is not None and (d.suspect or d.state is DeployState.FAILED):
        word = (
            "SUSPECT DEPLOY"
            if d.suspect
            else ("DEPLOY FAILED" if row.health is not Health.DOWN else word)
        )
        detail = d.suspect or d.detail or detail
    elif (
        d is not None
        and not row.deploy_stale  # a deploy last seen running may have ended long ago
        and d.state is DeployState.RUNNING
        and health in (Health.UP, Health.UNKNOWN)
    ):
        word = f"DEPLOYING {fmt.format_duration(fmt.seconds_between(d.started_at, now))}"
        detail = detail or _drift_words(d)
    elif d is not None and not row.checks:
        # Only a deploy tool watches it: say what is live and how far main ran ahead.
        live = fmt.short_sha(d.revision) or (d.version or "")
        word = f"LIVE {live}".rstrip() if live else d.state.value.upper()
        detail = _drift_words(d) or (d.detail or "")
    rank = {Health.DOWN: RED, Health.UP: GREEN}.get(health, OTHER)
    title = f"{fmt.health_glyph(health, ascii)} {name}"
    return Tile(key, rank, HEALTH_STYLE[health], title, word, detail, health is Health.DOWN)


def _drift_words(d: Deployment) -> str:
    return f"{d.behind_by} behind main" if d.behind_by else ""


def gate_tile(snapshot: Snapshot, ascii: bool) -> Tile | None:
    """HOLD as a tile of its own (the reasons are what the room needs to read); GO needs none."""
    gate = snapshot.gate
    if gate is None or gate_word(snapshot) != "HOLD":
        return None
    glyph = fmt.health_glyph(Health.WARN, ascii)
    detail = gate_summary(gate, fmt.SEPARATOR[ascii])
    return Tile("gate", OTHER, HEALTH_STYLE[Health.WARN], f"{glyph} release", "HOLD", detail)
