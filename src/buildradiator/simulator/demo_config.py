"""The radiator config that points every source at a running simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from buildradiator.simulator.health import SERVICES
from buildradiator.simulator.providers import load_providers
from buildradiator.simulator.scenario import REPOS, Scenario

# Answers above this count as slow: /health/search takes ~700 ms for a minute of every loop.
WARN_LATENCY_MS = 400


def _q(value: str) -> str:
    # A JSON string is a valid TOML basic string (same quotes and escapes).
    return json.dumps(value)


def demo_config_text(base_url: str, interval: float = 3.0) -> str:
    """A TOML config for ``buildradiator.config.loading.parse_config`` watching the simulator at ``base_url``."""
    base = base_url.rstrip("/")
    repos = ", ".join(_q(name) for name in REPOS)
    parts = [
        f"# buildradiator demo: every source below is the built-in simulator at {base}",
        "",
        "[radiator]",
        'title = "buildradiator demo"',
        f"interval = {float(interval)!r}",
        "",
        "[[sources]]",
        'name = "github"',
        'type = "github"',
        f"api_url = {_q(base + '/github')}",
        f"repos = [{repos}]",
        'branch = "main"',
        "stage_times = true",
        "",
        "[[sources]]",
        'name = "jenkins"',
        'type = "cctray"',
        f"url = {_q(base + '/cctray/cc.xml')}",
    ]
    for service in SERVICES:
        parts += [
            "",
            "[[sources]]",
            f"name = {_q('health-' + service)}",
            'type = "health"',
            f"url = {_q(f'{base}/health/{service}')}",
            f"service = {_q(service)}",
            'environment = "prod"',
            f"warn_latency_ms = {WARN_LATENCY_MS}",
        ]
    parts += [
        "",
        "# What the team is working towards: shown on the main screen and the wall.",
        "[[targets]]",
        'measure = "main_green_share"',
        'pipeline = "acme/monolith"',
        'goal = ">= 95%"',
        "window_days = 7",
        "",
        "[[targets]]",
        'measure = "mttr"',
        'goal = "<= 30m"',
        "window_days = 7",
        "",
        "[[targets]]",
        'measure = "flaky_tests"',
        'goal = "<= 5"',
        "window_days = 7",
        "",
        "[[targets]]",
        'measure = "deploy_drift"',
        'service = "monolith"',
        'goal = "<= 5 commits"',
    ]
    text = "\n".join(parts) + "\n"
    for provider in load_providers(Scenario(datetime.now(UTC))):
        text += "\n" + provider.demo_sources(base).strip() + "\n"
    return text
