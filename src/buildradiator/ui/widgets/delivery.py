"""The Delivery screen (``d``, or "Delivery measures" in the command palette): the four keys
with their DORA band and trend, per service in production, and congestion at main.

A box over the radiator like the detail of a pipeline: the banner stays in sight above it, so a
red main is never hidden by a retro. It draws ``Snapshot.delivery`` only, which history computes
in a worker thread: opening it never waits for a query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from textual import events
from textual.binding import Binding

from buildradiator import fmt
from buildradiator.model import DeliveryFact, Snapshot
from buildradiator.rules.delivery import production_service
from buildradiator.rules.delivery_words import FOUR_KEYS, KEY_LABELS, LABELS, ORDER, show
from buildradiator.rules.dora import ESTATE
from buildradiator.ui.widgets.overlay import LinesScreen
from buildradiator.ui.widgets.palette import Segment
from buildradiator.ui.widgets.summary import Line

LABEL_WIDTH = 23
VALUE_WIDTH = 19
"""``23h 59m p90 1d 11h``."""
SCOPE_WIDTH = 12
WIDE = 100
"""Columns from which the 30-day column has its p90, band and trend too."""
CONGESTION_WIDTH = 28
BAND_STYLE = {
    "elite": "status-passed",
    "high": "status-passed",
    "medium": "status-running",
    "low": "status-failed",
}
ARROW = {False: ("▲", "▼", "="), True: ("^", "v", "=")}
TREND_STYLE = {"better": "status-passed", "worse": "status-failed", "same": ""}
CONGESTION = tuple(key for key in ORDER if key not in FOUR_KEYS)
"""Congestion at main and the other restore times, in the report's order."""
NOT_YET = (
    "No delivery measures yet: the radiator computes them from its history (builds, deploys,",
    "checks and the release gate) within minutes of recording them. Without a history file",
    "(a radiator fed by another one) there are none here: see the serving radiator's.",
)


def _find(facts: Sequence[DeliveryFact], key: str, scope: str, days: int) -> DeliveryFact | None:
    return next(
        (f for f in facts if f.key == key and f.scope == scope and f.window_days == days), None
    )


def _arrow(fact: DeliveryFact, ascii: bool) -> Segment | None:
    """Which way it moved against the window before (up, down, level), coloured by whether
    that was better or worse: a rising lead time is a red up arrow."""
    if fact.trend is None or fact.value is None or fact.previous is None:
        return None
    up, down, level = ARROW[ascii]
    if fact.trend == "same" or fact.value == fact.previous:
        return level, ""
    return (up if fact.value > fact.previous else down), TREND_STYLE[fact.trend]


def _value(fact: DeliveryFact | None, ascii: bool, full: bool = True) -> list[Segment]:
    """``23h 59m p90 1d 11h elite ▲`` in fixed widths; not ``full``: the value alone."""
    if fact is None or fact.value is None:
        return [("unknown".ljust(VALUE_WIDTH + 10 if full else 0), "dim")]
    text = show(fact.value, fact.unit)
    if not full:
        return [(text, "")]
    if fact.p90 is not None:
        text += f" p90 {show(fact.p90, fact.unit)}"
    out: list[Segment] = [(text.ljust(VALUE_WIDTH) + " ", "bold")]
    out.append(((fact.band or "").ljust(7), BAND_STYLE.get(fact.band or "", "")))
    arrow = _arrow(fact, ascii)
    out.append(arrow if arrow is not None else (" ", ""))
    out.append(("  ", ""))
    return out


def _label(text: str, width: int = LABEL_WIDTH) -> Segment:
    return (text.ljust(width), "dim")


def delivery_lines(
    snapshot: Snapshot,
    now: datetime,
    ascii: bool = False,
    tz: tzinfo | None = None,
    width: int = WIDE,
) -> list[Line]:
    """The screen as lines of (text, style) runs for ``width`` columns; pure, so tests read
    it as text. Under ``WIDE`` columns the 30-day column gives its value only."""
    facts = snapshot.delivery
    if not facts:
        return [((line, "dim"),) for line in NOT_YET]
    sep = fmt.SEPARATOR[ascii]
    full = width >= WIDE
    lines: list[Line] = []
    if snapshot.delivery_at is not None:
        age = fmt.format_age(fmt.seconds_between(snapshot.delivery_at, now))
        when = f"computed {fmt.clock_time(snapshot.delivery_at, tz)} ({age} ago)"
        lines.append(((f"From history{sep}{when}{sep}trend: against the window before", "dim"),))
    head = ("7 days".ljust(VALUE_WIDTH + 11), "bold"), ("30 days", "bold")
    lines.append(((" " * LABEL_WIDTH, ""), *head))
    for key in FOUR_KEYS:
        week, month = _find(facts, key, ESTATE, 7), _find(facts, key, ESTATE, 30)
        row: list[Segment] = [_label(KEY_LABELS[key])]
        row += _value(week, ascii)
        row += _value(month, ascii, full)
        if week is not None and week.value is None and week.note:
            row.append(((" " if full else "") + week.note, "dim"))
        lines.append(tuple(row))
    lines += _services(facts)
    lines.append(())
    lines.append((("Congestion at main (7 days)", "bold"),))
    for key in CONGESTION:
        days = 0 if key == "oldest_undeployed" else 7
        fact = _find(facts, key, ESTATE, days)
        if fact is None:
            continue
        row = [_label(LABELS[key], CONGESTION_WIDTH)]
        if fact.value is not None:
            text = show(fact.value, fact.unit)
            if fact.p90 is not None:
                text += f", p90 {show(fact.p90, fact.unit)}"
            row.append((text, "bold"))
            arrow = _arrow(fact, ascii)
            if arrow is not None:
                row += [(" ", ""), arrow]
        if fact.note and (
            fact.value is None or key in ("busiest_hours", "gate_hold", "stage_time")
        ):
            row.append(((sep if fact.value is not None else "") + fact.note, "dim"))
        lines.append(tuple(row))
    lines += _stages(facts, ascii)
    return lines


STAGE_ROWS = 8
"""Pipelines whose dominant stage is listed; the rest are counted ("+N more")."""


def _stages(facts: Sequence[DeliveryFact], ascii: bool) -> list[Line]:
    """Each pipeline's dominant stage over 7 days, slowest first: where to fork and join."""
    stages = sorted(
        (
            f
            for f in facts
            if f.key == "stage_time" and f.scope != ESTATE and f.window_days == 7
            and f.value is not None
        ),
        key=lambda f: -(f.value or 0.0),
    )  # fmt: skip
    if not stages:
        return []
    sep = fmt.SEPARATOR[ascii]
    lines: list[Line] = [(), (("Where the build time goes (7 days, dominant stage)", "bold"),)]
    for f in stages[:STAGE_ROWS]:
        scope = f.scope if not ascii else f.scope.replace(" › ", " > ")
        text = show(f.value, f.unit) + (f", p90 {show(f.p90, f.unit)}" if f.p90 else "")
        row: list[Segment] = [("  " + scope.ljust(CONGESTION_WIDTH + 10) + " ", ""), (text, "bold")]
        arrow = _arrow(f, ascii)
        if arrow is not None:
            row += [(" ", ""), arrow]
        if f.note:
            row.append((sep + f.note, "dim"))
        lines.append(tuple(row))
    if len(stages) > STAGE_ROWS:
        lines.append(((f"  +{len(stages) - STAGE_ROWS} more (buildradiator report)", "dim"),))
    return lines


SERVICE_COLUMNS = (
    ("deploy_frequency", "deploys", 15),
    ("lead_time", "lead time", 14),
    ("change_failure_rate", "change fail", 12),
    ("time_to_restore", "restore", 13),
)
"""The per-service table: each of the four keys, its heading and its width (value and band)."""


def _services(facts: Sequence[DeliveryFact]) -> list[Line]:
    """A table of the services in production: their four keys over 7 days, each banded."""
    scopes = sorted(
        {f.scope for f in facts if f.key in FOUR_KEYS and production_service(f.scope) is not None}
    )
    if not scopes:
        return []
    head: list[Segment] = [("  service".ljust(SCOPE_WIDTH + 3), "dim")]
    head += [(title.ljust(width + 1), "dim") for _key, title, width in SERVICE_COLUMNS]
    lines: list[Line] = [(), (("Per service in production (7 days)", "bold"),), tuple(head)]
    for scope in scopes:
        name = fmt.truncate(production_service(scope) or scope, SCOPE_WIDTH)
        row: list[Segment] = [("  " + name.ljust(SCOPE_WIDTH) + " ", "")]
        for key, _title, width in SERVICE_COLUMNS:
            fact = _find(facts, key, scope, 7)
            value = show(fact.value, fact.unit) if fact is not None else "unknown"
            band = fact.band if fact is not None and fact.value is not None else None
            row.append((value + " ", "bold" if band else "dim"))
            row.append(((band or "").ljust(width - len(value)), BAND_STYLE.get(band or "", "")))
        lines.append(tuple(row))
    return lines


class DeliveryScreen(LinesScreen):
    """Opened by ``d`` (or the command palette); follows new snapshots while open."""

    BOX, TEXT = "delivery-box", "delivery-text"
    BINDINGS = [Binding("d", "close", "Close", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[Snapshot, datetime, tzinfo | None] | None = None

    def show(
        self, snapshot: Snapshot, now: datetime, ascii: bool, tz: tzinfo | None = None
    ) -> bool:
        self._shown = (snapshot, now, tz)
        width = self.query_one(f"#{self.BOX}").content_region.width if self.is_mounted else 0
        lines = delivery_lines(snapshot, now, ascii, tz, width or self.app.size.width - 4)
        return self.set_lines(lines, ascii)

    def titles(self) -> tuple[str, str]:
        return "Delivery", "esc close"

    def on_resize(self, _event: events.Resize) -> None:
        if self._shown is not None:
            snapshot, now, tz = self._shown
            self.show(snapshot, now, self._ascii, tz)  # the layout follows the width
