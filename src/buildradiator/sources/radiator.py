"""Another radiator's ``/snapshot.json`` (``buildradiator serve``), turned back into pipelines,
services, deployments, blockers and flaky tests, so a terminal or a team's radiator shows what a
central one collects without polling the CI APIs itself (one engine's quota for every screen).

The document is ``document.snapshot_doc`` (the contract of ``status --json``), read with the
reading models defined beside it: one request per poll, conditional on the ETag ``serve`` sends,
so an unchanged snapshot costs a 304 and this source hands back its last result without reading
anything again.

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

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ValidationError

from buildradiator import instance
from buildradiator.document import (
    SCHEMA_VERSION,
    SECTIONS,
    BlockerDoc,
    BuildDoc,
    DeploymentDoc,
    FlakyTestDoc,
    PipelineDoc,
    ServiceDoc,
    SourceDoc,
)
from buildradiator.errors import AuthFailed, BadPayload, NotFound, SourceError
from buildradiator.model import (
    Blocker,
    Build,
    Deployment,
    DeployState,
    Health,
    Pipeline,
    ReportedFlake,
    ServiceCheck,
    SourceResult,
    Status,
)
from buildradiator.sources.base import Source, parse_iso, safe_url
from buildradiator.sources.configs import RadiatorFeedSource
from buildradiator.sources.http import HttpClient, Response, brief_url
from buildradiator.text import clean_text

SNAPSHOT_PATH = "/snapshot.json"
KEY_TEXT = 300
"""Longest remote source name or key kept (they become part of our keys)."""

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


class RadiatorFeed(Source[RadiatorFeedSource]):
    """One other radiator's snapshot, all of its sources or those ``only`` names."""

    type: ClassVar[str] = "radiator"

    def __init__(self, config: RadiatorFeedSource, http: HttpClient) -> None:
        super().__init__(config, http)
        self._last: SourceResult | None = None

    async def poll(self) -> SourceResult:
        url = snapshot_url(self.config.url)
        response = await self._get(url)
        # Checked on every answer, a 304 too (its headers are those of the answer it repeats):
        # a config edited to point here must fail at once, not after the next change.
        if response.headers.get(instance.INSTANCE_HEADER, "").strip() == instance.ID:
            raise SourceError(
                f"{brief_url(url)} is this radiator itself (a loop): point the radiator "
                "source at another radiator's serve address"
            )
        if response.not_modified and self._last is not None:
            return self._last
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
        result = _Reading(self.name, tuple(self.config.only)).read(doc)
        self._last = result
        return result

    async def _get(self, url: str) -> Response:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        where = f"the radiator at {self._host}"
        try:
            # 401 and 404 come back as answers so that the message can say which radiator and
            # where the token came from; a 403 may be a rate limit, which only HttpClient tells.
            response = await self.http.get(
                url,
                headers=headers,
                timeout=self.config.timeout,
                conditional=True,
                verify_ok=(200, 401, 404),
            )
        except AuthFailed:
            raise AuthFailed(
                f"{where} denied access (HTTP 403)"
                + ("" if self.token else ": it may want a token (token_env)")
            ) from None
        if response.status_code == 401:
            if self.token is None:
                raise AuthFailed(
                    f"{where} wants a token (HTTP 401): set token_env, token_file or "
                    "token_command to the token its serve expects"
                )
            raise AuthFailed(
                f"{where} refused the token from {self._token_origin} (HTTP 401): wrong or changed"
            )
        if response.status_code == 404:
            raise NotFound(
                f"snapshot not found (HTTP 404) at {brief_url(url)}: "
                "is it a buildradiator serve address?"
            )
        return response


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


@dataclass
class _Reading:
    """One document read into one ``SourceResult``: counts what it had to skip."""

    name: str
    """This source's config name: the ``source`` of everything it produces."""
    only: tuple[str, ...]
    skipped: int = 0
    pipeline_keys: dict[str, list[str]] = field(default_factory=dict)
    """Remote pipeline key -> our keys, to point a deployment's ``pipeline`` at ours."""

    def read(self, doc: dict[str, Any]) -> SourceResult:
        pipelines = self._pipelines(doc.get("pipelines") or [])
        services = self._each(doc.get("services"), ServiceDoc, self._service)
        deployments = self._each(doc.get("deployments"), DeploymentDoc, self._deployment)
        blockers = self._each(doc.get("blockers"), BlockerDoc, self._blocker)
        flakes = self._each(doc.get("flaky_tests"), FlakyTestDoc, self._flake)
        sources = self._each(doc.get("sources"), SourceDoc, self._source)
        result = SourceResult(
            pipelines=tuple(pipelines),
            services=tuple(services),
            deployments=tuple(deployments),
            blockers=tuple(blockers),
            flaky_reports=tuple(flakes),
        )
        return result.model_copy(update={"summary": self._summary(result, sources, doc)})

    # -- helpers -------------------------------------------------------------------------------

    def wanted(self, remote_source: str) -> bool:
        return not self.only or any(fnmatchcase(remote_source, p) for p in self.only)

    def _each(
        self,
        entries: Any,
        model: type[ModelT],
        convert: Callable[[ModelT], _T | None],
    ) -> list[_T]:
        out: list[_T] = []
        for raw in entries or ():
            parsed = self._parse(model, raw)
            if parsed is None:
                continue
            try:
                converted = convert(parsed)
            except ValidationError:
                # A value the document's shape allows but the model does not.
                self.skipped += 1
                continue
            if converted is not None:
                out.append(converted)
        return out

    def _parse(self, model: type[ModelT], raw: Any) -> ModelT | None:
        try:
            return model.model_validate(raw)
        except ValidationError:
            # One entry that does not match the shape costs that entry, not the document.
            self.skipped += 1
            return None

    # -- pipelines and builds ------------------------------------------------------------------

    def _pipelines(self, entries: Iterable[Any]) -> list[Pipeline]:
        out: list[Pipeline] = []
        seen: set[str] = set()
        for raw in entries:
            doc = self._parse(PipelineDoc, raw)
            if doc is None or not self.wanted(doc.source):
                continue
            key = f"{_ident(doc.source)}:{_ident(doc.key)}"
            if key in seen:
                # Keys must be unique within a source; a repeat is a broken document.
                self.skipped += 1
                continue
            seen.add(key)
            self.pipeline_keys.setdefault(_ident(doc.key), []).append(key)
            if doc.recent is None:
                recent, in_flight = self._last_only(doc, key)
            else:
                recent = self._builds(doc.recent, key, flying=False)
                in_flight = self._builds(doc.in_flight or [], key, flying=True)
            out.append(
                Pipeline(
                    source=self.name,
                    key=key,
                    name=doc.name or doc.key,
                    branch=doc.branch,
                    url=safe_url(doc.url),
                    group=(clean_text(doc.group, 100) or None) if doc.group else None,
                    recent=tuple(recent),
                    in_flight=tuple(in_flight),
                )
            )
        return out

    def _builds(self, entries: Iterable[Any], key: str, *, flying: bool) -> list[Build]:
        out = []
        for raw in entries:
            doc = self._parse(BuildDoc, raw)
            if doc is None:
                continue
            status, word = _status(doc.status, doc.provider_status, flying)
            out.append(
                Build(
                    source=self.name,
                    pipeline=key,
                    id=_ident(str(doc.id)),
                    number=doc.number,
                    attempt=max(1, doc.attempt or 1),
                    branch=doc.branch,
                    status=status,
                    provider_status=word,
                    created_at=parse_iso(doc.created_at),
                    started_at=parse_iso(doc.started_at),
                    finished_at=parse_iso(doc.finished_at),
                    commit=doc.commit,
                    author=doc.author,
                    message=doc.message,
                    url=safe_url(doc.url),
                    stage=doc.stage,
                    estimated_seconds=_seconds(doc.estimated_seconds),
                )
            )
        return out

    def _last_only(self, doc: PipelineDoc, key: str) -> tuple[list[Build], list[Build]]:
        """A document without builds (an older radiator): the last result it names, and a
        build in flight when it says one runs."""
        recent: list[Build] = []
        if doc.status is not None:
            status, word = _status(doc.status, doc.provider_status, False)
            recent.append(
                Build(
                    source=self.name,
                    pipeline=key,
                    id="last",
                    branch=doc.branch,
                    status=status,
                    provider_status=word,
                    started_at=parse_iso(doc.started_at),
                    finished_at=parse_iso(doc.finished_at),
                    commit=doc.commit,
                    author=doc.author,
                    message=doc.message,
                    url=safe_url(doc.url),
                )
            )
        flying = [Build(source=self.name, pipeline=key, id="running", status=Status.RUNNING)]
        return recent, flying if doc.running else []

    # -- production, blockers, flaky tests, the remote's own sources ---------------------------

    def _service(self, doc: ServiceDoc) -> ServiceCheck | None:
        if not self.wanted(doc.source):
            return None
        # The export writes the service name even where it is the check's own name.
        service = doc.service if doc.service and doc.service != doc.name else None
        return ServiceCheck(
            source=self.name,
            name=doc.name,
            environment=doc.environment,
            health=_enum(Health, doc.health, Health.UNKNOWN),
            service=service,
            kind=clean_text(doc.kind, 40) if doc.kind else "health",
            http_status=doc.http_status,
            latency_ms=_finite(doc.latency_ms),
            version=doc.version,
            detail=doc.detail,
            url=safe_url(doc.url),
            checked_at=parse_iso(doc.checked_at),
            since=parse_iso(doc.since),
            severity=doc.severity,
            muted=doc.muted,
            value=_finite(doc.value),
            unit=clean_text(doc.unit, 40) if doc.unit else None,
        )

    def _deployment(self, doc: DeploymentDoc) -> Deployment | None:
        if not self.wanted(doc.source):
            return None
        return Deployment(
            source=self.name,
            service=doc.service,
            environment=doc.environment,
            id=_ident(str(doc.id)) if doc.id is not None else None,
            state=_enum(DeployState, doc.state, DeployState.UNKNOWN),
            provider_state=doc.provider_state,
            revision=doc.revision,
            version=doc.version,
            deployed_at=parse_iso(doc.deployed_at),
            target_revision=doc.target_revision,
            started_at=parse_iso(doc.started_at),
            finished_at=parse_iso(doc.finished_at),
            author=doc.author,
            detail=doc.detail,
            url=safe_url(doc.url),
            repo=_ident(doc.repo) if doc.repo else None,
            pipeline=self._our_key(doc.pipeline),
            behind_by=doc.behind_by,
            oldest_undeployed_at=parse_iso(doc.oldest_undeployed_at),
            suspect=doc.suspect,
        )

    def _our_key(self, remote_key: str | None) -> str | None:
        """The remote's pipeline key as ours, when exactly one of its pipelines has it: this
        radiator's drift check finds the pipeline by key."""
        if not remote_key:
            return None
        ours = self.pipeline_keys.get(_ident(remote_key), [])
        return ours[0] if len(ours) == 1 else _ident(remote_key)

    def _blocker(self, doc: BlockerDoc) -> Blocker | None:
        if not self.wanted(doc.source):
            return None
        return Blocker(
            source=self.name,
            id=_ident(str(doc.id)),
            title=doc.title,
            url=safe_url(doc.url),
            opened_at=parse_iso(doc.opened_at),
            author=doc.author,
        )

    def _flake(self, doc: FlakyTestDoc) -> ReportedFlake | None:
        # ``pipelines`` name ``source:key`` on the remote: the very keys our pipelines have.
        where = [_ident(p) for p in doc.pipelines or () if isinstance(p, str)]
        if self.only:
            where = [p for p in where if self.wanted(p.split(":", 1)[0])]
            if not where:
                return None
        return ReportedFlake(
            source=self.name,
            pipeline=where[0] if where else "",
            classname=doc.classname or "",
            name=doc.name,
            times_flaked=max(1, doc.times_flaked),
            first_seen=parse_iso(doc.first_seen),
            last_seen=parse_iso(doc.last_seen),
        )

    def _source(self, doc: SourceDoc) -> SourceDoc | None:
        return doc if self.wanted(doc.name) else None

    # -- words ---------------------------------------------------------------------------------

    def _summary(self, result: SourceResult, sources: list[SourceDoc], doc: dict[str, Any]) -> str:
        running = sum(len(p.in_flight) for p in result.pipelines)
        text = _count(len(result.pipelines), "pipeline")
        if running:
            text += f" ({running} in flight)"
        for items, word in (
            (result.services, "service check"),
            (result.deployments, "deployment"),
            (result.blockers, "blocker"),
            (result.flaky_reports, "flaky test"),
        ):
            if items:
                text += f", {_count(len(items), word)}"
        if self.only:
            text += f" from {_count(len(sources), 'source')} matching only"
        stale = [clean_text(s.name, 60) for s in sources if s.stale or not s.ok]
        if stale:
            text += f"; {len(stale)} of its {len(sources)} sources stale: {', '.join(stale)}"
        if self.skipped:
            text += f"; {_count(self.skipped, 'unreadable entry', 'unreadable entries')} skipped"
        schema = doc["schema"]
        if schema > SCHEMA_VERSION:
            text += (
                f"; its snapshot schema {schema} is newer than this radiator's "
                f"({SCHEMA_VERSION}): read what it could, upgrade to see the rest"
            )
        return text


def _status(word: str | None, provider: str | None, flying: bool) -> tuple[Status, str | None]:
    """Our status for a build doc's word; an unknown word is kept in ``provider_status`` so
    it stays visible, and read as the safe guess (unknown, or queued while in flight)."""
    fallback = Status.QUEUED if flying else Status.UNKNOWN
    status = _enum(Status, word, fallback)
    if status is fallback and word and word.strip().lower() != fallback.value:
        return status, provider or word
    return status, provider


_E = TypeVar("_E", Status, Health, DeployState)


def _enum(kind: type[_E], word: str | None, fallback: _E) -> _E:
    try:
        return kind((word or "").strip().lower())
    except ValueError:
        return fallback


def _ident(value: str) -> str:
    """A remote name or key made safe to show (it becomes part of ours)."""
    return clean_text(value, KEY_TEXT)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _seconds(value: float | None) -> float | None:
    value = _finite(value)
    return value if value is not None and value > 0 else None


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


__all__ = ["RadiatorFeed", "snapshot_url"]
