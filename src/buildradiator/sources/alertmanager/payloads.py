"""Alertmanager's alerts (API v2): lenient, because "missing or null" must never cost the whole
poll; only the fields we read."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from buildradiator.sources.payload import Payload, Stamp, Text


def _text_map(value: Any) -> dict[str, str]:
    """Labels/annotations as ``str -> str``; anything else (null, a list, nested objects) is
    reduced to what can be read. Real servers only send strings; proxies and fakes do not."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, str):
            out[str(key)] = item
        elif isinstance(item, int | float) and not isinstance(item, bool):
            out[str(key)] = str(item)
    return out


def _id_list(value: Any) -> list[str]:
    """``silencedBy``/``inhibitedBy``/``mutedBy``: ids as strings; null or junk is empty."""
    if not isinstance(value, list):
        return []
    return [str(item) for item in value if isinstance(item, str | int) and str(item)]


TextMap = Annotated[dict[str, str], BeforeValidator(_text_map)]
IdList = Annotated[list[str], BeforeValidator(_id_list)]


class AlertStatus(Payload):
    state: Text = None
    """``unprocessed``, ``active`` or ``suppressed``."""
    silencedBy: IdList = []
    inhibitedBy: IdList = []
    mutedBy: IdList = []
    """Alertmanager 0.25+: the time intervals muting it."""


def _status(value: Any) -> Any:
    return value if isinstance(value, dict) else {}


class AlertPayload(Payload):
    labels: TextMap = {}
    annotations: TextMap = {}
    startsAt: Stamp = None
    generatorURL: Text = None
    status: Annotated[AlertStatus, BeforeValidator(_status)] = AlertStatus()
