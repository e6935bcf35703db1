"""Who this radiator process is, so one radiator can tell when a ``radiator`` source points at
itself (a loop that would only ever echo its own data)."""

from __future__ import annotations

import uuid

ID = uuid.uuid4().hex
"""Random per process; sent by ``serve`` in ``INSTANCE_HEADER`` on every answer."""
INSTANCE_HEADER = "X-Buildradiator-Instance"

UPSTREAM: set[str] = set()
"""The instances whose data this radiator shows (via its ``radiator`` sources), and theirs."""
MAX_VIA = 100


def via() -> list[str]:
    """Every radiator the data in this one's snapshot passed through, this one included: a
    radiator that finds its own id here is reading its own data back (A -> B -> A)."""
    return sorted({ID} | UPSTREAM)[:MAX_VIA]
