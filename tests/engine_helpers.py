"""The engine over scripted sources, shared by the engine's test files: two health sources
(``CONFIG``) whose outcomes are a script (``Scripted``, reached with ``source``), and pipelines
of given statuses. The ``make_engine`` fixture that builds such an engine is in ``conftest.py``."""

from __future__ import annotations

from buildradiator.assemble import build_engine
from buildradiator.engine.engine import Engine
from buildradiator.model import Build, Pipeline, Snapshot, SourceResult, Status
from buildradiator.sources.base import Source
from buildradiator.sources.catalog import parse_config

CONFIG = """
[radiator]
interval = 30

[[sources]]
name = "one"
type = "health"
url = "http://one.example/health"

[[sources]]
name = "two"
type = "health"
url = "http://two.example/health"
"""


def pipeline(source: str, *statuses: Status, running: bool = False) -> Pipeline:
    builds = tuple(
        Build(source=source, pipeline="p", id=str(i), status=s) for i, s in enumerate(statuses)
    )
    flight = (Build(source=source, pipeline="p", id="r", status=Status.RUNNING),) if running else ()
    return Pipeline(source=source, key="p", name=f"{source}-p", recent=builds, in_flight=flight)


class Scripted(Source):  # type: ignore[type-arg]
    """A source whose outcomes are a script: results or SourceErrors, the last one repeating."""

    type = "scripted"

    def __init__(self, config, http) -> None:
        super().__init__(config, http)
        self.script: list[SourceResult | Exception] = [SourceResult()]
        self.calls = 0

    async def poll(self) -> SourceResult:
        self.calls += 1
        outcome = self.script[min(self.calls - 1, len(self.script) - 1)]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def source(eng: Engine, name: str) -> Scripted:
    return eng.slots[name].source  # type: ignore[return-value]


async def poll_once(config_text: str) -> Snapshot:
    """The real engine, as ``build_engine`` makes it, polls every source of ``config_text``
    once over the network (real sockets, the real client)."""
    engine = build_engine(parse_config(config_text))
    try:
        return await engine.poll_all()
    finally:
        await engine.aclose()
