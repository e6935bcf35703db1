"""Glyphs and text formatting shared by the Textual views and the plain-text exports.

No ``textual`` (nor ``rich``) import here: the status line and other exports use the same words
and glyphs without pulling in the UI. Every function returns plain ``str``; the views wrap the
results in ``rich.text.Text`` themselves (never in markup), since some inputs are untrusted.

Every status is a glyph *and* a word, so nothing depends on colour alone; ``ascii=True`` picks the
ASCII twin of every glyph for terminals and fonts without them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from buildradiator.model import Freshness, Health, SourceState, Status

STATUS_GLYPHS: dict[Status, str] = {
    Status.PASSED: "✔",
    Status.FAILED: "✖",
    Status.RUNNING: "▶",
    Status.QUEUED: "◌",
    Status.CANCELED: "⊘",
    Status.UNKNOWN: "?",
}
STATUS_GLYPHS_ASCII: dict[Status, str] = {
    Status.PASSED: "+",
    Status.FAILED: "x",
    Status.RUNNING: ">",
    Status.QUEUED: ".",
    Status.CANCELED: "-",
    Status.UNKNOWN: "?",
}
HEALTH_GLYPHS: dict[Health, str] = {
    Health.UP: "✔",
    Health.WARN: "⚠",
    Health.DOWN: "✖",
    Health.UNKNOWN: "?",
}
HEALTH_GLYPHS_ASCII: dict[Health, str] = {
    Health.UP: "+",
    Health.WARN: "!",
    Health.DOWN: "x",
    Health.UNKNOWN: "?",
}
STALE_GLYPH = "?"
"""Stale data is neither good nor bad: it gets the unknown glyph, never the green one."""

SEPARATOR = {False: " · ", True: " | "}
ELLIPSIS = {False: "…", True: "..."}
# Progress bar cells: done / to do. The unicode pair reads as a filled gauge on a dark screen.
BAR_CELLS = {False: ("▇", "▁"), True: ("#", "-")}


def status_glyph(status: Status, ascii: bool = False) -> str:
    return (STATUS_GLYPHS_ASCII if ascii else STATUS_GLYPHS)[status]


def status_label(status: Status, ascii: bool = False) -> str:
    """``✔ passed``: the glyph and the word, the way every status is shown."""
    return f"{status_glyph(status, ascii)} {status.value}"


def health_glyph(health: Health, ascii: bool = False) -> str:
    return (HEALTH_GLYPHS_ASCII if ascii else HEALTH_GLYPHS)[health]


def health_label(health: Health, ascii: bool = False) -> str:
    return f"{health_glyph(health, ascii)} {health.value}"


def seconds_between(start: datetime | None, end: datetime) -> float | None:
    """Seconds from ``start`` to ``end``, never negative (clocks of CI servers drift)."""
    if start is None:
        return None
    return max(0.0, (end - start).total_seconds())


def format_age(seconds: float | None) -> str:
    """A compact age for tables: ``4s``, ``14m``, ``3h 12m``, ``2d 5h``; ``-`` when unknown.

    Precision drops as the age grows: nobody needs the seconds of a result from yesterday, and a
    coarse age changes rarely, so the tables showing it need re-rendering rarely too.
    """
    if seconds is None:
        return "-"
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def format_duration(seconds: float | None) -> str:
    """A duration with seconds kept while they matter: ``45s``, ``6m12s``, ``1h02m``."""
    if seconds is None:
        return "-"
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    minutes, s = divmod(s, 60)
    if minutes < 60:
        return f"{minutes}m{s:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_clock_age(seconds: float | None) -> str:
    """``h:mm:ss``: the banner's ticking age of a broken window (hours grow past 24)."""
    s = int(max(0.0, seconds or 0.0))
    hours, rest = divmod(s, 3600)
    minutes, s = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{s:02d}"


def clock_time(when: datetime, tz: tzinfo | None = None) -> str:
    """``14:02`` in ``tz`` (the local zone when ``None``)."""
    return when.astimezone(tz).strftime("%H:%M")


def short_sha(commit: str | None) -> str:
    """The first 7 characters of a commit id (other revision words are kept whole)."""
    if not commit:
        return ""
    is_hex = all(c in "0123456789abcdefABCDEF" for c in commit)
    return commit[:7] if is_hex and len(commit) > 7 else commit


def truncate(text: str, width: int, ascii: bool = False) -> str:
    """Cut ``text`` to ``width`` characters, marking the cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    mark = ELLIPSIS[ascii]
    if width <= len(mark):
        return text[:width]
    return text[: width - len(mark)] + mark


def progress_fraction(elapsed: float | None, estimate: float | None) -> float | None:
    """Elapsed over estimate, or ``None`` when there is no usable estimate. May exceed 1."""
    if elapsed is None or estimate is None or estimate <= 0:
        return None
    return max(0.0, elapsed / estimate)


def progress_bar(fraction: float, width: int = 10, ascii: bool = False) -> str:
    """A text gauge, ``▇▇▇▇▁▁▁▁▁▁`` (``####------``); overdue builds show a full bar."""
    done_cell, todo_cell = BAR_CELLS[ascii]
    done = round(min(1.0, max(0.0, fraction)) * width)
    return done_cell * done + todo_cell * (width - done)


def percent(fraction: float) -> str:
    """``62%``; never past 100% (an overrun says ``overdue`` instead)."""
    return f"{int(min(1.0, max(0.0, fraction)) * 100)}%"


def overdue(seconds: float) -> str:
    """How far past its estimate a build runs: ``+12m over`` (a percentage past 100 says
    nothing a reader can use)."""
    return f"+{format_age(max(1.0, seconds))} over"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def streak_text(streak: int) -> str:
    """``3 builds in a row`` (nothing for a single failure: it says nothing more)."""
    return f"{streak} builds in a row" if streak > 1 else ""


def flaky_text(retried_to_green: int, green: int) -> str:
    """``2 of 14 green builds needed a retry``."""
    return f"{retried_to_green} of {plural(green, 'green build')} needed a retry"


def source_freshness(state: SourceState, now: datetime, ascii: bool = False) -> str:
    """How one source is doing: ``gh ✔``, ``gh ◌ waiting``, ``gh ? cached 2h`` (the last run's
    data, read at start-up) or ``cctray ✖ connection refused 31s ago (stale)``.

    A fresh source shows no age; a stale one the age of its last good answer; a failing one how
    long ago we last heard the error.
    """
    if state.error:
        glyph = status_glyph(Status.FAILED, ascii)
        when = state.last_attempt or state.last_success
        age = seconds_between(when, now)
        text = f"{state.name} {glyph} {state.error}"
        if age is not None:
            text += f" {format_age(age)} ago"
        if state.last_success is None:
            return text + " (no data yet)"
    elif state.freshness is Freshness.CACHED and state.last_success is not None:
        cached = format_age(seconds_between(state.last_success, now))
        return f"{state.name} {STALE_GLYPH} cached {cached}"
    elif state.last_success is None:
        return f"{state.name} {status_glyph(Status.QUEUED, ascii)} waiting"
    elif state.stale:
        glyph = status_glyph(Status.UNKNOWN, ascii)
        text = f"{state.name} {glyph} {format_age(seconds_between(state.last_success, now))}"
    else:
        # Fresh, as the engine judges it: no age to tick every second (a radiator runs for
        # weeks; the engine republishes when a source goes stale).
        return f"{state.name} {status_glyph(Status.PASSED, ascii)}"
    if state.stale:
        text += " (stale)"
    return text


def source_current(state: SourceState) -> bool:
    """Fresh: answered, no error, not stale (whatever the reason, see ``model.Freshness``)."""
    return (
        state.last_success is not None
        and not state.error
        and not state.stale
        and state.freshness is Freshness.FRESH
    )


def source_rank(state: SourceState) -> int:
    """How bad a source's state is, worst highest: the short status bar names the worst one."""
    return (2 if state.error else 0) + (0 if source_current(state) else 1)


# --- history: strips, sparklines, shares ----------------------------------------------------

SPARK_CELLS = {False: "▁▂▃▄▅▆▇█", True: "_.-=+*#@"}
"""Eight levels, low to high; the ASCII ramp reads as rising ink."""
SPARK_GAP = {False: "·", True: " "}
"""A day with no data: not zero, so it must not look like the lowest bar."""
RANGE_DOTS = ".."


def status_strip(statuses: Iterable[Status], ascii: bool = False) -> str:
    """``✔✔✖✔✔✖✖✖``: recent builds as glyphs, in the order given."""
    return "".join(status_glyph(s, ascii) for s in statuses)


def sparkline(
    values: Sequence[float | None],
    ascii: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> str:
    """One cell per value, scaled between ``low`` and ``high`` (the values' own range when not
    given); ``None`` is a gap. A flat series sits at mid height: it did not drop to zero."""
    cells, gap = SPARK_CELLS[ascii], SPARK_GAP[ascii]
    known = [v for v in values if v is not None]
    if not known:
        return gap * len(values)
    lo = min(known) if low is None else low
    hi = max(known) if high is None else high
    top = len(cells) - 1
    out = []
    for value in values:
        if value is None:
            out.append(gap)
        elif hi <= lo:
            out.append(cells[top // 2])
        else:
            level = (min(hi, max(lo, value)) - lo) / (hi - lo)
            out.append(cells[round(level * top)])
    return "".join(out)


def share(fraction: float | None) -> str:
    """``18%`` (``-`` when unknown); never more than 100%, unlike ``percent``."""
    if fraction is None:
        return "-"
    return f"{round(min(1.0, max(0.0, fraction)) * 100)}%"


def commit_range(oldest: str | None, newest: str | None) -> str:
    """``a1b2c3d..c0ffee0``: the commits where a culprit is, from the last green on; empty when
    either end is unknown."""
    if not oldest or not newest:
        return ""
    return f"{short_sha(oldest)}{RANGE_DOTS}{short_sha(newest)}"


def minutes_text(minutes: float) -> str:
    """Build minutes as an age: ``45m``, ``3h 10m``."""
    return format_age(minutes * 60)


def flaky_test_label(classname: str, name: str, width: int, ascii: bool = False) -> str:
    """``LoginTest.testRedirect`` cut to ``width``: the package goes first (``com.acme.``), then
    the class is cut from the left, the test's own name is kept longest."""
    short_class = classname.rsplit(".", 1)[-1] if classname else ""
    # pytest's classnames are module paths ("tests.test_login"); the last part names it.
    full = f"{short_class}.{name}" if short_class else name
    if len(full) <= width:
        return full
    mark = ELLIPSIS[ascii]
    room_for_class = width - len(name) - 1 - len(mark)
    if short_class and room_for_class >= 3:
        return f"{mark}{short_class[-room_for_class:]}.{name}"
    return truncate(name, width, ascii)
