"""Who this radiator process is, so one radiator can tell when a ``radiator`` source points at
itself (a loop that would only ever echo its own data)."""

from __future__ import annotations

import uuid

ID = uuid.uuid4().hex
"""Random per process; sent by ``serve`` in ``INSTANCE_HEADER`` on every answer."""
INSTANCE_HEADER = "X-Buildradiator-Instance"
