"""The one-line summaries of a snapshot: ``status --format line`` for shell prompts and
``--format tmux`` for tmux's status bar (CI text in a tmux line is made literal)."""

from __future__ import annotations

from datetime import datetime

from buildradiator import fmt
from buildradiator.model import Freshness, Snapshot, SourceState, Status
from buildradiator.rules.ordering import running_now, tally
from buildradiator.rules.verdict import all_green, not_current

_TMUX_STYLE = {
    "red": "#[fg=white,bg=red,bold]",
    "green": "#[fg=green]",
    "running": "#[fg=yellow]",
    "stale": "#[fg=colour244]",
    "reset": "#[default]",
}


def _tmux_safe(text: str) -> str:
    """tmux expands ``#[...]`` styles and ``#(...)`` commands in what it shows: a ``#`` from CI
    text is doubled so that it is only ever a literal ``#``."""
    return text.replace("#", "##")


def summary_segments(snapshot: Snapshot, now: datetime, ascii: bool) -> list[tuple[str, str]]:
    """The facts of a one-line summary as (text, kind) pairs, most urgent first."""
    segments: list[tuple[str, str]] = []
    if snapshot.broken:
        first = snapshot.broken[0]
        word = {"pipeline": "RED", "deploy": "SUSPECT"}.get(first.kind, "DOWN")
        age = fmt.format_age(fmt.seconds_between(first.since, now)) if first.since else "?"
        who = f" ({first.author})" if first.author else ""
        more = f" +{len(snapshot.broken) - 1}" if len(snapshot.broken) > 1 else ""
        glyph = fmt.status_glyph(Status.FAILED, ascii)
        segments.append((f"{glyph} {word} {first.name} {age}{who}{more}", "red"))
    elif all_green(snapshot):
        since = snapshot.green_since
        age = f" {fmt.format_age(fmt.seconds_between(since, now))}" if since else ""
        segments.append((f"{fmt.status_glyph(Status.PASSED, ascii)} all green{age}", "green"))
    running, _queued = running_now(snapshot)
    if running:
        segments.append((f"{fmt.status_glyph(Status.RUNNING, ascii)} {running}", "running"))
    green = tally(snapshot.pipelines, snapshot.stale_sources).green
    if snapshot.broken and green:
        segments.append((f"{fmt.status_glyph(Status.PASSED, ascii)} {green}", "green"))
    if snapshot.gate is not None and not snapshot.gate.go:
        segments.append((f"HOLD {len(snapshot.gate.reasons)}", "running"))
    stale = not_current(snapshot)
    if stale:
        segments.append((_not_fresh_words(stale), "stale"))
    if not segments:
        segments.append((f"{fmt.status_glyph(Status.UNKNOWN, ascii)} no data", "stale"))
    return segments


def _not_fresh_words(states: list[SourceState]) -> str:
    """``? waiting for first data``, ``? github, jenkins stale``, ``? github, gitlab +1458
    stale`` (a line for a prompt, however many sources)."""
    if all(s.freshness is Freshness.WAITING and not s.error for s in states):
        return f"{fmt.STALE_GLYPH} waiting for first data"
    names = [s.name for s in states]
    shown = ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:2])} +{len(names) - 2}"
    return f"{fmt.STALE_GLYPH} {shown} stale"


def status_line(snapshot: Snapshot, now: datetime, ascii: bool = False) -> str:
    """``✖ RED acme/monolith 14m (Mallory) +1 · ▶ 2 · ✔ 10``: for shell prompts."""
    return fmt.SEPARATOR[ascii].join(text for text, _ in summary_segments(snapshot, now, ascii))


def tmux_line(snapshot: Snapshot, now: datetime, ascii: bool = False) -> str:
    """The same line with tmux colour codes, for ``status-right``."""
    parts = [
        f"{_TMUX_STYLE[kind]}{_tmux_safe(text)}{_TMUX_STYLE['reset']}"
        for text, kind in summary_segments(snapshot, now, ascii)
    ]
    return fmt.SEPARATOR[ascii].join(parts)
