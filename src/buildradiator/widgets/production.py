"""Production: one row per service check, worst first."""

from __future__ import annotations

from datetime import datetime

from buildradiator import fmt
from buildradiator.model import Health, ServiceCheck, Snapshot
from buildradiator.widgets.palette import HEALTH_STYLE, Segment
from buildradiator.widgets.pipelines import stale_age
from buildradiator.widgets.rows import Row, RowsTable, cell

_ORDER = {Health.DOWN: 0, Health.WARN: 1, Health.UNKNOWN: 2, Health.UP: 3}


def info_cell(check: ServiceCheck, ascii: bool) -> tuple[Segment, ...]:
    """HTTP code, latency, version, detail: one cell, so a narrow panel cuts only its tail."""
    parts: list[Segment] = []
    sep = ("  ", "")
    if check.http_status is not None:
        parts.append((str(check.http_status), "bold" if check.http_status >= 400 else ""))
    if check.latency_ms is not None:
        parts += [sep, (f"{round(check.latency_ms)}ms", "")]
    if check.version:
        parts += [sep, (check.version, "dim")]
    if check.detail:
        parts += [sep, (check.detail, "")]
    return tuple(parts[1:] if parts and parts[0] == sep else parts)


def service_rows(snapshot: Snapshot, now: datetime, ascii: bool = False) -> list[Row]:
    ordered = sorted(snapshot.services, key=lambda s: (_ORDER[s.health], s.name.lower()))
    rows = []
    for s in ordered:
        stale = s.source in snapshot.stale_sources
        if stale:
            # Old data never reads as "up": it gets the unknown glyph and its age.
            status = cell(f"{fmt.STALE_GLYPH} stale {stale_age(snapshot, s.source, now)}", "stale")
        else:
            status = cell(fmt.health_label(s.health, ascii), HEALTH_STYLE[s.health])
        rows.append(
            Row(
                key=f"{s.source}\x1f{s.name}\x1f{s.environment or ''}",
                cells=(
                    status,
                    cell(s.name, "bold"),
                    cell(s.environment or "", "dim"),
                    info_cell(s, ascii),
                ),
                url=s.url,
                stale=stale,
            )
        )
    return rows


class Production(RowsTable):
    COLUMNS = ("health", "name", "env", "info")
    FLEX = (3, 1, 2)
    TITLE = "Production"

    def show(self, snapshot: Snapshot, now: datetime, ascii: bool) -> bool:
        self.ascii = ascii
        rows = service_rows(snapshot, now, ascii)
        down = sum(1 for s in snapshot.services if s.health is Health.DOWN)
        self.set_subtitle(f"{down} down" if down else ("no checks" if not rows else ""))
        return self.show_with(lambda _width: rows)
