"""Further simulated providers, one module each (``sim_<name>.py``) with a ``make`` function.

Which modules there are comes from the providers' declarations (``Provider.simulator``, listed by
``sources.catalog``). The server asks each for the paths under its prefix (``/gitlab/...``), and
the demo config asks each for its ``[[sources]]`` blocks, so adding a provider touches no shared
file. A provider computes everything from the ``Moment`` (loop number, seconds into the loop,
wall time) and the ``Scenario`` (``scenario.at(loop, script_seconds)`` turns script time into
wall time), so its story is deterministic like the rest of the demo.
"""

from __future__ import annotations

import importlib
from email.message import Message
from typing import Protocol

from buildradiator.simulator.answer import Answer
from buildradiator.simulator.scenario import Moment, Scenario
from buildradiator.sources.catalog import PROVIDERS

NAMES = tuple(p.simulator for p in PROVIDERS if p.simulator)
"""The simulator modules, in the order the providers are declared."""


class SimProvider(Protocol):
    prefix: str
    """First path segment it answers, e.g. ``gitlab`` for ``/gitlab/api/v4/...``."""

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        """The answer to ``GET /{prefix}{path}``; ``web`` is the base URL for browser links."""
        ...

    def demo_sources(self, base_url: str) -> str:
        """TOML ``[[sources]]`` blocks that watch this provider at ``base_url``, each written by
        ``sourceblock.source_block`` from its fields."""
        ...


def load_providers(scenario: Scenario) -> list[SimProvider]:
    """Every simulated provider, in ``NAMES`` order."""
    return [
        importlib.import_module(f"buildradiator.simulator.{name}").make(scenario) for name in NAMES
    ]
