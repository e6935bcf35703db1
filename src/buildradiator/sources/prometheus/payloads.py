"""Prometheus' answer to an instant query (``/api/v1/query``): only the fields we read."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from buildradiator.sources.payload import Payload


class QueryData(Payload):
    result_type: str | None = Field(default=None, alias="resultType")
    result: Any = None
    """A list of series (vector, matrix) or one ``[ts, "value"]`` pair (scalar, string)."""


class QueryAnswer(Payload):
    status: str | None = None
    data: QueryData | None = None
    error_type: str | None = Field(default=None, alias="errorType")
    error: str | None = None
    warnings: list[Any] | None = None


class Series(Payload):
    metric: dict[str, Any] | None = None
    value: Any = None
    histogram: Any = None
    """A native histogram sample, sent instead of ``value``."""
