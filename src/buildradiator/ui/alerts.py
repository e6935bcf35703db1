"""How loud a broken window gets: flash, bell, toast, desktop notification, escalation level.

Pure logic, no I/O and no ``textual``: ``Escalation`` is fed every snapshot (``observe``) and a
1 Hz tick (``tick``) and answers with small frozen *actions* that the app carries out (ring the
bell, flash the banner until a time, show a toast, send a desktop notification, size the banner).
Every decision takes ``now`` as an argument, so the whole timeline is tested with explicit times.

The rules:

- A broken window is known by its identity ``(kind, source, key)``. One that appears flashes the
  banner, rings the bell once, names itself in a toast and sends a desktop notification. One that
  closes (and whose pipeline or service is still on the radiator) is announced as a recovery:
  toast, notification and one bell.
- Still broken after ``escalate_after`` seconds: the level grows (1, 2, 3 at 1x, 2x and 4x
  ``escalate_after``), each step rings, and while anything is escalated the bell repeats every
  ``repeat_every`` seconds.
- Quiet hours and quiet weekends silence the bell and the desktop notification only: the flash,
  the toast and the level still happen, because a radiator on a wall at 21:00 should still *show*
  a red main.
- Stale windows neither alert nor recover: stale data says nothing new about the build.
- Nothing rings at start-up: a window seen in the first data a source delivers was broken before
  we looked, so it is taken in silently (its level still follows its age). This is decided per
  source, because the engine publishes snapshots before every source has answered once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Literal

from buildradiator.config.loading import AlertsConfig
from buildradiator.fmt import format_age, short_sha
from buildradiator.model import BrokenWindow, Health, Snapshot, Status
from buildradiator.rules.production import worst

__all__ = [
    "MAX_LEVEL",
    "Action",
    "Bell",
    "Escalation",
    "Flash",
    "Level",
    "Notify",
    "Toast",
    "Withdraw",
    "is_quiet",
    "level_for",
    "window_id",
]

MAX_LEVEL = 3
_LEVEL_FACTORS = (1.0, 2.0, 4.0)
"""Level n starts once a window has been broken for ``_LEVEL_FACTORS[n-1] * escalate_after``."""

Severity = Literal["information", "warning", "error"]
WindowId = tuple[str, str, str]


@dataclass(frozen=True)
class Bell:
    """Ring the terminal bell once."""


@dataclass(frozen=True)
class Flash:
    """Flash the banner until this moment."""

    until: datetime


@dataclass(frozen=True)
class Toast:
    """Show this plain text (never markup: it contains CI text) as a toast."""

    text: str
    severity: Severity
    key: WindowId | None = None
    """The broken window it is about: a later ``Withdraw`` of the same key takes it back."""


@dataclass(frozen=True)
class Withdraw:
    """Take back what was announced about this window: it closed, or it is no longer what the
    announcement said (``payments is down: HTTP 500`` once it answers 200)."""

    key: WindowId


@dataclass(frozen=True)
class Notify:
    """Send a desktop notification through the terminal (see ``notify.py``)."""

    title: str
    body: str


@dataclass(frozen=True)
class Level:
    """The banner's escalation level changed: 0 calm, up to ``MAX_LEVEL``."""

    n: int


Action = Bell | Flash | Toast | Notify | Level | Withdraw


def window_id(window: BrokenWindow) -> WindowId:
    return (window.kind, window.source, window.key)


def level_for(age_seconds: float, escalate_after: float) -> int:
    """The escalation level of something broken for ``age_seconds``."""
    level = 0
    for n, factor in enumerate(_LEVEL_FACTORS, start=1):
        if age_seconds >= factor * escalate_after:
            level = n
    return level


def _parse_hours(value: str | None) -> tuple[time, time] | None:
    if not value:
        return None
    start, end = value.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def is_quiet(
    now: datetime,
    quiet_hours: str | None,
    quiet_weekends: bool,
    tz: tzinfo | None = None,
) -> bool:
    """Whether ``now`` (read in ``tz``, the local zone when ``None``) falls in quiet time.

    ``"19:00-08:00"`` crosses midnight: quiet from 19:00 until 08:00 the next morning. Equal start
    and end (``"00:00-00:00"``) means all day.
    """
    local = now.astimezone(tz)
    if quiet_weekends and local.weekday() >= 5:
        return True
    hours = _parse_hours(quiet_hours)
    if hours is None:
        return False
    start, end = hours
    t = local.time().replace(tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end


@dataclass
class _Tracked:
    window: BrokenWindow
    first_seen: datetime
    announced: int = 0
    """The highest level already rung for (or taken in silently) for this window."""

    def broken_since(self) -> datetime:
        return self.window.since or self.first_seen

    def age(self, now: datetime) -> float:
        return max(0.0, (now - self.broken_since()).total_seconds())


class Escalation:
    """The alert state machine. Call ``observe`` on each snapshot and ``tick`` every second.

    ``tz`` is the zone quiet hours are read in (the local zone when ``None``); ``privacy`` keeps
    author names out of every toast and notification.
    """

    def __init__(
        self,
        config: AlertsConfig | None = None,
        *,
        tz: tzinfo | None = None,
        privacy: bool = False,
    ) -> None:
        self.config = config or AlertsConfig()
        self.tz = tz
        self.privacy = privacy
        self._tracked: dict[WindowId, _Tracked] = {}
        self._seen_sources: set[str] = set()
        self._level = 0
        self._last_bell: datetime | None = None
        self._flash_until: datetime | None = None

    # -- what the views read ---------------------------------------------------------------

    @property
    def level(self) -> int:
        return self._level

    def flashing(self, now: datetime) -> bool:
        return self._flash_until is not None and now < self._flash_until

    def quiet(self, now: datetime) -> bool:
        return is_quiet(now, self.config.quiet_hours, self.config.quiet_weekends, self.tz)

    # -- feeding -----------------------------------------------------------------------------

    def observe(self, snapshot: Snapshot, now: datetime) -> list[Action]:
        """Diff a new snapshot against what is known; the actions to carry out now."""
        quiet = self.quiet(now)
        if self._last_bell is None:
            # Start-up: the repeat schedule begins now, not at the age of the oldest window.
            self._last_bell = now
        stale_sources = _stale_sources(snapshot)
        current = {window_id(w): w for w in snapshot.broken}
        actions: list[Action] = []
        rang = False

        new = [
            w
            for wid, w in current.items()
            if wid not in self._tracked and not w.stale and w.source in self._seen_sources
        ]
        for wid, w in current.items():
            if wid in self._tracked:
                if self._broke_text(self._tracked[wid].window) != self._broke_text(w):
                    actions.append(Withdraw(wid))  # what was said about it is out of date
                self._tracked[wid].window = w
            elif not w.stale:
                # Either genuinely new (rung for just below), or already broken when its source
                # first answered: both start with their current level counted as announced.
                tracked = _Tracked(w, now)
                tracked.announced = level_for(tracked.age(now), self.config.escalate_after)
                self._tracked[wid] = tracked

        if new:
            if self.config.flash_seconds > 0:
                until = now + timedelta(seconds=self.config.flash_seconds)
                self._flash_until = until
                actions.append(Flash(until))
            rang = self._ring(actions, now, quiet)
            for w in new:
                actions.append(Toast(self._broke_text(w), "error", window_id(w)))
                if self.config.desktop and not quiet:
                    actions.append(Notify(*self._broke_notice(w)))

        for wid in list(self._tracked):
            if wid in current:
                continue
            tracked = self._tracked[wid]
            source = tracked.window.source
            if source in stale_sources:
                continue  # stale data cannot tell us it recovered
            del self._tracked[wid]
            if not _still_listed(tracked.window, snapshot):
                continue  # it left the radiator (renamed, unwatched): nothing to announce
            text = self._recovered_text(tracked, now, snapshot)
            actions.append(Withdraw(wid))
            actions.append(Toast(text, "information", wid))
            if self.config.desktop and not quiet:
                actions.append(Notify(_recovered_title(tracked.window, snapshot), text))
            if not rang:
                rang = self._ring(actions, now, quiet)

        self._seen_sources |= _sources_with_data(snapshot)
        actions += self._escalate(now, quiet, rang)
        return actions

    def tick(self, now: datetime) -> list[Action]:
        """Time passing: levels grow and bells repeat."""
        if self._last_bell is None:
            return []  # nothing observed yet
        return self._escalate(now, self.quiet(now), rang=False)

    # -- internals ---------------------------------------------------------------------------

    def _ring(self, actions: list[Action], now: datetime, quiet: bool) -> bool:
        if not self.config.bell or quiet:
            return False
        actions.append(Bell())
        self._last_bell = now
        return True

    def _escalate(self, now: datetime, quiet: bool, rang: bool) -> list[Action]:
        actions: list[Action] = []
        level = 0
        grew = False
        for tracked in self._tracked.values():
            if tracked.window.stale:
                continue
            n = level_for(tracked.age(now), self.config.escalate_after)
            level = max(level, n)
            if n > tracked.announced:
                # Only growth with time rings: the level a window had when it was first taken in
                # (at start-up, or rung for as new) is recorded as already announced.
                tracked.announced = n
                grew = True
        if level != self._level:
            self._level = level
            actions.append(Level(level))
        if grew and not rang:
            rang = self._ring(actions, now, quiet)
        if level > 0 and not rang and self._last_bell is not None:
            if now >= self._last_bell + timedelta(seconds=self.config.repeat_every):
                self._ring(actions, now, quiet)
        return actions

    def _who(self, w: BrokenWindow) -> str:
        parts = []
        if w.commit:
            parts.append(short_sha(w.commit))
        if w.author and not self.privacy:
            parts.append(f"by {w.author}")
        return " ".join(parts)

    def _broke_text(self, w: BrokenWindow) -> str:
        if w.kind == "service":
            text = f"{w.name} is down"
            return f"{text}: {w.message}" if w.message else text
        who = self._who(w)
        return f"{w.name} turned red: {who}" if who else f"{w.name} turned red"

    def _broke_notice(self, w: BrokenWindow) -> tuple[str, str]:
        if w.kind == "service":
            return f"{w.name} is down", w.message or ""
        who = self._who(w)
        body = ": ".join(p for p in (who, w.message or "") if p)
        return f"{w.name} turned red", body

    def _recovered_text(self, tracked: _Tracked, now: datetime, snapshot: Snapshot) -> str:
        age = format_age(tracked.age(now))
        return f"{_recovered_title(tracked.window, snapshot)} after {age}"


def _recovered_title(w: BrokenWindow, snapshot: Snapshot) -> str:
    """``payments is up again``; or, when it only left "down" for "warn", just that (and a
    main whose red streak ended on a build that did not pass: ``no longer red (now unknown)``)."""
    if w.kind == "service":
        health = _service_health(w, snapshot)
        if health is not None and health is not Health.UP:
            return f"{w.name} is no longer down (now {health.value})"
        return f"{w.name} is up again"
    if w.kind == "deploy":
        return f"{w.name} is no longer suspect"
    # The streak ends on any finished build that did not fail: only a pass is green.
    status = next(
        (p.status for p in snapshot.pipelines if p.source == w.source and p.key == w.key), None
    )
    if status is not None and status is not Status.PASSED:
        return f"{w.name} is no longer red (now {status.value})"
    return f"{w.name} is green again"


def _service_health(w: BrokenWindow, snapshot: Snapshot) -> Health | None:
    found = [
        c.health
        for c in snapshot.services
        if c.source == w.source and f"{c.name}@{c.environment or ''}" == w.key
    ]
    return worst(found) if found else None


def _stale_sources(snapshot: Snapshot) -> set[str]:
    return set(snapshot.stale_sources) | {s.name for s in snapshot.sources if s.stale}


def _sources_with_data(snapshot: Snapshot) -> set[str]:
    """Sources that have delivered data by this snapshot (their broken windows are now known)."""
    names = {s.name for s in snapshot.sources if s.last_success is not None}
    names |= {p.source for p in snapshot.pipelines}
    names |= {c.source for c in snapshot.services}
    names |= {w.source for w in snapshot.broken}
    return names


def _still_listed(w: BrokenWindow, snapshot: Snapshot) -> bool:
    """Whether the pipeline or service of a closed window is still shown (so it truly recovered)."""
    if w.kind == "service":
        return any(
            c.source == w.source and f"{c.name}@{c.environment or ''}" == w.key
            for c in snapshot.services
        )
    return any(p.source == w.source and p.key == w.key for p in snapshot.pipelines)
