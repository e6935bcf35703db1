"""Prometheus Alertmanager, API v2 (api-facts section 9): the alerts firing now.

One request per poll: ``GET {url}/api/v2/alerts?active=true&silenced=..&inhibited=..`` with one
``filter=<matcher>`` per configured matcher (Alertmanager ANDs them). Every alert listed becomes
one ``ServiceCheck(kind="alert")``, tied to a service by ``service_label``: ``down`` when its
``severity`` is one of ``down_severities``, else ``warn``. A firing alert is the *data* of this
source, never an error; errors are for the source itself (unreachable, credentials refused, a
matcher the server rejects, an answer that is not a list of alerts).

Silenced and inhibited alerts (``status.state == "suppressed"``) carry ``muted`` so the views
show them apart and the release gate never counts them; with ``muted = "hide"`` they are asked
away (``silenced=false&inhibited=false``) and dropped here as well, since a proxy or an old
server may ignore the flags.

The server's word on whether an alert fires is final: an alert whose ``endsAt`` lies in the past
is still listed as firing (Alertmanager itself drops resolved alerts from this list, so one that
is listed anyway means our clock and the server's disagree, and the server knows better).

Alertmanager has no rate-limit headers and sends no ETag, so requests are plain.
"""

from __future__ import annotations

import json
from datetime import datetime

from buildradiator.errors import AuthFailed, BadPayload, NotFound, SourceError
from buildradiator.model import Health, ServiceCheck, SourceResult
from buildradiator.sources.alertmanager import PROVIDER
from buildradiator.sources.alertmanager.config import AlertmanagerSource
from buildradiator.sources.alertmanager.payloads import AlertPayload, AlertStatus
from buildradiator.sources.base import Source, Words, parse_iso, parse_model, safe_url
from buildradiator.sources.http import Response, redact
from buildradiator.text import clean_text

UNNAMED = "unnamed alert"
NO_SERVICE = "no service label"
REASON_MAX = 200
"""Longest server reason quoted in an error (a 400's body): it must fit a status bar."""

# --- the source -------------------------------------------------------------------------------


class Alertmanager(Source[AlertmanagerSource]):
    """The alerts an Alertmanager lists as firing (and, apart, the muted ones)."""

    provider = PROVIDER
    status_words = {
        401: Words(
            AuthFailed,
            "{host} asked for credentials (HTTP 401): set token_env, token_file or "
            "token_command (and username for Basic auth)",
            "{host} refused the credentials from {origin} (HTTP 401): wrong, expired or revoked",
        ),
        403: Words(
            AuthFailed,
            "{host} denied access to {what} (HTTP 403): "
            "the credentials from {origin} lack permission",
        ),
        404: Words(
            NotFound,
            "Alertmanager API v2 not found at {path} (HTTP 404): "
            "url must be the Alertmanager root, without /api/v2",
        ),
    }

    @property
    def _alerts_url(self) -> str:
        return self.config.url.rstrip("/") + "/api/v2/alerts"

    async def poll(self) -> SourceResult:
        data = (await self._get_alerts()).json()
        if not isinstance(data, list):
            shape = "an object" if isinstance(data, dict) else f"a {type(data).__name__}"
            raise BadPayload(
                f"expected a list of alerts from {self._host}, got {shape} "
                f"(is url the Alertmanager root? {redact(self._alerts_url)})"
            )
        now = self.http.clock.now()
        checks: list[ServiceCheck] = []
        unreadable = 0
        for item in data:
            if not isinstance(item, dict):
                # One broken entry must not hide the alerts next to it.
                unreadable += 1
                continue
            check = self._check(parse_model(AlertPayload, item), now)
            if check.muted and self.config.muted == "hide":
                continue
            checks.append(check)
        if data and unreadable == len(data):
            # Not one alert object: this is not Alertmanager's list (a proxy's rewrite, another
            # API), and showing "0 firing" would claim all is quiet.
            raise BadPayload(
                f"unexpected payload from {self._host}: none of the {len(data)} entries "
                "is an alert object"
            )
        checks.sort(key=_order)
        checks += self._all_clear(checks, now)
        return SourceResult(services=tuple(checks), summary=self._summary(checks, unreadable))

    # -- the request ---------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        return self._basic_or_bearer(self.config.username)

    async def _get_alerts(self) -> Response:
        show = "true" if self.config.muted == "show" else "false"
        params: list[tuple[str, str]] = [
            ("active", "true"),
            ("silenced", show),
            ("inhibited", show),
        ]
        params += [("filter", m.strip()) for m in self.config.matchers]
        # A 400 (a matcher the server rejects) comes back as an answer: its body says why.
        response = await self._get(
            self._alerts_url, params, ok=(200, 400), conditional=False, what="the alerts"
        )
        if response.status_code == 400:
            raise SourceError(
                f"{self._host} rejected the matchers {self._matchers_words()} (HTTP 400)"
                + self._reason(response)
            )
        return response

    def _matchers_words(self) -> str:
        if not self.config.matchers:
            return "(none)"
        return ", ".join(clean_text(m, 120) for m in self.config.matchers)

    def _reason(self, response: Response) -> str:
        """The server's reason for a 400: a JSON string (``"bad matcher format: ..."``), an
        object with ``message``/``error``, or plain text. Never HTML, never our token."""
        text = response.text.strip()
        if not text or text.lower().startswith("<"):
            return ""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = text
        if isinstance(data, dict):
            data = data.get("message") or data.get("error") or ""
        if not isinstance(data, str):
            return ""
        reason = clean_text(self._without_secrets(data), REASON_MAX)
        return f": {reason}" if reason else ""

    # -- alerts into checks --------------------------------------------------------------------

    def _check(self, alert: AlertPayload, now: datetime) -> ServiceCheck:
        labels = alert.labels
        severity = labels.get("severity") or None
        down = {s.casefold() for s in self.config.down_severities}
        health = Health.DOWN if severity and severity.casefold() in down else Health.WARN
        service = labels.get(self.config.service_label) or self.config.service or None
        environment = labels.get(self.config.environment_label) or self.config.environment
        annotations = alert.annotations
        detail = annotations.get("summary") or annotations.get("description") or ""
        if service is None:
            detail = f"{detail} ({NO_SERVICE})" if detail else NO_SERVICE
        return ServiceCheck(
            source=self.name,
            kind="alert",
            name=labels.get("alertname") or UNNAMED,
            service=service,
            environment=environment or None,
            health=health,
            severity=severity,
            detail=detail or None,
            since=parse_iso(alert.startsAt),
            url=safe_url(alert.generatorURL),
            checked_at=now,
            muted=_muted(alert.status),
        )

    def _all_clear(self, checks: list[ServiceCheck], now: datetime) -> list[ServiceCheck]:
        """With ``service`` configured and nothing firing for it, one green row, so the service
        shows as watched rather than unknown."""
        service = self.config.service
        if not service:
            return []
        if any(c.service == service and not c.muted for c in checks):
            return []
        return [
            ServiceCheck(
                source=self.name,
                kind="alert",
                name="alerts",
                service=service,
                environment=self.config.environment,
                health=Health.UP,
                detail="no alerts firing",
                url=safe_url(redact(self.config.url.rstrip("/") + "/#/alerts")),
                checked_at=now,
            )
        ]

    def _summary(self, checks: list[ServiceCheck], unreadable: int) -> str:
        alerts = [c for c in checks if c.health is not Health.UP]  # not the all-clear row
        firing = [c for c in alerts if not c.muted]
        text = f"{len(firing)} firing"
        severities: dict[str, int] = {}
        for check in firing:
            if check.health is Health.DOWN:
                word = (check.severity or "down").casefold()
                severities[word] = severities.get(word, 0) + 1
        if severities:
            text += " (" + ", ".join(f"{n} {word}" for word, n in severities.items()) + ")"
        muted: dict[str, int] = {}
        for check in alerts:
            if check.muted:
                muted[check.muted] = muted.get(check.muted, 0) + 1
        text += "".join(f", {n} {word}" for word, n in muted.items())
        if unreadable:
            text += f", {unreadable} unreadable entr{'y' if unreadable == 1 else 'ies'} skipped"
        return text


def _muted(status: AlertStatus) -> str | None:
    """Why an alert does not count, or ``None`` while it fires. Only ``suppressed`` mutes: the
    state is the server's verdict; ``unprocessed``, ``active`` and unknown states fire."""
    if (status.state or "").casefold() != "suppressed":
        return None
    if status.silencedBy:
        return "silenced"
    if status.inhibitedBy:
        return "inhibited"
    if status.mutedBy:
        return "muted"  # a mute time interval (Alertmanager 0.25+)
    return "suppressed"


_HEALTH_ORDER = {Health.DOWN: 0, Health.WARN: 1, Health.UNKNOWN: 2, Health.UP: 3}


def _order(check: ServiceCheck) -> tuple[bool, int, str, str]:
    # Firing before muted, down before warn, then by service and name: a stable screen.
    return (
        check.muted is not None,
        _HEALTH_ORDER[check.health],
        (check.service or "").casefold(),
        check.name.casefold(),
    )
