"""The broken-window banner: what is red, for how long, and who broke it; or a calm green line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

from rich.text import Text
from textual.widget import Widget

from buildradiator import fmt
from buildradiator.model import BrokenWindow, Snapshot, Status
from buildradiator.rules.verdict import all_green, not_current
from buildradiator.ui.widgets.palette import CLAIM_GLYPH, claim_marker, lines_text, palette
from buildradiator.ui.widgets.verdict import EngineStopped, calm_line, sources_line

HEADLINE = {"pipeline": "MAIN RED", "service": "PROD DOWN", "deploy": "DEPLOY SUSPECT"}
STOPPED_WHY = "nothing on screen is current (q quits, exit code 4)"
STOPPED_DETAIL = "every pipeline and service is unknown until the radiator is restarted"
LEVELS = tuple(f"level-{n}" for n in range(1, 4))
"""CSS classes of the escalation levels (``alerts.Level``): the banner grows with each."""

ClaimNotes = Mapping[tuple[str, str], tuple[str, str]]
"""Claims to show: ``(source, key) -> (who, note)``."""


def claim_runs(who: str, note: str, ascii: bool) -> list[tuple[str, str]]:
    """``⚑ claimed by dana: reverting``."""
    glyph = "" if ascii else CLAIM_GLYPH[False] + " "
    runs = [(f"{glyph}claimed by ", ""), (who, "bold")]
    if note:
        runs.append((f": {note}", ""))
    return runs


def _headline(window: BrokenWindow) -> str:
    return HEADLINE.get(window.kind, "BROKEN")


def banner_lines(
    snapshot: Snapshot | None,
    now: datetime,
    ascii: bool = False,
    tz: tzinfo | None = None,
    one_line: bool = False,
    claims: ClaimNotes | None = None,
    engine: EngineStopped | None = None,
) -> list[list[tuple[str, str]]]:
    """The banner as lines of (text, style) runs; pure, so ticking can compare and skip.

    ``one_line`` (the pane layout) keeps the headline and how many more things are broken, which
    matter most, ahead of the streak; commit and author wait for a bigger terminal. A claim on
    the first broken window (``claims``) follows its name: who is on it matters next. Nothing
    broken: the verdict of the whole screen (``verdict.calm_line``). The engine stopped
    (``engine``): that, before anything else."""
    sep = fmt.SEPARATOR[ascii]
    if engine is not None:
        glyph = fmt.status_glyph(Status.FAILED, ascii)
        if one_line:
            return [[(f"{glyph} {engine.headline()}", "bold")]]
        # The log's path leads the second line: a long path still fits an 80-column screen.
        top = [(f"{glyph} ENGINE STOPPED: {engine.error}", "bold"), (f"{sep}{STOPPED_WHY}", "")]
        where = f"see the log {engine.log}; " if engine.log else ""
        return [top, [(f"  {where}{STOPPED_DETAIL}", "")]]
    if snapshot is None or not snapshot.broken:
        return [calm_line(snapshot, now, ascii, tz)]
    first, others = snapshot.broken[0], snapshot.broken[1:]
    age = fmt.format_clock_age(fmt.seconds_between(first.since, now)) if first.since else "?"
    top = [
        (f"{fmt.status_glyph(Status.FAILED, ascii)} {_headline(first)} {age}", "bold"),
        ("  ", ""),
        (first.name, "bold"),
    ]
    claim = (claims or {}).get((first.source, first.key))
    if one_line:
        if claim is not None:
            top.append(("  " + claim_marker(claim[0], ascii), "bold"))
        if others:
            top.append((f" +{len(others)} more", "bold"))
        if first.stale:
            top.append((" (stale)", ""))
        if first.streak > 1:
            top.append((sep + fmt.streak_text(first.streak), ""))
        return [top]
    if first.streak > 1:
        top.append((sep + fmt.streak_text(first.streak), ""))
    if first.stale:
        top.append((" (stale)", ""))
    if snapshot.gate is not None and not snapshot.gate.go:
        top.append((f"{sep}release HOLD", "bold"))
    if claim is not None:
        top += [(sep, ""), *claim_runs(*claim, ascii)]
    if not_current(snapshot):
        top.append((sep + sources_line(snapshot, ascii), ""))
    detail: list[tuple[str, str]] = [("  ", "")]
    if first.commit:
        detail.append((fmt.short_sha(first.commit), "bold"))
    if first.reason:
        detail.append((f" {first.reason}", ""))  # a verdict, not a commit message: no quotes
    elif first.message:
        detail.append((f' "{first.message}"', ""))
    if first.author:
        detail.append((" by ", ""))
        detail.append((first.author, "bold"))
    joint = sep if len(detail) > 1 else ""
    if others:
        names = ", ".join(f"{w.name} ({_headline(w).split()[-1].lower()})" for w in others)
        detail.append((f"{joint}+{len(others)} more: ", "bold"))
        detail.append((names, ""))
        joint = sep
    # Last: where the culprit is (from history). The line is cut from the right, so on a
    # narrow screen the range goes first and what else is broken stays.
    commits = fmt.commit_range(first.last_green_commit, first.newest_commit)
    if commits:
        detail.append((f"{joint}since {commits}", ""))
    return [top, detail]


class Banner(Widget):
    """Loud while something is broken (class ``-red``), calm otherwise (``-green``). The app
    adds ``flash`` (and ``-blink`` on alternate seconds) while a new breakage is announced, and
    ``level-1`` to ``level-3`` as it stays red (see ``app.tcss``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._snapshot: Snapshot | None = None
        self._ascii = False
        self._tz: tzinfo | None = None
        self._lines: list[list[tuple[str, str]]] = []
        self._claims: ClaimNotes = {}
        self._engine: EngineStopped | None = None
        self.one_line = False
        """Set by the app for the pane layout."""

    def show(
        self,
        snapshot: Snapshot | None,
        now: datetime,
        ascii: bool,
        tz: tzinfo | None,
        claims: ClaimNotes | None = None,
        engine: EngineStopped | None = None,
    ) -> bool:
        self._snapshot, self._ascii, self._tz = snapshot, ascii, tz
        self._claims = dict(claims or {})
        self._engine = engine
        red = bool(snapshot and snapshot.broken) or engine is not None
        self.set_class(red, "-red")
        self.set_class(not red and all_green(snapshot), "-green")
        return self.tick(now)

    def tick(self, now: datetime) -> bool:
        """Recompute the ticking age; redraw only when the words changed."""
        lines = banner_lines(
            self._snapshot, now, self._ascii, self._tz, self.one_line, self._claims, self._engine
        )
        if lines == self._lines:
            return False
        # Only a change in the number of lines moves the layout; the 1 Hz age does not.
        relayout = len(lines) != len(self._lines)
        self._lines = lines
        self.refresh(layout=relayout)
        return True

    def restyle(self) -> None:
        self.refresh()

    @property
    def plain(self) -> str:
        return "\n".join("".join(chunk for chunk, _ in line) for line in self._lines)

    def render(self) -> Text:
        lines = self._lines
        if self.has_class("-red"):
            # Colours inside a red banner would fight its background: keep only weight there.
            lines = [[(c, s if s in ("bold", "dim") else "") for c, s in line] for line in lines]
        return lines_text(lines, palette(self.app), self.content_region.width, self._ascii)
