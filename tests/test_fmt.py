"""fmt: ages, durations, gauges and the glyph tables (and their ASCII twins)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from buildradiator import fmt
from buildradiator.model import Health, SourceState, Status

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (-5, "0s"),
        (0, "0s"),
        (4.9, "4s"),
        (59, "59s"),
        (60, "1m"),
        (14 * 60 + 59, "14m"),
        (3600, "1h"),
        (3 * 3600 + 12 * 60 + 30, "3h 12m"),
        (24 * 3600, "1d"),
        (2 * 86400 + 5 * 3600 + 59, "2d 5h"),
    ],
)
def test_format_age(seconds: float | None, text: str) -> None:
    assert fmt.format_age(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (45, "45s"), (372, "6m12s"), (600, "10m00s"), (3720, "1h02m"), (-1, "0s")],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert fmt.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00:00"), (872, "0:14:32"), (3 * 3600 + 5, "3:00:05"), (30 * 3600, "30:00:00")],
)
def test_format_clock_age(seconds: float, text: str) -> None:
    assert fmt.format_clock_age(seconds) == text


def test_clock_time_converts_to_the_given_zone() -> None:
    plus2 = timezone(timedelta(hours=2))
    assert fmt.clock_time(NOW, UTC) == "12:00"
    assert fmt.clock_time(NOW, plus2) == "14:00"
    # Another offset on the way in is the same instant.
    assert fmt.clock_time(NOW.astimezone(timezone(timedelta(hours=-7))), UTC) == "12:00"


def test_seconds_between_never_negative_and_none_passes_through() -> None:
    assert fmt.seconds_between(NOW + timedelta(seconds=30), NOW) == 0.0
    assert fmt.seconds_between(NOW - timedelta(seconds=30), NOW) == 30.0
    assert fmt.seconds_between(None, NOW) is None


def test_status_and_health_labels_are_glyph_and_word() -> None:
    assert fmt.status_label(Status.PASSED) == "✔ passed"
    assert fmt.status_label(Status.FAILED) == "✖ failed"
    assert fmt.status_label(Status.RUNNING) == "▶ running"
    assert fmt.status_label(Status.QUEUED) == "◌ queued"
    assert fmt.status_label(Status.CANCELED) == "⊘ canceled"
    assert fmt.status_label(Status.UNKNOWN) == "? unknown"
    assert fmt.health_label(Health.WARN) == "⚠ warn"
    assert fmt.health_label(Health.DOWN) == "✖ down"


def test_ascii_twins_cover_every_status_and_are_ascii() -> None:
    assert set(fmt.STATUS_GLYPHS_ASCII) == set(Status) == set(fmt.STATUS_GLYPHS)
    assert set(fmt.HEALTH_GLYPHS_ASCII) == set(Health) == set(fmt.HEALTH_GLYPHS)
    for table in (fmt.STATUS_GLYPHS_ASCII, fmt.HEALTH_GLYPHS_ASCII):
        assert all(glyph.isascii() and len(glyph) == 1 for glyph in table.values())
    assert fmt.status_label(Status.PASSED, ascii=True) == "+ passed"
    assert fmt.status_label(Status.FAILED, ascii=True) == "x failed"
    assert fmt.status_label(Status.RUNNING, ascii=True) == "> running"
    assert fmt.status_label(Status.QUEUED, ascii=True) == ". queued"
    assert fmt.status_label(Status.CANCELED, ascii=True) == "- canceled"
    assert fmt.health_label(Health.WARN, ascii=True) == "! warn"
    # Distinct glyphs: a status is never told apart by colour alone.
    assert len(set(fmt.STATUS_GLYPHS_ASCII.values())) == len(Status)


def test_progress_bar_and_percent() -> None:
    assert fmt.progress_bar(0.62, 10) == "▇▇▇▇▇▇▁▁▁▁"
    assert fmt.progress_bar(0.62, 10, ascii=True) == "######----"
    assert fmt.progress_bar(1.7, 4, ascii=True) == "####"  # overdue: full, never longer
    assert fmt.progress_bar(-1, 4, ascii=True) == "----"
    assert fmt.percent(0.62) == "62%"
    assert fmt.percent(1.12) == "100%"  # never past 100: an overrun says overdue instead
    assert fmt.overdue(12 * 60 + 5) == "+12m over"
    assert fmt.overdue(0.2) == "+1s over"
    assert fmt.progress_fraction(300, 600) == 0.5
    assert fmt.progress_fraction(300, None) is None
    assert fmt.progress_fraction(300, 0) is None


def test_short_sha_and_truncate() -> None:
    assert fmt.short_sha("c0ffee0123456789") == "c0ffee0"
    assert fmt.short_sha("v1.2.3-rc") == "v1.2.3-rc"  # not a hash: kept whole
    assert fmt.short_sha(None) == ""
    assert fmt.truncate("acme/monolith", 8) == "acme/mo…"
    assert fmt.truncate("acme/monolith", 8, ascii=True) == "acme/..."
    assert fmt.truncate("short", 8) == "short"


def test_words() -> None:
    assert fmt.streak_text(1) == ""
    assert fmt.streak_text(3) == "3 builds in a row"
    assert fmt.flaky_text(2, 14) == "2 of 14 green builds needed a retry"
    assert fmt.flaky_text(1, 1) == "1 of 1 green build needed a retry"


def test_source_freshness() -> None:
    ok = SourceState(name="gh", type="github", last_success=NOW - timedelta(seconds=4))
    failing = SourceState(
        name="cctray",
        type="cctray",
        last_success=NOW - timedelta(minutes=5),
        last_attempt=NOW - timedelta(seconds=31),
        error="connection refused",
        stale=True,
    )
    fresh_start = SourceState(name="jenkins", type="jenkins")
    assert fmt.source_freshness(ok, NOW) == "gh ✔"  # fresh: no age to tick
    assert fmt.source_freshness(failing, NOW) == "cctray ✖ connection refused 31s ago (stale)"
    assert (
        fmt.source_freshness(failing, NOW, ascii=True)
        == "cctray x connection refused 31s ago (stale)"
    )
    assert fmt.source_freshness(fresh_start, NOW) == "jenkins ◌ waiting"
    assert fmt.source_rank(failing) > fmt.source_rank(ok)


def test_fmt_does_not_import_textual_or_rich() -> None:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(fmt))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name.split(".")[0] in {"textual", "rich"}}
