"""The Flaky panel and the two compact lines that stand in for In flight and Flaky when narrow."""

from __future__ import annotations

from datetime import datetime, tzinfo

from textual.widgets import Static

from buildradiator import fmt
from buildradiator.model import Health, Snapshot, Status
from buildradiator.rules.ordering import in_flight_builds, running_now
from buildradiator.rules.production import counted_health, service_rows
from buildradiator.rules.verdict import gate_word
from buildradiator.ui.widgets.inflight import build_title, progress
from buildradiator.ui.widgets.palette import Segment, lines_text, palette, plain_title

Line = tuple[Segment, ...]


FLAKY_DAYS = 7
"""The window of the flaky ranking and of the retried-to-green footer (``facts.py``)."""
TEST_WIDTH = 34
MIN_TEST_WIDTH = 16
NAME_WANT = 24
PIPELINE_WIDTH = 14
MIN_PIPELINE_WIDTH = 6


def retry_totals(snapshot: Snapshot) -> tuple[int, int, float]:
    """Over every pipeline history knows: green builds that needed a retry, green builds, and
    the build minutes spent on retries, in the last 7 days."""
    retried = sum(f.retried_7d for f in snapshot.facts)
    green = sum(f.green_7d for f in snapshot.facts)
    minutes = sum(f.retry_minutes_7d for f in snapshot.facts)
    return retried, green, minutes


def retry_footer(snapshot: Snapshot) -> Line:
    """``retried-to-green: 18% of green builds (7 d), 3h lost``."""
    retried, green, minutes = retry_totals(snapshot)
    if not green:
        return (("retried-to-green: no green builds in 7 d", "dim"),)
    text = f"retried-to-green: {fmt.share(retried / green)} of green builds (7 d)"
    if minutes > 0:
        text += f", {fmt.minutes_text(minutes)} lost"
    return ((text, "bold" if retried else "dim"),)


def pipeline_label(snapshot: Snapshot, ref: str) -> str:
    """What to call ``source:key`` in a narrow column: the last part of the pipeline's name
    (``acme/billing`` -> ``billing``); the key when the pipeline is gone from the config."""
    source, _, key = ref.partition(":")
    found = next((p for p in snapshot.pipelines if (p.source, p.key) == (source, key)), None)
    name = found.name if found is not None else (key or ref)
    return name.rstrip("/").rsplit("/", 1)[-1] or name


def flaky_test_lines(
    snapshot: Snapshot,
    now: datetime,
    ascii: bool = False,
    limit: int | None = None,
    width: int = 0,
) -> list[Line]:
    """One line per flaky test, most harmful first (the engine ranks them): times flaked, the
    test, time lost to re-runs, where, and when it last flaked.

    Fitted to ``width`` (0: no limit): the test's name gives room first, then the last-seen
    age goes, then the pipeline column narrows, then goes; times flaked and time lost always
    stay. The name keeps ``NAME_WANT`` characters while anything else can give way."""
    tests = snapshot.flaky_tests[:limit] if limit is not None else snapshot.flaky_tests
    if not tests:
        return []
    whole_wheres = []
    for t in tests:
        where = pipeline_label(snapshot, t.pipelines[0]) if t.pipelines else "-"
        if len(t.pipelines) > 1:
            where += f" +{len(t.pipelines) - 1}"
        whole_wheres.append(where)
    losts = [f"{fmt.format_age(t.lost_seconds)} lost" if t.lost_seconds >= 1 else "" for t in tests]
    seens = [f"{fmt.format_age(fmt.seconds_between(t.last_seen, now))} ago" for t in tests]
    count_width = max(len(str(t.times_flaked)) for t in tests)
    lost_width = max(len(lost) for lost in losts)
    seen_width = max(len(seen) for seen in seens)
    where_width = min(PIPELINE_WIDTH, max(len(w) for w in whole_wheres))
    name_width = max(
        len(fmt.flaky_test_label(t.classname, t.name, TEST_WIDTH, ascii)) for t in tests
    )
    show_seen = True
    if width > 0:

        def room() -> int:
            where = 2 + where_width if where_width else 0
            used = count_width + 2 + where + 2 + lost_width
            return width - used - (2 + seen_width if show_seen else 0)

        wanted = min(name_width, NAME_WANT)
        if room() < wanted:
            show_seen = False
        if room() < wanted:
            where_width = max(MIN_PIPELINE_WIDTH, where_width - (wanted - room()))
        if room() < wanted:
            where_width = 0
        name_width = max(MIN_TEST_WIDTH // 2, min(name_width, room()))
    labels = [fmt.flaky_test_label(t.classname, t.name, name_width, ascii) for t in tests]
    label_width = max(len(label) for label in labels)
    lines: list[Line] = []
    for t, label, where, lost, seen in zip(tests, labels, whole_wheres, losts, seens, strict=True):
        line: list[Segment] = [
            (str(t.times_flaked).rjust(count_width), "health-warn"),
            ("  ", ""),
            (label.ljust(label_width), "bold"),
            ("  ", ""),
            (lost.rjust(lost_width), ""),
        ]
        if where_width:
            line += [
                ("  ", ""),
                (fmt.truncate(where, where_width, ascii).ljust(where_width), "dim"),
            ]
        if show_seen:
            line.append((f"  {seen.rjust(seen_width)}", "dim"))
        lines.append(tuple(line))
    return lines


def retry_share_lines(snapshot: Snapshot) -> list[Line]:
    """No flaky tests known: per pipeline, the share of green builds that needed a retry."""
    found = sorted(
        (f for f in snapshot.facts if f.retried_7d > 0),
        key=lambda f: (-(f.retry_share_7d or 0.0), -f.retried_7d, f.key),
    )
    if not found:
        return [(("no flaky tests, no retried builds", "dim"),)]
    names = [pipeline_label(snapshot, f"{f.source}:{f.key}") for f in found]
    width = max(len(n) for n in names)
    lines: list[Line] = []
    for f, name in zip(found, names, strict=True):
        text = f"{fmt.share(f.retry_share_7d)} of green retried ({f.retried_7d} of {f.green_7d})"
        if f.retry_minutes_7d > 0:
            text += f", {fmt.minutes_text(f.retry_minutes_7d)}"
        lines.append(((name.ljust(width), "bold"), ("  ", ""), (text, "")))
    return lines


def flaky_lines(
    snapshot: Snapshot, ascii: bool = False, now: datetime | None = None, width: int = 0
) -> list[Line]:
    """With history: the ranked flaky tests (or, without test results, each pipeline's share
    of retried green builds) and the retried-to-green footer. Without history: per pipeline,
    ``N of M green builds needed a retry`` from what the APIs returned; zeros are hidden."""
    if snapshot.facts or snapshot.flaky_tests:
        when = now or snapshot.taken_at
        body = flaky_test_lines(snapshot, when, ascii, width=width) or retry_share_lines(snapshot)
        return [*body, retry_footer(snapshot)] if snapshot.facts else body
    found = sorted(
        (f for f in snapshot.flaky if f.retried_to_green > 0),
        key=lambda f: (-f.retried_to_green, f.name.lower()),
    )
    if not found:
        return [(("no retried builds", "dim"),)]
    width = max(len(f.name) for f in found)
    return [
        (
            (f.name.ljust(width), "bold"),
            ("  ", ""),
            (fmt.flaky_text(f.retried_to_green, f.green), ""),
        )
        for f in found
    ]


def flaky_summary(snapshot: Snapshot) -> list[Segment] | None:
    """``2 tests, 18% retried``: the one-liner history gives (``None`` without history)."""
    if not (snapshot.facts or snapshot.flaky_tests):
        return None
    parts = []
    if snapshot.flaky_tests:
        parts.append(fmt.plural(len(snapshot.flaky_tests), "test"))
    retried, green, _minutes = retry_totals(snapshot)
    if green:
        parts.append(f"{fmt.share(retried / green)} retried")
    if not parts:
        return [("no flaky tests", "dim")]
    return [(", ".join(parts), "")]


def compact_lines(
    snapshot: Snapshot | None, now: datetime, ascii: bool = False, tz: tzinfo | None = None
) -> list[Line]:
    """One line of in-flight counts (and the furthest-along build), one line of flaky counts."""
    if snapshot is None:
        return [(("In flight: -", "dim"),), (("Flaky: -", "dim"),)]
    # Counts and the furthest-along build: on fresh data only (stale data is never running).
    pairs = [
        (p, b) for p, b in in_flight_builds(snapshot) if p.source not in snapshot.stale_sources
    ]
    running = [(p, b) for p, b in pairs if b.status is Status.RUNNING]
    queued = len(pairs) - len(running)
    sep = fmt.SEPARATOR[ascii]
    flight: list[Segment] = [("In flight: ", "bold")]
    if not pairs:
        flight.append(("nothing running", "dim"))
    else:
        flight.append(
            (f"{fmt.status_glyph(Status.RUNNING, ascii)} {len(running)} running", "status-running")
        )
        flight.append(
            (f"{sep}{fmt.status_glyph(Status.QUEUED, ascii)} {queued} queued", "status-queued")
        )
    if running:
        pipeline, build = running[0]
        gauge, eta = progress(build, now, ascii, tz)
        flight.append((sep, ""))
        flight.append((build_title(pipeline, build), ""))
        flight.append((" " + "".join(chunk for chunk, _ in gauge), gauge[0][1]))
        if eta[0][0].startswith("ETA"):  # "overdue" would repeat the gauge's "+12m over"
            flight.append((" " + eta[0][0], eta[0][1]))
    retried = [f for f in snapshot.flaky if f.retried_to_green > 0]
    flaky: list[Segment] = [("Flaky: ", "bold")]
    summary = flaky_summary(snapshot)
    if summary is not None:
        flaky.extend(summary)
    elif not retried:
        flaky.append(("no retried builds", "dim"))
    else:
        total_retried = sum(f.retried_to_green for f in retried)
        total_green = sum(f.green for f in snapshot.flaky)
        flaky.append((fmt.flaky_text(total_retried, total_green), ""))
        flaky.append((f" ({fmt.plural(len(retried), 'pipeline')})", "dim"))
    return [tuple(flight), tuple(flaky)]


def pane_line(snapshot: Snapshot | None, ascii: bool = False) -> Line:
    """The pane layout's one line of counts. Production's bad news comes first (a 40-column
    pane cuts the tail), then in flight, flaky, and the services that are up."""
    if snapshot is None:
        return (("-", "dim"),)
    sep = fmt.SEPARATOR[ascii]
    parts: list[list[Segment]] = []
    rows = [r for r in service_rows(snapshot) if r.checks]
    word = gate_word(snapshot)
    if word is not None:
        style = {"GO": "health-up", "HOLD": "health-down"}.get(word, "dim")
        parts.append([(f"release {word} ", style)])
    if snapshot.targets:
        met = sum(1 for t in snapshot.targets if t.met)
        style = "health-up" if met == len(snapshot.targets) else ""
        parts.append([(f"targets {met}/{len(snapshot.targets)} ", style)])

    def health_count(health: Health) -> Segment | None:
        count = sum(1 for r in rows if counted_health(r) is health)
        if not count:
            return None
        label = f"{fmt.health_glyph(health, ascii)} {count} {health.value}"
        return (label, f"health-{health.value}")

    bad = [c for h in (Health.DOWN, Health.WARN, Health.UNKNOWN) if (c := health_count(h))]
    if bad:
        parts.append([("prod ", "bold"), *(seg for c in bad for seg in ((c[0] + " ", c[1]),))])
    running, queued = running_now(snapshot)
    flight: list[Segment] = []
    if running:
        glyph = fmt.status_glyph(Status.RUNNING, ascii)
        flight.append((f"{glyph} {running} running ", "status-running"))
    if queued:
        flight.append(
            (f"{fmt.status_glyph(Status.QUEUED, ascii)} {queued} queued ", "status-queued")
        )
    parts.append(flight or [("nothing running ", "dim")])
    retried = sum(f.retried_to_green for f in snapshot.flaky)
    if snapshot.flaky_tests:
        parts.append([(f"flaky {fmt.plural(len(snapshot.flaky_tests), 'test')} ", "")])
    elif retried:
        parts.append([(f"flaky {retried} ", "")])
    up = health_count(Health.UP)
    if up:
        parts.append([("prod " if not bad else "", "bold"), (up[0] + " ", up[1])])
    out: list[Segment] = []
    for index, part in enumerate(parts):
        if index:
            out.append((sep.strip() + " ", "dim"))
        out.extend(part)
    return tuple(
        (text.rstrip() if i == len(out) - 1 else text, style) for i, (text, style) in enumerate(out)
    )


class LinesView(Static):
    """A Static fed lines of styled runs; it redraws only when the lines changed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Line] = []
        self._shown_subtitle: str | None = None
        self.ascii = False

    def on_resize(self) -> None:
        self.restyle()

    def set_subtitle(self, text: str) -> None:
        """Only on a change: Textual redraws on every assignment (see ``RowsTable``)."""
        if self._shown_subtitle != text:
            self._shown_subtitle, self.border_subtitle = text, plain_title(text)

    def show_lines(self, lines: list[Line]) -> bool:
        if lines == self._lines:
            return False
        self._lines = lines
        self.restyle()
        return True

    keep_last = False
    """Keep the last line (a footer) in sight when lines are cut."""

    def _room(self) -> int:
        """The most lines the panel can show: its height, or for a panel as tall as its lines,
        the most its ``max-height`` allows (what it shows now would lock it at that)."""
        if not self.is_mounted or self.parent is None:
            return 0
        height, limit = self.styles.height, self.styles.max_height
        if height is not None and height.is_auto and limit is not None:
            parent = self.parent.content_region.size  # type: ignore[attr-defined]
            outer = int(limit.resolve(parent, self.app.size))
            return max(0, outer - self.styles.gutter.height)
        return self.content_region.height

    _used_room = -1

    def _room_changed(self) -> None:
        # The column around the panel may have been laid out again since (a taller banner).
        if self.is_mounted and self._room() != self._used_room:
            self.restyle()

    def _visible(self) -> list[Line]:
        """The lines that fit the panel's height; the cut ones are counted: ``+3 more``."""
        lines = self._lines
        room = self._used_room = self._room()
        self.call_after_refresh(self._room_changed)
        if room <= 0 or len(lines) <= room:
            return lines
        footer = lines[-1:] if self.keep_last and room >= 3 else []
        shown = lines[: max(0, room - 1 - len(footer))]
        hidden = len(lines) - len(shown) - len(footer)
        return [*shown, ((f"+{hidden} more", "dim"),), *footer]

    def restyle(self) -> None:
        # Content width: the Flaky panel has a border and padding around its lines.
        width = self.content_region.width if self.is_mounted else 0
        self.update(lines_text(self._visible(), palette(self.app), width, self.ascii))

    @property
    def plain(self) -> str:
        return "\n".join("".join(chunk for chunk, _ in line) for line in self._lines)


class Flaky(LinesView):
    keep_last = True

    def on_mount(self) -> None:
        self.border_title = "Flaky"

    _shown: tuple[Snapshot, bool, datetime | None] | None = None

    def show(self, snapshot: Snapshot, ascii: bool, now: datetime | None = None) -> bool:
        self.ascii = ascii
        self._shown = (snapshot, ascii, now)
        history = bool(snapshot.facts or snapshot.flaky_tests)
        self.set_subtitle(f"{FLAKY_DAYS} days" if history else "")
        width = self.content_region.width if self.is_mounted else 0
        return self.show_lines(flaky_lines(snapshot, ascii, now, width))

    def on_resize(self) -> None:
        # The columns are fitted to the width: a new width lays them out again.
        if self._shown is None or not self.show(*self._shown):
            self.restyle()


class CompactSummary(LinesView):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.one_line = False
        """Set by the app for the pane layout: all counts on one line."""

    def show(
        self, snapshot: Snapshot | None, now: datetime, ascii: bool, tz: tzinfo | None
    ) -> bool:
        self.ascii = ascii
        if self.one_line:
            return self.show_lines([pane_line(snapshot, ascii)])
        return self.show_lines(compact_lines(snapshot, now, ascii, tz))
