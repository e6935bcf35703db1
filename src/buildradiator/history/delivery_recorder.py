"""The engine's subscriber that records deliveries: every published snapshot goes to
``record_snapshot`` on a worker thread of its own, so the event loop never waits for SQLite.

Wired with two lines where the engine is assembled::

    from buildradiator.history.delivery_recorder import DeliveryRecorder
    engine.subscribe(DeliveryRecorder(history))

Snapshots are queued in order (each is the whole state; skipping one could skip a deploy that
went suspect and recovered in between). The queue is bounded: if SQLite stalls for long, the
oldest waiting snapshots are dropped with a warning rather than memory growing. A failure to
record is logged and costs the delivery history, never the radiator.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from buildradiator.history.deliveries import prune_deliveries, record_snapshot
from buildradiator.history.store import Store
from buildradiator.model import Snapshot

log = logging.getLogger("buildradiator.history")

QUEUE_LIMIT = 256
"""Snapshots waiting at most; beyond, the oldest are dropped."""


class DeliveryRecorder:
    """Call it with each published snapshot (``Engine.subscribe``); see the module docstring."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: deque[Snapshot] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def __call__(self, snapshot: Snapshot) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= QUEUE_LIMIT:
                self._queue.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 100 == 0:
                    log.warning(
                        "history: %d snapshots not recorded (the store is slow)", self.dropped
                    )
            self._queue.append(snapshot)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="delivery-recorder", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._busy = False
                    self._cond.notify_all()
                    self._cond.wait()
                if not self._queue:
                    self._busy = False
                    self._cond.notify_all()
                    return
                snapshot = self._queue.popleft()
                self._busy = True
            try:
                if record_snapshot(self.store, snapshot):
                    prune_deliveries(self.store)
            except Exception:
                log.exception("recording deliveries in history failed")

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued snapshot is recorded; False on timeout (tests, shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Record what is queued, then stop the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
