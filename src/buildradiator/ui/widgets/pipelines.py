"""Main branches: the table of watched pipelines (rows from ``pipeline_rows``), in the richest
form that fits its width; Enter opens a group or asks for a pipeline's detail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from textual import events
from textual.message import Message

from buildradiator import fmt
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.ui.widgets.finder import Finder
from buildradiator.ui.widgets.pipeline_rows import GROUP_KEY, Claimed, pipeline_rows, row_key
from buildradiator.ui.widgets.rows import Form, Row, RowsTable, without

NAME_WANT = 24
AUTHOR_WANT = 16
"""Names up to 24 characters and authors up to 16 stay whole while any form keeps them so."""


def pipeline_forms(make: Callable[[str], Sequence[Row]]) -> list[Form]:
    """Richest first: the whole status ("running, last: failed") and the branch; then
    "running, failed"; then without the branch column (a "Main branches" panel mostly says
    main); then the last result's word with a glyph for a build on top; last, for a strip beside
    an editor, without the author. Names and authors give way only when no form keeps them."""
    full, compact, tiny = make("full"), make("compact"), make("tiny")
    with_branch = {1: NAME_WANT, 4: AUTHOR_WANT}
    no_branch = {1: NAME_WANT, 3: AUTHOR_WANT}
    return [
        Form(full, (2, 4, 1), with_branch),
        Form(compact, (2, 4, 1), with_branch),
        Form(without(compact, 2), (3, 1), no_branch),
        Form(without(tiny, 2), (3, 1), no_branch),
        Form(without(tiny, 2, 4), (1,), {1: NAME_WANT}),
    ]


class MainBranches(RowsTable):
    TITLE = "Main branches"

    class Resized(Message):
        """Its height changed: what it leaves of the column changed too (see the app)."""

    def on_resize(self, _event: events.Resize) -> None:
        self.post_message(self.Resized())

    class PipelineChosen(Message):
        """Enter on a pipeline's row: the app opens its detail."""

        def __init__(self, pipeline: Pipeline) -> None:
            super().__init__()
            self.pipeline = pipeline

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.expanded: set[str] = set()
        self.finder = Finder()
        self._last_args: tuple[Snapshot, datetime, bool, Claimed] | None = None

    def show(
        self, snapshot: Snapshot, now: datetime, ascii: bool, claimed: Claimed | None = None
    ) -> bool:
        claimed = dict(claimed or {})
        self._last_args = (snapshot, now, ascii, claimed)
        self.ascii = ascii
        expanded = frozenset(self.expanded)
        finder = self.finder
        stale = snapshot.stale_sources

        def keep(members: Sequence[Pipeline]) -> bool:
            return finder.keeps(members, stale)

        def rows(mode: str) -> list[Row]:
            return pipeline_rows(
                snapshot,
                now,
                ascii,
                compact=mode != "full",
                expanded=expanded,
                keep=keep if finder.active else None,
                tiny=mode == "tiny",
                claimed=claimed,
            )

        def make(_width: int) -> list[Form]:
            return pipeline_forms(rows)

        if not snapshot.pipelines:
            subtitle = "no pipelines yet"
        else:
            red = sum(1 for p in snapshot.pipelines if p.status is Status.FAILED)
            total = len(snapshot.pipelines)
            subtitle = f"{red} red of {total}" if red else f"{total}"
        changed = self.show_forms(make)
        if finder.active:
            shown = len(self.rows_shown)
            found = f"{shown} shown" if shown else "nothing matches"
            sep = fmt.SEPARATOR[ascii]
            subtitle = f"{finder.describe(ascii)}{sep}{found}{sep}{subtitle}"
        self.set_subtitle(subtitle)
        return changed

    def find(self, finder: Finder) -> None:
        """Apply a new filter / hide-passing choice to the rows shown now."""
        self.finder = finder
        if self._last_args is not None:
            self.show(*self._last_args)

    def selected_pipeline(self) -> Pipeline | None:
        """The pipeline on the selected row (``None`` on a group row or an empty table)."""
        if self._last_args is None or not 0 <= self.cursor_row < len(self.rows_shown):
            return None
        key = self.rows_shown[self.cursor_row].key
        return next((p for p in self._last_args[0].pipelines if row_key(p) == key), None)

    def on_data_table_row_selected(self, event: RowsTable.RowSelected) -> None:
        """Enter on a group row opens or closes it; on a pipeline's row, asks for its detail."""
        row = self.rows_shown[event.cursor_row] if event.cursor_row < len(self.rows_shown) else None
        if row is None or self._last_args is None:
            return
        event.stop()
        if not row.key.startswith(GROUP_KEY):
            found = next((p for p in self._last_args[0].pipelines if row_key(p) == row.key), None)
            if found is not None:
                self.post_message(self.PipelineChosen(found))
            return
        name = row.key.removeprefix(GROUP_KEY)
        self.expanded.symmetric_difference_update({name})
        self.show(*self._last_args)
