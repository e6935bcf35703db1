"""What every source is, how a provider is declared, and the one request path they share.

A source turns one API into domain objects (``model.py``). It knows its endpoints, headers,
payload shapes and rate-limit headers; it does no scheduling, no UI and no storage. ``poll``
either returns a ``SourceResult`` or raises a ``SourceError`` -- never anything else: payload
models are validated with pydantic and a ``ValidationError`` becomes ``BadPayload``.

Every request goes through ``Source._get``: the provider's headers and credentials (its
``_auth_headers`` hook) on the one HTTP client (``http.py``: redirect and credential policy,
ETag cache, rate budgets, body caps), and an answer that is not wanted turned into plain words by
one table, ``STATUS_WORDS``, that a provider extends per status (``status_words``).
"""

from __future__ import annotations

import builtins
import importlib
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from buildradiator.config.base import SourceBase
from buildradiator.errors import AuthFailed, BadPayload, NotFound, SourceError
from buildradiator.model import SourceResult
from buildradiator.sources.http import HttpClient, RateHeaders, Response, basic_auth, host_of
from buildradiator.sources.payload import Stamp
from buildradiator.text import scrub
from buildradiator.urls import brief_url

ConfigT = TypeVar("ConfigT", bound=SourceBase)
ModelT = TypeVar("ModelT", bound=BaseModel)

__all__ = [
    "STATUS_WORDS",
    "Provider",
    "Source",
    "Stamp",
    "Words",
    "parse_iso",
    "parse_model",
    "safe_url",
]


Params = Mapping[str, Any] | list[tuple[str, Any]]
"""Query parameters: a mapping, or pairs when a key repeats."""


@dataclass(frozen=True)
class Provider:
    """A provider, declared once in its folder's ``__init__.py``; ``catalog`` derives the
    registry, the config union, the simulator's list and the fault matrix from it.

    ``PROVIDER = Provider("github", GitHubSource, "buildradiator.sources.github.source:GitHubActions",
    url_field="api_url", simulator=None)``
    """

    type: str
    """The ``type`` of its ``[[sources]]`` tables (its config model's ``type`` literal)."""
    config: builtins.type[SourceBase]
    """Its config model."""
    source: str
    """Its ``Source`` class as ``"module:Class"``, imported only when a config uses it."""
    url_field: str | None = "url"
    """The config field (or property) holding the server it talks to: the host of its rate
    budget and of its messages (``None``: it talks to no one server)."""
    simulator: str | None = None
    """The module under ``buildradiator.simulator`` that plays its API in the demo (a
    ``make(scenario)`` function), if one does."""

    def __post_init__(self) -> None:
        field = self.config.model_fields.get("type")
        if field is None or get_args(field.annotation) != (self.type,):
            raise TypeError(f"{self.config.__name__}.type must be Literal[{self.type!r}]")
        if ":" not in self.source:
            raise ValueError(f"source of {self.type!r} must be 'module:Class'")

    def load(self) -> builtins.type[Source[Any]]:
        """The ``Source`` class (its module imported now)."""
        module, _, name = self.source.partition(":")
        cls: builtins.type[Source[Any]] = getattr(importlib.import_module(module), name)
        return cls

    def url_of(self, config: SourceBase) -> str:
        """The server a config of this provider talks to (``""`` if it names none)."""
        return str(getattr(config, self.url_field, None) or "") if self.url_field else ""


@dataclass(frozen=True)
class Words:
    """What an unwanted HTTP status means, in words. Placeholders: ``{host}``, ``{what}`` (the
    thing asked for, e.g. "repository acme/shop"), ``{origin}`` (where the token came from, never
    the token), ``{status}``, ``{url}`` (shortened, credentials redacted), ``{path}`` (the URL
    without query or credentials), ``{said}`` (what the server's body says, if the source reads
    it: ``_server_says``), ``{needs}`` (`` (it needs X)`` from ``Source.needs``), and what the
    source's ``_placeholders`` adds."""

    error: builtins.type[SourceError]
    anonymous: str
    """Said when the request carried no token."""
    signed: str | None = None
    """Said when it carried one (default: ``anonymous``)."""


_SET_A_TOKEN = "set token_env, token_file or token_command"  # noqa: S105 - words, no secret

STATUS_WORDS: Mapping[int, Words] = MappingProxyType(
    {
        401: Words(
            AuthFailed,
            f"{{host}} asked for a token (HTTP 401): {_SET_A_TOKEN}",
            "{host} refused the token from {origin} (HTTP 401): wrong, expired or revoked",
        ),
        403: Words(
            AuthFailed,
            f"{{host}} denied access to {{what}} (HTTP 403) without a token: {_SET_A_TOKEN}",
            "{host} denied access to {what} (HTTP 403): the token from {origin} lacks "
            "permission{needs}",
        ),
        404: Words(NotFound, "{what} not found on {host} (or the token cannot see it)"),
    }
)
"""The words every source uses for 401, 403 and 404; a source adds or replaces statuses in its
``status_words`` (400, 410...). Rate limits (429, or a 403 with the quota spent) and 5xx keep
the HTTP client's words: they depend on headers (``Retry-After``, the reset time) only it reads."""


JSON = "application/json"
"""``accept`` of a JSON API."""
XML = "application/xml, text/xml;q=0.9, */*;q=0.1"
"""``accept`` of an XML document (a cctray feed, a JUnit report), taking what a server has."""


class Source(ABC, Generic[ConfigT]):
    """Base of every provider's source."""

    provider: ClassVar[Provider]
    """Its declaration (``sources/<provider>/__init__.py``)."""
    rate_headers: ClassVar[RateHeaders | None] = None
    """How this API reports its quota (the engine reads the matching budget)."""
    status_words: ClassVar[Mapping[int, Words]] = MappingProxyType({})
    """This provider's words for statuses, over ``STATUS_WORDS``."""
    needs: ClassVar[str] = ""
    """What its token needs (``read access to Actions``), named when a 403 says it lacks it."""
    accept: ClassVar[str | None] = JSON
    """The ``Accept`` header of its requests: ``JSON`` (most APIs), ``XML``, or ``None`` for
    none of ours."""

    def __init__(self, config: ConfigT, http: HttpClient) -> None:
        self.config = config
        self.http = http
        self.sent = 0
        """Requests made through ``_get`` so far (a source's summary may count them)."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def token(self) -> str | None:
        return self.config.token.get_secret_value() if self.config.token else None

    @property
    def type(self) -> str:
        """Its provider's ``type``."""
        return self.provider.type

    @property
    def _host(self) -> str:
        """The host the source talks to (its declared ``url_field``), for messages."""
        return host_of(self.provider.url_of(self.config))

    @property
    def _token_origin(self) -> str:
        """Where the token came from, for messages (never the token itself)."""
        config = self.config
        if config.token_env:
            return f"${config.token_env}"
        if config.token_file:
            return f"token file {config.token_file}"
        if config.token_command:
            return "token_command"
        return "the config"

    # -- the one request path ------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        """The credentials a request carries; by default the token as ``Bearer``. A provider
        with another scheme overrides this (``_basic_or_bearer``, a ``PRIVATE-TOKEN``...)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _basic_or_bearer(self, username: str | None) -> dict[str, str]:
        """Basic auth with ``username`` and the token as password, or the token as ``Bearer``."""
        if username:
            return {"Authorization": basic_auth(username, self.token or "")}
        return Source._auth_headers(self)

    @property
    def pushes(self) -> bool:
        """Whether the server holds this source's request until there is news (a ``serve``
        answering ``Prefer: wait``): the engine then asks again at once instead of after an
        interval, since the wait is in the request."""
        return False

    def _headers(self) -> dict[str, str]:
        """Headers every request of this provider carries besides credentials: its ``accept``;
        a provider that sends more (an API version...) overrides this."""
        return {"Accept": self.accept} if self.accept else {}

    async def _get(
        self,
        url: str,
        params: Params | None = None,
        *,
        what: str | None = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        conditional: bool = True,
        rate_headers: RateHeaders | None = None,
        facts: Mapping[str, str] | None = None,
        method: str = "GET",
        content: bytes | None = None,
    ) -> Response:
        """GET (or ``method``) ``url`` with this provider's headers and credentials; an answer whose status is
        in ``ok`` is returned, any other becomes a ``SourceError`` in words naming ``what``
        (``facts`` fills more placeholders of this request's words, e.g. the scope it needs)."""
        words = {**STATUS_WORDS, **self.status_words}
        # 403 stays with the HTTP client: only it can tell a rate limit from a denial.
        wanted = tuple(dict.fromkeys((*ok, *(s for s in words if s != 403))))
        carried = {**self._headers(), **(headers or {}), **self._auth_headers()}
        self.sent += 1
        try:
            response = await self.http.get(
                url,
                # None, not {}: an empty mapping would drop a query the URL itself carries.
                params=(params if isinstance(params, list) else dict(params)) if params else None,
                headers=carried,
                timeout=self.config.timeout,
                rate_headers=rate_headers or self.rate_headers,
                conditional=conditional,
                verify_ok=wanted,
                method=method,
                content=content,
            )
        except AuthFailed:  # a 403 that is not a rate limit (401 is always answered above)
            if 403 in ok:
                raise
            raise self._in_words(words[403], 403, url, what, facts) from None
        if response.status_code in ok:
            return response
        status = response.status_code
        said = {"said": self._server_says(response), **(facts or {})}
        raise self._in_words(words[status], status, response.url, what, said)

    def _without_secrets(self, text: str) -> str:
        """Text from a server without our credentials in any form a request carried them (the
        token; the credentials of an ``Authorization`` value, Basic auth's base64 being the
        token spelt otherwise): an error body may quote the request back. Scrubbed first (an
        escape spliced into a quoted token must not hide it here, then vanish), and before any
        cut (no half of one is left)."""
        text = scrub(text)
        secrets = {self.token or ""}
        for value in self._auth_headers().values():
            secrets.add(value.rpartition(" ")[2])  # "Bearer ***": the scheme may show
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _placeholders(self) -> dict[str, str]:
        """More placeholders for this provider's ``status_words`` (a user name...)."""
        return {}

    def _server_says(self, response: Response) -> str:
        """The ``{said}`` placeholder: what the server's error body says (``": reason"``), for
        a provider whose errors explain themselves; by default nothing."""
        return ""

    def _in_words(
        self,
        words: Words,
        status: int,
        url: str,
        what: str | None,
        facts: Mapping[str, str] | None = None,
    ) -> SourceError:
        template = words.signed if self.token and words.signed else words.anonymous
        parts = urlsplit(url)
        fills = {
            "said": "",
            "needs": f" (it needs {self.needs})" if self.needs else "",
            **self._placeholders(),
            **(facts or {}),
            "host": self._host or host_of(url),
            "what": what or brief_url(url),
            "origin": self._token_origin,
            "status": str(status),
            "url": brief_url(url),
            "path": f"{parts.scheme}://{host_of(url)}{parts.path}",
        }
        return words.error(template.format_map(_Fills(fills)))

    @abstractmethod
    async def poll(self) -> SourceResult:
        """Read the API once. Raises only ``SourceError``."""

    async def guarded_poll(self) -> SourceResult:
        """``poll``, with any unexpected exception turned into a ``SourceError``.

        A parser bug must never take down the engine; it shows as this source's error instead.
        """
        return await guard(self.poll)


class _Fills(dict[str, str]):
    """Placeholders for status words; one a provider's words name but nobody filled is left
    out rather than turning the error into a ``KeyError``."""

    def __missing__(self, key: str) -> str:
        return ""


async def guard(call: Callable[[], Awaitable[SourceResult]]) -> SourceResult:
    try:
        return await call()
    except SourceError:
        raise
    except ValidationError as exc:
        raise BadPayload(describe_validation(exc)) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        raise BadPayload(f"unexpected payload ({type(exc).__name__})") from None


def describe_validation(exc: ValidationError) -> str:
    """One line naming the first field that did not match the documented shape."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "top level"
    return f"unexpected payload: {where}: {first['msg']} ({exc.error_count()} problem(s))"


def parse_model(model: type[ModelT], data: Any) -> ModelT:
    """Validate a payload into a pydantic model; mismatches become ``BadPayload``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadPayload(describe_validation(exc)) from None


def parse_iso(value: str | None) -> datetime | None:
    """ISO-8601 with any offset and any number of fractional digits; ``None`` if unparseable."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python before 3.11 disliked fractions that are not 3 or 6 digits; normalise to 6 anyway.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        text = f"{head}.{(digits + '000000')[:6]}{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_SAFE_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def safe_url(url: str | None) -> str | None:
    """An http(s) URL without whitespace or control characters, else ``None``: a URL from an
    API ends up clickable on screen, so it must never smuggle a ``javascript:`` or an escape."""
    if not url:
        return None
    url = url.strip()
    return url if _SAFE_URL.fullmatch(url) else None
