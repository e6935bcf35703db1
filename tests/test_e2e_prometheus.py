"""End to end: the Prometheus query source and the engine against the simulator over loopback."""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.config.loading import Config
from buildradiator.model import Health, ServiceCheck, Snapshot
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.simulator.sim_prometheus import go_float, parse_problem, result_labels
from buildradiator.sources.catalog import parse_config


def only(config: Config, kind: str) -> Config:
    # Only this provider's sources: another provider's trouble must not fail this test.
    return config.model_copy(update={"sources": [s for s in config.sources if s.type == kind]})


def check(snapshot: Snapshot, source: str) -> ServiceCheck:
    matches = [s for s in snapshot.services if s.source == source]
    assert len(matches) == 1, snapshot.services
    return matches[0]


async def test_the_payments_error_rate_story_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(only(parse_config(demo_config_text(sim.base_url)), "prometheus"))
        try:
            # Before the deploy goes bad: 0.2 % of payments' answers are 5xx.
            sim.set_time(50)
            snap = await engine.poll_all()
            assert snap.source_state("prometheus-payments").error is None  # type: ignore[union-attr]
            up = check(snap, "prometheus-payments")
            assert (up.health, up.value, up.detail) == (Health.UP, 0.002, "0.002")
            assert (up.kind, up.name, up.service, up.environment) == (
                "query",
                "5xx share",
                "payments",
                "prod",
            )
            assert up.url is not None and up.url.startswith(sim.base_url + "/prometheus/graph?")

            # The new revision answers 500s: above down_above.
            sim.set_time(245)
            snap = await engine.poll_all()
            down = check(snap, "prometheus-payments")
            assert down.health is Health.DOWN
            assert down.value == 0.034
            assert down.detail == "0.034 (> 0.01)"
            assert [w.name for w in snap.broken if w.kind == "service"] == ["payments"]

            # Recovering while the fix rolls out: above warn_above only.
            sim.set_time(268)
            snap = await engine.poll_all()
            warn = check(snap, "prometheus-payments")
            assert (warn.health, warn.value, warn.detail) == (Health.WARN, 0.007, "0.007 (> 0.005)")

            # Back to normal.
            sim.set_time(277)
            snap = await engine.poll_all()
            assert check(snap, "prometheus-payments").health is Health.UP
            assert not [w for w in snap.broken if w.source == "prometheus-payments"]
            assert not sim.errors
        finally:
            await engine.aclose()


EXTRA = """
[[sources]]
name = "prom-search-up"
type = "prometheus"
url = "{base}/prometheus"
query = 'up{{job="search"}}'
down_below = 1
service = "search"

[[sources]]
name = "prom-nothing"
type = "prometheus"
url = "{base}/prometheus"
query = 'rate(nonexistent_metric_total[5m])'
warn_above = 1

[[sources]]
name = "prom-typo"
type = "prometheus"
url = "{base}/prometheus"
query = 'sum(rate(http_requests_total[5m])'
down_above = 1
"""


async def test_other_queries_against_the_simulator() -> None:
    with Simulator() as sim:
        text = demo_config_text(sim.base_url) + EXTRA.format(base=sim.base_url)
        engine = build_engine(only(parse_config(text), "prometheus"))
        try:
            sim.set_time(130)
            snap = await engine.poll_all()
            search = check(snap, "prom-search-up")
            assert (search.health, search.value, search.detail) == (Health.UP, 1.0, "1")
            nothing = check(snap, "prom-nothing")
            assert nothing.health is Health.UNKNOWN
            assert nothing.detail == "no series (no data)"
            # A typo in the query is the source's error, in the server's words, not a service down.
            typo = snap.source_state("prom-typo")
            assert typo is not None and typo.error is not None
            assert typo.error.startswith("query rejected (bad_data, HTTP 400): ")
            assert "unclosed left parenthesis" in typo.error
            assert not [s for s in snap.services if s.source == "prom-typo"]
            assert not sim.errors
        finally:
            await engine.aclose()


def test_the_simulated_parser_refuses_what_prometheus_refuses() -> None:
    assert parse_problem("sum(rate(x[5m]))") is None
    assert parse_problem('up{job="a)b"}') is None  # brackets inside strings do not count
    assert parse_problem("sum(rate(x[5m])") == "1:16: parse error: unclosed left parenthesis"
    assert parse_problem("up)") == "1:3: parse error: unexpected right parenthesis ')'"
    assert parse_problem('up{job="a}') == "1:8: parse error: unterminated quoted string"
    assert parse_problem("  ") == "1:1: parse error: no expression found in input"
    assert parse_problem("sum(\n  up]") == "2:5: parse error: unexpected right bracket ']'"


def test_the_simulator_keeps_labels_like_promql() -> None:
    labels = {"job": "payments", "service": "payments", "instance": "a:1"}
    assert result_labels("sum(rate(x[5m]))", labels) == {}
    assert result_labels("sum by (job) (rate(x[5m]))", labels) == {"job": "payments"}
    assert result_labels("sum without (instance) (rate(x[5m]))", labels) == {
        "job": "payments",
        "service": "payments",
    }
    assert result_labels("rate(x[5m])", labels) == labels
    assert [go_float(v) for v in (0.034, 1.0, 1e-05, float("nan"), float("-inf"))] == [
        "0.034",
        "1",
        "0.00001",
        "NaN",
        "-Inf",
    ]
