"""Main branches: one row per watched pipeline, red first, then running, then the rest."""

from __future__ import annotations

from datetime import datetime

from buildradiator import fmt
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.widgets.palette import STATUS_STYLE, Segment
from buildradiator.widgets.rows import Row, RowsTable, cell

NAME_WIDTH = 40
AUTHOR_WIDTH = 20


def _rank(pipeline: Pipeline) -> int:
    if pipeline.status is Status.FAILED:
        return 0
    if pipeline.in_flight:
        return 1
    return 2


def stale_age(snapshot: Snapshot, source: str, now: datetime) -> str:
    """How old a stale source's data is (``5m``), from its last good answer."""
    state = snapshot.source_state(source)
    last = state.last_success if state else None
    return fmt.format_age(fmt.seconds_between(last, now)) if last else "?"


def status_cell(
    pipeline: Pipeline, stale: str | None, ascii: bool, compact: bool = False
) -> tuple[Segment, ...]:
    """Glyph and word; a build running on top shows both; stale data never shows green."""
    last = pipeline.status
    last_seg = (fmt.status_label(last, ascii), STATUS_STYLE[last])
    joint = (", " if compact else ", last: ", "")
    if stale is not None:
        head: Segment = (f"{fmt.STALE_GLYPH} stale {stale}", "stale")
        # A red result stays worth knowing even when old; a green one must not be shown as green.
        return (head, joint, last_seg) if last is Status.FAILED else (head,)
    if pipeline.in_flight:
        now_status = pipeline.in_flight[0].status
        head = (fmt.status_label(now_status, ascii), STATUS_STYLE[now_status])
        return (head, joint, last_seg) if pipeline.recent else (head,)
    return (last_seg,)


def pipeline_rows(
    snapshot: Snapshot, now: datetime, ascii: bool = False, compact: bool = False
) -> list[Row]:
    """One row per pipeline; ``compact`` drops the word "last:" for narrow panels."""
    ordered = sorted(snapshot.pipelines, key=lambda p: (_rank(p), p.name.lower(), p.key))
    rows = []
    for p in ordered:
        stale = p.source in snapshot.stale_sources
        last = p.last
        when = (last.finished_at or last.started_at or last.created_at) if last else None
        url = p.url or (last.url if last else None)
        rows.append(
            Row(
                key=f"{p.source}\x1f{p.key}",
                cells=(
                    status_cell(
                        p, stale_age(snapshot, p.source, now) if stale else None, ascii, compact
                    ),
                    cell(fmt.truncate(p.name, NAME_WIDTH, ascii), "bold"),
                    cell(p.branch or "", "dim"),
                    cell(fmt.format_age(fmt.seconds_between(when, now)) if when else "-"),
                    cell(fmt.truncate(last.author or "", AUTHOR_WIDTH, ascii) if last else ""),
                ),
                url=url,
                stale=stale,
            )
        )
    return rows


class MainBranches(RowsTable):
    COLUMNS = ("status", "name", "branch", "age", "author")
    FLEX = (4, 2, 1)  # cut the author first, the pipeline's name last
    COMPACT_BELOW = 72

    TITLE = "Main branches"

    def show(self, snapshot: Snapshot, now: datetime, ascii: bool) -> bool:
        def make(width: int) -> list[Row]:
            return pipeline_rows(snapshot, now, ascii, compact=width < self.COMPACT_BELOW)

        if not snapshot.pipelines:
            self.border_subtitle = "no pipelines yet"
        else:
            red = sum(1 for p in snapshot.pipelines if p.status is Status.FAILED)
            total = len(snapshot.pipelines)
            self.border_subtitle = f"{red} red of {total}" if red else f"{total}"
        return self.show_with(make)
