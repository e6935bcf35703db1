"""What ``serve`` answers, rendered once per snapshot (``Board``): the JSON document, the CCTray
feed and their strong ETags, and the ``/healthz`` words, so a request costs a dict lookup.

The board also knows when the engine has stopped (``Board.stopped``): from then on it never
passes the last snapshot off as current. ``/healthz`` says "engine stopped", the JSON keeps its
last document but says ``"overall": "unknown"`` and ``"engine": {"running": false, "error":
...}`` (a key added to the contract of ``status --json``: keys are only ever added), and the
feeds that cannot say "unknown" (CCTray, Prometheus) refuse with 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime

from buildradiator.clock import Clock
from buildradiator.export import cctray as export_cctray
from buildradiator.export import metrics as export_metrics
from buildradiator.export.document import to_json
from buildradiator.model import Snapshot
from buildradiator.text import clean_text
from buildradiator.urls import redact

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
ERROR_TEXT = 300
"""Longest error text in the stopped document."""
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


@dataclass(frozen=True)
class Body:
    data: bytes
    etag: str
    content_type: str


def body(data: bytes, content_type: str) -> Body:
    # A strong ETag: a digest of the exact bytes, so equal bodies always match.
    return Body(data, f'"{hashlib.blake2b(data, digest_size=16).hexdigest()}"', content_type)


@dataclass(frozen=True)
class Published:
    snapshot: Snapshot
    json: Body
    cc: Body
    healthy: bool
    health: bytes


def health_of(snapshot: Snapshot) -> tuple[bool, str]:
    """Healthy while every source has answered and none is failing or stale. The words name
    sources only: ``/healthz`` answers without a token, so no error text (hosts, URLs) goes out."""
    failing = [s.name for s in snapshot.sources if s.error]
    stale = [s.name for s in snapshot.sources if s.stale and not s.error]
    # Not last_attempt: it is set when a poll starts, and the first may still be under way.
    waiting = [s.name for s in snapshot.sources if not s.error and s.last_success is None]
    if not (failing or stale or waiting):
        return True, "ok\n"
    lines = [f"not fresh: {len(failing) + len(stale) + len(waiting)} of "
             f"{len(snapshot.sources)} sources"]  # fmt: skip
    if failing:
        lines.append("failing: " + ", ".join(failing))
    if stale:
        lines.append("stale: " + ", ".join(stale))
    if waiting:
        lines.append("not polled yet: " + ", ".join(waiting))
    return False, "\n".join(lines) + "\n"


def error_text(exc: BaseException) -> str:
    """An exception in words for the stopped document: its type and message, URLs redacted,
    control characters and unpaired surrogates gone, cut short."""
    message = _URL.sub(lambda m: redact(m.group(0)), str(exc))
    text = clean_text(f"{type(exc).__name__}: {message}".rstrip(": "), ERROR_TEXT)
    return text.encode("utf-8", "replace").decode("utf-8")


class Board:
    """The current snapshot, pre-rendered. ``publish`` is the engine's callback."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.current: Published | None = None
        self.published = 0
        self.stop_reason: str | None = None
        """Set once the engine has stopped: the words ``/healthz`` says after "engine stopped:"
        (no error text: ``/healthz`` answers without a token)."""
        self._metrics: tuple[Published, int, bytes] | None = None
        self._changed = asyncio.Event()

    async def changed_since(self, etag: str, wait: float) -> None:
        """Return once the JSON document's ETag is no longer ``etag`` (a new snapshot, or the
        engine stopped), or after ``wait`` seconds: the long poll screens wait in."""
        loop = asyncio.get_running_loop()  # real time: a request waits in real seconds
        deadline = loop.time() + wait
        while self.current is not None and self.current.json.etag == etag:
            left = deadline - loop.time()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def _announce(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def publish(self, snapshot: Snapshot) -> None:
        if self.stop_reason is not None:
            return  # nothing brings a stopped engine's board back to "all is well"
        healthy, words = health_of(snapshot)
        self.current = Published(
            snapshot=snapshot,
            json=body(to_json(snapshot).encode("utf-8"), JSON_TYPE),
            cc=body(export_cctray.cc_xml(snapshot), export_cctray.CONTENT_TYPE),
            healthy=healthy,
            health=words.encode("utf-8"),
        )
        self.published += 1
        self._announce()

    def stopped(self, reason: str, error: str | None = None) -> None:
        """The engine is gone: ``reason`` for ``/healthz`` (words anyone may read), ``error``
        for the JSON document (behind the token)."""
        self.stop_reason = clean_text(reason, ERROR_TEXT) or "unknown reason"
        health = f"engine stopped: {self.stop_reason}\n".encode()
        current = self.current
        if current is None:
            return
        doc = json.loads(current.json.data)
        doc["overall"] = "unknown"
        doc["engine"] = {"running": False, "error": error or self.stop_reason}
        data = json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")
        self.current = replace(current, json=body(data, JSON_TYPE), healthy=False, health=health)
        self.published += 1
        self._announce()

    def metrics(self, current: Published) -> bytes:
        """Ages in the exposition move with the clock: render again at most once a second."""
        now: datetime = self.clock.now()
        second = int(now.timestamp())
        cached = self._metrics
        if cached is not None and cached[0] is current and cached[1] == second:
            return cached[2]
        data = export_metrics.metrics_text(current.snapshot, now)
        self._metrics = (current, second, data)
        return data
