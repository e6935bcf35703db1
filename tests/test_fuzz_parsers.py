"""Property: every source's ``poll`` returns data or raises its ``SourceError``, nothing else.

Each source is fed (through ``httpx.MockTransport``) either arbitrary answers (any JSON, any
bytes, any status) or near-valid ones: the real answer for that request -- from the simulator, or
the recorded payloads in ``tests/payloads/`` -- with a few values replaced by values of the wrong
type, keys deleted, or the body cut short. ``poll`` is called directly, not ``guarded_poll``: the
engine's safety net must never be what keeps a parser from crashing. Whatever comes back must
also be safe to show: no control character in any text of the result.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from buildradiator.clock import FakeClock
from buildradiator.errors import SourceError
from buildradiator.model import SourceResult
from buildradiator.simulator import Simulator
from buildradiator.sources.catalog import make_source
from buildradiator.sources.http import HttpClient
from sim_helpers import SOURCE_TYPES, demo_source, sim_handler

PAYLOADS = Path(__file__).parent / "payloads"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
CONTROL_FREE_FIELDS = {"message", "author", "branch", "name", "stage", "detail", "version",
                       "commit", "provider_status", "environment", "classname"}  # fmt: skip

# Recorded answers of real servers, used instead of the simulator's for the matching requests.
FIXTURES: dict[str, list[tuple[str, str]]] = {
    "github": [("/jobs", "github/jobs.json"), ("/actions/runs", "github/runs.json")],
    "buildkite": [("/builds", "buildkite/builds.json"), ("/pipelines", "buildkite/pipelines.json")],
    "buildbot": [
        ("/builders", "buildbot/builders.json"),
        ("/buildrequests", "buildbot/buildrequests.json"),
        ("/changes", "buildbot/changes.json"),
        ("/builds", "buildbot/builds_linux.json"),
    ],
    "jenkins": [("/api/json", "jenkins/job.json")],
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["\x1b]52;c;aGk=\x07", "[red]x[/]", "2026-02-30T25:61:00Z", "", "-1"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths_in(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    found = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths_in(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:6]):  # the first few entries are enough to reach
            found += paths_in(value, (*prefix, i))
    return found


def mutate_json(doc: Any, draw: Any) -> Any:
    for _ in range(draw(st.integers(1, 3))):
        paths = paths_in(doc)
        if not paths:
            return draw(json_values)
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return doc


def mutate_bytes(body: bytes, draw: Any) -> bytes:
    """Text-level damage for XML (and JSON as text): cut, splice, or swap attribute values."""
    how = draw(st.sampled_from(["cut", "splice", "attrs"]))
    if how == "cut":
        return body[: draw(st.integers(0, len(body)))]
    if how == "splice":
        at = draw(st.integers(0, len(body)))
        junk = draw(
            st.binary(max_size=20)
            | st.sampled_from([b"<!DOCTYPE x>", b"&bogus;", b"\xff\xfe", b"]]>"])
        )
        return body[:at] + junk + body[at:]
    value = draw(st.text(max_size=20)).encode("utf-8", "surrogatepass")
    return re.sub(rb'="[^"]*"', lambda m: b'="' + value.replace(b'"', b"") + b'"', body, count=3)


def fixture_for(kind: str, path: str) -> bytes | None:
    for ending, name in FIXTURES.get(kind, []):
        if path.endswith(ending):
            return (PAYLOADS / name).read_bytes()
    return None


def fuzz_handler(kind: str, sim: Simulator, draw: Any, near_valid: bool) -> Any:
    real = sim_handler(sim)

    def handle(request: httpx.Request) -> httpx.Response:
        if not near_valid:
            status = draw(st.sampled_from([200, 200, 200, 201, 204, 301, 304, 400, 418, 451, 599]))
            body = draw(
                st.binary(max_size=200)
                | json_values.map(lambda v: json.dumps(v).encode())
                | st.just(b"<Projects><Project/></Projects>")
            )
            return httpx.Response(status, content=body)
        base = real(request)
        content = base.content
        recorded = fixture_for(kind, request.url.path)
        if recorded is not None and draw(st.booleans()):
            content = recorded
        if not draw(st.booleans()):
            return httpx.Response(base.status_code, headers=base.headers, content=content)
        try:
            doc = json.loads(content)
        except ValueError:
            return httpx.Response(base.status_code, content=mutate_bytes(content, draw))
        if draw(st.integers(0, 4)) == 0:
            return httpx.Response(base.status_code, content=mutate_bytes(content, draw))
        return httpx.Response(base.status_code, content=json.dumps(mutate_json(doc, draw)).encode())

    return handle


def assert_safe(result: SourceResult) -> None:
    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in CONTROL_FREE_FIELDS:
            assert not CONTROL.search(value), (key, value)

    walk(result.model_dump())


def run_once(kind: str, draw: Any, near_valid: bool) -> None:
    sim = Simulator()
    sim.set_time(draw(st.sampled_from([30.0, 100.0, 170.0, 250.0])))
    config = demo_source(kind, "http://fuzz.test", kind, timeout=1.0, token=SecretStr("fz-token-1"))

    async def poll() -> SourceResult | SourceError:
        http = HttpClient(
            httpx.AsyncClient(
                transport=httpx.MockTransport(fuzz_handler(kind, sim, draw, near_valid))
            ),
            clock=FakeClock(),
        )
        source = make_source(config, http)
        try:
            return await source.poll()
        except SourceError as exc:
            return exc
        finally:
            await http.aclose()

    outcome = asyncio.run(poll())  # anything but data or a SourceError escapes and fails
    if isinstance(outcome, SourceError):
        assert outcome.message and not CONTROL.search(outcome.message), repr(outcome.message)
        assert "fz-token-1" not in outcome.message
    else:
        assert isinstance(outcome, SourceResult)
        assert_safe(outcome)


@pytest.mark.parametrize("kind", SOURCE_TYPES)
@FUZZ
@given(data=st.data())
def test_near_valid_answers_give_data_or_a_source_error(kind: str, data: st.DataObject) -> None:
    run_once(kind, data.draw, near_valid=True)


@pytest.mark.parametrize("kind", SOURCE_TYPES)
@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_arbitrary_answers_give_data_or_a_source_error(kind: str, data: st.DataObject) -> None:
    run_once(kind, data.draw, near_valid=False)
