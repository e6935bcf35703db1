"""The status bar: how fresh each source is, and the keys. Shortens itself when narrow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from buildradiator import fmt
from buildradiator.model import Health, Snapshot, SourceState, Status
from buildradiator.ui.widgets.palette import palette

KEYS = "q r o / h d ? ^P"
SHORT_KEYS = "? ^P"
"""When space is short: ``?`` lists every key anyway."""


def _style(state: SourceState) -> str:
    if state.error:
        return "status-failed"
    return "" if fmt.source_current(state) else "stale"


def _quota(sources: tuple[SourceState, ...]) -> str:
    """The tightest rate budget, e.g. ``quota 4,812/5,000`` (nothing when no API reports one)."""
    rated = [s.rate for s in sources if s.rate and s.rate.limit and s.rate.remaining is not None]
    if not rated:
        return ""
    tight = min(rated, key=lambda r: (r.remaining or 0) / (r.limit or 1))
    return f"quota {tight.remaining:,}/{tight.limit:,}"


def notice_runs(snapshot: Snapshot, ascii: bool) -> list[tuple[str, str]]:
    """What the user must know that is no source's state (a damaged history file...): first,
    for as long as the snapshot carries it."""
    glyph = fmt.health_glyph(Health.WARN, ascii)
    runs: list[tuple[str, str]] = []
    for notice in snapshot.notices:
        runs += [(f"{glyph} {notice}", "health-warn"), (fmt.SEPARATOR[ascii], "dim")]
    return runs


def webhook_words(state: SourceState, now: datetime) -> str | None:
    """``webhook, last event 2m ago`` or ``webhook, no event yet`` for a source whose CI posts
    its events to ``serve``; ``None`` for one that is only polled."""
    if not state.webhook:
        return None
    if state.webhook_at is None:
        return "webhook, no event yet"
    return f"webhook, last event {fmt.format_age(fmt.seconds_between(state.webhook_at, now))} ago"


def full_runs(snapshot: Snapshot, now: datetime, ascii: bool) -> list[tuple[str, str]]:
    sep = fmt.SEPARATOR[ascii]
    runs: list[tuple[str, str]] = []
    for state in snapshot.sources:
        if runs:
            runs.append((sep, "dim"))
        runs.append((fmt.source_freshness(state, now, ascii), _style(state)))
        hook = webhook_words(state, now)
        if hook is not None:
            runs.append((f" ({hook})", "dim"))
    quota = _quota(snapshot.sources)
    if quota:
        runs.append((sep + quota, "dim"))
    return runs


def short_runs(snapshot: Snapshot, now: datetime, ascii: bool) -> list[tuple[str, str]]:
    """Counts and the worst source only: what fits in 80 columns. A source counts as ✔ only
    while it is current: waiting, cached and stale ones are counted apart."""
    sources = snapshot.sources
    current = sum(1 for s in sources if fmt.source_current(s))
    failing = sum(1 for s in sources if s.error)
    waiting = sum(1 for s in sources if s.last_success is None and not s.error)
    unsure = len(sources) - current - failing - waiting
    runs = [(f"{fmt.plural(len(sources), 'source')}: ", "")]
    counts = [
        (current, fmt.status_glyph(Status.PASSED, ascii), ""),
        (waiting, fmt.status_glyph(Status.QUEUED, ascii) + " waiting", "stale"),
        (unsure, fmt.STALE_GLYPH, "stale"),
        (failing, fmt.status_glyph(Status.FAILED, ascii), "status-failed"),
    ]
    shown = [(f"{n} {glyph}", style) for n, glyph, style in counts if n]
    for index, run in enumerate(shown):
        runs.append((" " if index else "", ""))
        runs.append(run)
    bad = [s for s in sources if fmt.source_rank(s)]
    if bad and current + waiting < len(sources):
        worst = max(bad, key=fmt.source_rank)
        runs.append((fmt.SEPARATOR[ascii], "dim"))
        runs.append((fmt.source_freshness(worst, now, ascii), _style(worst)))
    return runs


@dataclass(frozen=True)
class Message:
    """What the app announces (a main turned red, a recovery, a key's answer), shown at the
    right of the status bar instead of a toast: it covers nothing."""

    text: str
    severity: str = "information"
    more: int = 0
    """How many other messages are still current (the newest is shown)."""
    whole: bool = False
    """Takes the whole bar while it is current: a link to copy must be seen whole."""


MESSAGE_SHARE = 2 / 3
"""A message takes at most two thirds of the bar: the sources keep the rest."""


def _message_style(styles: dict[str, Style], severity: str) -> Style:
    if severity == "error":
        return Style(
            color=styles["banner-red-fg"].color, bgcolor=styles["banner-red-bg"].color, bold=True
        )
    if severity == "warning":
        return styles["health-warn"] + Style(bold=True)
    return Style(bold=True)


class StatusBar(Widget):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._snapshot: Snapshot | None = None
        self._ascii = False
        self._now: datetime | None = None
        self._last: tuple[str, int] = ("", 0)
        self.message: Message | None = None
        self.keys = KEYS
        """The key hints at the right; the wall shows none (nobody touches it)."""

    def show(self, snapshot: Snapshot | None, now: datetime, ascii: bool) -> bool:
        self._snapshot, self._ascii = snapshot, ascii
        return self.tick(now)

    def show_message(self, message: Message | None) -> None:
        if message != self.message:
            self.message = message
            self._last = ("", 0)
            if self._now is not None:
                self.tick(self._now)

    def tick(self, now: datetime) -> bool:
        self._now = now
        key = (self._build(self.size.width).plain, self.size.width)
        if key == self._last:
            return False
        self._last = key
        self.refresh()
        return True

    def restyle(self) -> None:
        self.refresh()

    def _right(self, width: int) -> tuple[str, str]:
        """The message (or the key hints), and the severity it is styled with."""
        message = self.message
        if message is None:
            return self.keys, ""
        text = message.text + (f" (+{message.more})" if message.more else "")
        room = max(1, width - 2 if message.whole else int(width * MESSAGE_SHARE) - 2)
        return fmt.truncate(text, room, self._ascii), message.severity

    def _build(self, width: int) -> Text:
        snapshot, now = self._snapshot, self._now
        right, severity = self._right(width)
        keys = right
        notices = notice_runs(snapshot, self._ascii) if snapshot is not None else []
        if snapshot is None or now is None:
            runs = [(f"starting{fmt.ELLIPSIS[self._ascii]}", "dim")]
        elif not snapshot.sources:
            runs = [*notices, ("no sources", "dim")]
        else:
            # The sources' full freshness first; then fewer key hints; then the short form.
            runs = [*notices, *full_runs(snapshot, now, self._ascii)]
            length = sum(len(chunk) for chunk, _ in runs)
            if keys == self.keys and keys and length + len(keys) + 3 > width:
                keys = SHORT_KEYS
            if length + len(keys) + 3 > width:
                runs = [*notices, *short_runs(snapshot, now, self._ascii)]
                keys = right
                length = sum(len(chunk) for chunk, _ in runs)
                if keys == self.keys and keys and length + len(keys) + 3 > width:
                    keys = SHORT_KEYS
        styles = palette(self.app)
        left = Text(no_wrap=True, overflow="ellipsis", end="")
        left.append(" ")
        for chunk, style in runs:
            left.append(chunk, styles.get(style, styles[""]))
        room = max(0, width - len(keys) - 2) if keys else width
        if left.cell_len > room:
            # Cut by hand: Rich's ellipsis is "…" even in ASCII mode.
            mark = fmt.ELLIPSIS[self._ascii]
            left.truncate(max(0, room - len(mark)), overflow="crop")
            left.append(mark)
        if not keys:
            return left
        left.truncate(room, overflow="crop", pad=True)
        left.append(" ")
        if self.message is not None:
            left.append(f" {keys}", _message_style(styles, severity))
        else:
            left.append(f" {keys}", styles["dim"])
        return left

    @property
    def plain(self) -> str:
        return self._build(self.size.width or 80).plain

    def render(self) -> Text:
        return self._build(self.size.width)
