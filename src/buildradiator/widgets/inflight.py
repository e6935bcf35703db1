"""In flight: running and queued builds, with elapsed time, a text gauge and an ETA."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from buildradiator import fmt
from buildradiator.model import Build, Pipeline, Snapshot, Status
from buildradiator.widgets.palette import STATUS_STYLE
from buildradiator.widgets.rows import Cell, Row, RowsTable, cell

NAME_WIDTH = 28
STAGE_WIDTH = 20
BAR_WIDTH = 10


def in_flight_builds(snapshot: Snapshot) -> list[tuple[Pipeline, Build]]:
    """Running before queued, the longest-running first."""
    pairs = [(p, b) for p in snapshot.pipelines for b in p.in_flight]

    def started(pair: tuple[Pipeline, Build]) -> tuple[int, datetime]:
        build = pair[1]
        when = build.started_at or build.created_at or snapshot.taken_at
        return (0 if build.status is Status.RUNNING else 1, when)

    return sorted(pairs, key=started)


def build_title(pipeline: Pipeline, build: Build) -> str:
    number = f" #{build.number}" if build.number is not None else ""
    return pipeline.name + number


def progress(build: Build, now: datetime, ascii: bool, tz: tzinfo | None) -> tuple[Cell, Cell]:
    """The gauge with its percentage, and the ETA (clock time) or why there is none."""
    start = build.started_at or build.created_at
    elapsed = fmt.seconds_between(start, now)
    fraction = fmt.progress_fraction(elapsed, build.estimated_seconds)
    if fraction is None or start is None or build.estimated_seconds is None:
        return cell("no estimate", "dim"), cell("")  # an empty ETA says nothing false
    gauge = f"{fmt.progress_bar(fraction, BAR_WIDTH, ascii)} {fmt.percent(fraction)}"
    if fraction > 1.0:
        over = (elapsed or 0.0) - build.estimated_seconds
        return cell(gauge, "health-warn"), cell(f"overdue {fmt.format_age(over)}", "health-warn")
    eta = start + timedelta(seconds=build.estimated_seconds)
    return cell(gauge, "status-running"), cell(f"ETA {fmt.clock_time(eta, tz)}")


def inflight_rows(
    snapshot: Snapshot,
    now: datetime,
    ascii: bool = False,
    tz: tzinfo | None = None,
    width: int = 0,
) -> list[Row]:
    """Two lines per build: what and where, then how far along and when it should end.

    The name and stage column takes what the status and gauge columns leave of ``width``.
    """
    text_width = max(NAME_WIDTH, width - 40)
    rows = []
    for pipeline, build in in_flight_builds(snapshot):
        stale = pipeline.source in snapshot.stale_sources
        title = fmt.truncate(build_title(pipeline, build), text_width, ascii)
        if build.status is Status.RUNNING:
            elapsed = fmt.seconds_between(build.started_at or build.created_at, now)
            gauge, eta = progress(build, now, ascii, tz)
            # "6m12s, ETA 12:03" under the gauge: one column less, so names keep their room.
            when: Cell = (("\n" + fmt.format_duration(elapsed), ""),)
            if eta[0][0]:
                when += ((", ", ""), *eta)
            stage = build.stage or ""
        else:
            waited = fmt.seconds_between(build.created_at, now)
            gauge = cell("")
            when = cell(
                "\nwaiting " + fmt.format_age(waited) if waited is not None else "\nwaiting"
            )
            stage = build.stage or "queued"
        status = cell(fmt.status_label(build.status, ascii), STATUS_STYLE[build.status])
        rows.append(
            Row(
                key=f"{pipeline.source}\x1f{pipeline.key}\x1f{build.id}",
                cells=(
                    status,
                    (
                        (title, "bold"),
                        ("\n" + fmt.truncate(stage, max(STAGE_WIDTH, text_width), ascii), "dim"),
                    ),
                    (*gauge, *when),
                ),
                url=build.url or pipeline.url,
                stale=stale,
                height=2,
            )
        )
    return rows


class InFlight(RowsTable):
    COLUMNS = ("status", "build", "progress")
    FLEX = (1,)
    TITLE = "In flight"

    def show(self, snapshot: Snapshot, now: datetime, ascii: bool, tz: tzinfo | None) -> bool:
        self.ascii = ascii
        count = len(snapshot.in_flight)
        self.set_subtitle("nothing running" if not count else str(count))
        return self.show_with(lambda width: inflight_rows(snapshot, now, ascii, tz, width))
