"""What the radiator says at the right of the status bar (instead of toasts): every message
with the time it stops being current; the newest shows, with how many others still are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from textual.content import Content

from buildradiator.ui.widgets.statusbar import Message


@dataclass
class Said:
    """One message shown at the right of the status bar."""

    text: str
    severity: str
    until: datetime
    key: object | None = None
    whole: bool = False


class Messages:
    """The messages still current, oldest first."""

    def __init__(self) -> None:
        self._said: list[Said] = []

    def say(
        self,
        text: str,
        severity: str,
        until: datetime,
        key: object | None = None,
        whole: bool = False,
    ) -> None:
        """Say ``text`` until ``until``; a message with the same ``key`` is replaced."""
        if key is not None:
            self.unsay(key)
        # One line: whatever came in several is read as one.
        self._said.append(Said(" ".join(text.split()), severity, until, key, whole))

    def unsay(self, key: object) -> None:
        """Take back what was said about ``key`` (a broken window that closed or changed)."""
        self._said = [m for m in self._said if m.key != key]

    def clear(self) -> None:
        self._said.clear()

    def newest(self, now: datetime) -> Message | None:
        """What the status bar shows at ``now`` (messages past their time are dropped)."""
        self._said = [m for m in self._said if m.until > now]
        newest = self._said[-1] if self._said else None
        return Message(newest.text, newest.severity, len(self._said) - 1) if newest else None

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self._said]


def until(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


def plain(message: str, title: str, markup: bool) -> str:
    """A notification as the one line of plain text the status bar shows: its markup (Textual's
    own notifications carry some) read, never shown, and its title first."""
    text = message
    if markup:
        try:
            text = Content.from_markup(message).plain
        except Exception:
            text = message
    return f"{title}: {text}" if title else text
