"""The demo's made-up history: under the real keys, older than what the sources returned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from buildradiator.history import History
from buildradiator.model import Build, Pipeline, Status
from buildradiator.simulator.backfill import backfill

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_backfill_gives_trends_retries_and_flakes_under_the_real_keys() -> None:
    oldest = NOW - timedelta(hours=2)
    recent = (
        Build(
            source="github",
            pipeline="acme/x:1",
            id="9",
            status=Status.PASSED,
            started_at=oldest - timedelta(minutes=6),
            finished_at=oldest,
        ),
    )
    pipelines = [
        Pipeline(source="github", key="acme/x:1", name="acme/x", recent=recent),
        Pipeline(source="jenkins-ci", key="monolith", name="monolith"),
    ]
    history = History.memory()
    written = backfill(history, pipelines, now=NOW, days=21)
    assert written > 2 * 21 * 24 / 5  # at least one build every 5 hours per pipeline
    durations = history.durations("github", "acme/x:1")
    assert durations is not None and 0.7 * 360 <= durations.p50 <= 1.4 * 360
    share = history.retry_share("github", "acme/x:1", 30)
    assert share.green > 50 and 0 < share.retried_to_green < share.green
    trend = history.trends("github", "acme/x:1", 30)
    assert sum(1 for v in trend.green_share if v is not None) >= 15
    assert history.flaky_tests(30, 10)
    # Nothing is newer than what the source itself returned.
    assert history.recent_strip("github", "acme/x:1", 1)
    history.record_builds(recent)
    assert history.red_streak("github", "acme/x:1") is None
    history.close()


def test_backfill_is_deterministic() -> None:
    pipelines = [Pipeline(source="s", key="k", name="k")]
    a, b = History.memory(), History.memory()
    assert backfill(a, pipelines, now=NOW) == backfill(b, pipelines, now=NOW)
    assert a.recent_strip("s", "k", 30) == b.recent_strip("s", "k", 30)
    a.close()
    b.close()
