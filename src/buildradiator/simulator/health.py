"""Plain health endpoints (api-facts section 10): one Spring Boot actuator, one IETF
``application/health+json`` service, and one that only says ``OK`` (slowly, at times)."""

from __future__ import annotations

from typing import Any

from buildradiator.simulator.answer import Answer, iso_z, json_answer, text_answer
from buildradiator.simulator.scenario import Moment, Scenario

SERVICES = ("checkout", "payments", "search")
CHECKOUT_VERSION = "4.12.0"
PAYMENTS_RELEASE = "1.8.2-9f3c2ab"


def health_answer(service: str, scenario: Scenario, moment: Moment, slow_seconds: float) -> Answer:
    if service == "checkout":
        return json_answer(200, _checkout(), "application/vnd.spring-boot.actuator.v3+json")
    if service == "payments":
        state = scenario.payments(moment)
        code = 500 if state == "fail" else 200
        return json_answer(code, _payments(state, moment), "application/health+json")
    if service == "search":
        answer = text_answer(200, "OK")
        if scenario.search_is_slow(moment):
            answer.delay = slow_seconds
        return answer
    return text_answer(404, f"no such service: {service}\n")


def _checkout() -> dict[str, Any]:
    return {
        "status": "UP",
        "components": {
            "db": {
                "status": "UP",
                "details": {"database": "PostgreSQL", "validationQuery": "isValid()"},
            },
            "diskSpace": {
                "status": "UP",
                "details": {
                    "total": 107_374_182_400,
                    "free": 61_203_283_968,
                    "threshold": 10_485_760,
                    "path": "/app/.",
                    "exists": True,
                },
            },
            "ping": {"status": "UP"},
            "redis": {"status": "UP", "details": {"version": "7.2.4"}},
        },
        "groups": ["liveness", "readiness"],
        # Actuator itself keeps the version under /actuator/info; many teams add it here too.
        "version": CHECKOUT_VERSION,
    }


def _payments(state: str, moment: Moment) -> dict[str, Any]:
    when = iso_z(moment.now)
    database: dict[str, Any] = {
        "componentId": "pg-primary",
        "componentType": "datastore",
        "observedValue": {"pass": 12, "warn": 850, "fail": None}[state],
        "observedUnit": "ms",
        "status": state,
        "time": when,
    }
    if state == "warn":
        database["output"] = "slow queries: p95 above 500 ms"
    if state == "fail":
        database["output"] = "connection refused: pg-primary:5432"
    return {
        "status": state,
        "version": "1",
        "releaseId": PAYMENTS_RELEASE,
        "serviceId": "payments-api",
        "description": "payments API",
        "checks": {
            "postgres:responseTime": [database],
            "stripe:responseTime": [
                {
                    "componentId": "stripe",
                    "componentType": "component",
                    "observedValue": 143,
                    "observedUnit": "ms",
                    "status": "pass",
                    "time": when,
                }
            ],
            "uptime": [
                {
                    "componentType": "system",
                    "observedValue": 1_209_600 + int(moment.t),
                    "observedUnit": "s",
                    "status": "pass",
                    "time": when,
                }
            ],
        },
    }
