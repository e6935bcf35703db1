"""The snapshot's JSON document for scripts (``status --json``, ``serve``'s ``/snapshot.json``).

Its shape is defined once, in ``buildradiator.document``; the verdict it carries (``overall``)
is the rules' (``rules.verdict``). The exit code, the one-line summaries and the cache live in
``rules.verdict``, ``export.lines`` and ``export.cache``.
"""

from __future__ import annotations

from typing import Any

from buildradiator import document
from buildradiator.document import SCHEMA_VERSION
from buildradiator.model import Snapshot
from buildradiator.rules.verdict import all_green, answered, exit_code, not_current, overall

# Names that lived here before they moved (the schema to ``document``, the verdict to the rules),
# kept until their last importers (``ui.widgets.verdict``) import them from there.
__all__ = [
    "SCHEMA_VERSION",
    "all_green",
    "answered",
    "exit_code",
    "not_current",
    "overall",
    "snapshot_doc",
    "to_json",
]


def snapshot_doc(snapshot: Snapshot) -> dict[str, Any]:
    """The document of ``snapshot``, with the rules' verdict."""
    return document.snapshot_doc(snapshot, overall=overall(snapshot))


def to_json(snapshot: Snapshot) -> str:
    return document.to_json(snapshot, overall=overall(snapshot))
