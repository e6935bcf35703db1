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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from rich.style import Style
from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from buildradiator import fmt
from buildradiator.ui.widgets.palette import Segment, palette, plain_title

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


@dataclass(frozen=True)
class Form:
    """One way to lay the rows out. A table offers its forms richest first; the first one whose
    meaningful columns keep the width they ``want`` is shown (``pick``)."""

    rows: Sequence[Row]
    flex: tuple[int, ...] = ()
    """Columns that may be cut, in the order they give way."""
    want: Mapping[int, int] = field(default_factory=dict)
    """Per flex column: the width it keeps whole before a poorer form is preferred (a name up
    to 24 characters, a reason's first 30); below it, only when no form fits."""


def without(rows: Sequence[Row], *columns: int) -> list[Row]:
    """``rows`` without the given columns (a poorer form)."""
    return [
        replace(r, cells=tuple(c for i, c in enumerate(r.cells) if i not in columns)) for r in rows
    ]


def _natural(rows: Sequence[Row]) -> list[int]:
    return [max(cell_width(r.cells[i]) for r in rows) for i in range(len(rows[0].cells))]


def _limits(form: Form, width: int, floor: Callable[[int], int]) -> tuple[list[int], int]:
    """Column widths after cutting the flex columns (in order) down to ``floor(column)``, and
    what is still too much."""
    widths = _natural(form.rows)
    excess = sum(widths) + 2 * PADDING * len(widths) - width
    for index in form.flex:
        if excess <= 0:
            break
        give = min(excess, max(0, widths[index] - floor(index)))
        widths[index] -= give
        excess -= give
    return widths, excess


def _wanted(form: Form, index: int) -> int:
    return max(MIN_FLEX, form.want.get(index, MIN_FLEX))


def fits(form: Form, width: int) -> bool:
    """Whether ``form`` fits ``width`` with every flex column at least at its wanted width."""
    if not form.rows:
        return True
    return _limits(form, width, lambda i: _wanted(form, i))[1] <= 0


def pick(forms: Sequence[Form], width: int) -> Form:
    """The richest form that fits ``width`` (the last, poorest one when none does)."""
    for form in forms:
        if fits(form, width):
            return form
    return forms[-1]


def fit(
    rows: Sequence[Row],
    flex: Sequence[int],
    width: int,
    ascii: bool = False,
    want: Mapping[int, int] | None = None,
) -> list[Row]:
    """Cut the ``flex`` columns (in that order) until the rows fit ``width`` columns: down to
    their wanted widths first, then to ``MIN_FLEX``; and if that is still too wide, every
    column, widest first, so that no row is ever wider than its panel."""
    if not rows:
        return list(rows)
    form = Form(rows, tuple(flex), dict(want or {}))
    widths, excess = _limits(form, width, lambda i: _wanted(form, i))
    if excess > 0:
        widths, excess = _limits(form, width, lambda _i: MIN_FLEX)
    while excess > 0 and max(widths) > 1:
        widest = widths.index(max(widths))
        widths[widest] -= 1
        excess -= 1
    natural = _natural(rows)
    if widths == natural:
        return list(rows)
    return [
        replace(
            r,
            cells=tuple(
                cut(c, widths[i], ascii) if widths[i] < natural[i] else c
                for i, c in enumerate(r.cells)
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
    """A DataTable fed whole rows, in one of the forms its view offers (``show_forms``).

    Subclasses set ``TITLE``, and ``FLEX`` for views that offer one form (``show_with``)."""

    FLEX: tuple[int, ...] = ()
    WANT: Mapping[int, int] = {}
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
        self._make: Callable[[int], Sequence[Form]] = lambda _width: ()
        self._wanted: tuple[Row, ...] = ()
        self._form: Form | None = None
        self._rows: tuple[Row, ...] = ()
        self._columns = 0
        self._fitted_width = 0
        self._subtitle = ""
        self._hint: str | None = None
        self._selected: str | None = None
        self._rebuilding = False
        self.ascii = False
        """Set by the views' ``show``: picks the ellipsis that cut names end with."""

    def on_mount(self) -> None:
        # Textual calls every on_mount along the MRO: subclasses set TITLE, not their own handler.
        self.border_title = self.TITLE

    def _add_columns(self, count: int) -> None:
        for index in range(count):
            # No label: headers are hidden, and a label's width would still widen its column
            # past what ``fit`` measured (an empty author column would keep 6 cells).
            self.add_column("", key=f"c{index}")
        self._columns = count

    def on_resize(self, _event: events.Resize) -> None:
        if self._room() != self._fitted_width:
            self.restyle()
        self._show_hint()

    user_moved = False
    """Set once someone moves the cursor: until then the table stays at the top, where the most
    urgent rows are, whatever re-sorting happens underneath. After that, the row they chose
    stays chosen (by its key) wherever re-sorting moves it."""

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

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        if self.user_moved and not self._rebuilding and 0 <= new.row < len(self._rows):
            self._selected = self._rows[new.row].key

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._show_hint()

    def set_subtitle(self, text: str) -> None:
        """The view's words under the panel; the table adds how many rows are out of sight."""
        self._subtitle = text
        self._show_hint()

    def hidden_rows(self) -> tuple[int, int]:
        """Rows (not lines) out of sight: above the top, and below the bottom of the panel."""
        visible = self.scrollable_content_region.height
        if visible <= 0:
            return 0, 0
        top = round(self.scroll_y)
        above = below = y = 0
        for row in self._rows:
            if y < top:
                above += 1
            elif y + row.height > top + visible:
                below += 1
            y += row.height
        return above, below

    def _show_hint(self) -> None:
        sep = fmt.SEPARATOR[self.ascii]
        above, below = self.hidden_rows() if self.is_mounted else (0, 0)
        parts = [self._subtitle] if self._subtitle else []
        if above:
            parts.append(f"{above} above")
        if below:
            parts.append(f"+{below} more")
        text = sep.join(parts)
        # Textual redraws the whole widget on every assignment, even of the same text: a
        # radiator re-showing an unchanged estate every few seconds must not pay for that.
        if self._hint != text:
            self._hint, self.border_subtitle = text, plain_title(text)

    def show_with(self, make: Callable[[int], Sequence[Row]]) -> bool:
        """Show the rows ``make(width)`` builds (one form, this table's ``FLEX``); kept to
        rebuild them when the width changes."""
        return self.show_forms(lambda width: (Form(make(width), self.FLEX, self.WANT),))

    def show_forms(self, make: Callable[[int], Sequence[Form]]) -> bool:
        """Show the richest of the forms ``make(width)`` offers that fits the panel."""
        self._make = make
        forms = make(self._room())
        return self.show_form(pick(forms, self._room()) if forms else Form(()))

    def _room(self) -> int:
        # The vertical scrollbar (see app.tcss) may appear: keep room for it.
        return max(0, self.size.width - self.styles.scrollbar_size_vertical)

    @property
    def rows_shown(self) -> tuple[Row, ...]:
        return self._rows

    def selected_url(self) -> str | None:
        if not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row].url

    def show_rows(self, rows: Sequence[Row]) -> bool:
        """Show ``rows`` (this table's ``FLEX``); returns whether anything had to be redrawn."""
        return self.show_form(Form(tuple(rows), self.FLEX, self.WANT))

    def show_form(self, form: Form) -> bool:
        wanted = tuple(form.rows)
        if wanted == self._wanted and self._room() == self._fitted_width and form == self._form:
            return False
        self._wanted, self._form, self._fitted_width = wanted, form, self._room()
        new = (
            tuple(fit(wanted, form.flex, self._fitted_width, self.ascii, form.want))
            if self._fitted_width
            else wanted
        )
        if new == self._rows:
            return False
        styles = palette(self.app)
        old = self._rows
        same_shape = [r.key for r in new] == [r.key for r in old] and _widths(new) == _widths(old)
        if same_shape and old:
            # Same rows, same column widths: update just the changed cells. (With
            # ``update_width=True`` DataTable re-measures the whole column on every cell: ages
            # ticking over on 200 rows cost 40,000 measurements a minute.)
            for old_row, row in zip(old, new, strict=True):
                for index, (old_cell, cell_) in enumerate(
                    zip(old_row.cells, row.cells, strict=True)
                ):
                    if old_cell != cell_ or old_row.stale != row.stale:
                        text = to_text(cell_, styles, row.stale)
                        self.update_cell(row.key, f"c{index}", text)
            self._rows = new
        else:
            self._rebuild(new, styles)
        self._show_hint()
        return True

    def _rebuild(self, new: tuple[Row, ...], styles: dict[str, Style]) -> None:
        self._rebuilding = True
        try:
            # Columns too: their widths only grow otherwise (see the module's docstring).
            self.clear(columns=True)
            self._add_columns(len(new[0].cells) if new else 0)
            for row in new:
                cells = (to_text(c, styles, row.stale) for c in row.cells)
                self.add_row(*cells, key=row.key, height=row.height)
            self._rows = new
            keys = [r.key for r in new]
            # The top first: the most urgent rows. Then, once someone chose a row, that row
            # again wherever it moved (scrolled to only as far as needed).
            self.move_cursor(row=0, animate=False)
            self.scroll_home(animate=False, immediate=True)
            if self.user_moved and self._selected in keys:
                self.move_cursor(row=keys.index(self._selected), animate=False)
        finally:
            self._rebuilding = False

    def restyle(self) -> None:
        """Rebuild with the current theme's colours and width (after a theme switch, a resize)."""
        self._wanted, self._form, self._rows = (), None, ()
        forms = self._make(self._room())
        self.show_form(pick(forms, self._room()) if forms else Form(()))
