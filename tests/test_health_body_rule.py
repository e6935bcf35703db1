"""The health check's body rule: a JSON field and value, or a substring, must hold for "up"."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from buildradiator.clock import FakeClock
from buildradiator.model import Health
from health_helpers import ACTUATOR_UP, answer, check_of, config


async def test_field_rule_holds(clock: FakeClock) -> None:
    check = await check_of(answer(200, ACTUATOR_UP), clock, body_field="components.db.status",
                           body_value="up")  # fmt: skip
    assert check.health is Health.UP, check.detail


async def test_200_with_a_down_field_is_down_and_says_which(clock: FakeClock) -> None:
    body = {"status": "UP", "database": {"state": "DOWN"}}
    check = await check_of(answer(200, body), clock, body_field="database.state", body_value="ok")
    assert check.health is Health.DOWN
    assert check.http_status == 200
    assert check.detail == "database.state is 'DOWN' (expected 'ok')"


async def test_missing_field_is_down_in_words(clock: FakeClock) -> None:
    check = await check_of(answer(200, {"status": "UP"}), clock, body_field="ready",
                           body_value="true")  # fmt: skip
    assert check.health is Health.DOWN
    assert check.detail == "body has no 'ready'"


async def test_non_string_field_compares_as_json_text(clock: FakeClock) -> None:
    up = await check_of(answer(200, {"ready": True}), clock, body_field="ready", body_value="true")
    down = await check_of(answer(200, {"ready": False}), clock, body_field="ready",
                          body_value="true")  # fmt: skip
    assert up.health is Health.UP and down.health is Health.DOWN


async def test_html_body_breaks_a_field_rule(clock: FakeClock) -> None:
    handler = answer(200, text="<html><body>Sign in</body></html>", content_type="text/html")
    check = await check_of(handler, clock, body_field="status", body_value="UP")
    assert check.health is Health.DOWN
    assert check.detail is not None and "not JSON" in check.detail


async def test_substring_rule(clock: FakeClock) -> None:
    good = answer(200, text="db=ok cache=ok", content_type="text/plain")
    bad = answer(200, text="db=fail cache=ok", content_type="text/plain")
    assert (await check_of(good, clock, body_contains="db=ok")).health is Health.UP
    down = await check_of(bad, clock, body_contains="db=ok")
    assert down.health is Health.DOWN and down.detail == "body lacks 'db=ok'"


async def test_rule_adds_to_a_503_without_hiding_the_code(clock: FakeClock) -> None:
    check = await check_of(answer(503, {"status": "DOWN"}), clock, body_contains="alive")
    assert check.health is Health.DOWN
    assert check.detail is not None and check.detail.startswith("HTTP 503")


async def test_untrusted_field_value_is_cleaned(clock: FakeClock) -> None:
    body = {"state": "\x1b[31m[bold]DOWN[/bold]\x1b]8;;http://x\x07"}
    check = await check_of(answer(200, body), clock, body_field="state", body_value="UP")
    assert check.detail is not None
    assert "\x1b" not in check.detail and "[bold]DOWN[/bold]" in check.detail


def test_field_and_value_come_together() -> None:
    with pytest.raises(ValidationError, match="body_field and body_value together"):
        config(body_field="status")
