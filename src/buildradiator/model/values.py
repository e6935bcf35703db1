"""What a value from a server may be, before it becomes part of a domain object: text scrubbed
(``Untrusted``, ``Key``), links redacted (``Link``), times and durations kept within belief
(``Moment``, ``Seconds``); and the frozen base of every domain object."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

from buildradiator.text import clean_key, clean_text
from buildradiator.urls import redact


def first_line(message: str | None) -> str | None:
    """The subject line of a commit message."""
    if message is None:
        return None
    return message.strip().splitlines()[0] if message.strip() else ""


Untrusted = Annotated[str, AfterValidator(clean_text)]
"""Text from a server, shown on one line: scrubbed, folded, cut (``text.clean_text``)."""
Key = Annotated[str, AfterValidator(clean_key)]
"""An identifier from a server (a pipeline key, a build id): scrubbed, never cut."""

EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_SECONDS = 30 * 86400.0
"""The longest duration or estimate believed: a month (a build that long is no build)."""


def _moment(value: datetime | None) -> datetime | None:
    # Go's zero time (year 1), 9999-12-31 and other sentinels mean "not known": no arithmetic
    # on them may overflow a screen.
    return value if value is not None and EARLIEST <= value < LATEST else None


def _seconds(value: float | None) -> float | None:
    return value if value is not None and 0 < value <= MAX_SECONDS else None


def _link(value: str | None) -> str | None:
    return redact(value) if value else value


Link = Annotated[str | None, AfterValidator(_link)]
"""A URL from a server: redacted (``urls.redact``) before it reaches a screen, a cache file,
the history or an export."""
Moment = Annotated[AwareDatetime | None, AfterValidator(_moment)]
"""A time from a server or from history: ``None`` outside 1971-2200 (a sentinel, a mistake)."""
Seconds = Annotated[float | None, AfterValidator(_seconds)]
"""A duration or an estimate: ``None`` when not a positive finite number up to a month."""


class Frozen(BaseModel):
    """Immutable, and no field it does not declare."""

    model_config = ConfigDict(frozen=True, extra="forbid")
