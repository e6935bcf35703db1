"""The Textual app: thin. It runs the feed in a worker, receives snapshots as messages and hands
them to the screen of its mode (``screens.main``, ``screens.wall``), whose widgets only render.
No I/O here beyond reading theme files at start-up, and what the alert, hook and claim objects
it is handed do (writing to the terminal, running hooks in the background, saving claims)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo
from functools import partial
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter
from textual.geometry import Size
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from buildradiator.clock import Clock
from buildradiator.errors import EXIT_INTERNAL
from buildradiator.model import Snapshot
from buildradiator.paths import get_paths
from buildradiator.rules.events import events_between
from buildradiator.rules.verdict import stopped
from buildradiator.ui.alerts import Action, Bell, Escalation, Flash, Level, Notify, Toast, Withdraw
from buildradiator.ui.ascii import AsciiCells
from buildradiator.ui.claims import ClaimStore
from buildradiator.ui.feed import SnapshotFeed, SnapshotUpdated
from buildradiator.ui.hooks import HookResult, HookRunner
from buildradiator.ui.links import open_in_browser
from buildradiator.ui.notify import TextSink, Writable, send_notification
from buildradiator.ui.options import RadiatorOptions
from buildradiator.ui.said import Messages, plain, until
from buildradiator.ui.screens.base import ModeScreen, View
from buildradiator.ui.screens.main import MainScreen
from buildradiator.ui.screens.wall import WallScreen
from buildradiator.ui.themes import VARIABLES, choose_theme, load_themes
from buildradiator.ui.widgets import HelpScreen, StatusBar
from buildradiator.ui.widgets.banner import LEVELS
from buildradiator.ui.widgets.overlay import OverlayScreen
from buildradiator.ui.widgets.verdict import EngineStopped

log = logging.getLogger(__name__)

LAYOUTS = ("-tall", "-wide", "-narrow", "-pane", "-wall")
TABLE_TICKS = 5
RESTYLED = "RowsTable, Banner, StatusBar, LinesView, TileGrid, DeliveryBoard"  # own colours
"""Tables recompute their ages every 5 s (they show minutes); only changed cells are redrawn."""


class BuildRadiatorApp(App[int]):
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("q", "quit_app", "Quit"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("question_mark", "help", "Help"),
    ]
    """The keys of every mode; the main screen adds its own (open, filter, claim...)."""

    def __init__(
        self,
        feed: SnapshotFeed,
        *,
        options: RadiatorOptions | None = None,
        clock: Clock | None = None,
        initial: Snapshot | None = None,
        escalation: Escalation | None = None,
        hooks: HookRunner | None = None,
        claims: ClaimStore | None = None,
        notify_writer: Writable | None = None,
        browser: Callable[[str], bool] = open_in_browser,
        log_path: Path | None = None,
    ) -> None:
        """``options`` say what to show and how (``RadiatorOptions()``: the defaults).
        ``escalation``, ``hooks`` and ``claims`` default to alerts with the default settings,
        no hooks, and claims kept in a private temp dir (removed on exit), so tests and the
        bench never touch the user's claims. ``notify_writer`` receives the desktop
        notification bytes; by default they go to the terminal (never when headless).
        ``browser`` opens a URL and says whether it could; ``log_path`` is the log the screen
        points to when the engine stops (by default the one ``cli`` writes)."""
        super().__init__()
        self.options = options = options or RadiatorOptions()
        self.title = options.title
        self._feed = feed
        self._browser = browser
        self._log_path = log_path
        self._said = Messages()
        self._ascii_cells = AsciiCells()
        self.engine_stopped: EngineStopped | None = None
        """Set when the feed's ``run`` raised or returned: the screen says so until quit."""
        self.layout_name = ""
        """The layout in use: ``-wall``, or (re-picked on every resize) ``-tall``, ``-wide``,
        ``-narrow`` or ``-pane``; also a CSS class on the app."""
        self._clock = clock or Clock()
        self.snapshot: Snapshot | None = initial
        self.display_tz: tzinfo | None = None
        """Zone of the clock times shown (ETA, green since); ``None`` is the local zone."""
        self._ticks = 0
        self._escalation = escalation or Escalation()
        self._hooks = hooks or HookRunner(())
        if self._hooks.on_result is None:
            self._hooks.on_result = self._hook_finished
        self._own_claims = claims is None
        self._claims = ClaimStore.throwaway(self._clock) if claims is None else claims
        self._claim_warning: str | None = None
        self._notify_writer = notify_writer
        self._blink = False
        catalog = load_themes()
        self._theme_names = sorted(catalog.themes)
        for theme_obj in catalog.themes.values():
            self.register_theme(theme_obj)
        self.theme, self._problems = choose_theme(catalog, options.theme, options.wall)
        self._mode: ModeScreen = (
            WallScreen(options, self)
            if options.wall
            else MainScreen(options, self, claims=self._claims, clock=self._clock)
        )

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLES)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then (with ``--ascii``) every drawn cell folded to ASCII."""
        filters = list(super().get_line_filters())
        return [*filters, self._ascii_cells] if self.options.ascii else filters

    def get_default_screen(self) -> Screen[None]:
        """The mode's screen: the wall, or the main one. ``app.query`` searches it."""
        return self._mode

    def compose(self) -> ComposeResult:
        # Textual composes the default screen from here, before on_mount: the mode's widgets
        # are there before anything is drawn or fed (the screen's own compose would run later).
        yield from self._mode.widgets()

    def on_mount(self) -> None:
        for problem in self._problems:
            self.notify(problem, title="Theme", severity="error", timeout=15, markup=False)
        self.toast_claim_warning()  # a claims file that could not be read at start-up
        self.set_class(self.options.ascii, "-ascii")
        self._apply_layout(self.size)
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self._show_all()
        self.set_interval(1.0, self._tick)
        # The function, not a coroutine: an app closed before the worker starts leaves none.
        self.run_worker(self._run_feed, name="feed", exclusive=True, exit_on_error=False)  # type: ignore[arg-type]

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
        self.toast_claim_warning()
        self._show_all()
        self._carry_out(self._escalation.observe(snapshot, now), now)
        if self._hooks.hooks:
            events = events_between(previous, snapshot, privacy=self._escalation.privacy)
            if events:
                self._hooks.start(events)  # only starts them: they run on their own

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
        self._say(plain(message, title, markup), severity, timeout)

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
        self._said.say(text, severity, until(now, seconds), key, whole)
        self._show_message(now)

    def _show_message(self, now: datetime) -> None:
        message = self._said.newest(now)
        for bar in self.query(StatusBar):
            bar.show_message(message)

    @property
    def messages(self) -> list[str]:
        """The messages still current, oldest first."""
        return self._said.texts

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
                self._said.unsay(action.key)
                self._show_message(now)
            elif isinstance(action, Notify):
                self._desktop_notification(action.title, action.body)
            elif isinstance(action, Level):
                for widget in self._mode.alarm_widgets():
                    for n, name in enumerate(LEVELS, start=1):
                        widget.set_class(n == action.n, name)
            elif isinstance(action, Flash):
                self._blink = False  # a new flash starts loud
        self._show_flash(now)

    def _show_flash(self, now: datetime) -> None:
        flashing = self._escalation.flashing(now)
        if not flashing:
            self._blink = False
        for widget in self._mode.alarm_widgets():
            widget.set_class(flashing, "flash")
            widget.set_class(self._blink, "-blink")

    def _desktop_notification(self, title: str, body: str) -> None:
        # No public raw-write API in Textual: the driver's write is the terminal. Headless
        # (tests, the bench) has no terminal to notify.
        driver = None if self.is_headless else self._driver
        writer = self._notify_writer or (TextSink(driver.write) if driver else None)
        if writer is not None:
            send_notification(writer, title, body)  # never raises: a broken terminal is logged

    def _hook_finished(self, result: HookResult) -> None:
        # Cancelled runs are the app's own shutdown: nothing to tell anyone.
        if result.ok or result.outcome == "cancelled" or not self.is_running:
            return
        self.notify(result.describe(), title="Hook", severity="warning", timeout=10, markup=False)

    def toast_claim_warning(self) -> None:
        warning = self._claims.warning
        if warning and warning != self._claim_warning:
            self.notify(warning, title="Claims", severity="warning", timeout=10, markup=False)
        self._claim_warning = warning

    async def on_unmount(self) -> None:
        await self._hooks.aclose()
        if self._own_claims:
            self._claims.discard()

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
        for widget in self._mode.alarm_widgets():
            widget.set_class(False, "flash", *LEVELS)
        self._show_all()

    # --- drawing --------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size)

    def _apply_layout(self, size: Size) -> None:
        layout = self._mode.pick_layout(size)
        changed = layout != self.layout_name
        self.layout_name = layout
        for name in LAYOUTS:
            self.set_class(name == layout, name)
        if changed and self._mode.layout_changed(layout):
            self._show_all()

    def shown_snapshot(self) -> Snapshot | None:
        """What the views show: the snapshot, or once the engine has stopped, the same with
        everything unknown (``rules.verdict.stopped``)."""
        if self.engine_stopped is not None:
            return stopped(self.snapshot, self.engine_stopped.at)
        return self.snapshot

    def _show_all(self) -> None:
        if not self._alive():
            return
        now = self._clock.now()
        notes = {(c.source, c.key): (c.who, c.note) for c in self._claims.active(now)}
        view = View(
            self.shown_snapshot(), now, self.options.ascii, self.display_tz, notes,
            self.engine_stopped,
        )  # fmt: skip
        self._show_message(now)
        self._mode.show(view)

    redraw = _show_all

    def _alive(self) -> bool:
        """Whether the screen is there to draw on: the 1 Hz timer can still fire while the app
        closes and its widgets are gone."""
        if self._closing or self._closed or self._exit:
            return False
        return bool(self._mode.alarm_widgets())

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
        redrawn = self._ticks % TABLE_TICKS == 0
        if redrawn:
            self._show_all()
        self._mode.tick(now, self._clock.monotonic(), redrawn)

    def _on_theme_changed(self, _theme: Theme) -> None:
        for widget in self.query(RESTYLED):
            widget.restyle()  # type: ignore[attr-defined]
        if isinstance(self.screen, OverlayScreen):
            self.screen.restyle()

    # --- keys of every mode ---------------------------------------------------------------

    def action_quit_app(self) -> None:
        self.exit(EXIT_INTERNAL if self.engine_stopped is not None else 0)

    def action_refresh_now(self) -> None:
        self._feed.poll_now()
        self.notify("polling every source now", timeout=2)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

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

    def _switch_theme(self, name: str) -> None:
        self.theme = name

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Refresh now", "Poll every source now", self.action_refresh_now)
        yield from self._mode.commands()
        for name in self._theme_names:
            yield SystemCommand(
                f"Theme: {name}", f"Switch to the {name} theme", partial(self._switch_theme, name)
            )
