"""Claims: "I'm looking into it" on a red pipeline, with a name and an optional note.

Kept in ``claims.json`` in the data dir so that a restart (or a second radiator on the same
machine, such as a wall and a pane) shows the same claims. Every write goes to a temp file in the
same directory and is renamed over the old one, so a crash never leaves half a file; every change
re-reads the file first, so two radiators do not drop each other's claims. A file that cannot be
read as claims is moved aside (``claims.json.corrupt``) with a warning, and the store starts empty.

A claim ends three ways: ``release``, its age passing ``expire_hours`` (the config's current value,
so changing the config applies to claims already made), or ``prune`` finding its pipeline no
longer red. ``prune`` is careful to clear only on evidence: a pipeline missing from the snapshot
(its source has not answered yet) or a stale source keeps its claims.

Names and notes are user text shown on the banner and rows: they are cleaned like CI text.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from buildradiator.clock import Clock
from buildradiator.model import Snapshot
from buildradiator.paths import get_paths, private_dir
from buildradiator.text import clean_text

__all__ = ["MAX_NAME", "MAX_NOTE", "Claim", "ClaimStore", "claims_path", "default_name"]

log = logging.getLogger(__name__)

MAX_NAME = 40
MAX_NOTE = 200
FILE_VERSION = 1


def claims_path() -> Path:
    return get_paths().data_dir / "claims.json"


def default_name() -> str:
    """The OS user name, or ``someone`` when there is none (containers, odd environments)."""
    try:
        name = clean_text(getpass.getuser(), MAX_NAME)
    except Exception:  # getpass raises OSError or KeyError depending on the platform
        name = ""
    return name or "someone"


@dataclass(frozen=True)
class Claim:
    source: str
    key: str
    """The pipeline's ``Pipeline.key`` (or a service window's key)."""
    who: str
    note: str
    at: datetime
    expires_at: datetime


class _StoredClaim(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source: str
    key: str
    who: str
    note: str = ""
    at: AwareDatetime


class _StoredFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = FILE_VERSION
    claims: list[_StoredClaim]


class ClaimStore:
    """Claims on pipelines, persisted as JSON. Never raises on I/O: problems land in ``warning``
    (and the log) and the store keeps working in memory."""

    def __init__(
        self,
        path: Path | None = None,
        clock: Clock | None = None,
        expire_hours: float = 24.0,
    ) -> None:
        self.path = path or claims_path()
        self.clock = clock or Clock()
        self.expire_hours = expire_hours
        self.warning: str | None = None
        """The last problem with the file, in plain words (for a toast); ``None`` when fine."""
        self._claims: dict[tuple[str, str], Claim] = {}
        self._load()

    @classmethod
    def throwaway(cls, clock: Clock | None = None) -> ClaimStore:
        """Claims in a private temp dir (not created until a claim is saved: most runs never
        make one), so tests, the bench and the demo never touch the user's claims."""
        folder = Path(tempfile.gettempdir()) / f"buildradiator-{uuid.uuid4()}"
        return cls(folder / "claims.json", clock)

    def discard(self) -> None:
        """Remove a throwaway store's folder (at exit)."""
        shutil.rmtree(self.path.parent, ignore_errors=True)

    # -- reading ---------------------------------------------------------------------------

    def get(self, source: str, key: str, now: datetime | None = None) -> Claim | None:
        claim = self._claims.get((source, key))
        if claim is None or claim.expires_at <= (now or self.clock.now()):
            return None
        return claim

    def active(self, now: datetime | None = None) -> tuple[Claim, ...]:
        """Claims not yet expired, oldest first."""
        when = now or self.clock.now()
        return tuple(
            sorted((c for c in self._claims.values() if c.expires_at > when), key=lambda c: c.at)
        )

    # -- changing --------------------------------------------------------------------------

    def claim(self, source: str, key: str, who: str, note: str = "") -> Claim:
        """Claim a pipeline (replacing any earlier claim on it)."""
        self._load()
        now = self.clock.now()
        claim = Claim(
            source=source,
            key=key,
            who=clean_text(who, MAX_NAME) or default_name(),
            note=clean_text(note, MAX_NOTE),
            at=now,
            expires_at=self._expiry(now),
        )
        self._claims[(source, key)] = claim
        self._save()
        return claim

    def release(self, source: str, key: str) -> bool:
        self._load()
        if self._claims.pop((source, key), None) is None:
            return False
        self._save()
        return True

    def prune(self, snapshot: Snapshot, now: datetime | None = None) -> list[Claim]:
        """Drop expired claims and claims whose pipeline (or service) is no longer broken.

        Returns what was dropped. Writes the file only when something changed.
        """
        when = now or self.clock.now()
        broken = {(w.source, w.key) for w in snapshot.broken}
        stale = set(snapshot.stale_sources) | {s.name for s in snapshot.sources if s.stale}
        listed = {(p.source, p.key) for p in snapshot.pipelines}
        listed |= {(c.source, f"{c.name}@{c.environment or ''}") for c in snapshot.services}
        dropped = []
        for ident, claim in list(self._claims.items()):
            expired = claim.expires_at <= when
            fixed = ident in listed and ident not in broken and claim.source not in stale
            if expired or fixed:
                dropped.append(self._claims.pop(ident))
        if dropped:
            self._save()
        return dropped

    # -- the file --------------------------------------------------------------------------

    def _expiry(self, at: datetime) -> datetime:
        return at + timedelta(hours=self.expire_hours)

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self._warn(f"cannot read {self.path}: {exc.strerror}")
            return
        try:
            stored = _StoredFile.model_validate_json(raw)
        except ValidationError:
            self._move_aside()
            return
        claims: dict[tuple[str, str], Claim] = {}
        absurd = 0
        for c in stored.claims:
            try:
                expires_at = self._expiry(c.at)
                expires_at.astimezone(UTC)  # past year 9999 in UTC: no other zone shows it
            except OverflowError:
                absurd += 1  # made at a time no clock reaches (a clock set wrong, a hand edit)
                continue
            claims[(c.source, c.key)] = Claim(
                source=c.source,
                key=c.key,
                who=clean_text(c.who, MAX_NAME) or "someone",
                note=clean_text(c.note, MAX_NOTE),
                at=c.at,
                expires_at=expires_at,
            )
        self._claims = claims
        if absurd:
            self._warn(f"{self.path}: left out {absurd} claim(s) made at a time no clock reaches")

    def _move_aside(self) -> None:
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            self._warn(f"{self.path} is not a claims file and cannot be moved: {exc.strerror}")
            return
        self._warn(f"{self.path} was not a claims file: moved to {aside}, starting empty")

    def _save(self) -> None:
        data = {
            "version": FILE_VERSION,
            "claims": [
                {
                    "source": c.source,
                    "key": c.key,
                    "who": c.who,
                    "note": c.note,
                    "at": c.at.isoformat(),
                }
                for c in sorted(self._claims.values(), key=lambda c: c.at)
            ],
        }
        tmp: str | None = None
        try:
            private_dir(self.path.parent)
            fd, tmp = tempfile.mkstemp(prefix=".claims-", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2, ensure_ascii=False)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
            tmp = None
        except OSError as exc:
            self._warn(f"cannot save claims to {self.path}: {exc.strerror or exc}")
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def _warn(self, message: str) -> None:
        self.warning = message
        log.warning("%s", message)
