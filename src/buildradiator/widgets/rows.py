"""A read-only table of rows that re-renders only what changed, fitted to its width.

Views hand it plain, comparable rows (built by pure functions from the snapshot and the time).
Identical rows are skipped outright; when the same rows are still there in the same order only
the changed cells are updated; only a change of rows rebuilds the table. A radiator runs for
weeks, and a periodic rebuild of every table would cost CPU (and flicker) for nothing.

Rows never scroll sideways: when they are wider than the panel, the ``FLEX`` columns (names,
details) are cut with an ellipsis (``...`` in ASCII mode), so the status column is always fully
visible. A rebuild also rebuilds the columns: DataTable's column widths only ever grow (``clear``
keeps them), so one wide status word seen an hour ago would otherwise keep a horizontal scrollbar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widgets import DataTable

from buildradiator import fmt
from buildradiator.widgets.palette import Segment, palette

Cell = tuple[Segment, ...]
PADDING = 1
"""Blank cells either side of every column (DataTable's ``cell_padding``)."""
MIN_FLEX = 6


def cell(text: str, style: str = "") -> Cell:
    return ((text, style),)


@dataclass(frozen=True)
class Row:
    key: str
    cells: tuple[Cell, ...]
    url: str | None = None
    stale: bool = False
    """Greys the whole row: old data that must not read as current."""
    height: int = 1


def cell_width(cell_: Cell) -> int:
    return max(len(line) for line in "".join(chunk for chunk, _ in cell_).split("\n"))


def cut(cell_: Cell, width: int, ascii: bool = False) -> Cell:
    """``cell_`` with every line cut to ``width`` characters, the last ones kept for an ellipsis
    (``…``, or ``...`` on an ASCII-only screen)."""
    mark = fmt.ELLIPSIS[ascii]
    out: list[Segment] = []
    used = 0
    for chunk, style in cell_:
        for index, line in enumerate(chunk.split("\n")):
            if index:
                out.append(("\n", style))
                used = 0
            room = width - used
            if len(line) > room:
                line = line[: room - len(mark)] + mark if room >= len(mark) else line[:room]
            used += len(line)
            if line:
                out.append((line, style))
    return tuple(out)


def fit(rows: Sequence[Row], flex: Sequence[int], width: int, ascii: bool = False) -> list[Row]:
    """Cut the ``flex`` columns (in that order) until the rows fit ``width`` columns."""
    if not rows:
        return list(rows)
    columns = len(rows[0].cells)
    widths = [max(cell_width(r.cells[i]) for r in rows) for i in range(columns)]
    excess = sum(widths) + 2 * PADDING * columns - width
    limits = dict.fromkeys(range(columns), 0)
    for index in flex:
        if excess <= 0:
            break
        give = min(excess, max(0, widths[index] - MIN_FLEX))
        limits[index] = widths[index] - give
        excess -= give
    if not any(limits.values()):
        return list(rows)
    return [
        replace(
            r,
            cells=tuple(
                cut(c, limits[i], ascii) if limits[i] else c for i, c in enumerate(r.cells)
            ),
        )
        for r in rows
    ]


def _widths(rows: Sequence[Row]) -> list[int]:
    """The width each column needs for these rows."""
    if not rows:
        return []
    return [max(cell_width(r.cells[i]) for r in rows) for i in range(len(rows[0].cells))]


def to_text(cell_: Cell, styles: dict[str, Style], stale: bool = False) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for chunk, style in cell_:
        # Text.append never parses markup: CI text stays literal, brackets and all.
        text.append(chunk, styles["stale"] if stale else styles.get(style, styles[""]))
    return text


class RowsTable(DataTable[Text]):
    """A DataTable fed whole rows; subclasses set ``COLUMNS``, ``FLEX`` and ``TITLE``."""

    COLUMNS: tuple[str, ...] = ()
    FLEX: tuple[int, ...] = ()
    TITLE = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            cursor_type="row",
            show_header=False,
            zebra_stripes=False,
            cell_padding=PADDING,
            # The status colours must survive the selection bar: it only changes the background.
            cursor_foreground_priority="renderable",
        )
        self._make: Callable[[int], Sequence[Row]] = lambda _width: ()
        self._wanted: tuple[Row, ...] = ()
        self._rows: tuple[Row, ...] = ()
        self._fitted_width = 0
        self.ascii = False
        """Set by the views' ``show``: picks the ellipsis that cut names end with."""

    def on_mount(self) -> None:
        # Textual calls every on_mount along the MRO: subclasses set TITLE, not their own handler.
        self.border_title = self.TITLE
        self._add_columns()

    def _add_columns(self) -> None:
        for name in self.COLUMNS:
            # No label: headers are hidden, and a label's width would still widen its column
            # past what ``fit`` measured (an empty author column would keep 6 cells).
            self.add_column("", key=name)

    def on_resize(self, _event: events.Resize) -> None:
        if self._room() != self._fitted_width:
            self.restyle()

    user_moved = False
    """Set once someone moves the cursor: until then the table stays at the top, where the most
    urgent rows are, whatever re-sorting happens underneath."""

    def _user(self) -> None:
        self.user_moved = True

    def action_cursor_up(self) -> None:
        self._user()
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        self._user()
        super().action_cursor_down()

    def action_page_up(self) -> None:
        self._user()
        super().action_page_up()

    def action_page_down(self) -> None:
        self._user()
        super().action_page_down()

    def action_scroll_bottom(self) -> None:
        self._user()
        super().action_scroll_bottom()

    async def _on_click(self, event: events.Click) -> None:
        self._user()
        await super()._on_click(event)

    def set_subtitle(self, text: str) -> None:
        """Textual redraws the whole widget on every assignment, even of the same text: a
        radiator re-showing an unchanged estate every few seconds must not pay for that."""
        if self.border_subtitle != text:
            self.border_subtitle = text

    def show_with(self, make: Callable[[int], Sequence[Row]]) -> bool:
        """Show the rows ``make(width)`` builds; kept to rebuild them when the width changes."""
        self._make = make
        return self.show_rows(make(self._room()))

    def _room(self) -> int:
        # The vertical scrollbar (1 cell, see app.tcss) may appear: keep room for it.
        return max(0, self.size.width - 1)

    @property
    def rows_shown(self) -> tuple[Row, ...]:
        return self._rows

    def selected_url(self) -> str | None:
        if not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row].url

    def show_rows(self, rows: Sequence[Row]) -> bool:
        """Show ``rows``; returns whether anything had to be redrawn."""
        wanted = tuple(rows)
        if wanted == self._wanted and self._room() == self._fitted_width:
            return False
        self._wanted, self._fitted_width = wanted, self._room()
        new = (
            tuple(fit(wanted, self.FLEX, self._fitted_width, self.ascii))
            if self._fitted_width
            else wanted
        )
        if new == self._rows:
            return False
        styles = palette(self.app)
        old = self._rows
        if [r.key for r in new] == [r.key for r in old] and _widths(new) == _widths(old):
            # Same rows, same column widths: update just the changed cells. (With
            # ``update_width=True`` DataTable re-measures the whole column on every cell: ages
            # ticking over on 200 rows cost 40,000 measurements a minute.)
            for old_row, row in zip(old, new, strict=True):
                for col, old_cell, cell_ in zip(
                    self.COLUMNS, old_row.cells, row.cells, strict=True
                ):
                    if old_cell != cell_ or old_row.stale != row.stale:
                        text = to_text(cell_, styles, row.stale)
                        self.update_cell(row.key, col, text)
        else:
            selected = old[self.cursor_row].key if 0 <= self.cursor_row < len(old) else None
            # Columns too: their widths only grow otherwise (see the module's docstring).
            self.clear(columns=True)
            self._add_columns()
            for row in new:
                cells = (to_text(c, styles, row.stale) for c in row.cells)
                self.add_row(*cells, key=row.key, height=row.height)
            keys = [r.key for r in new]
            # Follow the selection only while someone is using this table; otherwise stay at
            # the top, where the most urgent rows are (a red main must never scroll away).
            if selected in keys and self.has_focus and self.user_moved:
                self.move_cursor(row=keys.index(selected), animate=False)
            else:
                self.move_cursor(row=0, animate=False)
                self.scroll_home(animate=False)
        self._rows = new
        return True

    def restyle(self) -> None:
        """Rebuild with the current theme's colours and width (after a theme switch, a resize)."""
        self._wanted, self._rows = (), ()
        self.show_rows(self._make(self._room()))
