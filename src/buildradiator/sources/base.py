"""What every source is.

A source turns one API into domain objects (``model.py``). It knows its endpoints, headers,
payload shapes and rate-limit headers; it does no scheduling, no UI and no storage. ``poll``
either returns a ``SourceResult`` or raises a ``SourceError`` -- never anything else: payload
models are validated with pydantic and a ``ValidationError`` becomes ``BadPayload``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError

from buildradiator.config.loading import SourceBase
from buildradiator.errors import BadPayload, SourceError
from buildradiator.model import SourceResult
from buildradiator.sources.http import HttpClient, RateHeaders, host_of

ConfigT = TypeVar("ConfigT", bound=SourceBase)
ModelT = TypeVar("ModelT", bound=BaseModel)


class Source(ABC, Generic[ConfigT]):
    """Base of every provider's source."""

    type: ClassVar[str]
    rate_headers: ClassVar[RateHeaders | None] = None
    """How this API reports its quota (the engine reads the matching budget)."""

    def __init__(self, config: ConfigT, http: HttpClient) -> None:
        self.config = config
        self.http = http

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def token(self) -> str | None:
        return self.config.token.get_secret_value() if self.config.token else None

    @property
    def _host(self) -> str:
        """The host the source talks to (``api_url`` or ``url``), for messages."""
        url = getattr(self.config, "api_url", None) or getattr(self.config, "url", "")
        return host_of(str(url))

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

    @abstractmethod
    async def poll(self) -> SourceResult:
        """Read the API once. Raises only ``SourceError``."""

    async def guarded_poll(self) -> SourceResult:
        """``poll``, with any unexpected exception turned into a ``SourceError``.

        A parser bug must never take down the engine; it shows as this source's error instead.
        """
        return await guard(self.poll)


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


def _str_or_none(value: Any) -> Any:
    # A timestamp of the wrong type is as useless as a garbage one: None, not a failed poll.
    return value if isinstance(value, str) else None


Stamp = Annotated[str | None, BeforeValidator(_str_or_none)]
"""A timestamp field of a payload model: a string, or None for anything else."""

_SAFE_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def safe_url(url: str | None) -> str | None:
    """An http(s) URL without whitespace or control characters, else ``None``: a URL from an
    API ends up clickable on screen, so it must never smuggle a ``javascript:`` or an escape."""
    if not url:
        return None
    url = url.strip()
    return url if _SAFE_URL.fullmatch(url) else None
