"""The main screen: banner, panels and status bar, laid out by the terminal's size, and what a
person at the keyboard does there (filter, open, claim, a pipeline's detail)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial

from textual import events
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.css.scalar import Scalar
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input

from buildradiator.clock import Clock
from buildradiator.model import Pipeline, Status
from buildradiator.ui.claims import ClaimStore
from buildradiator.ui.options import RadiatorOptions
from buildradiator.ui.screens.base import Host, ModeScreen, View
from buildradiator.ui.widgets import (
    Banner,
    CompactSummary,
    Flaky,
    InFlight,
    MainBranches,
    Production,
    RowsTable,
    StatusBar,
    Targets,
)
from buildradiator.ui.widgets.claim import ClaimScreen
from buildradiator.ui.widgets.delivery import DeliveryScreen
from buildradiator.ui.widgets.detail import PipelineDetail
from buildradiator.ui.widgets.filterbar import FilterBar
from buildradiator.ui.widgets.finder import Finder
from buildradiator.ui.widgets.overlay import OverlayScreen

WIDE_COLUMNS = 120
TALL_COLUMNS, TALL_ROWS = 160, 50
"""From both up, Targets and Flaky join the left column and In flight has the right one alone:
a big screen's room goes where the content is, not to half a column of blank rows."""
PANE_BELOW_COLUMNS = 70
PANE_BELOW_ROWS = 20
"""Below either, ``auto`` picks the pane: one-line banner, the rows that matter, one-line counts."""


class Column(Vertical):
    """A column of panels that says when its height changed (see ``_fit_production``)."""

    class Resized(Message):
        pass

    def on_resize(self, _event: events.Resize) -> None:
        self.post_message(self.Resized())


class MainScreen(ModeScreen):
    BINDINGS = [
        Binding("o", "open_selected", "Open"),
        Binding("slash", "find", "Filter"),
        Binding("h", "toggle_passing", "Hide passing"),
        Binding("d", "delivery", "Delivery"),
        Binding("a", "claim", "Claim"),
        Binding("A", "release_claim", "Release claim", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(
        self, options: RadiatorOptions, host: Host, *, claims: ClaimStore, clock: Clock
    ) -> None:
        super().__init__(options, host)
        self._claims = claims
        self._clock = clock
        self._finder = Finder()
        self._layout = ""

    def widgets(self) -> ComposeResult:
        yield Banner(id="banner")
        tall = self.pick_layout(self.app.size) == "-tall"
        with Container(id="columns"):
            with Column(id="left"):
                yield MainBranches(id="main-branches")
                yield Production(id="production")
                if tall:
                    yield from self._movable_panels(tall)
            with Column(id="right"):
                yield InFlight(id="in-flight")
                if not tall:
                    yield from self._movable_panels(tall)
        yield CompactSummary(id="compact")
        yield FilterBar(id="filter")
        yield StatusBar(id="status-bar")

    # --- layout -----------------------------------------------------------------------------

    def pick_layout(self, size: Size) -> str:
        """``-tall`` (a big screen: three panels on the left, In flight alone on the right),
        ``-wide`` (panels side by side), ``-narrow`` (stacked: ssh at 80x24) or ``-pane`` (a
        strip beside an editor, down to 40x10)."""
        fixed = {"default": "-wide", "pane": "-pane"}.get(self.options.mode)
        if fixed == "-pane":
            return fixed
        if fixed is None and (size.width < PANE_BELOW_COLUMNS or size.height < PANE_BELOW_ROWS):
            return "-pane"
        if size.width >= TALL_COLUMNS and size.height >= TALL_ROWS:
            return "-tall"
        if fixed:
            return fixed
        return "-wide" if size.width >= WIDE_COLUMNS else "-narrow"

    def layout_changed(self, layout: str) -> bool:
        self._layout = layout
        pane = layout == "-pane"
        self.query_one(Banner).one_line = pane
        self.query_one(CompactSummary).one_line = pane
        if layout in ("-tall", "-wide"):
            self.call_later(self._place_panels, layout == "-tall")
        return True

    @staticmethod
    def _movable_panels(tall: bool) -> list[Flaky | Targets]:
        """Flaky and Targets: under In flight, or (``-tall``) at the foot of the left column."""
        if tall:
            return [Targets(id="targets"), Flaky(id="flaky")]
        return [Flaky(id="flaky"), Targets(id="targets")]

    async def _place_panels(self, tall: bool) -> None:
        home = self.query_one("#left" if tall else "#right")
        if self.query_one(Flaky).parent is home:
            return
        await self.query_one(Flaky).remove()
        await self.query_one(Targets).remove()
        await home.mount_all(self._movable_panels(tall))
        self.host.redraw()

    def on_main_branches_resized(self, _message: MainBranches.Resized) -> None:
        self._fit_production()

    def on_column_resized(self, _message: Column.Resized) -> None:
        self._fit_production()

    def _fit_production(self) -> None:
        """Production takes its rows, up to what Main branches leaves of the column: its box
        always closes above the status bar (rows out of sight are counted under it)."""
        if self._layout in ("-pane", "-tall"):
            return
        left = self.query_one("#left")
        room = left.size.height - self.query_one(MainBranches).outer_size.height
        production = self.query_one(Production)
        if room >= 3 and production.styles.max_height != Scalar.from_number(room):
            production.styles.max_height = room

    # --- drawing ----------------------------------------------------------------------------

    def show(self, view: View) -> None:
        snap, now, ascii, tz = view.snapshot, view.now, view.ascii, view.tz
        self.query_one(StatusBar).show(snap, now, ascii)
        self.query_one(Banner).show(snap, now, ascii, tz, view.notes, view.engine)
        self._keep_banner_in_sight()
        self.query_one(CompactSummary).show(snap, now, ascii, tz)
        if snap is None:
            return
        if isinstance(self.app.screen, PipelineDetail | DeliveryScreen):
            self.app.screen.show(snap, now, ascii, tz)  # an open box follows the news
        claimed = {ident: who for ident, (who, _note) in view.notes.items()}
        self.query_one(MainBranches).show(snap, now, ascii, claimed)
        self.query_one(InFlight).show(snap, now, ascii, tz)
        self.query_one(Production).show(snap, now, ascii)
        self.query_one(Flaky).show(snap, ascii, now)
        self.query_one(Targets).show(snap, ascii)

    def _keep_banner_in_sight(self) -> None:
        """An open box over the radiator follows the banner's height (it grows with time)."""
        if isinstance(self.app.screen, OverlayScreen):
            self.app.screen.place_box()

    def tick(self, now: datetime, monotonic: float, redrawn: bool) -> None:
        if redrawn:
            return
        # Every second only the ticking ages move: the banner and the status bar.
        self.query_one(Banner).tick(now)
        self.query_one(StatusBar).tick(now)

    def alarm_widgets(self) -> list[Widget]:
        return list(self.query(Banner))

    # --- finding things ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self._finder.query != "" or isinstance(self.focused, FilterBar)
        return True

    def _find(self, finder: Finder) -> None:
        self._finder = finder
        self.query_one(MainBranches).find(finder)

    def action_find(self) -> None:
        self.query_one(FilterBar).reveal()

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, FilterBar):
            self._find(Finder(event.value, self._finder.hide_passing))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, FilterBar):
            if not event.value.strip():
                self.query_one(FilterBar).conceal()
            self.query_one(MainBranches).focus()

    def action_clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.value = ""  # posts Input.Changed, but clear at once: the rows must not lag a frame
        bar.conceal()
        self._find(Finder("", self._finder.hide_passing))
        self.query_one(MainBranches).focus()

    def action_toggle_passing(self) -> None:
        hide = not self._finder.hide_passing
        self._find(Finder(self._finder.query, hide))
        self.notify("passing pipelines hidden" if hide else "passing pipelines shown", timeout=2)

    def on_main_branches_pipeline_chosen(self, message: MainBranches.PipelineChosen) -> None:
        snapshot = self.host.snapshot
        if snapshot is None:
            return
        detail = PipelineDetail(message.pipeline.source, message.pipeline.key)
        detail.show(snapshot, self._clock.now(), self.options.ascii, self.host.display_tz)
        self.app.push_screen(detail)

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Delivery measures", "Four keys, congestion at main", self.action_delivery
        )

    def action_delivery(self) -> None:
        """The Delivery screen over the radiator, drawn from the snapshot (never a query)."""
        if isinstance(self.app.screen, DeliveryScreen):
            return
        screen = DeliveryScreen()
        if self.host.snapshot is not None:
            screen.show(
                self.host.snapshot, self._clock.now(), self.options.ascii, self.host.display_tz
            )
        self.app.push_screen(screen)

    def action_open_selected(self) -> None:
        focused = self.focused
        table = focused if isinstance(focused, RowsTable) else self.query_one(MainBranches)
        url = table.selected_url()
        if url:
            self.host.open_link(url)
        else:
            self.notify(
                "nothing selected to open: pick a row (arrows or tab) first",
                severity="warning",
                timeout=5,
                markup=False,
            )

    # --- claims -----------------------------------------------------------------------------

    def action_claim(self) -> None:
        """``a``: claim a red pipeline (again on a claimed one: change the note)."""
        pipeline = self._claim_target()
        if pipeline is None:
            self.notify("select a red pipeline to claim it", severity="warning", timeout=3)
            return
        if pipeline.status is not Status.FAILED:
            self.notify(f"{pipeline.name} is not red: nothing to claim", timeout=3, markup=False)
            return
        current = self._claims.get(pipeline.source, pipeline.key)
        screen = ClaimScreen(
            pipeline.name,
            default=current.who if current else None,
            note=current.note if current else "",
            ascii=self.options.ascii,
        )
        done = partial(self._claimed, pipeline.source, pipeline.key, pipeline.name)
        self.app.push_screen(screen, done)

    def _claim_target(self) -> Pipeline | None:
        """The selected pipeline when it is red; otherwise the red one the banner leads with
        (the selection follows its pipeline as rows move, so it is often elsewhere when a main
        turns red). The dialog names the pipeline, so the choice is never silent."""
        selected = self.query_one(MainBranches).selected_pipeline()
        snapshot = self.host.snapshot
        if (selected is not None and selected.status is Status.FAILED) or snapshot is None:
            return selected
        for window in snapshot.broken:
            if window.kind == "pipeline":
                for p in snapshot.pipelines:
                    if (p.source, p.key) == (window.source, window.key):
                        return p
        return selected

    def _claimed(self, source: str, key: str, name: str, result: tuple[str, str] | None) -> None:
        if result is None:
            return
        who, note = result
        claim = self._claims.claim(source, key, who, note)
        self.host.toast_claim_warning()
        self.notify(f"{name} claimed by {claim.who}", timeout=4, markup=False)
        self.host.redraw()

    def action_release_claim(self) -> None:
        """``A``: release the claim on the selected pipeline."""
        pipeline = self._claim_target()
        if pipeline is None or self._claims.get(pipeline.source, pipeline.key) is None:
            self.notify("no claim on the selected row", severity="warning", timeout=3)
            return
        self._claims.release(pipeline.source, pipeline.key)
        self.host.toast_claim_warning()
        self.notify(f"claim on {pipeline.name} released", timeout=4, markup=False)
        self.host.redraw()
