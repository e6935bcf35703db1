"""What every provider's payload models share: the base model, lenient field types, the epoch.

A payload model names only the fields a source reads and ignores the rest (``extra="ignore"``),
so an API that adds fields never breaks a poll. The lenient types turn a value of the wrong type
into ``None`` ("unknown") instead of failing the whole answer: a proxy or a plugin that sends a
number as a string, or garbage, costs one field, not the source.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

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


def _str_or_none(value: Any) -> Any:
    # A timestamp of the wrong type is as useless as a garbage one: None, not a failed poll.
    return value if isinstance(value, str) else None


Stamp = Annotated[str | None, BeforeValidator(_str_or_none)]
"""A timestamp field of a payload model: a string, or None for anything else."""
Number = Annotated[float | None, BeforeValidator(number)]
"""A numeric field that is ``None`` when the server sends anything but a finite number."""
Text = Annotated[str | None, BeforeValidator(text)]
"""A text field that is ``None`` when the server sends anything but a string."""
