"""The ``[[sources]]`` table of a radiator feed (another radiator's snapshot)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from buildradiator.config.base import SourceBase, WebUrl


class RadiatorFeedSource(SourceBase):
    """Another radiator's ``/snapshot.json`` (``buildradiator serve``): show what a central
    radiator collects without polling the CI APIs again."""

    type: Literal["radiator"]
    url: WebUrl
    """The other radiator's address, e.g. ``http://radiator.internal:8686`` (``/snapshot.json``
    is appended unless the URL already names it)."""
    only: list[str] = Field(default_factory=list)
    """Only these of its sources (glob patterns over source names); default: all."""
