"""What every ``[[sources]]`` table shares: the common keys, the URL check and the shape check of
names (``owner/name``, slugs) in a list."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookConfig(Strict):
    """``webhook = { secret_env = "..." }`` on a source: ``buildradiator serve`` takes its CI's
    events on ``/hooks/<source name>`` and polls the source the moment one arrives."""

    secret_env: str | None = None
    """Name of an environment variable holding the webhook's secret."""
    secret_file: str | None = None
    """Path of a file holding the secret (first line)."""
    secret_command: list[str] | str | None = None
    """A command printing the secret (run without a shell, like ``token_command``)."""
    unsigned: bool = False
    """Take deliveries without a signature. Only for a hook no one else can reach."""
    reconcile: float = Field(default=900.0, ge=30.0, le=86400.0)
    """Seconds between polls while ``serve`` takes webhooks: polling goes on, slower, to repair
    missed deliveries (15 minutes: a quiet estate costs 1/30 of polling every 30 s)."""
    secret: SecretStr | None = Field(default=None, exclude=True, repr=False)
    """Filled in by ``load_config``; never in the file."""

    @model_validator(mode="after")
    def _signed_or_said(self) -> WebhookConfig:
        given = [k for k in ("secret_env", "secret_file", "secret_command") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(
                f"give only one of secret_env, secret_file, secret_command (got {given})"
            )
        if not given and not self.unsigned:
            raise ValueError(
                "a webhook needs its secret (secret_env, secret_file or secret_command); "
                "unsigned = true takes deliveries from anyone who can reach serve"
            )
        if given and self.unsigned:
            raise ValueError("unsigned = true and a secret contradict each other: give one")
        return self


class SourceBase(Strict):
    """Keys every ``[[sources]]`` table may have."""

    name: str = Field(min_length=1, max_length=80)
    """Unique name of the source; shown in the status bar."""
    interval: float | None = Field(default=None, ge=1.0, le=86400.0)
    """Seconds between polls; defaults to ``radiator.interval``."""
    timeout: float = Field(default=10.0, gt=0.0, le=300.0)
    """Seconds one request may take, start to end."""
    stale_after: float | None = Field(default=None, gt=0.0)
    """Seconds after which the last good data is shown as stale; default: 3 intervals + 60 s."""
    verify_tls: bool = True
    """Turn off only for a server with a self-signed certificate; a warning says so."""
    token_env: str | None = None
    """Name of an environment variable holding the token."""
    token_file: str | None = None
    """Path of a file holding the token (first line)."""
    token_command: list[str] | str | None = None
    """A command (list, or a string split like a shell would, never run by one) printing the token."""
    names: dict[str, str] = Field(default_factory=dict)
    """Display names: ``{ "acme/monolith" = "Monolith" }``, keyed by a pipeline's name or key."""
    webhook: WebhookConfig | None = None
    """Events from the CI on ``serve``'s ``/hooks/<name>`` (see ``WebhookConfig``)."""
    token: SecretStr | None = Field(default=None, exclude=True, repr=False)
    """Filled in from token_env / token_file / token_command by ``load_config``; never in the file."""

    @model_validator(mode="after")
    def _one_secret_source(self) -> SourceBase:
        given = [k for k in ("token_env", "token_file", "token_command") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(f"give only one of token_env, token_file, token_command (got {given})")
        return self


def check_http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/") if value.count("/") > 2 else value


WebUrl = Annotated[str, AfterValidator(check_http_url)]
"""A field holding an http:// or https:// URL (``check_http_url``): a server, an API base."""


OWNER_NAME = re.compile(r"[\w.-]+/[\w.-]+")
"""A repository as GitHub names it: ``owner/name``."""


def check_shape(value: str, shape: re.Pattern[str], words: str) -> str:
    """``value`` when it has the ``shape`` (whole); else ``words`` saying what it should look
    like: ``must look like owner/name``."""
    if not shape.fullmatch(value):
        raise ValueError(words)
    return value


def check_each(values: list[str], shape: re.Pattern[str], words: str) -> list[str]:
    """``values`` when each has the ``shape`` (whole); else the first that has not, and ``words``
    saying what it should look like: ``'acme' must look like owner/name``."""
    for value in values:
        check_shape(value, shape, f"{value!r} {words}")
    return values
