"""Production: the release gate, open release blockers, then one row per service and
environment (worst first) with what is deployed, how far behind main, and why it is not up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from buildradiator import fmt
from buildradiator.model import (
    Deployment,
    DeployState,
    Health,
    ServiceCheck,
    Snapshot,
    Status,
)
from buildradiator.rules.gate import gate_summary
from buildradiator.rules.production import ServiceRow, counted_health, service_rows
from buildradiator.rules.verdict import gate_word
from buildradiator.ui.widgets.palette import CLAIM_GLYPH, HEALTH_STYLE, Segment
from buildradiator.ui.widgets.rows import Form, Row, RowsTable, cell
from buildradiator.ui.widgets.stale import stale_words

SEP: Segment = ("  ", "")


def _join(parts: list[Segment]) -> tuple[Segment, ...]:
    return tuple(parts[1:] if parts and parts[0] == SEP else parts)


def live_name(d: Deployment) -> str:
    """A version (``v4.12.0``) when the tool names one, else the short commit: a branch name
    like ``main`` says nothing about what runs."""
    if d.version and any(ch.isdigit() for ch in d.version):
        return d.version
    return fmt.short_sha(d.revision) or (d.version or "")


def deployed_cell(d: Deployment | None, now: datetime, ascii: bool) -> tuple[Segment, ...]:
    """Short, so the "why" column keeps its room: what is live and how long ago, or the deploy
    under way, failed or suspect."""
    if d is None:
        return ()
    live = live_name(d)
    if d.suspect:
        return ((f"suspect {live}".rstrip(), "health-down"),)
    if d.state is DeployState.RUNNING:
        elapsed = fmt.format_duration(fmt.seconds_between(d.started_at, now))
        return ((f"deploying {elapsed}", "health-warn"),)
    if d.state is DeployState.QUEUED:
        return (("deploy queued", "health-warn"),)
    if d.state is DeployState.FAILED:
        return (("deploy failed", "health-down"),)
    if not live:
        return (("no deploy known", "dim"),) if d.state is DeployState.UNKNOWN else ()
    if d.deployed_at is None:
        return ((live, ""),)
    return ((live, ""), (f" {fmt.format_age(fmt.seconds_between(d.deployed_at, now))}", "dim"))


def drift_segments(d: Deployment | None, now: datetime) -> list[Segment]:
    """What is live when a deploy is under way or failed, and how far main ran ahead of it."""
    if d is None:
        return []
    parts: list[Segment] = []
    live = live_name(d)
    if live and (d.state is not DeployState.SUCCEEDED or d.suspect):
        age = fmt.format_age(fmt.seconds_between(d.deployed_at, now)) if d.deployed_at else ""
        parts += [SEP, (f"live {live} {age}".rstrip(), "dim")]
    if d.behind_by:
        oldest = fmt.format_age(fmt.seconds_between(d.oldest_undeployed_at, now))
        text = f"{d.behind_by} behind main" + (
            f" (oldest {oldest})" if d.oldest_undeployed_at else ""
        )
        parts += [SEP, (text, "bold" if d.behind_by >= 10 else "")]
    return parts


def _check_facts(check: ServiceCheck) -> list[Segment]:
    parts: list[Segment] = []
    if check.http_status is not None:
        parts += [SEP, (str(check.http_status), "bold" if check.http_status >= 400 else "")]
    if check.latency_ms is not None:
        parts += [SEP, (f"{round(check.latency_ms)}ms", "")]
    return parts


def info_cell(row: ServiceRow, now: datetime, ascii: bool) -> tuple[Segment, ...]:
    """Why, the reasons first (a narrow panel cuts from the right): the checks that are not up
    (worst first) and the deploy's own words when it failed or is suspect; then the HTTP code
    and latency of the health check, the drift, and alerts that are silenced (dim, apart)."""
    parts: list[Segment] = []
    for reason in row.reasons:
        parts += [SEP, (reason, "")]
    d = row.deployment
    if d is not None and (d.suspect or (d.state is DeployState.FAILED and d.detail)):
        parts += [SEP, (d.suspect or d.detail or "", "")]
    health = next((c for c in row.checks if c.kind == "health"), None)
    if health is not None:
        parts += _check_facts(health)
    if not row.deploy_stale:
        parts += drift_segments(d, now)
    if not row.reasons and health is not None and health.version and not d:
        parts += [SEP, (health.version, "dim")]
    if row.muted:
        names = ", ".join(f"{c.name} ({c.muted})" for c in row.muted)
        parts += [SEP, (f"muted: {names}", "dim")]
    return _join(parts)


def service_cell(service: str, environment: str | None) -> tuple[Segment, ...]:
    """``payments prod``: the environment beside the name, one column for both."""
    if not environment:
        return ((service, "bold"),)
    return ((service, "bold"), (f" {environment}", "dim"))


def gate_row(snapshot: Snapshot, ascii: bool) -> Row | None:
    gate = snapshot.gate
    if gate is None:
        return None
    word = gate_word(snapshot)
    if word == "waiting":
        glyph = fmt.status_glyph(Status.QUEUED, ascii)
        waiting = cell("nothing known yet: waiting for first data", "dim")
        return Row(
            key="gate",
            cells=(cell(f"{glyph} waiting", "dim"), cell("release", "bold"), (), waiting),
        )
    glyph = fmt.health_glyph(Health.UP if gate.go else Health.DOWN, ascii)
    style = HEALTH_STYLE[Health.UP if gate.go else Health.DOWN]
    sep = fmt.SEPARATOR[ascii]
    if gate.go:
        info: tuple[Segment, ...] = (("nothing holds the release", "dim"),)
    else:
        info = ((gate_summary(gate, sep), ""),)
    return Row(
        key="gate",
        cells=(cell(f"{glyph} {word}", style), cell("release", "bold"), (), info),
    )


def blocker_rows(snapshot: Snapshot, now: datetime, ascii: bool) -> list[Row]:
    glyph = "!" if ascii else CLAIM_GLYPH[False]
    rows = []
    for b in snapshot.blockers:
        age = fmt.format_age(fmt.seconds_between(b.opened_at, now)) if b.opened_at else ""
        rows.append(
            Row(
                key=f"blocker\x1f{b.source}\x1f{b.id}",
                cells=(
                    cell(f"{glyph} blocker", "health-warn"),
                    cell(b.id, "bold"),
                    cell(f"open {age}" if age else "open", "dim"),
                    cell(b.title),
                ),
                url=b.url,
                stale=b.source in snapshot.stale_sources,
            )
        )
    return rows


def production_rows(
    snapshot: Snapshot,
    now: datetime,
    ascii: bool = False,
    services: list[ServiceRow] | None = None,
) -> list[Row]:
    rows = [r for r in (gate_row(snapshot, ascii),) if r is not None]
    rows += blocker_rows(snapshot, now, ascii)
    for s in service_rows(snapshot) if services is None else services:
        if s.stale:
            # Old data never reads as "up": it gets the unknown glyph and its age.
            words = stale_words(snapshot, s.stale_source, now) if s.stale_source else "stale"
            status = cell(f"{fmt.STALE_GLYPH} {words}", "stale")
        elif not s.checks:
            status = cell(f"{fmt.health_glyph(Health.UNKNOWN, ascii)} no checks", "dim")
        else:
            status = cell(fmt.health_label(s.health, ascii), HEALTH_STYLE[s.health])
        url = next((c.url for c in s.checks if c.url), None) or (
            s.deployment.url if s.deployment else None
        )
        deployed = deployed_cell(s.deployment, now, ascii)
        if s.deployment is not None and s.deploy_stale and not s.stale:
            # The deploy tool's last word, not what runs now: its age, greyed.
            words = stale_words(snapshot, s.deployment.source, now)
            live = live_name(s.deployment)
            deployed = ((f"{fmt.STALE_GLYPH} {live} {words}".replace("  ", " "), "stale"),)
        rows.append(
            Row(
                key=f"service\x1f{s.service}\x1f{s.environment or ''}",
                cells=(
                    status,
                    service_cell(s.service, s.environment),
                    deployed,
                    info_cell(s, now, ascii),
                ),
                url=url,
                stale=s.stale,
            )
        )
    return rows


REASON_WANT = 30
"""The release gate's and each service's reasons keep their first 30 characters while any form
allows it."""
SERVICE_WANT = 20


def folded(rows: Sequence[Row]) -> list[Row]:
    """The deployed column folded into the end of "why": one column less for the reasons."""
    out = []
    for r in rows:
        status, service, deployed, why = r.cells
        tail: tuple[Segment, ...] = (SEP, *deployed) if deployed and why else deployed
        out.append(replace(r, cells=(status, service, (*why, *tail))))
    return out


def production_forms(rows: Sequence[Row]) -> list[Form]:
    """With the deployed column, then with it folded into "why" (the reasons come first)."""
    return [
        Form(rows, (3, 2, 1), {3: REASON_WANT, 1: SERVICE_WANT}),
        Form(folded(rows), (2, 1), {2: REASON_WANT, 1: SERVICE_WANT}),
    ]


class Production(RowsTable):
    TITLE = "Production"

    def show(self, snapshot: Snapshot, now: datetime, ascii: bool) -> bool:
        self.ascii = ascii
        services = service_rows(snapshot)
        rows = production_rows(snapshot, now, ascii, services)
        down = sum(1 for r in services if counted_health(r) is Health.DOWN)
        parts = []
        word = gate_word(snapshot)
        if word is not None:
            parts.append(f"release {word}")
        if down:
            parts.append(f"{down} down")
        if not snapshot.services and not snapshot.deployments:
            parts.append("no checks")
        self.set_subtitle(", ".join(parts))
        forms = production_forms(rows)
        return self.show_forms(lambda _width: forms)
