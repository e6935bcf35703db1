"""What every provider's payload models share: the base model, lenient field types, the epoch.

A payload model names only the fields a source reads and ignores the rest (``extra="ignore"``),
so an API that adds fields never breaks a poll. The lenient types turn a value of the wrong type
into ``None`` ("unknown") instead of failing the whole answer: a proxy or a plugin that sends a
number as a string, or garbage, costs one field, not the source.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The sort key of a build without a time: older than any real one."""


class Payload(BaseModel):
    """Base of every payload model: unknown fields ignored, fields filled by name or alias."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def number(value: Any) -> Any:
    """A finite number, from a number or a numeric string; anything else is ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def text(value: Any) -> Any:
    """A string as is; anything else is ``None``."""
    return value if isinstance(value, str) else None


_MAX_COUNT = 2**53
"""Above this no build, run or id number is real, and it would not fit the history's integers."""


def count(value: Any) -> Any:
    """A whole number in ``0 .. 2**53`` from an int, an integral float or a digit string (a
    proxy or an old server may quote ids); anything else is ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) < 19 else None
    if isinstance(value, int) and 0 <= value < _MAX_COUNT:
        return value
    return None


def tally(value: Any) -> Any:
    """A count of events (times a test flaked) from a finite, non-negative number, its fraction
    dropped (``2.5`` is 2: a server's average or rounding, still a count); anything else, a
    numeric string too, is ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return int(value)


def flag(value: Any) -> Any:
    """A boolean as is; anything else is ``None``."""
    return value if isinstance(value, bool) else None


def an_object(value: Any) -> Any:
    """A nested object as is; one that arrives as a string, a number or a list says nothing we
    can read: ``None``."""
    return value if isinstance(value, dict) else None


def listed_objects(value: Any) -> Any:
    """The list of an envelope, its items that are objects. The list itself must be one: a
    string or an object there is another document (a proxy's, a login page's JSON), and "no
    builds" would be a lie, so it fails the answer."""
    if not isinstance(value, list):
        raise ValueError("not a list")
    return [item for item in value if isinstance(item, dict)]


Stamp = Annotated[str | None, BeforeValidator(text)]
"""A timestamp field of a payload model: a string, or None for anything else (a timestamp of
the wrong type is as useless as a garbage one: None, not a failed poll)."""
Number = Annotated[float | None, BeforeValidator(number)]
"""A numeric field that is ``None`` when the server sends anything but a finite number."""
Text = Annotated[str | None, BeforeValidator(text)]
"""A text field that is ``None`` when the server sends anything but a string."""
Count = Annotated[int | None, BeforeValidator(count)]
"""A whole-number field (a number of builds, an id): ``None`` when it is not one."""
Tally = Annotated[int | None, BeforeValidator(tally)]
"""A count of events (``tally``): ``None`` when it is not a non-negative number."""
Flag = Annotated[bool | None, BeforeValidator(flag)]
"""A yes/no field that is ``None`` when the server sends anything but a boolean."""

T = TypeVar("T")

Nested = Annotated[T | None, BeforeValidator(an_object)]
"""A nested object field (``Nested[Commit]``): ``None`` when the server sends anything but an
object there."""
Listed = Annotated[list[T], BeforeValidator(listed_objects)]
"""The list of an envelope (``Listed[BuildPayload]``): its items that are objects; anything but a
list fails the answer (see ``listed_objects``)."""
