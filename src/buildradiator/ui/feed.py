"""What the app is fed: anything that publishes snapshots (the engine, a test's fake), and the
message a snapshot arrives in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from textual.message import Message

from buildradiator.model import Snapshot


class SnapshotFeed(Protocol):
    async def run(self, publish: Callable[[Snapshot], None]) -> None: ...
    def poll_now(self) -> None: ...


class SnapshotUpdated(Message):
    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        # A burst of snapshots collapses to the newest: each one is the whole state.
        return isinstance(message, SnapshotUpdated)
