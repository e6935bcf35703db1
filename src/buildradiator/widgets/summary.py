"""The Flaky panel and the two compact lines that stand in for In flight and Flaky when narrow."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual.widgets import Static

from buildradiator import fmt
from buildradiator.model import Health, Snapshot, Status
from buildradiator.widgets.inflight import build_title, in_flight_builds, progress
from buildradiator.widgets.palette import Segment, fit_line, palette

Line = tuple[Segment, ...]


def flaky_lines(snapshot: Snapshot, ascii: bool = False) -> list[Line]:
    """Per pipeline, ``N of M green builds needed a retry``; zeros are hidden."""
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


def compact_lines(
    snapshot: Snapshot | None, now: datetime, ascii: bool = False, tz: tzinfo | None = None
) -> list[Line]:
    """One line of in-flight counts (and the furthest-along build), one line of flaky counts."""
    if snapshot is None:
        return [(("In flight: -", "dim"),), (("Flaky: -", "dim"),)]
    pairs = in_flight_builds(snapshot)
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
        if eta[0][0]:
            flight.append((" " + eta[0][0], eta[0][1]))
    retried = [f for f in snapshot.flaky if f.retried_to_green > 0]
    flaky: list[Segment] = [("Flaky: ", "bold")]
    if not retried:
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

    def health_count(health: Health) -> Segment | None:
        count = sum(1 for s in snapshot.services if s.health is health)
        if not count:
            return None
        label = f"{fmt.health_glyph(health, ascii)} {count} {health.value}"
        return (label, f"health-{health.value}")

    bad = [c for h in (Health.DOWN, Health.WARN, Health.UNKNOWN) if (c := health_count(h))]
    if bad:
        parts.append([("prod ", "bold"), *(seg for c in bad for seg in ((c[0] + " ", c[1]),))])
    builds = snapshot.in_flight
    running = sum(1 for b in builds if b.status is Status.RUNNING)
    queued = len(builds) - running
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
    if retried:
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
        self.ascii = False

    def on_resize(self) -> None:
        self.restyle()

    def show_lines(self, lines: list[Line]) -> bool:
        if lines == self._lines:
            return False
        self._lines = lines
        self.restyle()
        return True

    def restyle(self) -> None:
        styles = palette(self.app)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        # Content width: the Flaky panel has a border and padding around its lines.
        width = self.content_region.width if self.is_mounted else 0
        for index, line in enumerate(self._lines):
            if index:
                text.append("\n")
            row = Text(no_wrap=True, end="")
            for chunk, style in line:
                row.append(chunk, styles.get(style, styles[""]))
            text.append_text(fit_line(row, width, self.ascii))
        self.update(text)

    @property
    def plain(self) -> str:
        return "\n".join("".join(chunk for chunk, _ in line) for line in self._lines)


class Flaky(LinesView):
    def on_mount(self) -> None:
        self.border_title = "Flaky"

    def show(self, snapshot: Snapshot, ascii: bool) -> bool:
        self.ascii = ascii
        return self.show_lines(flaky_lines(snapshot, ascii))


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
