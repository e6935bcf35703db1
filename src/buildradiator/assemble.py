"""The radiator's engine, assembled: the engine (``engine``) handed its deriver (``rules.derive``),
its recorder (``history.facts``) and the cache writer (``export.cache``). The one place that
knows all four, so that none of them knows another upwards.

Its place in the layer order: above ``export`` (it imports engine, rules, history and export),
below ``serve``, ``ui`` and ``cli``, which call it.
"""

from __future__ import annotations

import random
from datetime import datetime, tzinfo
from pathlib import Path

from buildradiator.clock import Clock
from buildradiator.config.loading import Config
from buildradiator.engine.engine import Engine
from buildradiator.export.cache import CacheWriter
from buildradiator.history import History
from buildradiator.history.delivery_recorder import DeliveryRecorder
from buildradiator.history.facts import HistoryFacts
from buildradiator.rules.derive import Derivation
from buildradiator.sources.http import HttpClient


def local_zone() -> tzinfo | None:
    return datetime.now().astimezone().tzinfo


def build_engine(
    config: Config,
    *,
    http: HttpClient | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    history: History | None = None,
    cache_path: Path | None = None,
) -> Engine:
    """An engine for ``config`` whose snapshots carry every rule's verdict; with ``history``,
    every finished build is recorded there and its facts (red since, ETAs, trends, flaky tests)
    come from it; with ``cache_path``, each published snapshot (and, while nothing changes, the
    current one every ``CACHE_EVERY`` seconds) is written there for ``status --format`` and a
    quick start."""
    engine = Engine(
        config,
        http=http,
        clock=clock,
        rng=rng,
        deriver=Derivation(config),
        # The busiest hours on main read in this machine's zone, as ``report`` prints them.
        recorder=HistoryFacts(history, tz=local_zone()) if history is not None else None,
    )
    if history is not None:
        # Deploys, service health, gate holds and main's queue, for the delivery measures
        # (``buildradiator report``): written on a worker thread, never on the loop.
        engine.subscribe(DeliveryRecorder(history))
    if cache_path is not None:
        writer = CacheWriter(cache_path)
        engine.subscribe(writer, every=writer.every)
    return engine
