"""Is this webhook delivery really from the CI it claims to be? One check per provider, pure.

Each scheme is the provider's own, as its public docs give it:

- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``; ``X-GitHub-Event``
  names the event, ``X-GitHub-Delivery`` is the delivery's id (a redelivery keeps it).
- GitLab: ``X-Gitlab-Token`` is the secret token itself; ``X-Gitlab-Event`` (``Pipeline Hook``,
  ``Job Hook``, ``Deployment Hook``); ``X-Gitlab-Event-UUID`` or ``Idempotency-Key`` the id.
- Buildkite: ``X-Buildkite-Signature: timestamp=<unix>,signature=<hex HMAC-SHA256(secret,
  "<timestamp>.<body>")>``, the timestamp inside a replay window; ``X-Buildkite-Token`` (the
  token in plain text) only where the config allows a plain token; ``X-Buildkite-Event``.
- CircleCI: ``circleci-signature: v1=<hex HMAC-SHA256(secret, body)>`` (several ``v1=`` may be
  listed while a secret is rotated); ``Circleci-Event-Type``; the body's ``id`` is the id.
- Bitbucket Cloud: ``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` (GitHub's
  scheme under GitHub's older header name); ``X-Event-Key``; ``X-Request-UUID`` the id.
- Azure DevOps service hooks (Web Hooks): no signature; the subscription sends Basic
  authentication (any user name, the secret as password) or a header it is given
  (``Authorization: Bearer <secret>``); the body's ``eventType`` and ``id``.
- Jenkins (the Notification plugin, which signs nothing and sets no headers) and Alertmanager
  (``http_config.authorization``): a shared secret as ``Authorization: Bearer <secret>``, or for
  Jenkins ``?token=<secret>`` in the URL it posts to.

Every comparison is made in constant time (``hmac.compare_digest``). A check answers with a
``Delivery`` or raises ``Refused`` with a reason for the counters, never told to the sender.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

REPLAY_WINDOW = 300.0
"""Seconds a signed timestamp may lie from our clock (Buildkite), either way."""


class Refused(Exception):
    """A delivery that is not accepted; ``reason`` is one of a few fixed words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """What an accepted delivery says about itself."""

    event: str
    """The provider's event name (``workflow_run``, ``Pipeline Hook``, ``build.finished``)."""
    id: str | None
    """The provider's delivery id, for dropping a delivery seen before; ``None`` when it has
    none (then the body's digest stands in)."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lower), None)
    return value.strip() if value is not None else None


def _digest(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _same(given: str | None, expected: str) -> bool:
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = _header(headers, "Authorization")
    if value is None or not value[:7].lower() == "bearer ":
        return None
    return value[7:].strip()


def _body_hmac(header: str, headers: Mapping[str, str], secret: bytes, body: bytes) -> None:
    """``header: sha256=<hex HMAC-SHA256(secret, body)>``, or ``Refused``."""
    signature = _header(headers, header)
    if not signature:
        raise Refused("unsigned")
    if not _same(signature, "sha256=" + _digest(secret, body)):
        raise Refused("bad signature")


def github(secret: bytes, headers: Mapping[str, str], body: bytes, now: float) -> Delivery:
    _body_hmac("X-Hub-Signature-256", headers, secret, body)
    return Delivery(_header(headers, "X-GitHub-Event") or "", _header(headers, "X-GitHub-Delivery"))


def gitlab(secret: bytes, headers: Mapping[str, str], body: bytes, now: float) -> Delivery:
    token = _header(headers, "X-Gitlab-Token")
    if not token:
        raise Refused("unsigned")
    if not _same(token, secret.decode("utf-8", "replace")):
        raise Refused("bad signature")
    ident = _header(headers, "X-Gitlab-Event-UUID") or _header(headers, "Idempotency-Key")
    return Delivery(_header(headers, "X-Gitlab-Event") or "", ident)


def buildkite(secret: bytes, headers: Mapping[str, str], body: bytes, now: float) -> Delivery:
    event = _header(headers, "X-Buildkite-Event") or ""
    signature = _header(headers, "X-Buildkite-Signature")
    if not signature:
        raise Refused("unsigned")
    parts = dict(part.strip().split("=", 1) for part in signature.split(",") if "=" in part.strip())
    stamp, given = parts.get("timestamp", ""), parts.get("signature")
    try:
        # ASCII digits only: str.isdigit also takes other scripts' digits and superscripts,
        # which float reads (or not) and the signed message cannot hold.
        ascii_digits = stamp.isascii() and stamp.isdigit()
        when = float(stamp) if ascii_digits and len(stamp) <= 12 else math.nan
    except ValueError:
        when = math.nan
    if not math.isfinite(when):
        raise Refused("bad signature")
    if not _same(given, _digest(secret, stamp.encode("ascii") + b"." + body)):
        raise Refused("bad signature")
    if abs(now - when) > REPLAY_WINDOW:
        raise Refused("replayed")
    # Buildkite names no delivery id: the signed timestamp with the body stands in for one.
    return Delivery(event, None)


def circleci(secret: bytes, headers: Mapping[str, str], body: bytes, now: float) -> Delivery:
    signature = _header(headers, "circleci-signature")
    if not signature:
        raise Refused("unsigned")
    expected = "v1=" + _digest(secret, body)
    # Every listed signature is compared, so the time taken says nothing about which matched.
    matches = [_same(part.strip(), expected) for part in signature.split(",")[:8]]
    if not any(matches):
        raise Refused("bad signature")
    return Delivery(_header(headers, "Circleci-Event-Type") or "", _body_id(body))


def bitbucket(secret: bytes, headers: Mapping[str, str], body: bytes, now: float) -> Delivery:
    _body_hmac("X-Hub-Signature", headers, secret, body)  # GitHub's scheme, its older name
    return Delivery(_header(headers, "X-Event-Key") or "", _header(headers, "X-Request-UUID"))


def azure(secret: bytes, headers: Mapping[str, str], body: bytes, now: float) -> Delivery:
    given = _bearer(headers)
    value = _header(headers, "Authorization") or ""
    if given is None and value[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise Refused("bad signature") from None
        given = decoded.partition(":")[2]
    if given is None:
        raise Refused("unsigned")
    if not _same(given, secret.decode("utf-8", "replace")):
        raise Refused("bad signature")
    event, ident = _azure_event(body)
    return Delivery(event, ident)


def _json(body: bytes) -> object:
    """The body's JSON, or None when it is none. Nested too deep for Python's reader is none
    too (``RecursionError``, no ``ValueError``): the body only names an event or an id."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _azure_event(body: bytes) -> tuple[str, str | None]:
    data = _json(body)
    if not isinstance(data, dict):
        return "", None
    event, ident = data.get("eventType"), data.get("id")
    return (
        event[:60] if isinstance(event, str) else "",
        ident if isinstance(ident, str) and len(ident) <= 200 else None,
    )


def shared_secret(secret: bytes, headers: Mapping[str, str], body: bytes, now: float) -> Delivery:
    """Jenkins and Alertmanager: the secret itself, as a bearer token."""
    given = _bearer(headers)
    if given is None:
        raise Refused("unsigned")
    if not _same(given, secret.decode("utf-8", "replace")):
        raise Refused("bad signature")
    return Delivery(_event_of(body), None)


def _body_id(body: bytes) -> str | None:
    data = _json(body)
    ident = data.get("id") if isinstance(data, dict) else None
    return ident if isinstance(ident, str) and len(ident) <= 200 else None


def _event_of(body: bytes) -> str:
    """Jenkins' ``build.phase``, Alertmanager's ``status``: the event, for the counters."""
    data = _json(body)
    if not isinstance(data, dict):
        return ""
    build = data.get("build")
    phase = build.get("phase") if isinstance(build, dict) else None
    status = data.get("status")
    word = phase if isinstance(phase, str) else status if isinstance(status, str) else ""
    return word[:40]


SCHEMES = {
    "github": github,
    "github_deployments": github,
    "gitlab": gitlab,
    "buildkite": buildkite,
    "circleci": circleci,
    "bitbucket": bitbucket,
    "azure": azure,
    "jenkins": shared_secret,
    "alertmanager": shared_secret,
}
"""Source type -> its provider's check. A source type not listed takes no webhooks."""

IGNORED_EVENTS = frozenset({"ping"})
"""Events that only say the hook works (GitHub's ``ping``, Buildkite's ``ping``): accepted,
counted, and no poll."""
