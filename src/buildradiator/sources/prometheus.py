"""One Prometheus instant query with thresholds (api-facts section 9): ``5xx share > 0.01`` is down.

``GET {url}/api/v1/query?query=...`` answers ``{"status", "data": {"resultType", "result"},
"warnings"}``. Sample values are *strings* (``"0.034"``, ``"NaN"``, ``"+Inf"``, ``"1e-3"``), each
next to a unix time in float seconds. The whole poll becomes one ``ServiceCheck(kind="query")``:

- ``vector``: every series is judged; the check shows the worst one, and when there are several,
  the labels that tell it apart from the others and how many series share its state;
- ``scalar``: ``[ts, "value"]``, judged like one series;
- ``string``, ``matrix``, an empty vector, ``NaN`` or a value that is no number: ``unknown``,
  with the reason in words (``value`` stays ``None``).

A query above its threshold is *data*; a query the server refuses is an error of the source:
``status: "error"`` (400 ``bad_data``, 422 ``execution``) raises a ``SourceError`` naming the
server's complaint and the query, 503 (``timeout``, ``canceled``, a server not ready) a
``ServerError``, an HTML page where JSON was expected a ``BadPayload``.

Auth: with ``username``, Basic auth whose password is the token (a proxy in front of Prometheus);
otherwise a token goes as ``Authorization: Bearer``. Prometheus itself has neither conditional
requests nor rate-limit headers, so neither is used.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from buildradiator.errors import AuthFailed, BadPayload, NotFound, ServerError, SourceError
from buildradiator.model import Health, ServiceCheck, SourceResult
from buildradiator.sources.base import Source, parse_model
from buildradiator.sources.http import Response, brief_url, looks_like_html, redact
from buildradiator.sources.prodconfigs import PrometheusSource
from buildradiator.text import clean_text

QUERY_PATH = "/api/v1/query"
SHOWN_QUERY = 60
"""Characters of the query an error message repeats: enough to recognise it, short enough for a
status bar (the server's own message gives the position of a parse error)."""
SHOWN_ERROR = 200
SHOWN_WARNING = 80
SHOWN_LABELS = 3
SHOWN_LABEL_VALUE = 40

# Go's strconv.FormatFloat writes what Prometheus sends: decimal or exponent notation, "NaN",
# "+Inf", "-Inf". Python's float() also takes "1_000" and " 1 "; a value like that is not from
# Prometheus and is better reported than guessed at.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)|nan", re.I)

# Worst first: what the check shows when series disagree. A series without a number is worse
# than a healthy one (it may hide a problem), but not as bad as one past a threshold.
_RANK = {Health.DOWN: 3, Health.WARN: 2, Health.UNKNOWN: 1, Health.UP: 0}
_STATE_WORDS = {Health.DOWN: "down", Health.WARN: "at warn", Health.UNKNOWN: "without a number"}


# --- payload shapes -----------------------------------------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class QueryData(_Payload):
    result_type: str | None = Field(default=None, alias="resultType")
    result: Any = None
    """A list of series (vector, matrix) or one ``[ts, "value"]`` pair (scalar, string)."""


class QueryAnswer(_Payload):
    status: str | None = None
    data: QueryData | None = None
    error_type: str | None = Field(default=None, alias="errorType")
    error: str | None = None
    warnings: list[Any] | None = None


class Series(_Payload):
    metric: dict[str, Any] | None = None
    value: Any = None
    histogram: Any = None
    """A native histogram sample, sent instead of ``value``."""


# --- judging one sample --------------------------------------------------------------------------


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


# --- the source ----------------------------------------------------------------------------------


class PrometheusQuery(Source[PrometheusSource]):
    """One instant query, judged against its thresholds, as one ``ServiceCheck``."""

    type: ClassVar[str] = "prometheus"

    @property
    def _root(self) -> str:
        # The config asks for the Prometheus root; ``.../api/v1`` is a common slip, forgiven.
        root = self.config.url.rstrip("/")
        return root.removesuffix("/api/v1")

    @property
    def graph_url(self) -> str:
        """The query in Prometheus' own UI (``/graph?g0.expr=...``), credentials redacted."""
        return redact(f"{self._root}/graph?g0.expr={quote(self.config.query, safe='')}")

    @property
    def label(self) -> str:
        return self.config.label or self.config.name

    async def poll(self) -> SourceResult:
        response = await self._get()
        answer = self._parse(response)
        data = answer.data
        if data is None:
            raise BadPayload(
                f"Prometheus at {self._host} answered success without data ({brief_url(response.url)})"
            )
        verdict, several = self._judge(data)
        detail = verdict.words
        if several:
            detail += several
        warnings = self._warnings(answer.warnings)
        if warnings:
            detail += f"; {warnings}"
        check = ServiceCheck(
            source=self.name,
            name=self.label,
            service=self.config.service or self.config.name,
            environment=self.config.environment or "prod",
            kind="query",
            health=verdict.health,
            value=verdict.value,
            unit=(self.config.unit or "").strip() or None,
            detail=self._scrub(detail),
            url=self.graph_url,
            checked_at=self.http.clock.now(),
            since=None,
        )
        return SourceResult(services=(check,), summary=self._summary(check))

    # -- the request -------------------------------------------------------------------------------

    async def _get(self) -> Response:
        headers: dict[str, str] = {"Accept": "application/json"}
        auth: tuple[str, str] | None = None
        if self.config.username:
            auth = (self.config.username, self.token or "")
        elif self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            # Prometheus answers a refused query with a JSON body on 400, 422 and 503: take those
            # as answers so the message can say what the server disliked about the query.
            response = await self.http.get(
                f"{self._root}{QUERY_PATH}",
                params={"query": self.config.query},
                headers=headers,
                auth=auth,
                timeout=self.config.timeout,
                verify_ok=(200, 400, 401, 404, 422, 503),
            )
        except AuthFailed:
            raise AuthFailed(
                f"{self._host} denied access to the query API (HTTP 403): "
                + self._credential_words()
            ) from None
        status = response.status_code
        if status == 401:
            raise AuthFailed(
                f"{self._host} refused the credentials (HTTP 401): " + self._credential_words()
            )
        if status == 404:
            raise NotFound(
                f"not found: no Prometheus query API at {brief_url(response.url)} "
                "(url must be the Prometheus root, e.g. https://prometheus.example.com)"
            )
        return response

    def _credential_words(self) -> str:
        if self.token is None:
            return "no token given; set token_env, token_file or token_command"
        how = "password for " + self.config.username if self.config.username else "token"
        return f"the {how} from {self._token_origin} is wrong or lacks permission"

    def _parse(self, response: Response) -> QueryAnswer:
        status = response.status_code
        if status != 200:
            return self._refused(response)
        answer = parse_model(QueryAnswer, response.json())
        if answer.status == "error":
            # Some proxies (and VictoriaMetrics in places) say "error" with a 200.
            raise self._rejection(answer)
        if answer.status != "success":
            raise BadPayload(
                f"Prometheus at {self._host} answered without status success or error "
                f"(not a Prometheus query answer? {brief_url(response.url)})"
            )
        return answer

    def _refused(self, response: Response) -> QueryAnswer:
        """400, 422 or 503: raise the error the body (or the code) describes."""
        status = response.status_code
        answer: QueryAnswer | None = None
        if not looks_like_html(response.content):
            try:
                answer = QueryAnswer.model_validate(response.json())
            except (BadPayload, ValueError):
                answer = None
        known = answer is not None and answer.status == "error" and bool(answer.error)
        if status >= 500:
            if answer is not None and known:
                kind, error = _why(answer)
                raise ServerError(
                    self._scrub(
                        f"Prometheus at {self._host} could not run the query "
                        f"({kind}, HTTP {status}): {error}"
                    )
                )
            page = " (an HTML error page)" if looks_like_html(response.content) else ""
            raise ServerError(f"server error from {self._host} (HTTP {status}){page}")
        if answer is not None and known:
            raise self._rejection(answer, status)
        if looks_like_html(response.content):
            raise BadPayload(
                f"{self._host} answered HTTP {status} with an HTML page where JSON was expected "
                f"({brief_url(response.url)})"
            )
        raise SourceError(f"unexpected answer from {self._host} (HTTP {status})")

    def _rejection(self, answer: QueryAnswer, status: int = 200) -> SourceError:
        query = clean_text(self.config.query, SHOWN_QUERY)
        code = f", HTTP {status}" if status != 200 else ""
        kind, error = _why(answer)
        return SourceError(self._scrub(f"query rejected ({kind}{code}): {error} — query: {query}"))

    # -- judging -----------------------------------------------------------------------------------

    def _judge(self, data: QueryData) -> tuple[Verdict, str]:
        """The verdict the check shows and, for several series, the words about the others."""
        judge = Judge(self.config)
        kind = (data.result_type or "").lower()
        if kind == "scalar":
            return judge.sample(data.result, {}), ""
        if kind == "string":
            return Verdict(Health.UNKNOWN, None, "query returns a string, not a number", {}), ""
        if kind == "matrix":
            words = "query returns a range vector; use an instant query"
            return Verdict(Health.UNKNOWN, None, words, {}), ""
        if kind != "vector":
            shown = clean_text(data.result_type or "nothing", 40)
            return Verdict(Health.UNKNOWN, None, f"query returns {shown}, not a vector", {}), ""
        if data.result is None:
            # Some proxies send null for an empty result.
            series: list[Series] = []
        elif isinstance(data.result, list):
            series = [parse_model(Series, s) for s in data.result]
        else:
            raise BadPayload("unexpected payload: data.result of a vector is not a list")
        if not series:
            return Verdict(Health.UNKNOWN, None, "no series (no data)", {}), ""
        verdicts = [self._series(judge, s) for s in series]
        worst = max(
            verdicts,
            key=lambda v: (_RANK[v.health], v.badness, _label_text(v.labels)),
        )
        if len(verdicts) == 1:
            return worst, ""
        shown = _distinguishing(worst.labels, [v.labels for v in verdicts])
        if shown:
            worst = Verdict(worst.health, worst.value, f"{worst.words} {shown}", worst.labels)
        total = len(verdicts)
        if worst.health is Health.UP:
            return worst, f"; all {total} series up"
        alike = sum(1 for v in verdicts if v.health is worst.health)
        return worst, f"; {alike} of {total} series {_STATE_WORDS[worst.health]}"

    def _series(self, judge: Judge, series: Series) -> Verdict:
        labels = {str(k): str(v) for k, v in (series.metric or {}).items()}
        if series.value is None and series.histogram is not None:
            words = "series is a native histogram, not a number (use histogram_quantile)"
            return Verdict(Health.UNKNOWN, None, words, labels)
        return judge.sample(series.value, labels)

    # -- words -------------------------------------------------------------------------------------

    def _warnings(self, warnings: list[Any] | None) -> str:
        texts = [clean_text(str(w), SHOWN_WARNING) for w in warnings or () if w]
        texts = [t for t in texts if t]
        if not texts:
            return ""
        more = f" (+{len(texts) - 1} more)" if len(texts) > 1 else ""
        return f"warning: {texts[0]}{more}"

    def _summary(self, check: ServiceCheck) -> str:
        text = f"{check.name} ({check.service_name}, {check.environment}): {check.health.value}"
        return f"{text}, {check.detail}" if check.detail else text

    def _scrub(self, text: str) -> str:
        """Our token out of text derived from the answer (a proxy may echo the request)."""
        text = clean_text(text)
        token = self.token
        if token and len(token) >= 4:
            text = text.replace(token, "***")
        return text


def _why(answer: QueryAnswer) -> tuple[str, str]:
    """The server's ``errorType`` and ``error``, cleaned and cut for a status bar."""
    kind = clean_text(answer.error_type or "", 40) or "error"
    error = clean_text(answer.error or "", SHOWN_ERROR) or "no reason given"
    return kind, error


def _label_text(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _distinguishing(labels: dict[str, str], everyone: list[dict[str, str]]) -> str:
    """The labels of one series that not every series shares, PromQL style: ``{instance="a"}``."""
    keys = sorted(k for k in labels if any(o.get(k) != labels[k] for o in everyone))
    if not keys:
        return ""
    parts = []
    for key in keys[:SHOWN_LABELS]:
        value = clean_text(labels[key], SHOWN_LABEL_VALUE).replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'{clean_text(key, SHOWN_LABEL_VALUE)}="{value}"')
    more = ", …" if len(keys) > SHOWN_LABELS else ""
    return "{" + ", ".join(parts) + more + "}"
