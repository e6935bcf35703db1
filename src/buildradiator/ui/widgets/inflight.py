"""In flight: running and queued builds, with elapsed time, a text gauge and an ETA."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from buildradiator import fmt
from buildradiator.model import Build, Pipeline, Snapshot, Status
from buildradiator.rules.ordering import in_flight_builds
from buildradiator.ui.widgets.palette import STATUS_STYLE
from buildradiator.ui.widgets.rows import Cell, Form, Row, RowsTable, cell
from buildradiator.ui.widgets.stale import stale_words

NAME_WIDTH = 56
BAR_WIDTH = 10
SHORT_BAR = 5


def build_title(pipeline: Pipeline, build: Build) -> str:
    number = f" #{build.number}" if build.number is not None else ""
    return pipeline.name + number


def progress(
    build: Build, now: datetime, ascii: bool, tz: tzinfo | None, bar_width: int = BAR_WIDTH
) -> tuple[Cell, Cell]:
    """The gauge with its percentage, and the ETA (clock time) or why there is none. Past its
    estimate a build is overdue: the gauge says by how much (``+12m over``), never ``165%``."""
    start = build.started_at or build.created_at
    elapsed = fmt.seconds_between(start, now)
    fraction = fmt.progress_fraction(elapsed, build.estimated_seconds)
    if fraction is None or start is None or build.estimated_seconds is None:
        return cell("no estimate", "dim"), cell("")  # an empty ETA says nothing false
    bar = fmt.progress_bar(fraction, bar_width, ascii)
    if fraction > 1.0:
        over = (elapsed or 0.0) - build.estimated_seconds
        return cell(f"{bar} {fmt.overdue(over)}", "health-warn"), cell("overdue", "health-warn")
    eta = start + timedelta(seconds=build.estimated_seconds)
    return cell(f"{bar} {fmt.percent(fraction)}", "status-running"), cell(
        f"ETA {fmt.clock_time(eta, tz)}"
    )


TITLE_WANT = 24
"""Build names keep 24 characters while any form allows it (see ``rows.Form``)."""


def inflight_rows(
    snapshot: Snapshot,
    now: datetime,
    ascii: bool = False,
    tz: tzinfo | None = None,
    bar_width: int = BAR_WIDTH,
) -> list[Row]:
    """Two lines per build: what and where, then how far along and when it should end."""
    rows = []
    for pipeline, build in in_flight_builds(snapshot):
        stale = pipeline.source in snapshot.stale_sources
        title = fmt.truncate(build_title(pipeline, build), NAME_WIDTH, ascii)
        status = cell(fmt.status_label(build.status, ascii), STATUS_STYLE[build.status])
        if stale:
            # Last seen in flight, by a source that has said nothing since: it may have ended
            # long ago, so no gauge, no ETA and no "running", only what was seen and how old.
            word, _, age = stale_words(snapshot, pipeline.source, now).partition(" ")
            status = cell(f"{fmt.STALE_GLYPH} {word}")
            gauge = cell(f"last seen {build.status.value}")
            when: Cell = cell(f"\n{age} ago")
            stage = build.stage or ""
        elif build.status is Status.RUNNING:
            elapsed = fmt.seconds_between(build.started_at or build.created_at, now)
            gauge, eta = progress(build, now, ascii, tz, bar_width)
            # "6m12s, ETA 12:03" under the gauge: one column less, so names keep their room.
            when = (("\n" + fmt.format_duration(elapsed), ""),)
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
        rows.append(
            Row(
                key=f"{pipeline.source}\x1f{pipeline.key}\x1f{build.id}",
                cells=(
                    status,
                    ((title, "bold"), ("\n" + fmt.truncate(stage, NAME_WIDTH, ascii), "dim")),
                    (*gauge, *when),
                ),
                url=build.url or pipeline.url,
                stale=stale,
                height=2,
            )
        )
    return rows


def glyph_first(rows: Sequence[Row], ascii: bool) -> list[Row]:
    """Without the status column: its glyph before the build's name (the gauge, or "waiting",
    says the rest)."""
    out = []
    for r in rows:
        status, build, gauge = r.cells
        glyph = status[0][0].split(" ", 1)[0] if status else ""
        title, *rest = build
        under = tuple((text.replace("\n", "\n  "), style) for text, style in rest)
        out.append(replace(r, cells=(((f"{glyph} {title[0]}", title[1]), *under), gauge)))
    return out


class InFlight(RowsTable):
    TITLE = "In flight"

    def show(self, snapshot: Snapshot, now: datetime, ascii: bool, tz: tzinfo | None) -> bool:
        self.ascii = ascii
        count = len(snapshot.in_flight)
        self.set_subtitle("nothing running" if not count else str(count))
        rows = inflight_rows(snapshot, now, ascii, tz)
        short = glyph_first(inflight_rows(snapshot, now, ascii, tz, SHORT_BAR), ascii)
        # The status word goes first (its glyph stays), then the gauge gets shorter.
        forms = [
            Form(rows, (1,), {1: TITLE_WANT}),
            Form(glyph_first(rows, ascii), (0,), {0: TITLE_WANT}),
            Form(short, (0,), {0: TITLE_WANT}),
        ]
        return self.show_forms(lambda _width: forms)
