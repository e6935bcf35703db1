"""One entry of another radiator's document, field by field: forgiving where the document may
differ (an older or newer radiator, a hand-made one), never trusting a name or a number."""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from typing import Any, TypeVar, get_args

from pydantic import AwareDatetime, BaseModel, TypeAdapter, ValidationError

from buildradiator.model import DeliveryFact, DeployState, Freshness, Health, StageTime, Status
from buildradiator.model.facts import BAND_RANK, TRENDS, UNIT_OF
from buildradiator.sources.base import parse_iso
from buildradiator.sources.stages import MAX_STAGES
from buildradiator.text import clean_text

KEY_TEXT = 300
"""Longest remote source name or key kept (they become part of our keys)."""
ModelT = TypeVar("ModelT", bound=BaseModel)


def delivery_fact(raw: dict[str, Any]) -> DeliveryFact:
    """One measure as ``DeliveryFact`` (the type it was written from). Its key and unit must be
    ones this radiator knows: they name metric families and say how to show the value. A band
    or trend it does not know is none; a number that is not finite is unknown."""
    fact = _FACT.validate_python({k: lenient(v, False) for k, v in raw.items()})
    if UNIT_OF.get(fact.key) != fact.unit or not 0 <= fact.window_days <= 366:
        raise ValidationError.from_exception_data("DeliveryFact", [])
    return dataclasses.replace(
        fact,
        band=fact.band if fact.band in BAND_RANK else None,
        trend=fact.trend if fact.trend in TRENDS else None,
        samples=max(0, fact.samples),
    )


def status_of(word: str | None, provider: str | None, flying: bool) -> tuple[Status, str | None]:
    """Our status for a build doc's word; an unknown word is kept in ``provider_status`` so
    it stays visible, and read as the safe guess (unknown, or queued while in flight)."""
    fallback = Status.QUEUED if flying else Status.UNKNOWN
    status = enum_of(Status, word, fallback)
    if status is fallback and word and word.strip().lower() != fallback.value:
        return status, provider or word
    return status, provider


_E = TypeVar("_E", Status, Health, DeployState, Freshness)


def enum_of(kind: type[_E], word: str | None, fallback: _E) -> _E:
    try:
        return kind((word or "").strip().lower())
    except ValueError:
        return fallback


def ident(value: str) -> str:
    """A remote name or key made safe to show (it becomes part of ours)."""
    return clean_text(value, KEY_TEXT)


TEXT = TypeAdapter(str)
"""Where the entry is nothing without it (its ``source``): a string, or the entry is skipped."""
IDENT = TypeAdapter(str | int)
_FACT = TypeAdapter(DeliveryFact)
OBJECT = TypeAdapter(dict[str, Any])
"""An entry read field by field (``read_as``): an object, or it is skipped."""


def read_as(model: type[ModelT], raw: dict[str, Any], **given: Any) -> ModelT:
    """An entry of the document read as the very model it was written from (``document``
    dumps a ``ServiceCheck``, a ``Deployment``, a ``Blocker``), so the document's shape is
    defined once, by the model. Only the model's fields are read; a time that does not parse
    and a number that is not finite are unknown, not a failed entry; ``given`` goes over what
    the document says. Raises ``ValidationError`` where a value does not fit the model."""
    moments = _moments(model)
    data = {
        key: lenient(value, key in moments)
        for key, value in raw.items()
        if key in model.model_fields
    }
    return model.model_validate({**data, **given})


@cache
def _moments(model: type[BaseModel]) -> frozenset[str]:
    """The model's fields that hold a time."""
    return frozenset(
        name
        for name, f in model.model_fields.items()
        if f.annotation is AwareDatetime or AwareDatetime in get_args(f.annotation)
    )


def lenient(value: Any, moment: bool) -> Any:
    if moment:
        return parse_iso(value) if isinstance(value, str) else None
    if isinstance(value, float):
        return finite(value)
    return value


def text_of(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def seconds_of(value: float | None) -> float | None:
    value = finite(value)
    return value if value is not None and value > 0 else None


def stages_of(entries: Any) -> tuple[StageTime, ...]:
    """A document's stages of one build; an entry that is not ``{"name", "seconds"}`` with a
    believable time is left out (the rest stand)."""
    out: list[StageTime] = []
    for entry in entries if isinstance(entries, list) else ():
        if len(out) >= MAX_STAGES or not isinstance(entry, dict):
            continue
        name, seconds = entry.get("name"), entry.get("seconds")
        if not isinstance(name, str) or isinstance(seconds, bool):
            continue
        try:
            out.append(StageTime(name=name, seconds=seconds))
        except ValidationError:
            continue
    return tuple(out)
