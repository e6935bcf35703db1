"""The health check under test, shared by its test files: a check of ``config(**kw)`` against
one canned ``answer`` (``check_of``), and a Spring Boot Actuator body that is all up."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from buildradiator.clock import FakeClock
from buildradiator.model import ServiceCheck, SourceResult
from buildradiator.sources.health.config import HealthSource
from buildradiator.sources.health.source import HealthCheck
from buildradiator.sources.http import HttpClient

Handler = Callable[[httpx.Request], httpx.Response]
URL = "https://api.example.com/actuator/health"

ACTUATOR_UP = {
    "status": "UP",
    "components": {
        "db": {
            "status": "UP",
            "details": {"database": "PostgreSQL", "validationQuery": "isValid()"},
        },
        "diskSpace": {"status": "UP", "details": {"total": 499963174912, "free": 91300069376}},
        "ping": {"status": "UP"},
    },
    "groups": ["liveness", "readiness"],
}


def config(**kw: Any) -> HealthSource:
    kw.setdefault("service", "orders-api")
    return HealthSource(type="health", name="orders-health", url=kw.pop("url", URL), **kw)


@asynccontextmanager
async def http_for(handler: Handler, clock: FakeClock) -> AsyncIterator[HttpClient]:
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock)
    try:
        yield http
    finally:
        await http.aclose()


def answer(
    status: int,
    body: Any = None,
    *,
    text: str | None = None,
    content_type: str = "application/json",
    delay: float = 0.0,
    clock: FakeClock | None = None,
) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if delay and clock is not None:
            clock.advance(delay)  # the HttpClient times the exchange with clock.monotonic()
        content = text.encode() if text is not None else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    return handler


async def check_of(handler: Handler, clock: FakeClock, **kw: Any) -> ServiceCheck:
    async with http_for(handler, clock) as http:
        result = await HealthCheck(config(**kw), http).poll()
    assert isinstance(result, SourceResult)
    assert result.pipelines == ()
    (check,) = result.services
    return check
