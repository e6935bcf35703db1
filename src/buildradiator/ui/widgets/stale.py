"""What old data is called on screen, with its age: ``stale 5m`` (a source that stopped
answering) or ``cached 2h`` (the last run's data, read at start-up)."""

from __future__ import annotations

from datetime import datetime

from buildradiator import fmt
from buildradiator.model import Freshness, Snapshot


def stale_age(snapshot: Snapshot, source: str, now: datetime) -> str:
    """How old a stale source's data is (``5m``), from its last good answer."""
    state = snapshot.source_state(source)
    last = state.last_success if state else None
    return fmt.format_age(fmt.seconds_between(last, now)) if last else "?"


def stale_word(snapshot: Snapshot, source: str) -> str:
    """What old data is called: ``cached`` (the last run's, read at start-up) or ``stale``."""
    state = snapshot.source_state(source)
    return "cached" if state is not None and state.freshness is Freshness.CACHED else "stale"


def stale_words(snapshot: Snapshot, source: str, now: datetime) -> str:
    """``stale 5m`` or ``cached 2h``."""
    return f"{stale_word(snapshot, source)} {stale_age(snapshot, source, now)}"
