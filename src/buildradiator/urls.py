"""URLs from the config and from servers: what may be shown, stored and opened.

- ``redact``: every URL that reaches a screen, a log, an error, a file or an export goes through
  it. Credentials in the authority (``user:pass@``, ``token@``) always go; a query value goes
  when its name looks like a secret (contains token, secret, key, sig, credential, auth, pass,
  pwd, session, jwt or code): a fixed list of names let ``api_token`` and ``X-Amz-Signature``
  through.
- ``safe_url``: a link from a server is offered only as a plain http(s) URL, redacted.
- ``origin_of``: scheme, host and port, the unit no credential ever leaves.
"""

from __future__ import annotations

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
