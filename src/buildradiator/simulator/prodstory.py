"""The production half of the demo's script, shared by the simulated Argo CD, GitHub
Deployments, Alertmanager, Prometheus and issue trackers so they tell one story.

In script seconds of the 300 s loop (see ``scenario.py``):

- ``payments`` (Argo CD): a sync rolls out a new revision from 70 to 95; its health check
  (``simulator/health.py``) then answers 500 from 100 to 160: a suspect deploy.
- Alertmanager: ``PaymentsHighErrorRate`` (critical, service=payments) fires 105-165;
  ``SearchLatencyHigh`` (warning, service=search) fires 172-232; ``DiskWillFillIn4Hours``
  (critical) is silenced the whole loop; ``WatchdogMissing`` has no service label, 0-300.
- Prometheus: payments' 5xx share is 0.002, 0.034 from 100 to 160, 0.007 from 160 to 175.
- GitHub Deployments of ``acme/monolith``: production deploys main's head of the moment from 20
  (in_progress) to 40 (success); main then runs ahead of it (Mallory's commit at ~38 and the
  rest). staging deploys from 200 and fails at 215.
- Release blocker: issue "Checkout returns 500 for EUR carts" (label ``release-blocker``) is
  open from 120 to 220.
"""

from __future__ import annotations

import hashlib

PAYMENTS_SYNC = (70.0, 95.0)
PAYMENTS_HEALTH_FAILS = (100.0, 160.0)
ALERT_PAYMENTS = (105.0, 165.0)
ALERT_SEARCH = (172.0, 232.0)
ERROR_RATE_HIGH = (100.0, 160.0)
ERROR_RATE_WARN = (160.0, 175.0)
PROD_DEPLOY = (20.0, 40.0)
STAGING_DEPLOY = (200.0, 215.0)
BLOCKER_OPEN = (120.0, 220.0)
BLOCKER_TITLE = "Checkout returns 500 for EUR carts"
BLOCKER_LABEL = "release-blocker"


def within(script_t: float, span: tuple[float, float]) -> bool:
    return span[0] <= script_t < span[1]


def revision(service: str, loop: int) -> str:
    """The 40-hex commit that ``service`` deploys in ``loop`` (stable, distinct per loop)."""
    return hashlib.sha1(f"{service}:{loop}".encode()).hexdigest()  # noqa: S324 - not security


def payments_error_rate(script_t: float) -> float:
    if within(script_t, ERROR_RATE_HIGH):
        return 0.034
    if within(script_t, ERROR_RATE_WARN):
        return 0.007
    return 0.002
