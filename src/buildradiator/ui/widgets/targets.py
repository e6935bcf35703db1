"""Targets: one row per ``[[targets]]`` goal, whether it is met, its value, its trend and how it
moved since the window before. Hidden while no target is configured."""

from __future__ import annotations

from textual.geometry import Size

from buildradiator import fmt
from buildradiator.model import Snapshot, TargetStatus
from buildradiator.rules.targets import change, met_glyph, met_word, summary, value_text
from buildradiator.ui.widgets.palette import Segment
from buildradiator.ui.widgets.rows import Form, Row, RowsTable, cell, without

TREND_CELLS = 14
"""The sparkline shows the newest two weeks at most: the window and the one before it for a
7-day target, and it keeps the panel narrow enough for the right column."""
MET_STYLE = {True: "status-passed", False: "status-failed", None: "dim"}
MOVE_STYLE = {1: "health-up", -1: "health-down", 0: "dim"}


def name_cell(t: TargetStatus) -> tuple[Segment, ...]:
    """The name, and why it cannot be judged when its scope matches nothing."""
    parts: list[Segment] = [(t.name, "bold" if t.met is False else "")]
    if t.scope.startswith("(") and t.scope not in t.name:
        parts.append((f" {t.scope}", "dim"))
    return tuple(parts)


def target_row(index: int, t: TargetStatus, ascii: bool) -> Row:
    glyph = met_glyph(t, ascii)
    known = t.value is not None
    moved = change(t, ascii)
    trend = fmt.sparkline(t.trend[-TREND_CELLS:], ascii) if t.trend else ""
    return Row(
        key=f"target\x1f{index}",
        cells=(
            cell(f"{glyph} {met_word(t)}", MET_STYLE[t.met]),
            name_cell(t),
            cell(value_text(t.measure, t.value), "bold" if known else "dim") if known else (),
            cell(trend, "dim"),
            cell(moved[0], MOVE_STYLE[moved[1]]) if moved else (),
        ),
    )


def target_rows(snapshot: Snapshot, ascii: bool = False) -> list[Row]:
    return [target_row(i, t, ascii) for i, t in enumerate(snapshot.targets)]


NAME_WANT = 30


def target_forms(rows: list[Row]) -> list[Form]:
    """Richest first; the trend goes first, then how it moved: the name and the value stay."""
    return [
        Form(rows, (1, 3), {1: NAME_WANT}),
        Form(without(rows, 3), (1,), {1: NAME_WANT}),
        Form(without(rows, 3, 4), (1,), {1: NAME_WANT}),
    ]


class Targets(RowsTable):
    TITLE = "Targets"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Nothing to show until a snapshot brings targets (none configured: never).
        self.display = False

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        # Shown for the first time, the table's rows arrive (on idle) just after the layout
        # that made room for an empty table: without a second layout it stays 0 rows high.
        if old.height != new.height:
            self.call_after_refresh(self.refresh, layout=True)

    def show(self, snapshot: Snapshot, ascii: bool) -> bool:
        self.ascii = ascii
        wanted = bool(snapshot.targets)
        if self.display != wanted:
            self.display = wanted
        if not wanted:
            return False
        self.set_subtitle(summary(snapshot.targets))
        forms = target_forms(target_rows(snapshot, ascii))
        return self.show_forms(lambda _width: forms)
