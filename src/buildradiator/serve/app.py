"""The aiohttp application of ``serve`` (without a server): its endpoints answered from the
``Board``, and the guard every request passes first: GET and HEAD only, the ``Host`` check of a
loopback server (DNS rebinding), the connection caps' ``/healthz``-only connections, the
per-address rate, and the token (``Authorization: Bearer`` or, for a browser, an HttpOnly cookie
set from ``/?token=`` once); CI webhooks (``POST /hooks/<source>``) go past it to their receiver,
which checks each provider's signature itself. See ``serve.server`` for the endpoints.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from buildradiator.export import metrics as export_metrics
from buildradiator.instance import ID, INSTANCE_HEADER
from buildradiator.serve.board import TEXT_TYPE, Board, Body, Published
from buildradiator.serve.limits import (
    REFUSAL_BODY,
    ConnectionGate,
    Limits,
    TokenBuckets,
    client_address,
)
from buildradiator.serve.limits import retry_after as _retry_after
from buildradiator.serve.origins import Origins
from buildradiator.serve.webhooks import WebhookReceiver

METHODS = "GET, HEAD"
COOKIE = "buildradiator_token"
MAX_WAIT = 60
"""Longest a screen's ``Prefer: wait`` may hold a ``/snapshot.json`` request, in seconds."""


def _text(status: int, words: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=words.encode("utf-8"),
        headers={"Content-Type": TEXT_TYPE, **(headers or {})},
    )


def _none_match(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): ``W/`` does not matter."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _answer(request: web.Request, item: Body) -> web.Response:
    headers = {"ETag": item.etag}
    inm = request.headers.get("If-None-Match")
    if inm is not None and _none_match(inm, item.etag):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = item.content_type
    return web.Response(body=item.data, headers=headers)


def _prefer_wait(header: str | None) -> float:
    """Seconds a request says it will wait (``Prefer: wait=25``), at most ``MAX_WAIT``; 0 when
    it does not say so, or says nonsense."""
    if not header:
        return 0.0
    for preference in header.split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "wait":
            digits = value.strip().strip('"')
            # ASCII digits only (RFC 9110's DIGIT): isdigit also takes "²", which int refuses.
            if digits.isascii() and digits.isdigit() and len(digits) <= 6:
                return float(min(int(digits), MAX_WAIT))
    return 0.0


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def _same(given: str | None, token: bytes) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), token)


def make_app(
    board: Board,
    *,
    token: str | None = None,
    limits: Limits | None = None,
    browser: Callable[[web.Application], None] | None = None,
    gate: ConnectionGate | None = None,
    origins: Origins | None = None,
    hooks: WebhookReceiver | None = None,
) -> web.Application:
    """The aiohttp application (without a server). ``browser`` mounts the browser view at ``/``;
    without it ``/`` lists the endpoints. ``gate``: the server's connection gate, whose
    ``/healthz``-only connections get nothing else. ``origins``: on a loopback address, only
    requests addressed to it are answered (DNS rebinding)."""
    addressed_here = origins.addressed_here if origins is not None else (lambda _host: True)
    limits = limits or Limits()
    buckets = TokenBuckets(limits.rate, limits.burst, board.clock.monotonic)
    secret = token.encode("utf-8") if token else None
    healthz_only = gate.healthz_only if gate is not None else set()

    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if hooks is not None and request.method == "POST" and request.path.startswith("/hooks/"):
            # CI events: the receiver checks each provider's signature and rates on its own
            # (the CI knows its webhook secret, not this radiator's token).
            return await handler(request)
        # Cheapest refusals first: a flood costs a dict lookup per request, nothing more.
        if request.method not in ("GET", "HEAD"):
            return _text(405, "read-only: GET and HEAD only\n", {"Allow": METHODS})
        if not addressed_here(request.headers.get("Host")):
            return _text(
                421,
                "this radiator listens on loopback and answers requests addressed to loopback "
                "only; a proxy's name goes in [serve] allowed_origins\n",
            )
        if request.protocol in healthz_only and request.path != "/healthz":
            # Admitted beyond the caps only so that /healthz always answers.
            refused = _text(503, REFUSAL_BODY.decode(), {"Retry-After": "5", "Connection": "close"})
            refused.force_close()
            return refused
        wait = buckets.take(client_address((request.remote,)))
        if wait > 0:
            return _text(
                429, "too many requests from this address; slow down\n",
                {"Retry-After": _retry_after(wait)},
            )  # fmt: skip
        if secret is not None and request.path != "/healthz":
            if not (_same(_bearer(request), secret) or _same(request.cookies.get(COOKIE), secret)):
                if request.path == "/" and _same(request.query.get("token"), secret):
                    return _token_to_cookie(request)
                return _text(
                    401,
                    "this radiator wants a token: Authorization: Bearer <token>\n",
                    {"WWW-Authenticate": 'Bearer realm="buildradiator"'},
                )
        return await handler(request)

    async def stamp(request: web.Request, response: web.StreamResponse) -> None:
        response.headers[INSTANCE_HEADER] = ID
        response.headers.setdefault("Cache-Control", "no-cache")

    def current(*, live: bool = False) -> Published:
        """The published snapshot; ``live``: only while the engine runs (a feed that cannot
        say "unknown" must not pass the last state off as the current one)."""
        if board.stop_reason is not None and (live or board.current is None):
            raise web.HTTPServiceUnavailable(text=f"engine stopped: {board.stop_reason}\n")
        if board.current is None:
            raise web.HTTPServiceUnavailable(
                text="no snapshot yet: the engine is starting\n", headers={"Retry-After": "1"}
            )
        return board.current

    async def snapshot_json(request: web.Request) -> web.Response:
        item = current().json
        wait = _prefer_wait(request.headers.get("Prefer"))
        inm = request.headers.get("If-None-Match")
        if not wait:
            return _answer(request, item)
        if inm is not None and _none_match(inm, item.etag):
            # A screen that has this snapshot waits here for the next one: it hears of a
            # change the moment it is published, not on its next poll (RFC 7240 "wait").
            await board.changed_since(item.etag, wait)
            item = current().json
        answer = _answer(request, item)
        # Said on every answer to a screen that asks, so it knows to ask again at once.
        answer.headers["Preference-Applied"] = f"wait={wait:g}"
        return answer

    async def cc_xml(request: web.Request) -> web.Response:
        return _answer(request, current(live=True).cc)

    async def metrics(request: web.Request) -> web.Response:
        data = board.metrics(current(live=True))
        if hooks is not None:
            data += hooks.metrics_text().encode("utf-8")
        return web.Response(body=data, headers={"Content-Type": export_metrics.CONTENT_TYPE})

    async def healthz(request: web.Request) -> web.Response:
        answer = health()
        if request.protocol in healthz_only:
            answer.force_close()  # a reserved slot: free it for the next monitor at once
        return answer

    def health() -> web.Response:
        if board.stop_reason is not None:
            return _text(503, f"engine stopped: {board.stop_reason}\n")
        now = board.current
        if now is None:
            return _text(503, "not fresh: no snapshot yet (the engine is starting)\n")
        return web.Response(
            status=200 if now.healthy else 503, body=now.health, headers={"Content-Type": TEXT_TYPE}
        )

    async def index(request: web.Request) -> web.Response:
        lines = [
            "buildradiator serve: one engine, many screens",
            "",
            "  /snapshot.json   the snapshot (as `buildradiator status --json`), with ETag",
            "  /cc.xml          every pipeline as a CCTray feed (CCMenu, nevergreen, BuildNotify)",
            "  /metrics         Prometheus exposition",
            "  /healthz         200 while every source is fresh, else 503",
            "",
        ]
        return _text(200, "\n".join(lines))

    app = web.Application(middlewares=[guard])
    app.on_response_prepare.append(stamp)
    app.router.add_get("/snapshot.json", snapshot_json)
    app.router.add_get("/cc.xml", cc_xml)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    if hooks is not None:
        hooks.mount(app)
    if browser is not None:
        browser(app)
    else:
        app.router.add_get("/", index)
    return app


def _token_to_cookie(request: web.Request) -> web.Response:
    """A browser opened ``/?token=...``: keep the token in an HttpOnly cookie and send the
    browser to the same page without it, so it stays out of the address bar and history."""
    query = request.rel_url.query.copy()
    token = query.popone("token")
    location = str(request.rel_url.with_query(query))
    response = web.Response(status=303, headers={"Location": location})
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
    return response
