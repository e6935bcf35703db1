"""Which web pages may open the browser view's WebSocket: the ``Origin`` check of ``serve``.

A WebSocket is not bound by the same-origin policy, and the browser sends its cookies along: any
page a user has open can ask their browser to connect to ``ws://127.0.0.1:8686/ws``. The one thing
that tells our own page from any other is the ``Origin`` header the browser sends with the
upgrade (a page cannot forge it). So the upgrade is refused unless ``Origin`` is one of:

- ``http://<address the connection came in on>:<its port>``: a browser that reached the server by
  an IP address (for a wildcard bind, whichever of the machine's addresses it used);
- ``http://localhost:<port>`` when that address is 127.0.0.1 or ::1;
- ``http://<this machine's host name or FQDN>:<port>`` (and the configured host, when it is a
  name) when the server listens beyond loopback;
- one of ``[serve] allowed_origins`` (a reverse proxy's ``https://radiator.example.com``).

Names are never checked by resolving them: a name is what DNS rebinding controls (a page at
``http://evil.example:8686`` whose name resolves to 127.0.0.1 would pass a Host-equals-Origin
check). For the same reason a server on a loopback address answers only requests addressed to
a loopback name or address (``Host``), or to a host of ``allowed_origins``
(``Origins.addressed_here``): after DNS rebinding, the ``Host`` a browser sends is the only
thing that tells a foreign page's ``fetch("/snapshot.json")`` from ours. Pure functions and one
small class; no I/O but the host name, read once.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Iterable

from buildradiator.urls import (
    DEFAULT_PORTS,
    NotAnOrigin,
    canonical_origin,
    parse_origin,
)
from buildradiator.urls import canonical_host as _host

__all__ = ["DEFAULT_PORTS", "NotAnOrigin", "Origins", "canonical_origin", "parse_origin"]

_LOOPBACK_NAMES = ("localhost",)


def _host_of(header: str) -> str | None:
    """The host of a ``Host`` header (``name``, ``name:port``, ``[v6]:port``), canonical."""
    text = header.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (text[end + 1 :] and not text[end + 1 :].startswith(":")):
            return None
        return _host(text[: end + 1])
    name, _, port = text.partition(":")
    if not name or (port and not port.isdigit()) or ":" in port:
        return None
    return _host(name)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@functools.cache
def machine_names() -> frozenset[str]:
    """This machine's host name and fully qualified name, as a browser on the network would
    type them (read once: ``getfqdn`` may ask the resolver)."""
    names = {socket.gethostname(), socket.getfqdn()}
    return frozenset(_host(name) for name in names if name and name != "localhost")


class Origins:
    """The origins allowed to open the browser view of a server listening on ``bind_host``."""

    def __init__(self, bind_host: str = "127.0.0.1", allowed: Iterable[str] = ()) -> None:
        self.allowed = frozenset(canonical_origin(origin) for origin in allowed)
        self._allowed_hosts = frozenset(parse_origin(origin)[1] for origin in self.allowed)
        host = _host(bind_host) if bind_host else "0.0.0.0"  # noqa: S104 - a name, not a bind
        self.loopback = _is_loopback(host)
        names: set[str] = set()
        if not self.loopback:
            names |= machine_names()
            if not _is_ip(host):
                names.add(host)  # [serve] host = "radiator.lan": its own name
        self.names = frozenset(names)

    def addressed_here(self, host_header: str | None) -> bool:
        """Whether a request's ``Host`` may be answered. Beyond loopback, any: screens reach the
        server by names we cannot know (and a token guards it there). On loopback, only loopback
        names and addresses (any port: an SSH tunnel's) and the hosts of ``allowed_origins``."""
        if not self.loopback:
            return True
        host = _host_of(host_header or "")
        return host is not None and (_is_loopback(host) or host in self._allowed_hosts)

    def allows(self, origin: str | None, local: tuple[str, int] | None) -> bool:
        """Whether a page at ``origin`` may open a session on a connection that came in on
        ``local`` (the server's address and port as the socket says)."""
        if not origin:
            return False
        try:
            scheme, host, port = parse_origin(origin)
        except NotAnOrigin:
            return False
        if canonical_origin(origin) in self.allowed:
            return True
        if scheme != "http" or local is None or port != local[1]:
            return False  # serve itself speaks plain HTTP: https is a proxy, so configured
        address = _host(local[0])
        if host == address or host in self.names:
            return True
        return host == "localhost" and address in ("127.0.0.1", "[::1]")
