"""Lists of flaky tests a CI keeps itself (Buildkite Test Engine, CircleCI's insights), read every
so often per key (a suite, a project): the last good list of each is kept, with why the newest
read failed, and a failed read never fails the poll."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from buildradiator.clock import Clock
from buildradiator.errors import SourceError
from buildradiator.model import ReportedFlake


class FlakeLists:
    """The last flaky list of each key, and when to read them again."""

    what = "flaky list"
    """What a list is called in the summary (``Test Engine suite``)."""
    label = "flaky"
    """What the count is called in the summary (``(insights)``)."""

    def __init__(self, every: float, clock: Clock) -> None:
        self.every = every
        self.clock = clock
        self._next: float | None = None
        self._lists: dict[str, tuple[ReportedFlake, ...]] = {}
        self._trouble: dict[str, str] = {}

    def due(self) -> bool:
        return self._next is None or self.clock.monotonic() >= self._next

    async def read_each(
        self, keys: Sequence[str], read: Callable[[str], Awaitable[tuple[ReportedFlake, ...]]]
    ) -> tuple[ReportedFlake, ...]:
        """Read each key's list if it is time (else keep the last ones); every key's current
        list, together. Lists of keys no longer asked for are forgotten."""
        if self.due():
            # Success or not, the next read waits a full period: a 429, a 403 or a 404 must
            # not be asked again on every poll.
            self._next = self.clock.monotonic() + self.every
            for key in keys:
                try:
                    flakes = await read(key)
                except SourceError as exc:
                    self._trouble[key] = self.words(exc)
                    continue
                self._trouble.pop(key, None)
                self._lists[key] = flakes
            for gone in [k for k in self._lists if k not in keys]:
                del self._lists[gone]
        return tuple(f for key in keys for f in self._lists.get(key, ()))

    def words(self, exc: SourceError) -> str:
        """Why a list could not be read, for the summary."""
        return str(exc)

    def summary(self) -> str:
        """``; 3 flaky tests (insights)``, and what went wrong reading them, if anything."""
        count = sum(len(v) for v in self._lists.values())
        text = f"; {count} flaky test{'s' if count != 1 else ''} ({self.label})" if count else ""
        for key, words in self._trouble.items():
            kept = len(self._lists.get(key, ()))
            text += f"; {self.what} {key} not read ({words})"
            text += f", keeping the last list ({kept})" if kept else ""
        return text
