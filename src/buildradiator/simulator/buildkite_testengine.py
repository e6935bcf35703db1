"""The simulated Buildkite's Test Engine: two suites and their flaky tests (see ``sim_buildkite``).

``GET /v2/analytics/organizations/acme/suites/{suite}/tests`` lists a suite's tests in the shape
of the Tests API (``id, url, web_url, scope, name, location, file_name``, plus ``labels``) and
honours ``label=flaky``; the deprecated ``.../flaky-tests`` lists the flaky ones with their counts
(``instances``, ``latest_occurrence_at``, ``most_recent_instance_at``, ``last_resolved_at``).

The story: Payments' ``Payouts::Batcher`` test flakes once a loop, in the integration job that
Priya's Stripe build retried (one more at script second 315); a Stripe webhook test whose name
carries markup and terminal escapes flakes every other loop; Web Frontend's asset-path test
flakes once a loop when Priya's fix goes green (393). Payments also has a test that is not flaky,
which only an answer without ``label=flaky`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from buildradiator.simulator.scenario import Moment, Scenario

SUITES = {"payments-api-rspec": "payments-api", "web-frontend-jest": "web-frontend"}
"""Suite slug -> the pipeline whose builds upload to it (the demo config's ``test_suites``)."""


@dataclass(frozen=True)
class SuiteTest:
    suite: str
    index: int
    scope: str
    name: str
    location: str
    flakes_at: float | None
    """Script second of each loop at which it flakes once more; ``None``: never flaky."""
    every: int = 1
    """It flakes in one loop out of ``every``."""
    base: int = 0


TESTS = (
    SuiteTest(
        "payments-api-rspec",
        0,
        "Payouts::Batcher#flush",
        "flushes when the batch window closes",
        "./spec/payouts/batcher_spec.rb:88",
        315,
        base=2,
    ),
    SuiteTest(
        "payments-api-rspec",
        1,
        "Stripe::Webhook [bold red]verify[/]",
        'rejects <script>alert("x")</script> \x1b[31msignatures\x1b[0m\x1b]0;pwned\x07',
        "./spec/stripe/webhook_spec.rb:12",
        315,
        every=2,
        base=1,
    ),
    SuiteTest(
        "payments-api-rspec",
        2,
        "Refunds::Ledger",
        "balances to zero",
        "./spec/refunds/ledger_spec.rb:5",
        None,
    ),
    SuiteTest(
        "web-frontend-jest",
        0,
        "AssetPaths",
        "resolves /static in the Vite build",
        "src/assets/paths.test.ts:31",
        393,
        base=1,
    ),
)


def _flakes(test: SuiteTest, loop: int, s: float) -> tuple[int, int]:
    """(times flaked up to now, the loop of the latest flake) at script second ``s`` of ``loop``;
    a loop before 0 stands for the history before the demo began."""
    assert test.flakes_at is not None
    count = loop // test.every + 1  # the loops 0..loop in which it flakes
    last = loop - loop % test.every
    if last == loop and s < test.flakes_at:
        count, last = count - 1, last - test.every  # not yet in this loop
    return test.base + count, last


def suite_tests(
    suite: str, moment: Moment, scenario: Scenario, api: str, web: str, *, legacy: bool
) -> list[dict[str, Any]]:
    """The suite's tests at ``moment``: the Tests API shape, or the legacy flaky-tests one."""
    out: list[dict[str, Any]] = []
    for test in (t for t in TESTS if t.suite == suite):
        tid = f"01867216-{list(SUITES).index(suite):04x}-7fde-a55a-{test.index:012x}"
        path = f"organizations/acme/analytics/suites/{suite}/tests/{tid}"
        item: dict[str, Any] = {
            "id": tid,
            "web_url": f"{web}/buildkite/{path}",
            "scope": test.scope,
            "name": test.name,
            "location": test.location,
            "file_name": test.location.rsplit(":", 1)[0],
        }
        if test.flakes_at is None:
            if legacy:
                continue
            out.append({**item, "url": f"{api}/v2/analytics/{path}", "labels": []})
            continue
        times, last = _flakes(test, moment.loop, moment.script_t)
        if not legacy:
            out.append({**item, "url": f"{api}/v2/analytics/{path}", "labels": ["flaky"]})
            continue
        when: datetime = scenario.at(last, test.flakes_at)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
        out.append(
            {
                **item,
                "instances": times,
                "latest_occurrence_at": stamp,
                "most_recent_instance_at": stamp,
                "last_resolved_at": None,
                "ownership_team_ids": [],
            }
        )
    return out
