"""URLs from the config and from servers: what may be shown, stored and opened.

- ``redact``: every URL that reaches a screen, a log, an error, a file or an export goes through
  it. Credentials in the authority (``user:pass@``, ``token@``) always go; a query value goes
  when its name looks like a secret (contains token, secret, key, sig, credential, auth, pass,
  pwd, session, jwt or code): a fixed list of names let ``api_token`` and ``X-Amz-Signature``
  through.
- ``safe_url``: a link from a server is offered only as a plain http(s) URL, redacted.
- ``origin_of``: scheme, host and port, the unit no credential ever leaves.
- ``canonical_origin``/``parse_origin``: an origin as a browser sends it (``[serve]
  allowed_origins`` in the config, the ``Origin`` check of ``serve``), in canonical form.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_NAME = re.compile(
    r"token|secret|key|sig|credential|auth|pass|pwd|session|jwt|code", re.IGNORECASE
)
HIDDEN = "***"


def redact(url: str) -> str:
    """The URL with its credentials and every secret-looking query value replaced by ``***``
    (returned as it was when it holds none)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc, query = parts.netloc, parts.query
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rsplit('@', 1)[1]}"
    if query and _SECRET_NAME.search(query):
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_NAME.search(k) for k, _ in pairs):
            query = urlencode(
                [(k, HIDDEN if _SECRET_NAME.search(k) else v) for k, v in pairs], safe="*/:,"
            )
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


BRIEF_URL = 160
"""Longest URL shown in an error message: it must fit a status bar and ``check``'s table."""


def brief_url(url: str) -> str:
    """A URL for an error message: redacted, and when too long for a status bar without its
    query (Jenkins' ``tree=`` alone runs to 500 characters; the path names the thing), then
    cut to ``BRIEF_URL``."""
    shown = redact(url)
    if len(shown) <= BRIEF_URL:
        return shown
    try:
        parts = urlsplit(shown)
    except ValueError:
        return shown[: BRIEF_URL - 1] + "…"
    if parts.query:
        shown = urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) + "?…"
    return shown if len(shown) <= BRIEF_URL else shown[: BRIEF_URL - 1] + "…"


def host_of(url: str) -> str:
    """The host (and port) a URL talks to, without credentials: the key of a rate budget."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1].lower()


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port): what a credential is bound to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


_SAFE_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def safe_url(url: str | None) -> str | None:
    """An http(s) URL without whitespace or control characters, redacted, else ``None``: a URL
    from an API ends up clickable on screen and in files, so it must never smuggle a
    ``javascript:``, an escape or a token."""
    if not url:
        return None
    url = url.strip()
    return redact(url) if _SAFE_URL.fullmatch(url) else None


# -- origins (RFC 6454): the config checks them, serve compares them ---------------------------

DEFAULT_PORTS = {"http": 80, "https": 443}


class NotAnOrigin(ValueError):
    """A configured origin that is not ``scheme://host[:port]``; the message says why."""


def canonical_host(text: str) -> str:
    """A host in canonical form: lower case, IPv6 in brackets and compressed, IPv4-mapped IPv6
    (how a dual-stack socket names an IPv4 peer) as IPv4."""
    bare = text.strip("[]").lower()
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        return bare.rstrip(".")  # "host." and "host" are the same name
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return f"[{ip.compressed}]" if ip.version == 6 else str(ip)


def parse_origin(value: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an origin as a browser sends it (RFC 6454), in canonical form.
    Raises ``NotAnOrigin`` for anything else: ``null``, a path, a query, credentials, another
    scheme, a bad port."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise NotAnOrigin(f"not an origin ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise NotAnOrigin("an origin is http:// or https:// followed by a host")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise NotAnOrigin("an origin is scheme://host[:port], without user or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise NotAnOrigin("an origin has no path, query or fragment: scheme://host[:port]")
    return (
        scheme,
        canonical_host(parts.hostname),
        port if port is not None else DEFAULT_PORTS[scheme],
    )


def canonical_origin(value: str) -> str:
    """``HTTPS://Radiator.Example.com:443/`` -> ``https://radiator.example.com``."""
    scheme, host, port = parse_origin(value)
    return f"{scheme}://{host}" + ("" if DEFAULT_PORTS[scheme] == port else f":{port}")
