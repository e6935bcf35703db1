"""One plain HTTP health check (api-facts section 10).

Unlike a CI source, a health check's bad answer is the *data*: a 503, a refused connection or a
body saying ``DOWN`` is exactly what the radiator must show, so ``poll`` turns every outcome of
the request into one ``ServiceCheck`` and raises nothing for them.

The verdict is built in order: the HTTP code first (``expected_status``, else any 2xx/3xx is
alive), then the body's own word (Spring Boot Actuator, IETF ``application/health+json``, or a
short plain-text ``OK``/``UP``/``DOWN``, Elasticsearch's ``green``/``yellow``/``red``), then
latency. An HTML or unparseable body never overrides the code: plenty of healthy endpoints answer
200 with an HTML page. A JSON ``status`` in a word none of these know is unknown, not up (unless
a body rule, which then says what up is, holds).
"""

from __future__ import annotations

import json
from typing import Any

from buildradiator.errors import ServerError, SourceError, Timeout, Unreachable
from buildradiator.model import Health, ServiceCheck, SourceResult
from buildradiator.sources.base import Source
from buildradiator.sources.health import PROVIDER
from buildradiator.sources.health.config import HealthSource
from buildradiator.sources.http import Response, looks_like_html, redact
from buildradiator.text import clean_text

# The body words of api-facts section 10, lower-cased; "healthy"/"unhealthy" and "degraded" are
# what other frameworks (ASP.NET Core, Dropwizard-style wrappers) send for the same idea.
_WORDS = {
    "pass": Health.UP,
    "ok": Health.UP,
    "up": Health.UP,
    "healthy": Health.UP,
    "warn": Health.WARN,
    "degraded": Health.WARN,
    "fail": Health.DOWN,
    "error": Health.DOWN,
    "down": Health.DOWN,
    "out_of_service": Health.DOWN,
    "unhealthy": Health.DOWN,
    "unknown": Health.UNKNOWN,
    # What other endpoints commonly say for alive: a word known here is never "not known".
    "success": Health.UP,
    "alive": Health.UP,
    "available": Health.UP,
    "running": Health.UP,
    "serving": Health.UP,  # gRPC's health protocol, as a JSON gateway spells it
    "operational": Health.UP,
    "online": Health.UP,
    # Elasticsearch / OpenSearch ``_cluster/health`` answers 200 whatever its colour.
    "green": Health.UP,
    "yellow": Health.WARN,
    "red": Health.DOWN,
}
_VERSION_MAX = 80
_SECRET_HEADER_HINTS = ("auth", "token", "key", "secret", "cookie", "session", "password")


class HealthCheck(Source[HealthSource]):
    """GET one URL and say whether the service behind it is up, in one ``ServiceCheck``."""

    provider = PROVIDER
    accept = None
    """Any body the endpoint serves (``*/*``): its status and the ``body_*`` rules judge it."""

    @property
    def service(self) -> str:
        return self.config.service or self.config.name

    async def poll(self) -> SourceResult:
        try:
            # Every answer is data here, a 401 or a 503 included: none is turned into an error.
            response = await self._get(
                self.config.url,
                headers=self.config.headers,
                ok=tuple(range(100, 600)),
                conditional=False,
            )
        except Timeout as exc:
            # "complete": the server started answering but did not finish within the deadline.
            partial = "complete " if "complete" in str(exc) else ""
            check = self._check(Health.DOWN, f"no {partial}answer within {self.config.timeout:g}s")
        except Unreachable as exc:
            check = self._check(Health.DOWN, _unreachable_words(str(exc)))
        except ServerError as exc:
            # Only a status code outside 100-599 gets here (every real code is accepted above).
            check = self._check(Health.DOWN, str(exc))
        except SourceError as exc:
            # Not an answer about the service (our rate budget for the host is spent, or the
            # body broke the size cap or could not be decoded): we do not know how it is.
            check = self._check(Health.UNKNOWN, f"not checked: {exc}")
        else:
            check = self._judge(response)
        return SourceResult(services=(check,), summary=self._summary(check))

    def _check(
        self,
        health: Health,
        detail: str | None,
        *,
        http_status: int | None = None,
        latency_ms: float | None = None,
        version: str | None = None,
    ) -> ServiceCheck:
        return ServiceCheck(
            source=self.name,
            name=self.service,
            service=self.service,
            environment=self.config.environment,
            health=health,
            http_status=http_status,
            latency_ms=latency_ms,
            # Cut to length only after scrubbing, so no partial secret survives the cut.
            version=(clean_text(self._scrub(version), _VERSION_MAX) or None) if version else None,
            detail=self._scrub(detail) if detail else None,
            url=redact(self.config.url),
            checked_at=self.http.clock.now(),
        )

    def _judge(self, response: Response) -> ServiceCheck:
        code = response.status_code
        expected = self.config.expected_status
        alive = code in expected if expected else 200 <= code < 400
        body = _read_body(response.content)
        word, health_from_body = body.verdict()
        reasons: list[str] = []
        if alive:
            health = Health.UP
            if health_from_body is not None and health_from_body is not Health.UP:
                health = health_from_body
                reasons.append(body.describe(word or ""))
            elif word is not None and health_from_body is None and not self._has_body_rule:
                # The body says how it is, in a word no convention here knows ("CRITICAL"):
                # the code alone does not vouch for up. A body rule, where set, says what up is.
                health = Health.UNKNOWN
                reasons.append(f"{body.describe(word)} (a word not known here)")
        else:
            health = Health.DOWN
            shown = f"HTTP {code}"
            if expected:
                shown += " (expected " + ", ".join(str(c) for c in expected) + ")"
            reasons.append(shown)
            # The body can only add why; a "UP" body does not revive a 503.
            if health_from_body not in (None, Health.UP):
                reasons.append(body.describe(word or ""))
        if health is not Health.DOWN:
            broken_rule = self._body_rule(response.content, body)
            if broken_rule:
                health = Health.DOWN
                reasons.append(broken_rule)
        latency = response.elapsed_ms
        warn_at = self.config.warn_latency_ms
        if health is Health.UP and warn_at is not None and latency > warn_at:
            health = Health.WARN
            reasons.append(f"{latency:.0f} ms (> {warn_at:g} ms)")
        return self._check(
            health,
            ", ".join(reasons) or None,
            http_status=code,
            latency_ms=latency,
            version=body.version(),
        )

    @property
    def _has_body_rule(self) -> bool:
        return self.config.body_contains is not None or self.config.body_field is not None

    def _body_rule(self, content: bytes, body: _Body) -> str | None:
        """The configured body rule, broken, in words; ``None`` when it holds (or there is none).

        A 200 whose body says the service is not well is the classic half-dead service: the
        rule is what tells the radiator where to look."""
        config = self.config
        if config.body_contains is not None:
            text = content.decode("utf-8", errors="replace")
            if config.body_contains not in text:
                return f"body lacks {config.body_contains!r}"
        if config.body_field is not None and config.body_value is not None:
            if not isinstance(body.data, dict):
                return f"body is not JSON with {config.body_field!r}"
            found = _dig(body.data, *config.body_field.split("."))
            if found is None:
                return f"body has no {config.body_field!r}"
            shown = found if isinstance(found, str) else json.dumps(found)
            if shown.strip().lower() != config.body_value.strip().lower():
                return (
                    f"{config.body_field} is {clean_text(shown, 60)!r}"
                    f" (expected {config.body_value!r})"
                )
        return None

    def _summary(self, check: ServiceCheck) -> str:
        text = f"{check.name} ({check.environment}): {check.health.value}"
        if check.http_status is not None:
            text += f", HTTP {check.http_status}"
        if check.latency_ms is not None:
            text += f" in {check.latency_ms:.0f} ms"
        if check.detail and check.health is not Health.UP:
            text += f" ({check.detail})"
        return text

    def _scrub(self, text: str) -> str:
        """Remove our own secrets from text derived from the answer (a server may echo them).

        The text is cleaned first: escape sequences spliced into an echoed token must not hide
        it from the replace and then vanish, reassembling it, when the model cleans the text.
        """
        text = clean_text(text)
        secrets = [
            value
            for name, value in self.config.headers.items()
            if any(hint in name.lower() for hint in _SECRET_HEADER_HINTS)
        ]
        for secret in secrets:
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return self._without_secrets(text)


class _Body:
    """What the body of a health answer says, read leniently."""

    def __init__(self, data: Any = None, word: str | None = None) -> None:
        self.data = data
        self.word = word

    def verdict(self) -> tuple[str | None, Health | None]:
        """The body's status word and what it means (``None`` for a word not known here);
        ``(None, None)`` when it says nothing."""
        if self.word is None:
            return None, None
        return self.word, _WORDS.get(self.word.lower())

    def describe(self, word: str) -> str:
        text = f"body says {clean_text(word)}"
        failing = self.failing_check()
        return f"{text} ({failing})" if failing else text

    def failing_check(self) -> str | None:
        """The first component or check that is not healthy, if the body lists them."""
        if not isinstance(self.data, dict):
            return None
        overall = _WORDS.get((self.word or "").lower())
        # For an overall "warn", a warning check is the reason; for "fail", only failing ones.
        bad = {Health.WARN, Health.DOWN} if overall is Health.WARN else {Health.DOWN}
        for field in ("checks", "components", "details"):
            checks = self.data.get(field)
            if not isinstance(checks, dict):
                continue
            for key, value in checks.items():
                entries = value if isinstance(value, list) else [value]
                for entry in entries:
                    word = _status_word(entry.get("status")) if isinstance(entry, dict) else None
                    if word is not None and _WORDS.get(word.lower()) in bad:
                        return clean_text(str(key))
        return None

    def version(self) -> str | None:
        """``releaseId``, ``version``, or Spring info's ``build.version`` / ``git.commit.id``."""
        data = self.data
        if not isinstance(data, dict):
            return None
        candidates = [
            data.get("releaseId"),
            data.get("version"),
            _dig(data, "build", "version"),
            data.get("build.version"),
            _dig(data, "git", "commit", "id"),
        ]
        for value in candidates:
            if isinstance(value, dict):
                # Spring Boot's "full" git info nests the id: {"abbrev": ..., "full": ...}.
                value = value.get("abbrev") or value.get("full")
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, str | int | float):
                text = clean_text(str(value))
                if text:
                    return text
        return None


def _read_body(content: bytes) -> _Body:
    if looks_like_html(content):
        return _Body()
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return _Body()
    if text[0] in '{["':
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            # RecursionError: a body of a few hundred KiB of "[[[[..." nests deeper than the
            # stdlib decoder can go.
            return _Body()
        if isinstance(data, str):
            return _Body(word=_plain_word(data))
        if isinstance(data, dict):
            return _Body(data, _status_word(data.get("status")))
        return _Body()
    return _Body(word=_plain_word(text))


def _status_word(value: Any) -> str | None:
    """A status word from ``"UP"`` or ``{"code": "UP"}``; numbers (Spring's error JSON) are not."""
    if isinstance(value, dict):
        value = value.get("code") or value.get("status")
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _plain_word(text: str) -> str | None:
    # Only a body that is one known word ("OK", "UP\n", "healthy."): reading words out of a
    # sentence would take "not OK" for OK.
    word = text.strip().strip(".!")
    return word if word.lower() in _WORDS else None


def _dig(data: dict[str, Any], *path: str) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _unreachable_words(message: str) -> str:
    # The HttpClient names the host ("cannot reach api.example.com: connection refused"); the
    # service row already says which service it is, so keep only the reason where we know it.
    lowered = message.lower()
    if "refused" in lowered:
        return "connection refused"
    if "(dns)" in lowered:
        return "host name does not resolve (DNS)"
    return message
