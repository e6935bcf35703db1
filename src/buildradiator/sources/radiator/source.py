"""Another radiator's ``/snapshot.json`` (``buildradiator serve``), turned back into pipelines,
services, deployments, blockers and flaky tests, so a terminal or a team's radiator shows what a
central one collects without polling the CI APIs itself (one engine's quota for every screen).

The document is ``export.snapshot_doc`` (the contract of ``status --json``): one request per
poll, conditional on the ETag ``serve`` sends, so an unchanged snapshot costs a 304 and this
source hands back its last result without reading anything again.

Keys: ``{remote source}:{remote key}``, so two of the remote's sources never collide here, and
the flaky tests' ``source:pipeline`` names (which the remote already writes that way) point at
the very pipelines this source produces. Everything the remote derives (broken windows, facts,
the release gate) is left out: this radiator's engine derives them again from the builds.

Reading is forgiving where a document from a newer radiator or a hand-made one may differ: an
unknown schema number is read as far as it goes (and said so in the summary), unknown status
words become ``unknown`` (or ``queued`` for a build in flight) with the word kept in
``provider_status``, unreadable times become ``None``, and an entry that does not match the
document's shape is skipped and counted rather than failing the whole poll. What is not a
radiator snapshot at all (HTML, truncated JSON, not an object, no schema, a section that is not
a list) fails the poll with ``BadPayload`` naming the (redacted) URL.

A radiator source that points at this very radiator would only echo its own data: ``serve``
sends ``instance.INSTANCE_HEADER`` on every answer and an answer carrying our own ``instance.ID``
fails the poll with a plain-words error.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from buildradiator import instance
from buildradiator.document import SECTIONS
from buildradiator.errors import AuthFailed, BadPayload, NotFound, SourceError
from buildradiator.model import (
    SourceResult,
)
from buildradiator.sources.base import Source, Words
from buildradiator.sources.http import HttpClient, Response, brief_url
from buildradiator.sources.radiator import PROVIDER
from buildradiator.sources.radiator.config import RadiatorFeedSource
from buildradiator.sources.radiator.reading import Reading
from buildradiator.text import clean_text

SNAPSHOT_PATH = "/snapshot.json"

ModelT = TypeVar("ModelT", bound=BaseModel)
_T = TypeVar("_T")


def snapshot_url(url: str) -> str:
    """``url`` + ``/snapshot.json``, unless the URL names a ``.json`` document already (a
    query, e.g. a proxy's token, stays where it is)."""
    parts = urlsplit(url)
    if parts.path.endswith(".json"):
        return url
    path = parts.path.rstrip("/") + SNAPSHOT_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


# --- the source -------------------------------------------------------------------------------


PUSH_WAIT = 25
"""Longest a request waits at the server for news (it must answer well within proxies' idle
timeouts, commonly 30 to 60 s)."""


class RadiatorFeed(Source[RadiatorFeedSource]):
    """One other radiator's snapshot, all of its sources or those ``only`` names."""

    provider = PROVIDER
    status_words = {
        401: Words(
            AuthFailed,
            "the radiator at {host} wants a token (HTTP 401): set token_env, token_file or "
            "token_command to the token its serve expects",
            "the radiator at {host} refused the token from {origin} (HTTP 401): wrong or changed",
        ),
        403: Words(
            AuthFailed,
            "the radiator at {host} denied access (HTTP 403): it may want a token (token_env)",
            "the radiator at {host} denied access (HTTP 403)",
        ),
        404: Words(
            NotFound,
            "snapshot not found (HTTP 404) at {url}: is it a buildradiator serve address?",
        ),
    }

    def __init__(self, config: RadiatorFeedSource, http: HttpClient) -> None:
        super().__init__(config, http)
        self._last: SourceResult | None = None
        self._pushed = False
        self._shown: tuple[SourceResult, bool, SourceResult] | None = None

    @property
    def pushes(self) -> bool:
        return self._pushed

    @property
    def wait(self) -> int:
        """Seconds to ask the server to hold a request for news: inside the request's timeout,
        with room for the answer."""
        return max(1, min(PUSH_WAIT, int(self.config.timeout) - 3))

    async def poll(self) -> SourceResult:
        url = snapshot_url(self.config.url)
        try:
            response = await self._get(url)
        except SourceError:
            self._pushed = False  # the wait broke: poll on the interval until it answers again
            raise
        self._pushed = response.headers.get("Preference-Applied", "").startswith("wait=")
        # Checked on every answer, a 304 too (its headers are those of the answer it repeats):
        # a config edited to point here must fail at once, not after the next change.
        if response.headers.get(instance.INSTANCE_HEADER, "").strip() == instance.ID:
            raise SourceError(
                f"{brief_url(url)} is this radiator itself (a loop): point the radiator "
                "source at another radiator's serve address"
            )
        if response.not_modified and self._last is not None:
            return self._with_mode(self._last)
        # Forget the last result first: if this body cannot be read, a 304 for it must read
        # it again (and fail again), not bring back data older than the broken answer.
        self._last = None
        doc = _document(response, url)
        via = doc.get("via")
        if isinstance(via, list):
            if instance.ID in via:
                raise SourceError(
                    f"{brief_url(url)} shows this radiator's own data back (a loop through "
                    "another radiator): remove one of the two radiator sources"
                )
            instance.UPSTREAM.update(v for v in via[: instance.MAX_VIA] if isinstance(v, str))
        engine = doc.get("engine")
        if isinstance(engine, dict) and engine.get("running") is False:
            # Its last document is kept for the record, but nothing in it is current any more.
            why = engine.get("error")
            said = f": {clean_text(why, 160)}" if isinstance(why, str) and why.strip() else ""
            raise SourceError(f"the radiator at {brief_url(url)} has its engine stopped{said}")
        result = Reading(self.name, tuple(self.config.only)).read(doc)
        self._last = result
        return self._with_mode(result)

    def _with_mode(self, result: SourceResult) -> SourceResult:
        """The summary says how news arrives: pushed by the server, or polled. The same object
        for the same answer read the same way (a 304 changes nothing downstream)."""
        shown = self._shown
        if shown is not None and shown[0] is result and shown[1] == self._pushed:
            return shown[2]
        mode = "news pushed by the server" if self._pushed else "polled (the server does not push)"
        moded = result.model_copy(update={"summary": f"{result.summary}; {mode}".lstrip("; ")})
        self._shown = (result, self._pushed, moded)
        return moded

    def _headers(self) -> dict[str, str]:
        # Ask the server to hold a request that has this snapshot (If-None-Match) until the
        # next one: news arrives the moment it is published. A server that does not know the
        # preference answers at once, and the source polls on its interval as before.
        return {**super()._headers(), "Prefer": f"wait={self.wait}"}


def _document(response: Response, url: str) -> dict[str, Any]:
    """The body as a snapshot document, or ``BadPayload`` naming the URL."""
    shown = brief_url(url)
    try:
        doc = response.json()
    except BadPayload as exc:
        message = exc.message if shown in exc.message else f"{shown} {exc.message}"
        raise BadPayload(message) from None
    if not isinstance(doc, dict):
        raise BadPayload(
            f"unexpected payload from {shown}: not a radiator snapshot "
            f"(a JSON {_json_kind(doc)}, expected an object)"
        )
    schema = doc.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise BadPayload(
            f"unexpected payload from {shown}: not a radiator snapshot "
            "(no schema number; is it a buildradiator serve address?)"
        )
    for section in SECTIONS:
        value = doc.get(section)
        if value is not None and not isinstance(value, list):
            raise BadPayload(
                f"unexpected payload from {shown}: "
                f"{section} is a JSON {_json_kind(value)}, expected a list"
            )
    return doc


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null"


__all__ = ["RadiatorFeed", "snapshot_url"]
