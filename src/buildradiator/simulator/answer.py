"""What a simulated endpoint answers, before the HTTP server writes it out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")


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


def revalidated(answer: Answer, etag: str, if_none_match: str | None) -> Answer:
    """``answer`` with its ``ETag``; when the client already holds that version, a 304 with the
    same headers but no body (nor ``Content-Type``)."""
    answer.headers.append(("ETag", etag))
    if not etag_matches(if_none_match, etag):
        return answer
    kept = [(k, v) for k, v in answer.headers if k.lower() != "content-type"]
    return Answer(304, b"", kept)


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


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its number (from 1), its size, what it shows, and the list's length."""

    number: int
    size: int
    shown: list[T]
    total: int

    @classmethod
    def cut(cls, items: Sequence[T], number: int, size: int) -> Page[T]:
        return cls(number, size, list(items[(number - 1) * size : number * size]), len(items))

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def more(self) -> bool:
        """Whether a page follows this one."""
        return self.number * self.size < self.total


def page_asked(
    query: dict[str, list[str]], size: int, *, size_param: str = "per_page", most: int = 10**6
) -> tuple[int, int]:
    """(page number, page size) a list request asks for: ``page`` from 1 (at most ``most``), the
    size from ``size_param`` (1 to 100, default ``size``)."""
    return int_param(query, "page", 1, 1, most), int_param(query, size_param, size, 1, 100)


def page_of(
    items: Sequence[T],
    query: dict[str, list[str]],
    size: int,
    *,
    size_param: str = "per_page",
    most: int = 10**6,
) -> Page[T]:
    """The page of ``items`` a list request asks for (``page_asked``)."""
    return Page.cut(items, *page_asked(query, size, size_param=size_param, most=most))


def page_url(base: str, query: dict[str, list[str]], number: int) -> str:
    """``base`` with the request's query, asking for page ``number``."""
    params = [(k, v) for k, vs in query.items() if k != "page" for v in vs]
    return f"{base}?{urlencode([*params, ('page', str(number))])}"


def link_header(page: Page[Any], query: dict[str, list[str]], base: str) -> str | None:
    """An RFC 8288 ``Link`` to the other pages (next/last/first/prev), the way GitHub and
    Buildkite page their lists; ``None`` on a list of one page."""
    rels = []
    if page.number < page.last:
        rels += [
            f'<{page_url(base, query, page.number + 1)}>; rel="next"',
            f'<{page_url(base, query, page.last)}>; rel="last"',
        ]
    if page.number > 1:
        rels += [
            f'<{page_url(base, query, 1)}>; rel="first"',
            f'<{page_url(base, query, page.number - 1)}>; rel="prev"',
        ]
    return ", ".join(rels) or None


def with_link(answer: Answer, link: str | None) -> Answer:
    """``answer`` with a ``Link`` header, when there is one."""
    if link:
        answer.headers.append(("Link", link))
    return answer


def link_paged(items: list[dict[str, Any]], query: dict[str, list[str]], base: str) -> Answer:
    """One ``page`` of ``items`` (``per_page``, default 30) with its ``Link`` header."""
    page = page_of(items, query, 30)
    return with_link(json_answer(200, page.shown), link_header(page, query, base))


def gitlab_paging(page: Page[Any], *, total_known: bool = True) -> list[tuple[str, str]]:
    """GitLab's paging headers (``x-page``, ``x-next-page``...); without ``total_known`` (a list
    read only as far as asked), no ``x-total`` nor ``x-total-pages``."""
    headers = [
        ("x-page", str(page.number)),
        ("x-per-page", str(page.size)),
        ("x-next-page", str(page.number + 1) if page.more else ""),
        ("x-prev-page", str(page.number - 1) if page.number > 1 else ""),
    ]
    if total_known:
        headers += [("x-total", str(page.total)), ("x-total-pages", str(page.last))]
    return headers
