"""The errors buildradiator raises, in one tree.

    BuildRadiatorError
    ├── ConfigError          the config file cannot be used (exit code 2); carries every problem
    └── SourceError          one source could not be read this time; never fatal
        ├── Unreachable      DNS failure, connection refused or reset, TLS failure
        ├── Timeout          no (complete) answer within the source's timeout
        ├── AuthFailed       401, or 403 that is not a rate limit: token missing, wrong or too weak
        ├── NotFound         404: the repository, job or feed named in the config does not exist
        ├── RateLimited      429, or 403 with the quota spent; ``retry_at`` says when to try again
        ├── ServerError      5xx
        └── BadPayload       the answer was not what the API documents (HTML, truncated, wrong types)

A ``SourceError``'s message is plain words meant for the status bar and ``check``; it never
carries a token (``redact`` strips them from URLs) and it never carries markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

# The exit codes of every command (README, "Exit codes").
EXIT_GREEN = 0
"""Everything known, fresh and green (``check``: every source was read)."""
EXIT_RED = 1
"""Something is red: a red main, a service down, a deploy failed or suspect (wins over 3)."""
EXIT_CONFIG = 2
"""A usage or config problem: nothing was polled."""
EXIT_UNKNOWN = 3
"""Unknown: a source could not be read, or its data is not fresh (waiting, cached, stale)."""
EXIT_INTERNAL = 4
"""The radiator itself failed (the engine stopped on a bug): see the log."""


class BuildRadiatorError(Exception):
    """Base of every error buildradiator raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file, located as precisely as we can."""

    path: str
    """The file the problem is in."""
    key: str
    """Dotted key, e.g. ``sources[2].token_env``; empty for a file-level problem."""
    message: str
    line: int | None = None
    hint: str | None = None

    def render(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        key = f" {self.key}:" if self.key else ""
        text = f"{where}:{key} {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(BuildRadiatorError):
    """The configuration cannot be used. Holds every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.render() for p in problems))


@dataclass
class SourceError(BuildRadiatorError):
    """One source could not be read this time. The message is for humans, in plain words."""

    message: str
    kind: ClassVar[str] = "error"
    """The kind of failure, a word for the status bar, ``check`` and the metrics."""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class Unreachable(SourceError):
    kind = "unreachable"


class Timeout(SourceError):
    kind = "timeout"


class AuthFailed(SourceError):
    kind = "auth"


class NotFound(SourceError):
    kind = "not_found"


@dataclass
class RateLimited(SourceError):
    retry_at: datetime | None = None
    """When the API says we may try again (from Retry-After or the reset header)."""
    kind = "rate_limited"


class ServerError(SourceError):
    kind = "server"


class BadPayload(SourceError):
    kind = "bad_payload"
