"""Which ``on_change`` hook events a new snapshot brings (``events_between``, pure): a pipeline
turned red or green, a service went down or came up, a source's data went stale or fresh; each
with its facts, the ``BUILDRADIATOR_*`` variables a hook receives (``hooks``)."""

from __future__ import annotations

from datetime import datetime

from buildradiator.model import BrokenWindow, Snapshot
from buildradiator.rules.insights import red_streak
from buildradiator.ui.hooks import Facts

__all__ = ["events_between"]


def events_between(
    old: Snapshot | None, new: Snapshot, *, privacy: bool = False
) -> list[tuple[str, Facts]]:
    """The changes of state from ``old`` to ``new``, as ``(event, facts)`` pairs (pure).

    - ``red`` / ``green``: a pipeline's broken window opens / closes (and the pipeline is still
      listed); ``down`` / ``up`` the same for a production check.
    - ``stale`` / ``fresh``: a source's data goes stale / comes back.

    Nothing fires for the first snapshot, nor for a source's first data: a main already red when
    the radiator started is not a change. Stale windows neither open nor close anything.
    """
    if old is None:
        return []
    events: list[tuple[str, Facts]] = []
    had_data = _sources_with_data(old)
    stale_now = set(new.stale_sources) | {s.name for s in new.sources if s.stale}
    before = {_wid(w): w for w in old.broken}
    after = {_wid(w): w for w in new.broken}

    for wid, w in after.items():
        if wid in before or w.stale or w.source not in had_data:
            continue
        events.append(("red" if w.kind == "pipeline" else "down", _window_facts(w, privacy)))

    for wid, w in before.items():
        if wid in after or w.source in stale_now:
            continue
        facts = _recovered_facts(w, new, privacy)
        if facts is not None:
            events.append(("green" if w.kind == "pipeline" else "up", facts))

    old_states = {s.name: s for s in old.sources}
    for state in new.sources:
        previous = old_states.get(state.name)
        if previous is None or previous.stale == state.stale:
            continue
        event = "stale" if state.stale else "fresh"
        events.append(
            (
                event,
                {
                    "kind": "source",
                    "name": state.name,
                    "source": state.name,
                    "status": event,
                    "message": state.error or "",
                    "since": _iso(state.last_success),
                },
            )
        )
    return events


def _wid(w: BrokenWindow) -> tuple[str, str, str]:
    return (w.kind, w.source, w.key)


def _iso(when: datetime | None) -> str:
    return when.isoformat() if when else ""


def _window_facts(w: BrokenWindow, privacy: bool) -> Facts:
    return {
        "kind": w.kind,
        "name": w.name,
        "source": w.source,
        "status": "failed" if w.kind == "pipeline" else "down",
        "commit": w.commit or "",
        "author": "" if privacy else (w.author or ""),
        "message": w.message or "",
        "url": w.url or "",
        "since": _iso(w.since),
    }


def _recovered_facts(w: BrokenWindow, new: Snapshot, privacy: bool) -> Facts | None:
    """Facts of what closed a window, or ``None`` when its pipeline or check left the radiator."""
    if w.kind == "service":
        for check in new.services:
            if check.source == w.source and f"{check.name}@{check.environment or ''}" == w.key:
                return {
                    "kind": "service",
                    "name": check.name,
                    "source": check.source,
                    "status": check.health.value,
                    "message": check.detail or "",
                    "url": check.url or "",
                    "since": _iso(check.checked_at),
                }
        return None
    for pipeline in new.pipelines:
        if pipeline.source == w.source and pipeline.key == w.key:
            if red_streak(pipeline):
                return None  # still red by its builds: the window was dropped for another reason
            last = pipeline.last
            return {
                "kind": "pipeline",
                "name": pipeline.name,
                "source": pipeline.source,
                "status": pipeline.status.value,
                "commit": (last.commit if last else None) or "",
                "author": "" if privacy else ((last.author if last else None) or ""),
                "message": (last.message if last else None) or "",
                "url": (last.url if last else None) or pipeline.url or "",
                "since": _iso(last.finished_at if last else None),
            }
    return None


def _sources_with_data(snapshot: Snapshot) -> set[str]:
    names = {s.name for s in snapshot.sources if s.last_success is not None}
    names |= {p.source for p in snapshot.pipelines}
    names |= {c.source for c in snapshot.services}
    return names | {w.source for w in snapshot.broken}
