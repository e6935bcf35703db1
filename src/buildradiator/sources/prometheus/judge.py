"""Judging one sample of a query against the source's thresholds: its value, and up, warn or down
in words."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from buildradiator.model import Health
from buildradiator.sources.prometheus.config import PrometheusSource
from buildradiator.text import clean_text

SHOWN_WARNING = 80
"""Characters of an odd sample value quoted in a warning."""

# Go's strconv.FormatFloat writes what Prometheus sends: decimal or exponent notation, "NaN",
# "+Inf", "-Inf". Python's float() also takes "1_000" and " 1 "; a value like that is not from
# Prometheus and is better reported than guessed at.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)|nan", re.I)


@dataclass(frozen=True)
class Verdict:
    """One series (or the scalar) judged against the thresholds."""

    health: Health
    value: float | None
    words: str
    """``0.034 (> 0.01)``, ``value is NaN``."""
    labels: dict[str, str]
    badness: float = -math.inf
    """How far past (or short of) the nearest threshold, relative to it: ranks series of one state."""


def parse_value(raw: Any) -> float | str:
    """A sample value as a float (NaN and infinities included), or a reason it is none."""
    if isinstance(raw, bool):
        return f"value {raw!r} is not a number"
    if isinstance(raw, int | float):
        # Not what Prometheus sends (it quotes numbers), but what some look-alikes do.
        return float(raw)
    if not isinstance(raw, str):
        return "sample without a value" if raw is None else "value is not a number"
    text = raw.strip()
    if not _NUMBER.fullmatch(text):
        shown = clean_text(raw, SHOWN_WARNING)
        return f'value "{shown}" is not a number' if shown else "value is empty"
    return float(text)


def fmt_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.4g}"


def _fmt_threshold(value: float) -> str:
    # Thresholds are the user's own numbers: show them as written (0.005 stays 0.005).
    return fmt_value(value) if math.isinf(value) or value == int(value) else f"{value:g}"


class Judge:
    """The thresholds of one source: a sample's health, and words for it."""

    def __init__(self, config: PrometheusSource) -> None:
        self.config = config
        self.unit = (config.unit or "").strip()

    def sample(self, pair: Any, labels: dict[str, str]) -> Verdict:
        """Judge one ``[ts, "value"]`` pair."""
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            return Verdict(Health.UNKNOWN, None, "sample is not a [time, value] pair", labels)
        parsed = parse_value(pair[1])
        if isinstance(parsed, str):
            return Verdict(Health.UNKNOWN, None, parsed, labels)
        return self.number(parsed, labels)

    def number(self, value: float, labels: dict[str, str]) -> Verdict:
        if math.isnan(value):
            return Verdict(Health.UNKNOWN, None, "value is NaN", labels)
        c = self.config
        shown = fmt_value(value) + (f" {self.unit}" if self.unit else "")
        checks = (
            (Health.DOWN, c.down_above, ">"),
            (Health.DOWN, c.down_below, "<"),
            (Health.WARN, c.warn_above, ">"),
            (Health.WARN, c.warn_below, "<"),
        )
        for health, limit, op in checks:
            if limit is None:
                continue
            if (op == ">" and value > limit) or (op == "<" and value < limit):
                words = f"{shown} ({op} {_fmt_threshold(limit)})"
                return Verdict(health, value, words, labels, self._badness(value))
        return Verdict(Health.UP, value, shown, labels, self._badness(value))

    def _badness(self, value: float) -> float:
        c = self.config
        scores = [
            (value - t) / max(abs(t), 1e-12) for t in (c.down_above, c.warn_above) if t is not None
        ]
        scores += [
            (t - value) / max(abs(t), 1e-12) for t in (c.down_below, c.warn_below) if t is not None
        ]
        best = max(scores, default=-math.inf)
        return -math.inf if math.isnan(best) else best
