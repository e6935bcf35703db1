"""Another radiator's ``/snapshot.json`` (``buildradiator serve``): what a central radiator
collects, shown here without polling the CI APIs again.

``config`` holds its ``[[sources]]`` table, ``reading`` the forgiving reader of the document
(its shapes are ``buildradiator.document``'s, defined once), ``source`` the poll.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.radiator.config import RadiatorFeedSource

PROVIDER = Provider(
    "radiator", RadiatorFeedSource, "buildradiator.sources.radiator.source:RadiatorFeed"
)
