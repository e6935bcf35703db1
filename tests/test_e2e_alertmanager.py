"""End to end: the Alertmanager source and the engine against the simulator's Alertmanager."""

from __future__ import annotations

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.config.loading import Config
from buildradiator.errors import SourceError
from buildradiator.model import Health, ServiceCheck, Snapshot
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.alertmanager.config import AlertmanagerSource
from buildradiator.sources.alertmanager.source import Alertmanager
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient


def only(config: Config, kind: str) -> Config:
    # Only this provider's sources: another provider's trouble must not fail this test.
    return config.model_copy(update={"sources": [s for s in config.sources if s.type == kind]})


def alerts(snapshot: Snapshot) -> dict[str, ServiceCheck]:
    return {c.name: c for c in snapshot.services if c.source == "alertmanager"}


async def test_the_alert_story_reaches_the_snapshot() -> None:
    with Simulator() as sim:
        engine = build_engine(only(parse_config(demo_config_text(sim.base_url)), "alertmanager"))
        try:
            # The payments incident: its critical alert fires and holds the release.
            sim.set_time(245)
            snap = await engine.poll_all()
            assert snap.source_state("alertmanager").error is None  # type: ignore[union-attr]
            found = alerts(snap)
            pay = found["PaymentsHighErrorRate"]
            assert pay.health is Health.DOWN and pay.muted is None
            assert pay.service == "payments" and pay.environment == "prod"
            assert pay.severity == "critical" and pay.detail == "5xx above 1% for 5m"
            # startsAt is the script's 222 s, in milliseconds as Alertmanager writes it.
            started = sim.scenario.at(sim.moment().loop, 222)
            assert pay.since is not None
            assert abs((pay.since - started).total_seconds()) < 0.001
            assert pay.url and "/web/prometheus/graph?g0.expr=" in pay.url
            # Its warning is inhibited by it: shown apart, not firing.
            assert found["PaymentsLatencyHigh"].muted == "inhibited"
            assert "SearchLatencyHigh" not in found
            assert [w.key for w in snap.broken if w.source == "alertmanager"] == [
                "PaymentsHighErrorRate@prod"
            ]

            # Payments resolved; search is slow (act 2).
            sim.set_time(450)
            snap = await engine.poll_all()
            found = alerts(snap)
            assert "PaymentsHighErrorRate" not in found and "PaymentsLatencyHigh" not in found
            search = found["SearchLatencyHigh"]
            assert search.health is Health.WARN and search.service == "search"
            assert search.muted is None
            # Silenced the whole loop: present, muted, never a broken window.
            disk = found["DiskWillFillIn4Hours"]
            assert disk.muted == "silenced" and disk.health is Health.DOWN
            assert disk.service == "checkout"
            watchdog = found["WatchdogMissing"]
            assert watchdog.service is None and watchdog.detail is not None
            assert watchdog.detail.endswith("(no service label)")
            assert not [w for w in snap.broken if w.source == "alertmanager"]
            assert not sim.errors
        finally:
            await engine.aclose()


async def poll_sim(sim: Simulator, **kw: object) -> list[ServiceCheck]:
    config = AlertmanagerSource(
        type="alertmanager", name="am", url=f"{sim.base_url}/alertmanager", **kw
    )
    http = HttpClient(httpx.AsyncClient())
    try:
        return list((await Alertmanager(config, http).poll()).services)
    finally:
        await http.aclose()


async def test_the_simulator_honours_filters_and_muted_flags() -> None:
    with Simulator() as sim:
        sim.set_time(245)
        names = [c.name for c in await poll_sim(sim, matchers=['severity="critical"'])]
        assert names == ["PaymentsHighErrorRate", "DiskWillFillIn4Hours"]
        checks = await poll_sim(sim, matchers=['service=~"pay.*"', "severity!=critical"])
        assert [(c.name, c.muted) for c in checks] == [("PaymentsLatencyHigh", "inhibited")]
        # A missing label matches like an empty one: only the watchdog has no service.
        checks = await poll_sim(sim, matchers=['service=""'])
        assert [c.name for c in checks] == ["WatchdogMissing"]
        checks = await poll_sim(sim, matchers=['instance!~"db-1\\.prod.*"'], muted="hide")
        assert sorted(c.name for c in checks) == ["PaymentsHighErrorRate", "WatchdogMissing"]
        assert sim.requests["/alertmanager/api/v2/alerts"] == 4
        # The server itself leaves muted alerts out when asked (the source would drop them too).
        url = f"{sim.base_url}/alertmanager/api/v2/alerts"
        async with httpx.AsyncClient() as client:
            shown = (await client.get(url, params={"silenced": "false"})).json()
            assert sorted(a["labels"]["alertname"] for a in shown) == [
                "PaymentsHighErrorRate",
                "PaymentsLatencyHigh",
                "WatchdogMissing",
            ]
            shown = (await client.get(url, params={"inhibited": "false", "active": "false"})).json()
            assert [a["labels"]["alertname"] for a in shown] == ["DiskWillFillIn4Hours"]
            assert shown[0]["status"]["silencedBy"] and shown[0]["status"]["state"] == "suppressed"
            bad = await client.get(url, params={"silenced": "maybe"})
            assert bad.status_code == 400 and isinstance(bad.json(), str)
            missing = await client.get(f"{sim.base_url}/alertmanager/api/v1/alerts")
            assert missing.status_code == 404
        assert not sim.errors


async def test_a_matcher_the_server_rejects_is_a_source_error() -> None:
    with Simulator() as sim:
        # Valid for our config check, invalid for the server: an unbalanced regex.
        with pytest.raises(SourceError) as caught:
            await poll_sim(sim, matchers=['team=~"(checkout"'])
        assert str(caught.value).startswith("127.0.0.1:")
        assert 'rejected the matchers team=~"(checkout" (HTTP 400): bad matcher format' in str(
            caught.value
        )
