"""The Textual app: thin. It runs the feed in a worker, receives snapshots as messages and hands
them to widgets that only render. No I/O here beyond reading theme files at start-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import tzinfo
from functools import partial
from typing import Protocol

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from buildradiator.clock import Clock
from buildradiator.model import Snapshot
from buildradiator.themes import DEFAULT_THEME, VARIABLES, load_themes
from buildradiator.widgets import (
    Banner,
    CompactSummary,
    Flaky,
    HelpScreen,
    InFlight,
    MainBranches,
    Production,
    RowsTable,
    StatusBar,
)
from buildradiator.widgets.filterbar import FilterBar
from buildradiator.widgets.pipelines import Finder
from buildradiator.widgets.wall import WallView

WIDE_COLUMNS = 120
PANE_BELOW_COLUMNS = 70
PANE_BELOW_ROWS = 20
"""Below either, ``auto`` picks the pane: one-line banner, the rows that matter, one-line counts."""
LAYOUTS = ("-wide", "-narrow", "-pane")
TABLE_TICKS = 5
"""Tables recompute their ages every 5 s (they show minutes); only changed cells are redrawn."""


class SnapshotFeed(Protocol):
    async def run(self, publish: Callable[[Snapshot], None]) -> None: ...
    def poll_now(self) -> None: ...


class SnapshotUpdated(Message):
    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        # A burst of snapshots collapses to the newest: each one is the whole state.
        return isinstance(message, SnapshotUpdated)


class BuildRadiatorApp(App[int]):
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("q", "quit_app", "Quit"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("o", "open_selected", "Open"),
        Binding("slash", "find", "Filter"),
        Binding("h", "toggle_passing", "Hide passing"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(
        self,
        feed: SnapshotFeed,
        *,
        title: str = "buildradiator",
        theme: str = "default",
        mode: str = "auto",
        ascii: bool = False,
        clock: Clock | None = None,
        initial: Snapshot | None = None,
        page_seconds: float = 15.0,
    ) -> None:
        super().__init__()
        self.title = title
        self._feed = feed
        self._mode = mode
        self._wall = mode == "wall"
        self._page_seconds = page_seconds
        self._ascii = ascii
        self.layout_name = "-wall" if self._wall else ""
        """The layout in use: ``-wall``, or (re-picked on every resize) ``-wide``, ``-narrow``
        or ``-pane``; also a CSS class on the app."""
        self._finder = Finder()
        self._clock = clock or Clock()
        self.snapshot: Snapshot | None = initial
        self.display_tz: tzinfo | None = None
        """Zone of the clock times shown (ETA, green since); ``None`` is the local zone."""
        self._ticks = 0
        catalog = load_themes()
        self._theme_names = sorted(catalog.themes)
        for theme_obj in catalog.themes.values():
            self.register_theme(theme_obj)
        wanted = "wall" if mode == "wall" and theme == DEFAULT_THEME else theme
        self._problems = [f"{p} (ignored)" for n, p in catalog.problems.items() if n != wanted]
        if wanted not in catalog.themes:
            why = catalog.problems.get(wanted) or f"no theme named {wanted!r}"
            self._problems.insert(0, f"{why}; using the default theme")
            wanted = DEFAULT_THEME
        self.theme = wanted

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLES)

    def compose(self) -> ComposeResult:
        if self._wall:
            # The wall composes only what it shows: no table to focus, no cursor, no key hints.
            yield WallView(ascii=self._ascii, page_seconds=self._page_seconds, id="wall")
            yield StatusBar(id="status-bar")
            return
        yield Banner(id="banner")
        with Container(id="columns"):
            with Vertical(id="left"):
                yield MainBranches(id="main-branches")
                yield Production(id="production")
            with Vertical(id="right"):
                yield InFlight(id="in-flight")
                yield Flaky(id="flaky")
        yield CompactSummary(id="compact")
        yield FilterBar(id="filter")
        yield StatusBar(id="status-bar")

    def on_mount(self) -> None:
        for problem in self._problems:
            self.notify(problem, title="Theme", severity="error", timeout=15, markup=False)
        if self._wall:
            self.query_one(StatusBar).keys = ""
        self.set_class(self._ascii, "-ascii")
        self._apply_layout(self.size)
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self._show_all()
        self.set_interval(1.0, self._tick)
        self.run_worker(self._run_feed(), name="feed", exclusive=True, exit_on_error=False)

    async def _run_feed(self) -> None:
        await self._feed.run(self._publish)

    def _publish(self, snapshot: Snapshot) -> None:
        self.post_message(SnapshotUpdated(snapshot))

    def on_snapshot_updated(self, message: SnapshotUpdated) -> None:
        if message.snapshot != self.snapshot:
            previous, self.snapshot = self.snapshot, message.snapshot
            self.snapshot_changed(previous, message.snapshot)

    def snapshot_changed(self, previous: Snapshot | None, snapshot: Snapshot) -> None:
        """THE place a new snapshot lands (once per change). Views redraw here; whatever reacts
        to a change of state (alerts, hooks, claims) belongs here too, after the views."""
        self._show_all()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "feed" and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"the engine stopped: {error}", severity="error", timeout=30, markup=False)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size)

    def pick_layout(self, size: Size) -> str:
        """``-wall``, ``-wide`` (panels side by side), ``-narrow`` (stacked: ssh at 80x24) or
        ``-pane`` (a strip beside an editor, down to 40x10)."""
        if self._wall:
            return "-wall"
        fixed = {"default": "-wide", "pane": "-pane"}.get(self._mode)
        if fixed:
            return fixed
        if size.width < PANE_BELOW_COLUMNS or size.height < PANE_BELOW_ROWS:
            return "-pane"
        return "-wide" if size.width >= WIDE_COLUMNS else "-narrow"

    def _apply_layout(self, size: Size) -> None:
        layout = self.pick_layout(size)
        changed = layout != self.layout_name
        self.layout_name = layout
        for name in (*LAYOUTS, "-wall"):
            self.set_class(name == layout, name)
        if self._wall or not changed:
            return
        pane = layout == "-pane"
        self.query_one(Banner).one_line = pane
        self.query_one(CompactSummary).one_line = pane
        self._show_all()

    def _show_all(self, tables: bool = True) -> None:
        now, snap, ascii, tz = self._clock.now(), self.snapshot, self._ascii, self.display_tz
        self.query_one(StatusBar).show(snap, now, ascii)
        if self._wall:
            self.query_one(WallView).show(snap, now, tz)
            return
        self.query_one(Banner).show(snap, now, ascii, tz)
        self.query_one(CompactSummary).show(snap, now, ascii, tz)
        if snap is None or not tables:
            return
        self.query_one(MainBranches).show(snap, now, ascii)
        self.query_one(InFlight).show(snap, now, ascii, tz)
        self.query_one(Production).show(snap, now, ascii)
        self.query_one(Flaky).show(snap, ascii)

    def _tick(self) -> None:
        """THE 1 Hz tick: ticking ages, wall pages; time-driven behaviour (an alarm that grows
        louder, a repeating bell) belongs here too."""
        self._ticks += 1
        now = self._clock.now()
        if self._wall:
            wall = self.query_one(WallView)
            if self._ticks % TABLE_TICKS == 0:
                self._show_all()
            wall.tick(now, self._clock.monotonic())
            self.query_one(StatusBar).tick(now)
            return
        if self._ticks % TABLE_TICKS == 0:
            self._show_all()
            return
        # Every second only the ticking ages move: the banner and the status bar.
        self.query_one(Banner).tick(now)
        self.query_one(StatusBar).tick(now)

    def _on_theme_changed(self, _theme: Theme) -> None:
        for widget in self.query("RowsTable, Banner, StatusBar, LinesView, TileGrid"):
            widget.restyle()  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The wall has nothing to select, filter or open: its keys do nothing (and show nothing).
        if self._wall and action in ("open_selected", "find", "toggle_passing", "clear_filter"):
            return False
        if action == "clear_filter":
            return self._finder.query != "" or isinstance(self.focused, FilterBar)
        return True

    # --- finding things -------------------------------------------------------------------

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

    def action_quit_app(self) -> None:
        self.exit(0)

    def action_refresh_now(self) -> None:
        self._feed.poll_now()
        self.notify("polling every source now", timeout=2)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_open_selected(self) -> None:
        if self._wall:
            return
        focused = self.focused
        table = focused if isinstance(focused, RowsTable) else self.query_one(MainBranches)
        url = table.selected_url()
        if url:
            self.open_url(url)
        else:
            self.notify("nothing selected to open", severity="warning", timeout=3)

    def _switch_theme(self, name: str) -> None:
        self.theme = name

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Refresh now", "Poll every source now", self.action_refresh_now)
        for name in self._theme_names:
            yield SystemCommand(
                f"Theme: {name}", f"Switch to the {name} theme", partial(self._switch_theme, name)
            )
