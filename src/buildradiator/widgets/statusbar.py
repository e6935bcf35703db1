"""The status bar: how fresh each source is, and the keys. Shortens itself when narrow."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from buildradiator import fmt
from buildradiator.model import Snapshot, SourceState, Status
from buildradiator.widgets.palette import palette

KEYS = "q r o / h ? ^P"
SHORT_KEYS = "? ^P"
"""When space is short: ``?`` lists every key anyway."""


def _style(state: SourceState) -> str:
    if state.error:
        return "status-failed"
    return "stale" if state.stale else ""


def _quota(sources: tuple[SourceState, ...]) -> str:
    """The tightest rate budget, e.g. ``quota 4,812/5,000`` (nothing when no API reports one)."""
    rated = [s.rate for s in sources if s.rate and s.rate.limit and s.rate.remaining is not None]
    if not rated:
        return ""
    tight = min(rated, key=lambda r: (r.remaining or 0) / (r.limit or 1))
    return f"quota {tight.remaining:,}/{tight.limit:,}"


def full_runs(snapshot: Snapshot, now: datetime, ascii: bool) -> list[tuple[str, str]]:
    sep = fmt.SEPARATOR[ascii]
    runs: list[tuple[str, str]] = []
    for state in snapshot.sources:
        if runs:
            runs.append((sep, "dim"))
        runs.append((fmt.source_freshness(state, now, ascii), _style(state)))
    quota = _quota(snapshot.sources)
    if quota:
        runs.append((sep + quota, "dim"))
    return runs


def short_runs(snapshot: Snapshot, now: datetime, ascii: bool) -> list[tuple[str, str]]:
    """Counts and the worst source only: what fits in 80 columns."""
    sources = snapshot.sources
    bad = [s for s in sources if fmt.source_rank(s)]
    ok = len(sources) - len(bad)
    runs = [
        (f"{fmt.plural(len(sources), 'source')}: {ok} {fmt.status_glyph(Status.PASSED, ascii)}", "")
    ]
    if bad:
        worst = max(bad, key=fmt.source_rank)
        runs.append((f" {len(bad)} {fmt.status_glyph(Status.FAILED, ascii)}", "status-failed"))
        runs.append((fmt.SEPARATOR[ascii], "dim"))
        runs.append((fmt.source_freshness(worst, now, ascii), _style(worst)))
    return runs


class StatusBar(Widget):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._snapshot: Snapshot | None = None
        self._ascii = False
        self._now: datetime | None = None
        self._last: tuple[str, int] = ("", 0)
        self.keys = KEYS
        """The key hints at the right; the wall shows none (nobody touches it)."""

    def show(self, snapshot: Snapshot | None, now: datetime, ascii: bool) -> bool:
        self._snapshot, self._ascii = snapshot, ascii
        return self.tick(now)

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

    def _build(self, width: int) -> Text:
        snapshot, now = self._snapshot, self._now
        keys = self.keys
        if snapshot is None or now is None:
            runs = [(f"starting{fmt.ELLIPSIS[self._ascii]}", "dim")]
        elif not snapshot.sources:
            runs = [("no sources", "dim")]
        else:
            # The sources' full freshness first; then fewer key hints; then the short form.
            runs = full_runs(snapshot, now, self._ascii)
            length = sum(len(chunk) for chunk, _ in runs)
            if keys and length + len(keys) + 3 > width:
                keys = SHORT_KEYS
            if length + len(keys) + 3 > width:
                runs, keys = short_runs(snapshot, now, self._ascii), self.keys
                length = sum(len(chunk) for chunk, _ in runs)
                if keys and length + len(keys) + 3 > width:
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
        left.append("  ")
        left.append(keys, styles["dim"])
        return left

    @property
    def plain(self) -> str:
        return self._build(self.size.width or 80).plain

    def render(self) -> Text:
        return self._build(self.size.width)
