"""Main branches' rows: one per watched pipeline and one per group (its members follow it when
it is open), red first, then running, then the rest; each with a glyph and a word."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from buildradiator import fmt
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.ui.widgets.palette import STATUS_STYLE, Segment, claim_marker
from buildradiator.ui.widgets.rows import Row, cell
from buildradiator.ui.widgets.stale import stale_words

NAME_WIDTH = 40
AUTHOR_WIDTH = 20

Claimed = Mapping[tuple[str, str], str]
"""Who claimed which pipeline: ``(source, key) -> name``."""


def row_key(p: Pipeline) -> str:
    return f"{p.source}\x1f{p.key}"


def _rank(pipeline: Pipeline) -> int:
    if pipeline.status is Status.FAILED:
        return 0
    if pipeline.in_flight:
        return 1
    return 2


def status_cell(
    pipeline: Pipeline, stale: str | None, ascii: bool, compact: bool = False, tiny: bool = False
) -> tuple[Segment, ...]:
    """Glyph and word; a build running on top shows both; stale data never shows green.

    ``stale``: what old data is called, with its age (``stale 5m``, ``cached 2h``). ``tiny`` (a 40-column pane) keeps the last result's glyph and word and only the glyph of a
    build running on top, so the pipeline's name keeps its room."""
    last = pipeline.status
    last_seg = (fmt.status_label(last, ascii), STATUS_STYLE[last])
    if tiny:
        if stale is not None:
            red = f" {fmt.status_glyph(last, ascii)}" if last is Status.FAILED else ""
            return ((f"{fmt.STALE_GLYPH} {stale.split()[0]}{red}", "stale"),)
        if pipeline.in_flight:
            now_status = pipeline.in_flight[0].status
            if not pipeline.recent:
                return ((fmt.status_label(now_status, ascii), STATUS_STYLE[now_status]),)
            running = (" " + fmt.status_glyph(now_status, ascii), STATUS_STYLE[now_status])
            return (last_seg, running)
        return (last_seg,)
    joint = (", " if compact else ", last: ", "")
    if stale is not None:
        head: Segment = (f"{fmt.STALE_GLYPH} {stale}", "stale")
        # A red result stays worth knowing even when old; a green one must not be shown as green.
        return (head, joint, last_seg) if last is Status.FAILED else (head,)
    if pipeline.in_flight:
        now_status = pipeline.in_flight[0].status
        head = (fmt.status_label(now_status, ascii), STATUS_STYLE[now_status])
        return (head, joint, last_seg) if pipeline.recent else (head,)
    return (last_seg,)


GROUP_KEY = "group\x1f"
MAX_ROWS = 200
"""Rows the Main branches table shows at most (red and running first); the rest is a count."""


def _pipeline_row(
    p: Pipeline,
    snapshot: Snapshot,
    now: datetime,
    ascii: bool,
    compact: bool,
    indent: str = "",
    tiny: bool = False,
    claimed_by: str | None = None,
) -> Row:
    """Status, name, branch, age and author (or, on a claimed row, who claimed it: the row
    keeps its columns whatever happens to it)."""
    stale = p.source in snapshot.stale_sources
    last = p.last
    when = (last.finished_at or last.started_at or last.created_at) if last else None
    url = p.url or (last.url if last else None)
    status = status_cell(
        p, stale_words(snapshot, p.source, now) if stale else None, ascii, compact, tiny
    )
    if claimed_by:
        who = cell(claim_marker(claimed_by, ascii), "bold")
    else:
        who = cell(fmt.truncate(last.author or "", AUTHOR_WIDTH, ascii) if last else "")
    return Row(
        key=row_key(p),
        cells=(
            status,
            cell(indent + fmt.truncate(p.name, NAME_WIDTH, ascii), "bold"),
            cell(p.branch or "", "dim"),
            cell(fmt.format_age(fmt.seconds_between(when, now)) if when else "-"),
            who,
        ),
        url=url,
        stale=stale,
    )


def _group_row(
    name: str,
    members: list[Pipeline],
    snapshot: Snapshot,
    now: datetime,
    ascii: bool,
    open_: bool,
) -> Row:
    """One row for a whole group: red when any member is, with how many of how many."""
    red = [m for m in members if m.status is Status.FAILED]
    running = [m for m in members if m.in_flight]
    stale = [m for m in members if m.source in snapshot.stale_sources]
    count = f" {{}} of {len(members)}"
    head: tuple[Segment, ...]
    if red:
        head = (
            (
                fmt.status_label(Status.FAILED, ascii) + count.format(len(red)),
                STATUS_STYLE[Status.FAILED],
            ),
        )
    elif stale:
        head = ((f"{fmt.STALE_GLYPH} stale" + count.format(len(stale)), "stale"),)
    elif running:
        head = (
            (
                fmt.status_label(Status.RUNNING, ascii) + count.format(len(running)),
                STATUS_STYLE[Status.RUNNING],
            ),
        )
    elif all(m.status is Status.PASSED for m in members):
        head = ((fmt.status_label(Status.PASSED, ascii), STATUS_STYLE[Status.PASSED]),)
    else:
        head = ((fmt.status_label(Status.UNKNOWN, ascii), STATUS_STYLE[Status.UNKNOWN]),)
    times = [w for m in members if m.last and (w := m.last.finished_at or m.last.started_at)]
    newest = max(times) if times else None
    marker = ("-" if open_ else "+") if ascii else ("▾" if open_ else "▸")
    return Row(
        key=GROUP_KEY + name,
        cells=(
            head,
            cell(f"{marker} {fmt.truncate(name, NAME_WIDTH - 2, ascii)} ({len(members)})", "bold"),
            cell(""),
            cell(fmt.format_age(fmt.seconds_between(newest, now)) if newest else "-"),
            cell(""),
        ),
        url=(red or members)[0].url,
    )


def pipeline_rows(
    snapshot: Snapshot,
    now: datetime,
    ascii: bool = False,
    compact: bool = False,
    expanded: frozenset[str] = frozenset(),
    keep: Callable[[Sequence[Pipeline]], bool] | None = None,
    tiny: bool = False,
    claimed: Claimed | None = None,
) -> list[Row]:
    """One row per pipeline, and one per group (its members follow it when it is open);
    red first, then running, then the rest. ``compact`` drops "last:" for narrow panels;
    ``claimed`` marks the pipelines someone is looking into."""
    claims = claimed or {}
    ordered = sorted(snapshot.pipelines, key=lambda p: (_rank(p), p.name.lower(), p.key))
    groups: dict[str, list[Pipeline]] = {}
    # A unit is a lone pipeline or a whole group (ranked by its most urgent member, the first).
    units: list[tuple[int, str, Pipeline | str]] = []
    for p in ordered:
        if p.group is None:
            units.append((_rank(p), p.name.lower(), p))
        elif p.group not in groups:
            groups[p.group] = [p]
            units.append((_rank(p), p.group.lower(), p.group))
        else:
            groups[p.group].append(p)
    rows: list[Row] = []
    shown = 0
    kept = [
        unit
        for unit in sorted(units, key=lambda u: (u[0], u[1]))
        if keep is None or keep([unit[2]] if isinstance(unit[2], Pipeline) else groups[unit[2]])
    ]
    for unit in kept:
        item = unit[2]
        shown += 1
        if shown > MAX_ROWS:
            # Nobody reads row 2,000, and a table that long costs a redraw to match: the
            # urgent rows come first, the rest is a count that / narrows down.
            rest = kept[MAX_ROWS:]
            red, running = (sum(1 for u in rest if u[0] == rank) for rank in (0, 1))
            what = ", ".join(f"{n} {word}" for n, word in ((red, "red"), (running, "running")) if n)
            more = f"{fmt.ELLIPSIS[ascii]} {len(rest)} more" + (f" ({what})" if what else "")
            rows.append(
                Row(
                    key="more\x1f",
                    cells=(
                        cell(""),
                        cell(f"{more}: / to filter", "dim"),
                        cell(""),
                        cell(""),
                        cell(""),
                    ),
                )
            )
            break
        if isinstance(item, Pipeline):
            who = claims.get((item.source, item.key))
            rows.append(
                _pipeline_row(item, snapshot, now, ascii, compact, tiny=tiny, claimed_by=who)
            )
            continue
        is_open = item in expanded
        rows.append(_group_row(item, groups[item], snapshot, now, ascii, is_open))
        if is_open:
            rows.extend(
                _pipeline_row(
                    m,
                    snapshot,
                    now,
                    ascii,
                    compact,
                    indent="  ",
                    tiny=tiny,
                    claimed_by=claims.get((m.source, m.key)),
                )
                for m in groups[item]
            )
    return rows
