"""The detail of one pipeline (Enter on its row): what history knows of it.

Recent builds as a strip of glyphs, red since / broke it / the commit range, duration p50/p90
with a 30-day sparkline, green share, time to recovery, retried-to-green, and its flaky tests.
Without history it shows what the API returned (the recent builds) and says the rest is to come.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from statistics import median

from textual.binding import Binding

from buildradiator import fmt
from buildradiator.model import Pipeline, PipelineFacts, Snapshot, Status
from buildradiator.ui.widgets.overlay import LinesScreen
from buildradiator.ui.widgets.palette import STATUS_STYLE, Segment
from buildradiator.ui.widgets.summary import Line, flaky_test_lines

LABEL_WIDTH = 18
STRIP_MAX = 40
"""Builds in the strip: enough to see a pattern, short enough for 80 columns."""


def _label(text: str) -> Segment:
    return (text.ljust(LABEL_WIDTH), "dim")


def _known(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _strip(statuses: Sequence[Status], ascii: bool) -> list[Segment]:
    """Oldest on the left, newest on the right (where the eye ends): ``✔✔✖✔✔✔✖✖✖``."""
    shown = list(reversed(statuses[:STRIP_MAX]))
    return [(fmt.status_glyph(s, ascii), STATUS_STYLE[s]) for s in shown]


def _spark(
    values: Sequence[float | None], ascii: bool, low: float | None = 0.0, high: float | None = None
) -> Segment:
    """From zero unless told: for shares and counts a bar's height is the value."""
    return (fmt.sparkline(values, ascii, low=low, high=high), "status-running")


def _retry_text(retried: int, green: int, share: float | None, minutes: float) -> str:
    if not green:
        return "no green builds"
    text = f"{fmt.share(share)} ({retried} of {green})"
    if minutes > 0:
        text += f", {fmt.minutes_text(minutes)} of builds"
    return text


def detail_lines(
    snapshot: Snapshot,
    pipeline: Pipeline,
    now: datetime,
    ascii: bool = False,
    tz: tzinfo | None = None,
) -> list[Line]:
    """The detail view as lines of (text, style) runs; pure, so tests read it as text."""
    facts = snapshot.facts_of(pipeline.source, pipeline.key)
    sep = fmt.SEPARATOR[ascii]
    lines: list[Line] = []
    # The name is the box's title; the first line says where it comes from.
    head: list[Segment] = [_label("Branch"), (pipeline.branch or "-", "bold")]
    head.append((f"{sep}source {pipeline.source}", "dim"))
    lines.append(tuple(head))

    last = pipeline.last
    status: list[Segment] = [_label("Now")]
    if pipeline.in_flight:
        running = pipeline.in_flight[0]
        status += [(fmt.status_label(running.status, ascii), STATUS_STYLE[running.status])]
        status.append((", last: ", ""))
    status.append((fmt.status_label(pipeline.status, ascii), STATUS_STYLE[pipeline.status]))
    if last is not None:
        when = last.finished_at or last.started_at
        if when is not None:
            status.append((f" {fmt.format_age(fmt.seconds_between(when, now))} ago", ""))
        if last.number is not None:
            status.append((f"{sep}#{last.number}", ""))
        if last.author:
            status += [(" by ", ""), (last.author, "bold")]
    if pipeline.source in snapshot.stale_sources:
        status.append((f"{sep}{fmt.STALE_GLYPH} stale", "stale"))
    lines.append(tuple(status))

    recorded = bool(facts and facts.strip)
    strip = facts.strip if facts and recorded else tuple(b.status for b in pipeline.recent)
    if strip:
        shown = min(len(strip), STRIP_MAX)
        # Say where the strip comes from: without history it is what the CI's API returned,
        # and the lines below must not read as if there were no builds at all.
        where = "recorded" if recorded else "as reported by the CI"
        lines.append(
            (
                _label("Recent builds"),
                *_strip(strip, ascii),
                (f"  {shown} builds {where}, newest right", "dim"),
            )
        )
    lines.append(())
    if facts is None:
        lines.append(
            (
                (
                    "Trends, durations and flaky tests: from the builds the radiator records, "
                    "none recorded for this pipeline yet",
                    "dim",
                ),
            )
        )
        return lines
    lines.extend(_red_lines(snapshot, pipeline, facts, now, ascii, tz))
    lines.extend(_trend_lines(facts, ascii))
    tests = [t for t in snapshot.flaky_tests if f"{pipeline.source}:{pipeline.key}" in t.pipelines]
    lines.append(())
    if tests:
        lines.append(((f"Flaky tests ({len(tests)}, 7 d)", "bold"),))
        only = snapshot.model_copy(update={"flaky_tests": tuple(tests)})
        lines.extend(((" ", ""), *line) for line in flaky_test_lines(only, now, ascii))
    else:
        lines.append((("no flaky tests in 7 d", "dim"),))
    return lines


def _red_lines(
    snapshot: Snapshot,
    pipeline: Pipeline,
    facts: PipelineFacts,
    now: datetime,
    ascii: bool,
    tz: tzinfo | None,
) -> list[Line]:
    if facts.red_since is None:
        return []
    sep = fmt.SEPARATOR[ascii]
    age = fmt.format_age(fmt.seconds_between(facts.red_since, now))
    since: list[Segment] = [
        _label("Red since"),
        (f"{fmt.clock_time(facts.red_since, tz)} ({age})", STATUS_STYLE[Status.FAILED]),
    ]
    if facts.red_streak > 1:
        since.append((sep + fmt.streak_text(facts.red_streak), ""))
    out: list[Line] = [tuple(since)]
    if facts.broke_commit or facts.broke_author:
        broke: list[Segment] = [_label("Broke it")]
        if facts.broke_commit:
            broke.append((fmt.short_sha(facts.broke_commit), "bold"))
        if facts.broke_message:
            broke.append((f' "{facts.broke_message}"', ""))
        if facts.broke_author:
            broke += [(" by ", ""), (facts.broke_author, "bold")]
        out.append(tuple(broke))
    commits = fmt.commit_range(facts.last_green_commit, facts.newest_red_commit)
    if commits:
        out.append((_label("Commits"), (commits, "bold"), ("  last green .. newest red", "dim")))
    out.append(())
    return out


def _trend_lines(facts: PipelineFacts, ascii: bool) -> list[Line]:
    sep = fmt.SEPARATOR[ascii]
    out: list[Line] = []
    durations = f"p50 {fmt.format_duration(facts.p50_seconds)}{sep}p90 {fmt.format_duration(facts.p90_seconds)}"
    out.append((_label("Duration"), (durations, "bold")))
    # Durations share one scale, from the fastest p50 day to the slowest p90 day: a build
    # that got slower must show as a rise, and the two lines stay comparable.
    p50, p90 = _known(facts.p50_trend), _known(facts.p90_trend)
    every = p50 + p90
    for label, series, known in (("p50", facts.p50_trend, p50), ("p90", facts.p90_trend, p90)):
        if not known:
            continue
        low, high = min(known), max(known)
        out.append(
            (
                _label(f"  {label}, 30 d"),
                _spark(series, ascii, min(every), max(every)),
                (f"  {fmt.format_duration(low)} to {fmt.format_duration(high)}", "dim"),
            )
        )
    green = _known(facts.green_share)
    if green:
        out.append(
            (
                _label("Green, 30 d"),
                _spark(facts.green_share, ascii, 0.0, 1.0),
                (f"  {fmt.share(sum(green) / len(green))} of the time", "bold"),
            )
        )
    mttr = _known(facts.mttr_seconds)
    if mttr:
        out.append(
            (
                _label("Time to recover"),
                _spark(facts.mttr_seconds, ascii, None),
                (f"  median {fmt.format_age(median(mttr))}", "bold"),
                (f", worst {fmt.format_age(max(mttr))}", "dim"),
            )
        )
    if facts.flakes and any(facts.flakes):
        flakes = [float(n) for n in facts.flakes]
        out.append(
            (
                _label("Flakes, 30 d"),
                _spark(flakes, ascii),
                (f"  {sum(facts.flakes)} in all", "bold"),
            )
        )
    out.append(())
    out.append(
        (
            _label("Retried to green"),
            ("7 d: ", "dim"),
            (
                _retry_text(
                    facts.retried_7d, facts.green_7d, facts.retry_share_7d, facts.retry_minutes_7d
                ),
                "",
            ),
        )
    )
    out.append(
        (
            _label(""),
            ("30 d: ", "dim"),
            (
                _retry_text(
                    facts.retried_30d,
                    facts.green_30d,
                    facts.retry_share_30d,
                    facts.retry_minutes_30d,
                ),
                "",
            ),
        )
    )
    return out


def build_url(pipeline: Pipeline) -> str | None:
    """What ``o`` opens: the last finished build, else the one running, else the pipeline."""
    for build in (pipeline.last, *pipeline.in_flight):
        if build is not None and build.url:
            return build.url
    return pipeline.url


class PipelineDetail(LinesScreen):
    """Opened by Enter on a pipeline row; follows new snapshots while open (``show``)."""

    BOX, TEXT = "detail-box", "detail-text"
    BINDINGS = [Binding("o", "open_build", "Open last build")]

    def __init__(self, source: str, key: str) -> None:
        super().__init__()
        self.source, self.key = source, key
        self._pipeline: Pipeline | None = None

    def show(
        self, snapshot: Snapshot, now: datetime, ascii: bool, tz: tzinfo | None = None
    ) -> bool:
        """Redraw from ``snapshot``; a pipeline gone from it keeps its last view."""
        found = next(
            (p for p in snapshot.pipelines if (p.source, p.key) == (self.source, self.key)), None
        )
        if found is None:
            return False
        self._pipeline = found
        return self.set_lines(detail_lines(snapshot, found, now, ascii, tz), ascii)

    def titles(self) -> tuple[str, str]:
        sep = " | " if self._ascii else " · "
        name = self._pipeline.name if self._pipeline else "Pipeline"
        return name, f"o open last build{sep}esc close"

    def action_open_build(self) -> None:
        url = build_url(self._pipeline) if self._pipeline else None
        if url:
            self.app.open_url(url)
        else:
            self.notify("no build to open", severity="warning", timeout=3)
