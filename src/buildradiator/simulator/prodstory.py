"""The production half of the demo's script, shared by the simulated Argo CD, GitHub
Deployments, Alertmanager, Prometheus and issue trackers so they tell one story.

In script seconds of the loop (``scenario.SCRIPT_SECONDS``; the moments to look at are named in
``moments.py``). Act 1 (0-300) is the headline, after main's red spell (38-131) and billing's
re-run (148-207), with nothing else broken meanwhile:

- ``payments`` (Argo CD): a sync rolls out this loop's revision from 190 to 212; its health
  check (``simulator/health.py``) answers 500 from 217 to 262: a suspect deploy, as loud as a
  red main. A fix is synced from 262 to 274 (a new revision, ``revision("payments-fix", loop)``)
  and the service is up again: the doubt goes with the suspect revision.
- Alertmanager: ``PaymentsHighErrorRate`` (critical, service=payments) fires 222-267;
  ``SearchLatencyHigh`` (warning, service=search) fires 442-502 (act 2); ``DiskWillFillIn4Hours``
  (critical) is silenced the whole loop; ``WatchdogMissing`` has no service label, all along.
- Prometheus: payments' 5xx share is 0.002, 0.034 from 217 to 262, 0.007 from 262 to 274.
- GitHub Deployments of ``acme/monolith``: production deploys main's head of the moment from 20
  (in_progress) to 40 (success); main then runs ahead of it (Mallory's commit at ~38 and the
  rest). staging deploys at 540 and fails at 555 (act 2).
- Release blocker: issue "Checkout returns 500 for EUR carts" (label ``release-blocker``) is
  open from 227 to 290.
"""

from __future__ import annotations

import hashlib

PAYMENTS_SYNC = (190.0, 212.0)
PAYMENTS_HEALTH_FAILS = (217.0, 262.0)
PAYMENTS_FIX = (262.0, 274.0)
"""The fix is synced once the failure is understood; live at its end."""
ALERT_PAYMENTS = (222.0, 267.0)
ALERT_SEARCH = (442.0, 502.0)
ERROR_RATE_HIGH = (217.0, 262.0)
ERROR_RATE_WARN = (262.0, 274.0)
PROD_DEPLOY = (20.0, 40.0)
STAGING_DEPLOY = (540.0, 555.0)
BLOCKER_OPEN = (227.0, 290.0)
BLOCKER_TITLE = "Checkout returns 500 for EUR carts"
BLOCKER_LABEL = "release-blocker"


def within(script_t: float, span: tuple[float, float]) -> bool:
    return span[0] <= script_t < span[1]


def revision(service: str, loop: int) -> str:
    """The 40-hex commit that ``service`` deploys in ``loop`` (stable, distinct per loop);
    ``payments-fix`` is the fix payments deploys after its loop's revision failed."""
    return hashlib.sha1(f"{service}:{loop}".encode()).hexdigest()  # noqa: S324 - not security


def payments_error_rate(script_t: float) -> float:
    if within(script_t, ERROR_RATE_HIGH):
        return 0.034
    if within(script_t, ERROR_RATE_WARN):
        return 0.007
    return 0.002
