"""What a simulated endpoint answers, before the HTTP server writes it out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode


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


def param(query: dict[str, list[str]], name: str) -> str | None:
    """A query parameter's last value; ``None`` when absent."""
    values = query.get(name)
    return values[-1] if values else None


def int_param(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter (its last value), clamped; ``default`` when not one."""
    raw = (param(query, name) or "").strip()
    return max(low, min(high, int(raw))) if raw.isdigit() else default


def link_paged(items: list[dict[str, Any]], query: dict[str, list[str]], base: str) -> Answer:
    """One ``page`` of ``items`` (``per_page``, default 30) with an RFC 8288 ``Link`` header
    (next/last/first/prev), the way GitHub and Buildkite page their lists."""
    per_page = int_param(query, "per_page", 30, 1, 100)
    page = int_param(query, "page", 1, 1, 10**6)
    shown = items[(page - 1) * per_page : page * per_page]
    answer = json_answer(200, shown)
    last = max(1, -(-len(items) // per_page))
    params = [(k, v) for k, vs in query.items() if k != "page" for v in vs]

    def url(n: int) -> str:
        return f"{base}?{urlencode([*params, ('page', str(n))])}"

    rels = []
    if page < last:
        rels += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        rels += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    if rels:
        answer.headers.append(("Link", ", ".join(rels)))
    return answer
