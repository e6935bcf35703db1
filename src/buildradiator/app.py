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
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
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

WIDE_COLUMNS = 120
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
    ) -> None:
        super().__init__()
        self.title = title
        self._feed = feed
        self._mode = mode
        self._ascii = ascii
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
        yield Banner(id="banner")
        with Container(id="columns"):
            with Vertical(id="left"):
                yield MainBranches(id="main-branches")
                yield Production(id="production")
            with Vertical(id="right"):
                yield InFlight(id="in-flight")
                yield Flaky(id="flaky")
        yield CompactSummary(id="compact")
        yield StatusBar(id="status-bar")

    def on_mount(self) -> None:
        for problem in self._problems:
            self.notify(problem, title="Theme", severity="error", timeout=15, markup=False)
        self._apply_layout(self.size.width)
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
            self.snapshot = message.snapshot
            self._show_all()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "feed" and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"the engine stopped: {error}", severity="error", timeout=30, markup=False)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width)

    def _apply_layout(self, width: int) -> None:
        wide = {"default": True, "wall": True, "pane": False}.get(self._mode, width >= WIDE_COLUMNS)
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-narrow")

    def _show_all(self, tables: bool = True) -> None:
        now, snap, ascii, tz = self._clock.now(), self.snapshot, self._ascii, self.display_tz
        self.query_one(Banner).show(snap, now, ascii, tz)
        self.query_one(StatusBar).show(snap, now, ascii)
        self.query_one(CompactSummary).show(snap, now, ascii, tz)
        if snap is None or not tables:
            return
        self.query_one(MainBranches).show(snap, now, ascii)
        self.query_one(InFlight).show(snap, now, ascii, tz)
        self.query_one(Production).show(snap, now, ascii)
        self.query_one(Flaky).show(snap, ascii)

    def _tick(self) -> None:
        self._ticks += 1
        now = self._clock.now()
        if self._ticks % TABLE_TICKS == 0:
            self._show_all()
            return
        # Every second only the ticking ages move: the banner and the status bar.
        self.query_one(Banner).tick(now)
        self.query_one(StatusBar).tick(now)

    def _on_theme_changed(self, _theme: Theme) -> None:
        for widget in self.query("RowsTable, Banner, StatusBar, LinesView"):
            widget.restyle()  # type: ignore[attr-defined]

    def action_quit_app(self) -> None:
        self.exit(0)

    def action_refresh_now(self) -> None:
        self._feed.poll_now()
        self.notify("polling every source now", timeout=2)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_open_selected(self) -> None:
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
