"""Prometheus Alertmanager's API v2 (api-facts section 9), as the simulator speaks it, under
``/alertmanager``.

``url = http://127.0.0.1:PORT/alertmanager`` works like ``https://alertmanager.example.com`` (the
source adds ``/api/v2``). Served: ``GET /api/v2/alerts`` with ``active``, ``silenced``,
``inhibited``, ``unprocessed`` (booleans, default true; anything else is Alertmanager's 400) and
any number of ``filter`` matchers (``label="v"``, ``!=``, ``=~``, ``!~``; ANDed; a malformed one
is a 400 whose body is a JSON string, as Alertmanager answers). No credentials are checked.

The story (``simulator/prodstory.py``), in script seconds of each loop:

- ``PaymentsHighErrorRate`` (critical, service=payments) fires during ``ALERT_PAYMENTS``
  (222-267), and while it does it inhibits ``PaymentsLatencyHigh`` (warning, service=payments):
  an inhibit rule "critical mutes warning of the same service", the usual Alertmanager setup.
- ``SearchLatencyHigh`` (warning, service=search) fires during ``ALERT_SEARCH`` (442-502).
- ``DiskWillFillIn4Hours`` (critical, service=checkout) fires the whole loop but is silenced
  (``status.state = "suppressed"``, ``silencedBy`` a silence id): shown apart, never counted.
- ``WatchdogMissing`` (warning) has no ``service`` label and fires the whole loop.

Faithful where clients can tell: timestamps with milliseconds and ``Z``, ``endsAt`` a few
minutes ahead (Prometheus resends firing alerts with a fresh ``endsAt``), ``fingerprint`` 16 hex
digits of the label set, ``receivers``, ``status.mutedBy`` (Alertmanager 0.25+), and the
alerts listed in fingerprint order.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any
from urllib.parse import quote

from buildradiator.simulator.answer import Answer, json_answer, text_answer
from buildradiator.simulator.prodstory import ALERT_PAYMENTS, ALERT_SEARCH, within
from buildradiator.simulator.scenario import SCRIPT_SECONDS, Moment, Scenario
from buildradiator.simulator.sourceblock import source_block
from buildradiator.sources.alertmanager.config import MATCHER

PREFIX = "alertmanager"
RESEND = timedelta(minutes=4)
"""How far ahead of the last evaluation Prometheus sets a firing alert's ``endsAt``."""


@dataclass(frozen=True)
class AlertPlan:
    labels: dict[str, str]
    annotations: dict[str, str]
    span: tuple[float, float]
    """Script seconds it fires within."""
    receiver: str
    expr: str
    silenced: bool = False
    inhibited_by: str | None = None
    """The alertname whose firing inhibits this one (same service)."""
    extra: dict[str, Any] = field(default_factory=dict)


PAYMENTS = AlertPlan(
    labels={
        "alertname": "PaymentsHighErrorRate",
        "severity": "critical",
        "service": "payments",
        "env": "prod",
        "team": "payments",
        "job": "payments-api",
    },
    annotations={
        "summary": "5xx above 1% for 5m",
        "description": "3.4% of payments-api requests answered 5xx over the last 5 minutes.",
        "runbook_url": "https://runbooks.acme.example/payments/high-error-rate",
    },
    span=ALERT_PAYMENTS,
    receiver="pagerduty-payments",
    expr='sum(rate(http_requests_total{job="payments-api",code=~"5.."}[5m])) / '
    'sum(rate(http_requests_total{job="payments-api"}[5m])) > 0.01',
)
PAYMENTS_LATENCY = AlertPlan(
    labels={
        "alertname": "PaymentsLatencyHigh",
        "severity": "warning",
        "service": "payments",
        "env": "prod",
        "team": "payments",
        "job": "payments-api",
    },
    annotations={"summary": "p99 latency above 800 ms for 10m"},
    span=ALERT_PAYMENTS,
    receiver="slack-payments",
    expr="histogram_quantile(0.99, sum by (le) (rate("
    'http_request_duration_seconds_bucket{job="payments-api"}[5m]))) > 0.8',
    inhibited_by="PaymentsHighErrorRate",
)
SEARCH = AlertPlan(
    labels={
        "alertname": "SearchLatencyHigh",
        "severity": "warning",
        "service": "search",
        "env": "prod",
        "team": "search",
        "job": "search-api",
    },
    annotations={
        "summary": "p95 latency above 500 ms for 5m",
        "description": "search-api p95 is 710 ms; the index rebuild may be competing for IO.",
    },
    span=ALERT_SEARCH,
    receiver="slack-search",
    expr="histogram_quantile(0.95, sum by (le) (rate("
    'http_request_duration_seconds_bucket{job="search-api"}[5m]))) > 0.5',
)
DISK = AlertPlan(
    labels={
        "alertname": "DiskWillFillIn4Hours",
        "severity": "critical",
        "service": "checkout",
        "env": "prod",
        "instance": "db-1.prod.acme.internal:9100",
        "device": "/dev/nvme0n1p1",
        "mountpoint": "/var/lib/postgresql",
        "job": "node",
    },
    annotations={
        "summary": "Disk /var/lib/postgresql will fill within 4 hours",
        "description": "predict_linear says the volume is full in 3h52m at the current rate.",
    },
    span=(0.0, SCRIPT_SECONDS),
    receiver="pagerduty-platform",
    expr='predict_linear(node_filesystem_avail_bytes{mountpoint="/var/lib/postgresql"}'
    "[6h], 4 * 3600) < 0",
    silenced=True,
)
WATCHDOG = AlertPlan(
    labels={"alertname": "WatchdogMissing", "severity": "warning", "env": "prod"},
    annotations={"summary": "No Watchdog heartbeat from the staging Prometheus for 10m"},
    span=(0.0, SCRIPT_SECONDS),
    receiver="slack-platform",
    expr='absent(up{job="prometheus-staging"} == 1)',
)
PLANS = (PAYMENTS, PAYMENTS_LATENCY, SEARCH, DISK, WATCHDOG)

_BOOL = {"true": True, "false": False}


def fingerprint(labels: dict[str, str]) -> str:
    """16 hex digits that depend on the label set only, like Alertmanager's."""
    text = "\xff".join(f"{k}\xff{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def silence_id(loop: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"buildradiator-alertmanager:silence:{loop}"))


def _iso(moment: datetime) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    return text + f"{moment.microsecond // 1000:03d}Z"


# -- matchers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        # A missing label matches like an empty one, as in Prometheus.
        have = labels.get(self.label, "")
        if self.op in ("=", "!="):
            return (have == self.value) == (self.op == "=")
        # Regex matchers are anchored at both ends.
        found = re.fullmatch(self.value, have) is not None
        return found == (self.op == "=~")


def parse_matcher(text: str) -> Matcher | None:
    """A matcher as the ``filter`` parameter takes it; ``None`` if malformed."""
    match = MATCHER.match(text)
    if match is None:
        return None
    label, op, raw = match.groups()
    value = _unquote(raw[1:-1]) if raw.startswith('"') else raw
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error:
            return None
    return Matcher(label, op, value)


def _unquote(text: str) -> str:
    # Alertmanager's matcher parser undoes only \\, \" and \n; any other backslash stays, so
    # regexes like "db-1\.prod" keep their meaning (JSON unquoting would reject them).
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in '\\"n':
            out.append("\n" if text[i + 1] == "n" else text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


# -- the API ---------------------------------------------------------------------------------------


class AlertmanagerApi:
    prefix = PREFIX

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="alertmanager",
            type="alertmanager",
            url=f"{base_url.rstrip('/')}/{PREFIX}",
            matchers=[],
            environment="prod",
        )

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        if path.rstrip("/") != "/api/v2/alerts":
            # Go's default mux answer, which is what Alertmanager sends for an unknown path.
            return text_answer(404, "404 page not found\n")
        flags: dict[str, bool] = {}
        for name in ("active", "silenced", "inhibited", "unprocessed"):
            raw = (query.get(name) or ["true"])[-1].lower()
            if raw not in _BOOL:
                return json_answer(400, f'{name} in query must be of type boolean: "{raw}"')
            flags[name] = _BOOL[raw]
        matchers = []
        for text in query.get("filter", []):
            matcher = parse_matcher(text)
            if matcher is None:
                return json_answer(400, f"bad matcher format: {text}")
            matchers.append(matcher)
        alerts = [a for a in self.alerts(moment, web) if _wanted(a, flags, matchers)]
        return json_answer(200, alerts)

    def alerts(self, moment: Moment, web: str) -> list[dict[str, Any]]:
        """Every alert Alertmanager holds at ``moment``, in fingerprint order."""
        firing = {p.labels["alertname"]: p for p in PLANS if within(moment.script_t, p.span)}
        out = []
        for plan in firing.values():
            out.append(self._alert(plan, moment, web, firing))
        out.sort(key=lambda a: str(a["fingerprint"]))
        return out

    def _alert(
        self, plan: AlertPlan, moment: Moment, web: str, firing: dict[str, AlertPlan]
    ) -> dict[str, Any]:
        starts = self.scenario.at(moment.loop, plan.span[0])
        # Prometheus evaluates every 15 s; the last update is the last evaluation.
        updated = max(starts, moment.now - timedelta(seconds=moment.t % 15))
        silenced_by = [silence_id(moment.loop)] if plan.silenced else []
        inhibitor = firing.get(plan.inhibited_by) if plan.inhibited_by else None
        inhibited_by = [fingerprint(inhibitor.labels)] if inhibitor else []
        suppressed = bool(silenced_by or inhibited_by)
        return {
            "annotations": dict(plan.annotations),
            "endsAt": _iso(updated + RESEND),
            "fingerprint": fingerprint(plan.labels),
            "receivers": [{"name": plan.receiver}],
            "startsAt": _iso(starts),
            "status": {
                "inhibitedBy": inhibited_by,
                "mutedBy": [],
                "silencedBy": silenced_by,
                "state": "suppressed" if suppressed else "active",
            },
            "updatedAt": _iso(updated),
            "generatorURL": f"{web}/prometheus/graph?g0.expr={quote(plan.expr, safe='')}&g0.tab=1",
            "labels": dict(plan.labels),
        }


def _wanted(alert: dict[str, Any], flags: dict[str, bool], matchers: list[Matcher]) -> bool:
    """Alertmanager's own filter (api/v2): by state flags, then every matcher."""
    status = alert["status"]
    if not flags["active"] and status["state"] == "active":
        return False
    if not flags["unprocessed"] and status["state"] == "unprocessed":
        return False
    if not flags["silenced"] and status["silencedBy"]:
        return False
    if not flags["inhibited"] and status["inhibitedBy"]:
        return False
    return all(m.matches(alert["labels"]) for m in matchers)


def make(scenario: Scenario) -> AlertmanagerApi:
    return AlertmanagerApi(scenario)
