"""What a simulated endpoint answers, before the HTTP server writes it out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False
    """Close the connection without a word (the client sees a dropped connection)."""
    delay: float = 0.0
    """Seconds to wait before answering (a slow service)."""


def json_answer(status: int, payload: Any, content_type: str = "application/json") -> Answer:
    # ensure_ascii=False keeps non-ASCII text as UTF-8; control characters are still escaped
    # (\u001b), which is what real JSON APIs send for an ANSI escape in a commit message.
    # No indent: an indented dump runs Python's pure encoder, and the simulated servers then
    # cost more CPU than the radiator they feed (the soak's hours were mostly this).
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Answer(status, body, [("Content-Type", f"{content_type}; charset=utf-8")])


def text_answer(status: int, text: str, content_type: str = "text/plain") -> Answer:
    return Answer(
        status, text.encode("utf-8"), [("Content-Type", f"{content_type}; charset=utf-8")]
    )


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match uses the weak comparison: ``W/"x"`` matches ``"x"``."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def iso_z(moment: datetime) -> str:
    """GitHub's timestamp style: whole seconds, UTC, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
