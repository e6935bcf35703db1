"""The Textual app: thin. It runs the feed in a worker, receives snapshots as messages and hands
them to widgets that only render. No I/O here beyond reading theme files at start-up, and what
the alert, hook and claim objects it is handed do (writing to the terminal, running hooks in the
background, saving claims)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
import uuid
import webbrowser
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path
from typing import Protocol

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.content import Content
from textual.css.scalar import Scalar
from textual.filter import LineFilter
from textual.geometry import Size
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from buildradiator.clock import Clock
from buildradiator.errors import EXIT_INTERNAL
from buildradiator.model import Pipeline, Snapshot, Status
from buildradiator.paths import get_paths
from buildradiator.ui.alerts import Action, Bell, Escalation, Flash, Level, Notify, Toast, Withdraw
from buildradiator.ui.ascii import AsciiCells
from buildradiator.ui.claims import ClaimStore
from buildradiator.ui.hooks import HookResult, HookRunner, events_between
from buildradiator.ui.notify import TextSink, Writable, send_notification
from buildradiator.ui.themes import DEFAULT_THEME, VARIABLES, load_themes
from buildradiator.ui.widgets import (
    Banner,
    CompactSummary,
    Flaky,
    HelpScreen,
    InFlight,
    MainBranches,
    Production,
    RowsTable,
    StatusBar,
    Targets,
)
from buildradiator.ui.widgets.banner import LEVELS
from buildradiator.ui.widgets.claim import ClaimScreen
from buildradiator.ui.widgets.detail import PipelineDetail
from buildradiator.ui.widgets.filterbar import FilterBar
from buildradiator.ui.widgets.overlay import OverlayScreen
from buildradiator.ui.widgets.pipelines import Finder
from buildradiator.ui.widgets.statusbar import Message as BarMessage
from buildradiator.ui.widgets.verdict import EngineStopped, stopped
from buildradiator.ui.widgets.wall import WallHead, WallView

log = logging.getLogger(__name__)

WIDE_COLUMNS = 120
TALL_COLUMNS, TALL_ROWS = 160, 50
"""From both up, Targets and Flaky join the left column and In flight has the right one alone:
a big screen's room goes where the content is, not to half a column of blank rows."""
PANE_BELOW_COLUMNS = 70
PANE_BELOW_ROWS = 20
"""Below either, ``auto`` picks the pane: one-line banner, the rows that matter, one-line counts."""
LAYOUTS = ("-tall", "-wide", "-narrow", "-pane")
TABLE_TICKS = 5
"""Tables recompute their ages every 5 s (they show minutes); only changed cells are redrawn."""
"""The exit code once the engine has stopped (whenever the radiator is quit after that)."""


@dataclass
class _Said:
    """One message shown at the right of the status bar (see ``BuildRadiatorApp.notify``)."""

    text: str
    severity: str
    until: datetime
    key: object | None = None
    whole: bool = False


def open_in_browser(url: str) -> bool:
    """Open ``url`` in a graphical browser; ``False`` when there is none to open it. A text
    browser (lynx, w3m...) would take over the radiator's own terminal: never one of those."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    if isinstance(browser, webbrowser.GenericBrowser) and not isinstance(
        browser, webbrowser.BackgroundBrowser
    ):
        return False  # a console browser, run in the foreground: it would take the terminal
    try:
        return bool(browser.open(url))
    except Exception:
        log.warning("opening %s in a browser failed", url, exc_info=True)
        return False


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


class Column(Vertical):
    """A column of panels that says when its height changed (see ``_fit_production``)."""

    class Resized(Message):
        pass

    def on_resize(self, _event: events.Resize) -> None:
        self.post_message(self.Resized())


class BuildRadiatorApp(App[int]):
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("q", "quit_app", "Quit"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("o", "open_selected", "Open"),
        Binding("slash", "find", "Filter"),
        Binding("h", "toggle_passing", "Hide passing"),
        Binding("a", "claim", "Claim"),
        Binding("A", "release_claim", "Release claim", show=False),
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
        escalation: Escalation | None = None,
        hooks: HookRunner | None = None,
        claims: ClaimStore | None = None,
        notify_writer: Writable | None = None,
        browser: Callable[[str], bool] = open_in_browser,
        log_path: Path | None = None,
    ) -> None:
        """``escalation``, ``hooks`` and ``claims`` default to alerts with the default settings,
        no hooks, and claims kept in a private temp dir (removed on exit), so tests and the
        bench never touch the user's claims. ``notify_writer`` receives the desktop
        notification bytes; by default they go to the terminal (never when headless).
        ``browser`` opens a URL and says whether it could; ``log_path`` is the log the screen
        points to when the engine stops (by default the one ``cli`` writes)."""
        super().__init__()
        self._browser = browser
        self._log_path = log_path
        self._said: list[_Said] = []
        self.engine_stopped: EngineStopped | None = None
        """Set when the feed's ``run`` raised or returned: the screen says so until quit."""
        self.title = title
        self._feed = feed
        self._mode = mode
        self._wall = mode == "wall"
        self._page_seconds = page_seconds
        self._ascii = ascii
        self._ascii_cells = AsciiCells()
        self.layout_name = "-wall" if self._wall else ""
        """The layout in use: ``-wall``, or (re-picked on every resize) ``-wide``, ``-narrow``
        or ``-pane``; also a CSS class on the app."""
        self._finder = Finder()
        self._clock = clock or Clock()
        self.snapshot: Snapshot | None = initial
        self.display_tz: tzinfo | None = None
        """Zone of the clock times shown (ETA, green since); ``None`` is the local zone."""
        self._ticks = 0
        self._escalation = escalation or Escalation()
        self._hooks = hooks or HookRunner(())
        if self._hooks.on_result is None:
            self._hooks.on_result = self._hook_finished
        self._hook_starts: set[asyncio.Task[None]] = set()
        self._own_claims_dir: Path | None = None
        if claims is None:
            # Not created until a claim is saved: most runs never make one.
            self._own_claims_dir = Path(tempfile.gettempdir()) / f"buildradiator-{uuid.uuid4()}"
            claims = ClaimStore(self._own_claims_dir / "claims.json", self._clock)
        self._claims = claims
        self._claim_warning: str | None = None
        self._notify_writer = notify_writer
        self._blink = False
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

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then (with ``--ascii``) every drawn cell folded to ASCII."""
        filters = list(super().get_line_filters())
        return [*filters, self._ascii_cells] if self._ascii else filters

    def compose(self) -> ComposeResult:
        if self._wall:
            # The wall composes only what it shows: no table to focus, no cursor, no key hints.
            yield WallView(ascii=self._ascii, page_seconds=self._page_seconds, id="wall")
            yield StatusBar(id="status-bar")
            return
        yield Banner(id="banner")
        tall = self.pick_layout(self.size) == "-tall"
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

    def on_mount(self) -> None:
        for problem in self._problems:
            self.notify(problem, title="Theme", severity="error", timeout=15, markup=False)
        self._toast_claim_warning()  # a claims file that could not be read at start-up
        if self._wall:
            self.query_one(StatusBar).keys = ""
        self.set_class(self._ascii, "-ascii")
        self._apply_layout(self.size)
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self._show_all()
        self.set_interval(1.0, self._tick)
        self.run_worker(self._run_feed(), name="feed", exclusive=True, exit_on_error=False)

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
        self._show_all()

    async def _run_feed(self) -> None:
        await self._feed.run(self._publish)

    def _publish(self, snapshot: Snapshot) -> None:
        self.post_message(SnapshotUpdated(snapshot))

    def on_snapshot_updated(self, message: SnapshotUpdated) -> None:
        if message.snapshot != self.snapshot:
            previous, self.snapshot = self.snapshot, message.snapshot
            self.snapshot_changed(previous, message.snapshot)

    def snapshot_changed(self, previous: Snapshot | None, snapshot: Snapshot) -> None:
        """THE place a new snapshot lands (once per change). Claims that the pipeline's recovery
        ended go first (so no view shows them), then the views redraw, then what reacts to a
        change of state: the alerts, then the hooks (in the background)."""
        now = self._clock.now()
        self._claims.prune(snapshot, now)
        self._toast_claim_warning()
        self._show_all()
        self._carry_out(self._escalation.observe(snapshot, now), now)
        if self._hooks.hooks:
            events = events_between(previous, snapshot, privacy=self._escalation.privacy)
            if events:
                # fire_all only starts the processes: the hooks run (and time out) on their own.
                # The loop keeps only weak references to tasks: hold it until it is done.
                task = asyncio.get_running_loop().create_task(self._hooks.fire_all(events))
                self._hook_starts.add(task)
                task.add_done_callback(self._hook_starts.discard)

    # --- messages: what Textual would show as toasts ------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (ours, and any Textual itself sends) goes to the right of the
        status bar, not into a toast: toasts covered the very panels (and banner) they were
        about. The newest shows, with how many others are still current."""
        text = message
        if markup:
            try:
                text = Content.from_markup(message).plain
            except Exception:
                text = message
        if title:
            text = f"{title}: {text}"
        self._say(text, severity, timeout)

    def clear_notifications(self) -> None:
        super().clear_notifications()
        self._said.clear()
        self._show_message(self._clock.now())

    def _say(
        self,
        text: str,
        severity: str,
        timeout: float | None,
        key: object | None = None,
        whole: bool = False,
    ) -> None:
        now = self._clock.now()
        seconds = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        if key is not None:
            self._said = [m for m in self._said if m.key != key]
        # One line: whatever came in several is read as one.
        said = _Said(" ".join(text.split()), severity, now + timedelta(seconds=seconds), key, whole)
        self._said.append(said)
        self._show_message(now)

    def _unsay(self, key: object) -> None:
        """Take back what was said about ``key`` (a broken window that closed or changed)."""
        self._said = [m for m in self._said if m.key != key]
        self._show_message(self._clock.now())

    def _show_message(self, now: datetime) -> None:
        self._said = [m for m in self._said if m.until > now]
        newest = self._said[-1] if self._said else None
        message = BarMessage(newest.text, newest.severity, len(self._said) - 1) if newest else None
        for bar in self.query(StatusBar):
            bar.show_message(message)

    @property
    def messages(self) -> list[str]:
        """The messages still current, oldest first."""
        return [m.text for m in self._said]

    # --- alerts, hooks and claims ---------------------------------------------------------

    def _carry_out(self, actions: Sequence[Action], now: datetime) -> None:
        """Do what the escalation asked for."""
        for action in actions:
            if isinstance(action, Bell):
                self.bell()
            elif isinstance(action, Toast):
                timeout = 15 if action.severity == "error" else 8
                self._say(action.text, action.severity, timeout, key=action.key)
            elif isinstance(action, Withdraw):
                self._unsay(action.key)
            elif isinstance(action, Notify):
                self._desktop_notification(action.title, action.body)
            elif isinstance(action, Level):
                for widget in self._alarm_widgets():
                    for n, name in enumerate(LEVELS, start=1):
                        widget.set_class(n == action.n, name)
            elif isinstance(action, Flash):
                self._blink = False  # a new flash starts loud
        self._show_flash(now)

    def _alarm_widgets(self) -> list[Banner | WallHead]:
        """What flashes and grows: the banner, or the wall's headline."""
        if self._wall:
            return list(self.query(WallHead))
        return list(self.query(Banner))

    def _show_flash(self, now: datetime) -> None:
        flashing = self._escalation.flashing(now)
        if not flashing:
            self._blink = False
        for widget in self._alarm_widgets():
            widget.set_class(flashing, "flash")
            widget.set_class(self._blink, "-blink")

    def _desktop_notification(self, title: str, body: str) -> None:
        writer = self._notify_writer
        if writer is None:
            # No public raw-write API in Textual: the driver's write is the terminal. Headless
            # (tests, the bench) has no terminal to notify.
            driver = self._driver
            if self.is_headless or driver is None:
                return
            writer = TextSink(driver.write)
        send_notification(writer, title, body)  # never raises: a broken terminal is logged

    def _hook_finished(self, result: HookResult) -> None:
        # Cancelled runs are the app's own shutdown: nothing to tell anyone.
        if result.ok or result.outcome == "cancelled" or not self.is_running:
            return
        self.notify(result.describe(), title="Hook", severity="warning", timeout=10, markup=False)

    def _claim_notes(self, now: datetime) -> dict[tuple[str, str], tuple[str, str]]:
        return {(c.source, c.key): (c.who, c.note) for c in self._claims.active(now)}

    def _toast_claim_warning(self) -> None:
        warning = self._claims.warning
        if warning and warning != self._claim_warning:
            self.notify(warning, title="Claims", severity="warning", timeout=10, markup=False)
        self._claim_warning = warning

    async def on_unmount(self) -> None:
        await asyncio.gather(*self._hook_starts, return_exceptions=True)
        await self._hooks.aclose()
        if self._own_claims_dir is not None:
            shutil.rmtree(self._own_claims_dir, ignore_errors=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The feed never ends while the app runs: if it raises or returns, the engine has
        stopped, and from now on nothing on screen is current. Say so at once and in full."""
        if event.worker.name != "feed" or self.engine_stopped is not None:
            return
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            log.error("the engine stopped", exc_info=error)
            what = type(error).__name__ if error is not None else "error"
        elif event.state is WorkerState.SUCCESS:
            log.error("the engine stopped: its run returned")
            what = "it returned"
        else:
            return  # cancelled: the app is closing
        log_path = self._log_path or get_paths().log_file
        self.engine_stopped = EngineStopped(what, log_path, self._clock.now())
        self._escalation = Escalation(self._escalation.config, tz=self._escalation.tz)
        for widget in self._alarm_widgets():
            widget.set_class(False, "flash", *LEVELS)
        self._show_all()

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size)

    def pick_layout(self, size: Size) -> str:
        """``-wall``, ``-tall`` (a big screen: three panels on the left, In flight alone on the
        right), ``-wide`` (panels side by side), ``-narrow`` (stacked: ssh at 80x24) or ``-pane``
        (a strip beside an editor, down to 40x10)."""
        if self._wall:
            return "-wall"
        fixed = {"default": "-wide", "pane": "-pane"}.get(self._mode)
        if fixed == "-pane":
            return fixed
        if fixed is None and (size.width < PANE_BELOW_COLUMNS or size.height < PANE_BELOW_ROWS):
            return "-pane"
        if size.width >= TALL_COLUMNS and size.height >= TALL_ROWS:
            return "-tall"
        if fixed:
            return fixed
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
        if layout in ("-tall", "-wide"):
            self.call_later(self._place_panels, layout == "-tall")
        self._show_all()

    def shown_snapshot(self) -> Snapshot | None:
        """What the views show: the snapshot, or once the engine has stopped, the same with
        everything unknown (``verdict.stopped``)."""
        if self.engine_stopped is not None:
            return stopped(self.snapshot, self.engine_stopped)
        return self.snapshot

    def _show_all(self, tables: bool = True) -> None:
        if not self._alive():
            return
        now, ascii, tz = self._clock.now(), self._ascii, self.display_tz
        snap, engine = self.shown_snapshot(), self.engine_stopped
        notes = self._claim_notes(now)
        self._show_message(now)
        self.query_one(StatusBar).show(snap, now, ascii)
        if self._wall:
            self.query_one(WallView).show(snap, now, tz, notes, engine)
            return
        self.query_one(Banner).show(snap, now, ascii, tz, notes, engine)
        self._keep_banner_in_sight()
        self.query_one(CompactSummary).show(snap, now, ascii, tz)
        if snap is None or not tables:
            return
        if isinstance(self.screen, PipelineDetail):
            self.screen.show(snap, now, ascii, tz)  # an open detail follows the news
        claimed = {ident: who for ident, (who, _note) in notes.items()}
        self.query_one(MainBranches).show(snap, now, ascii, claimed)
        self.query_one(InFlight).show(snap, now, ascii, tz)
        self.query_one(Production).show(snap, now, ascii)
        self.query_one(Flaky).show(snap, ascii, now)
        self.query_one(Targets).show(snap, ascii)

    def on_main_branches_resized(self, _message: MainBranches.Resized) -> None:
        self._fit_production()

    def on_column_resized(self, _message: Column.Resized) -> None:
        self._fit_production()

    def _fit_production(self) -> None:
        """Production takes its rows, up to what Main branches leaves of the column: its box
        always closes above the status bar (rows out of sight are counted under it)."""
        if self._wall or self.layout_name in ("-pane", "-tall"):
            return
        left = self.query_one("#left")
        room = left.size.height - self.query_one(MainBranches).outer_size.height
        production = self.query_one(Production)
        if room >= 3 and production.styles.max_height != Scalar.from_number(room):
            production.styles.max_height = room

    def _alive(self) -> bool:
        """Whether the screen is there to draw on: the 1 Hz timer can still fire while the app
        closes and its widgets are gone."""
        if self._closing or self._closed or self._exit:
            return False
        return bool(self.query(WallView if self._wall else Banner))

    def _tick(self) -> None:
        """THE 1 Hz tick: ticking ages, wall pages, the flash's blink, and the alarm that grows
        louder (and the bell that repeats) the longer something stays broken."""
        if not self._alive():
            return
        self._ticks += 1
        now = self._clock.now()
        self._blink = not self._blink
        self._carry_out(self._escalation.tick(now), now)
        self._show_message(now)
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
        if isinstance(self.screen, PipelineDetail):
            self.screen.restyle()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The wall has nothing to select, filter or open: its keys do nothing (and show nothing).
        if self._wall and action in (
            "open_selected",
            "find",
            "toggle_passing",
            "clear_filter",
            "claim",
            "release_claim",
        ):
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

    def on_main_branches_pipeline_chosen(self, message: MainBranches.PipelineChosen) -> None:
        if self._wall or self.snapshot is None:
            return
        detail = PipelineDetail(message.pipeline.source, message.pipeline.key)
        detail.show(self.snapshot, self._clock.now(), self._ascii, self.display_tz)
        self.push_screen(detail)

    def action_quit_app(self) -> None:
        self.exit(EXIT_INTERNAL if self.engine_stopped is not None else 0)

    def action_refresh_now(self) -> None:
        self._feed.poll_now()
        self.notify("polling every source now", timeout=2)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _keep_banner_in_sight(self) -> None:
        """An open box over the radiator follows the banner's height (it grows with time)."""
        if isinstance(self.screen, OverlayScreen):
            self.screen.place_box()

    def action_open_selected(self) -> None:
        if self._wall:
            return
        focused = self.focused
        table = focused if isinstance(focused, RowsTable) else self.query_one(MainBranches)
        url = table.selected_url()
        if url:
            self.open_link(url)
        else:
            self.notify(
                "nothing selected to open: pick a row (arrows or tab) first",
                severity="warning",
                timeout=5,
                markup=False,
            )

    def open_link(self, url: str) -> None:
        """Open ``url`` in a browser and say so; where none can be opened (ssh, a server),
        say that, with the URL in plain text to copy."""
        driver = self._driver
        if driver is not None and driver.is_web:
            self.open_url(url)  # the browser this radiator is served to
            opened = True
        else:
            opened = self._browser(url)
        if opened:
            self.notify(f"opened in the browser: {url}", timeout=5, markup=False)
        else:
            # The whole status bar for a while: the link is there to be copied.
            self._say(f"no browser here, the link: {url}", "warning", 20, whole=True)

    # --- claims ---------------------------------------------------------------------------

    def action_claim(self) -> None:
        """``a``: claim a red pipeline (again on a claimed one: change the note)."""
        if self._wall:
            return
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
            ascii=self._ascii,
        )
        done = partial(self._claimed, pipeline.source, pipeline.key, pipeline.name)
        self.push_screen(screen, done)

    def _claim_target(self) -> Pipeline | None:
        """The selected pipeline when it is red; otherwise the red one the banner leads with
        (the selection follows its pipeline as rows move, so it is often elsewhere when a main
        turns red). The dialog names the pipeline, so the choice is never silent."""
        selected = self.query_one(MainBranches).selected_pipeline()
        if (selected is not None and selected.status is Status.FAILED) or self.snapshot is None:
            return selected
        for window in self.snapshot.broken:
            if window.kind == "pipeline":
                for p in self.snapshot.pipelines:
                    if (p.source, p.key) == (window.source, window.key):
                        return p
        return selected

    def _claimed(self, source: str, key: str, name: str, result: tuple[str, str] | None) -> None:
        if result is None:
            return
        who, note = result
        claim = self._claims.claim(source, key, who, note)
        self._toast_claim_warning()
        self.notify(f"{name} claimed by {claim.who}", timeout=4, markup=False)
        self._show_all()

    def action_release_claim(self) -> None:
        """``A``: release the claim on the selected pipeline."""
        if self._wall:
            return
        pipeline = self._claim_target()
        if pipeline is None or self._claims.get(pipeline.source, pipeline.key) is None:
            self.notify("no claim on the selected row", severity="warning", timeout=3)
            return
        self._claims.release(pipeline.source, pipeline.key)
        self._toast_claim_warning()
        self.notify(f"claim on {pipeline.name} released", timeout=4, markup=False)
        self._show_all()

    def _switch_theme(self, name: str) -> None:
        self.theme = name

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Refresh now", "Poll every source now", self.action_refresh_now)
        for name in self._theme_names:
            yield SystemCommand(
                f"Theme: {name}", f"Switch to the {name} theme", partial(self._switch_theme, name)
            )
