"""``POST /hooks/<source name>``: CI events in, a poll of that source at once.

The endpoint faces the network by design, so it trusts nothing: a delivery is checked with its
provider's own scheme (``signatures``) against a secret read like every token (env, file or
command); an unsigned delivery is taken only where the config says ``unsigned = true``; bodies
are capped; each address is rate-limited; a delivery seen before (same delivery id, or the same
signed body) is acknowledged and not acted on again. The sender learns "accepted" or "refused"
and nothing more: a refusal for an unknown source reads the same as one for a bad signature.

What is accepted makes the engine poll that source now (``poke``): the news arrives in the time
one request takes instead of up to an interval. Every refusal is counted with its reason and
shows in ``check``, on ``/metrics`` and in the log, never silently dropped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from buildradiator.config.loading import Config, read_webhook_secret
from buildradiator.engine.engine import Engine
from buildradiator.errors import ConfigError, ConfigProblem
from buildradiator.serve.limits import TokenBuckets, client_address, retry_after
from buildradiator.serve.signatures import IGNORED_EVENTS, SCHEMES, Delivery, Refused
from buildradiator.text import clean_text

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
"""Bytes a delivery may carry (GitHub caps its payloads at 25 MB; ours need far less: the event
only says which source to poll)."""
SEEN = 4096
"""Delivery ids remembered, to drop a delivery sent twice."""


@dataclass(frozen=True)
class Hook:
    """One source's webhook: its provider's check and its secret (``None``: unsigned allowed)."""

    source: str
    type: str
    secret: bytes | None


@dataclass
class HookCounts:
    """What one source's webhook has seen since serve started."""

    accepted: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    last_event: datetime | None = None
    last_event_name: str = ""
    last_refused: datetime | None = None


class WebhookReceiver:
    """The ``/hooks/{source}`` handler. ``poke(name)`` asks the engine to poll a source now."""

    def __init__(
        self,
        hooks: Mapping[str, Hook],
        poke: Callable[[str], object],
        *,
        rate: float = 5.0,
        burst: int = 20,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        refused: Callable[[str], object] | None = None,
    ) -> None:
        for hook in hooks.values():
            if hook.type not in SCHEMES:
                raise ValueError(f"source {hook.source!r}: {hook.type} sources take no webhooks")
        self.hooks = dict(hooks)
        self.counts = {name: HookCounts() for name in hooks}
        self.refused_unknown = 0
        """Deliveries to a name with no webhook (counted apart: no source to charge them to)."""
        self._poke = poke
        self._refused = refused
        """Told the source's name on each refusal (the engine counts it in the snapshot)."""
        self._wall = wall
        self._buckets = TokenBuckets(rate, burst, monotonic)
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/hooks/{source}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        address = client_address((request.remote,))
        wait = self._buckets.take(address)
        name = request.match_info.get("source", "")
        hook = self.hooks.get(name)
        if wait > 0:
            self._refuse(hook, "rate limited")
            return _answer(429, "refused", {"Retry-After": retry_after(wait)})
        if hook is None:
            self.refused_unknown += 1
            log.warning(
                "webhook for %r refused: no such source takes webhooks", clean_text(name, 80)
            )
            return _answer(403, "refused")
        if request.content_length is not None and request.content_length > MAX_BODY:
            self._refuse(hook, "too large")
            return _answer(413, "refused")
        body = await _read_capped(request)
        if body is None:
            self._refuse(hook, "too large")
            return _answer(413, "refused")
        try:
            delivery = self._check(hook, request, body)
        except Refused as refused:
            self._refuse(hook, refused.reason)
            return _answer(403, "refused")
        return self._accept(hook, delivery, body)

    def _check(self, hook: Hook, request: web.Request, body: bytes) -> Delivery:
        headers = dict(request.headers)
        if hook.type == "jenkins" and "token" in request.query and "Authorization" not in headers:
            # The Notification plugin sets no headers: its URL carries the secret instead.
            headers["Authorization"] = f"Bearer {request.query['token']}"
        if hook.secret is None:
            return Delivery(_event_name(hook.type, headers), None)
        return SCHEMES[hook.type](hook.secret, headers, body, self._wall())

    def _accept(self, hook: Hook, delivery: Delivery, body: bytes) -> web.Response:
        counts = self.counts[hook.source]
        ident = delivery.id or hashlib.sha256(body).hexdigest()
        key = (hook.source, ident[:200])
        if key in self._seen:
            counts.duplicates += 1
            return _answer(202, "accepted")
        self._seen[key] = None
        while len(self._seen) > SEEN:
            self._seen.popitem(last=False)
        counts.accepted += 1
        counts.last_event = datetime.fromtimestamp(self._wall(), UTC)
        counts.last_event_name = clean_text(delivery.event, 60)
        if delivery.event not in IGNORED_EVENTS:
            self._poke(hook.source)
        return _answer(202, "accepted")

    def metrics_text(self) -> str:
        """The counters in Prometheus' text format, to follow the snapshot's exposition."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Counters(self))
        return generate_latest(registry).decode("utf-8")

    def _refuse(self, hook: Hook | None, reason: str) -> None:
        if hook is None:
            self.refused_unknown += 1
            return
        counts = self.counts[hook.source]
        counts.refused[reason] += 1
        if self._refused is not None:
            self._refused(hook.source)
        counts.last_refused = datetime.fromtimestamp(self._wall(), UTC)
        log.warning("webhook for source %s refused: %s", hook.source, reason)


def attach_webhooks(config: Config, engine: Engine, shown: str) -> WebhookReceiver | None:
    """The receiver for every source with ``webhook = {...}``, its events poking ``engine``,
    whose polling of those sources slows to ``reconcile``; ``None`` when no source has one.
    Reads each secret now: ``ConfigError`` names the source whose secret cannot be read."""
    hooks: dict[str, Hook] = {}
    for source in config.sources:
        if source.webhook is None:
            continue
        kind = str(getattr(source, "type", ""))
        if kind not in SCHEMES:
            raise ConfigError(
                [
                    ConfigProblem(
                        shown,
                        f"source {source.name} webhook",
                        f"{kind} sources take no webhooks",
                        None,
                        "these do: " + ", ".join(sorted(SCHEMES)),
                    )
                ]
            )
        secret = read_webhook_secret(source, shown)
        value = secret.get_secret_value().encode("utf-8") if secret is not None else None
        hooks[source.name] = Hook(source.name, kind, value)
    if not hooks:
        return None
    for source in config.sources:
        if source.webhook is not None:
            engine.reconcile_every(source.name, source.webhook.reconcile)
    return WebhookReceiver(hooks, engine.poll_soon, refused=engine.webhook_refused)


class _Counters(Collector):
    def __init__(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver

    def collect(self) -> Iterator[Metric]:
        deliveries = CounterMetricFamily(
            "buildradiator_webhook_deliveries",
            "Webhook deliveries per source: accepted, duplicate, or refused and why.",
            labels=["source", "result", "reason"],
        )
        last = GaugeMetricFamily(
            "buildradiator_webhook_last_event_timestamp_seconds",
            "When each source's webhook last delivered an accepted event.",
            labels=["source"],
        )
        for name, counts in sorted(self.receiver.counts.items()):
            deliveries.add_metric([name, "accepted", ""], counts.accepted)
            deliveries.add_metric([name, "duplicate", ""], counts.duplicates)
            for reason, n in sorted(counts.refused.items()):
                deliveries.add_metric([name, "refused", reason], n)
            if counts.last_event is not None:
                last.add_metric([name], counts.last_event.timestamp())
        deliveries.add_metric(["", "refused", "no such source"], self.receiver.refused_unknown)
        yield deliveries
        yield last


def _event_name(kind: str, headers: Mapping[str, str]) -> str:
    names = {
        "github": "X-GitHub-Event",
        "github_deployments": "X-GitHub-Event",
        "gitlab": "X-Gitlab-Event",
        "buildkite": "X-Buildkite-Event",
        "circleci": "Circleci-Event-Type",
        "bitbucket": "X-Event-Key",
    }
    header = names.get(kind)
    lower = {k.lower(): v for k, v in headers.items()}
    return lower.get(header.lower(), "") if header else ""


async def _read_capped(request: web.Request) -> bytes | None:
    """The body, or ``None`` past ``MAX_BODY`` (read in chunks: a lying Content-Length, or
    none, costs no more than the cap)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, word: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        text=word + "\n",
        content_type="text/plain",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
