"""Reading another radiator's snapshot document into a ``SourceResult``: forgiving entry by entry
(an entry that does not match is skipped and counted), strict about what is not a snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from pydantic import ValidationError

from buildradiator.document import (
    SCHEMA_VERSION,
    BuildDoc,
    FlakyTestDoc,
    PipelineDoc,
    RunDoc,
    SourceDoc,
)
from buildradiator.fmt import plural
from buildradiator.model import (
    Blocker,
    Build,
    DeliveryFact,
    Deployment,
    DeployState,
    Freshness,
    Health,
    Pipeline,
    ReportedFlake,
    ServiceCheck,
    SourceResult,
    SourceState,
    Status,
)
from buildradiator.model.snapshot import part_name
from buildradiator.sources.base import parse_iso, safe_url
from buildradiator.sources.radiator.fields import (
    IDENT,
    OBJECT,
    TEXT,
    ModelT,
    delivery_fact,
    enum_of,
    ident,
    read_as,
    seconds_of,
    stages_of,
    status_of,
    text_of,
)
from buildradiator.text import clean_text

_T = TypeVar("_T")
_M = TypeVar("_M")


@dataclass
class Reading:
    """One document read into one ``SourceResult``: counts what it had to skip."""

    name: str
    """This source's config name: the ``source`` of everything it produces."""
    only: tuple[str, ...]
    skipped: int = 0
    pipeline_keys: dict[str, list[str]] = field(default_factory=dict)
    """Remote pipeline key -> our keys, to point a deployment's ``pipeline`` at ours."""

    def read(self, doc: dict[str, Any]) -> SourceResult:
        pipelines = self._pipelines(doc.get("pipelines") or [])
        services = self._each(doc.get("services"), OBJECT.validate_python, self._service)
        deployments = self._each(doc.get("deployments"), OBJECT.validate_python, self._deployment)
        blockers = self._each(doc.get("blockers"), OBJECT.validate_python, self._blocker)
        flakes = self._each(doc.get("flaky_tests"), FlakyTestDoc.model_validate, self._flake)
        sources = self._each(doc.get("sources"), SourceDoc.model_validate, self._source)
        parts = tuple(self._part_state(s) for s in sources)
        delivery, delivery_at = self._delivery(doc.get("delivery"))
        result = SourceResult(
            pipelines=tuple(pipelines),
            services=tuple(services),
            deployments=tuple(deployments),
            blockers=tuple(blockers),
            flaky_reports=tuple(flakes),
            parts=parts,
            delivery=delivery,
            delivery_at=delivery_at,
        )
        return result.model_copy(update={"summary": self._summary(result, sources, doc)})

    # -- helpers -------------------------------------------------------------------------------

    def part(self, remote_source: str) -> str:
        """The name a source of the other radiator has here: ``central/gh``. Its items carry
        it, and it is a source of the snapshot, as fresh as that radiator says."""
        return part_name(self.name, ident(remote_source))

    def wanted(self, remote_source: str) -> bool:
        return not self.only or any(fnmatchcase(remote_source, p) for p in self.only)

    def _each(
        self,
        entries: Any,
        shape: Callable[[Any], _M],
        convert: Callable[[_M], _T | None],
    ) -> list[_T]:
        """The entries read by ``shape`` (a reading model's, or ``OBJECT``'s for the entries
        ``convert`` reads with ``read_as``) and converted; ``None`` is an entry not wanted."""
        out: list[_T] = []
        for raw in entries or ():
            try:
                converted = convert(shape(raw))
            except ValidationError:
                # One entry that does not fit costs that entry, not the document.
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
            key = f"{ident(doc.source)}:{ident(doc.key)}"
            if key in seen:
                # Keys must be unique within a source; a repeat is a broken document.
                self.skipped += 1
                continue
            seen.add(key)
            self.pipeline_keys.setdefault(ident(doc.key), []).append(key)
            part = self.part(doc.source)
            if doc.recent is None:
                recent, in_flight = self._last_only(doc, part, key)
            else:
                recent = self._builds(doc.recent, part, key, flying=False)
                in_flight = self._builds(doc.in_flight or [], part, key, flying=True)
            out.append(
                Pipeline(
                    source=self.part(doc.source),
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

    def _builds(self, entries: Iterable[Any], part: str, key: str, *, flying: bool) -> list[Build]:
        docs = (self._parse(BuildDoc, raw) for raw in entries)
        return [self._build(doc, part, key, flying=flying) for doc in docs if doc is not None]

    def _build(self, doc: BuildDoc, part: str, key: str, *, flying: bool) -> Build:
        status, word = status_of(doc.status, doc.provider_status, flying)
        return Build(
            source=part,
            pipeline=key,
            id=ident(str(doc.id)),
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
            estimated_seconds=seconds_of(doc.estimated_seconds),
            stages=() if flying else stages_of(doc.stages),
        )

    def _last_only(self, doc: PipelineDoc, part: str, key: str) -> tuple[list[Build], list[Build]]:
        """A document without builds (an older radiator): the last result it names (its run
        fields, read as a build's), and a build in flight when it says one runs."""
        recent: list[Build] = []
        if doc.status is not None:
            run = doc.model_dump(include=set(RunDoc.model_fields))
            last = BuildDoc.model_validate({**run, "id": "last", "branch": doc.branch})
            recent.append(self._build(last, part, key, flying=False))
        flying = [Build(source=part, pipeline=key, id="running", status=Status.RUNNING)]
        return recent, flying if doc.running else []

    # -- production, blockers, flaky tests, the remote's own sources ---------------------------

    def _service(self, raw: dict[str, Any]) -> ServiceCheck | None:
        remote = TEXT.validate_python(raw.get("source"))
        if not self.wanted(remote):
            return None
        # The export writes the service name even where it is the check's own name.
        name, service, kind = raw.get("name"), text_of(raw.get("service")), text_of(raw.get("kind"))
        return read_as(
            ServiceCheck,
            raw,
            source=self.part(remote),
            health=enum_of(Health, text_of(raw.get("health")), Health.UNKNOWN),
            service=service if service and service != name else None,
            kind=clean_text(kind, 40) if kind else "health",
            url=safe_url(text_of(raw.get("url"))),
            unit=clean_text(unit, 40) if (unit := text_of(raw.get("unit"))) else None,
        )

    def _deployment(self, raw: dict[str, Any]) -> Deployment | None:
        remote = TEXT.validate_python(raw.get("source"))
        if not self.wanted(remote):
            return None
        given, repo = raw.get("id"), text_of(raw.get("repo"))
        return read_as(
            Deployment,
            raw,
            source=self.part(remote),
            id=ident(str(given)) if isinstance(given, str | int) else None,
            state=enum_of(DeployState, text_of(raw.get("state")), DeployState.UNKNOWN),
            url=safe_url(text_of(raw.get("url"))),
            repo=ident(repo) if repo else None,
            pipeline=self._our_key(text_of(raw.get("pipeline"))),
        )

    def _our_key(self, remote_key: str | None) -> str | None:
        """The remote's pipeline key as ours, when exactly one of its pipelines has it: this
        radiator's drift check finds the pipeline by key."""
        if not remote_key:
            return None
        ours = self.pipeline_keys.get(ident(remote_key), [])
        return ours[0] if len(ours) == 1 else ident(remote_key)

    def _blocker(self, raw: dict[str, Any]) -> Blocker | None:
        remote = TEXT.validate_python(raw.get("source"))
        if not self.wanted(remote):
            return None
        given = IDENT.validate_python(raw.get("id"))
        return read_as(
            Blocker,
            raw,
            source=self.part(remote),
            id=ident(str(given)),
            url=safe_url(text_of(raw.get("url"))),
        )

    def _flake(self, doc: FlakyTestDoc) -> ReportedFlake | None:
        # ``pipelines`` name ``source:key`` on the remote: the very keys our pipelines have.
        where = [ident(p) for p in doc.pipelines or () if isinstance(p, str)]
        if self.only:
            where = [p for p in where if self.wanted(p.split(":", 1)[0])]
            if not where:
                return None
        return ReportedFlake(
            source=self.part(where[0].split(":", 1)[0]) if where else self.name,
            pipeline=where[0] if where else "",
            classname=doc.classname or "",
            name=doc.name,
            times_flaked=max(1, doc.times_flaked),
            first_seen=parse_iso(doc.first_seen),
            last_seen=parse_iso(doc.last_seen),
        )

    def _delivery(self, section: Any) -> tuple[tuple[DeliveryFact, ...], datetime | None]:
        """The remote's delivery measures and when it computed them. They speak for its whole
        estate: none when ``only`` keeps a part of it."""
        if self.only or not isinstance(section, dict):
            return (), None
        facts = self._each(section.get("facts"), OBJECT.validate_python, delivery_fact)
        at = section.get("computed_at")
        return tuple(facts), parse_iso(at) if isinstance(at, str) else None

    def _source(self, doc: SourceDoc) -> SourceDoc | None:
        return doc if self.wanted(doc.name) else None

    def _part_state(self, doc: SourceDoc) -> SourceState:
        """One of the other radiator's sources as it says it is doing: stale there is stale
        here (an older radiator's document has only ``ok`` and ``stale``)."""
        fresh = doc.ok and not doc.stale
        freshness = enum_of(Freshness, doc.freshness, Freshness.FRESH if fresh else Freshness.STALE)
        if freshness is Freshness.FRESH and not fresh:
            freshness = Freshness.STALE
        return SourceState(
            name=self.part(doc.name),
            type=clean_text(doc.type or "?", 40),
            last_success=parse_iso(doc.last_success),
            error=clean_text(doc.error, 300) if doc.error else None,
            error_kind=clean_text(doc.error_kind, 40) if doc.error_kind else None,
            stale=freshness is not Freshness.FRESH,
            freshness=freshness,
        )

    # -- words ---------------------------------------------------------------------------------

    def _summary(self, result: SourceResult, sources: list[SourceDoc], doc: dict[str, Any]) -> str:
        running = sum(len(p.in_flight) for p in result.pipelines)
        text = plural(len(result.pipelines), "pipeline")
        if running:
            text += f" ({running} in flight)"
        for items, word in (
            (result.services, "service check"),
            (result.deployments, "deployment"),
            (result.blockers, "blocker"),
            (result.flaky_reports, "flaky test"),
        ):
            if items:
                text += f", {plural(len(items), word)}"
        if self.only:
            text += f" from {plural(len(sources), 'source')} matching only"
        stale = [clean_text(s.name, 60) for s in sources if s.stale or not s.ok]
        if stale:
            text += f"; {len(stale)} of its {len(sources)} sources stale: {', '.join(stale)}"
        if self.skipped:
            text += f"; {plural(self.skipped, 'unreadable entry', 'unreadable entries')} skipped"
        schema = doc["schema"]
        if schema > SCHEMA_VERSION:
            text += (
                f"; its snapshot schema {schema} is newer than this radiator's "
                f"({SCHEMA_VERSION}): read what it could, upgrade to see the rest"
            )
        return text
