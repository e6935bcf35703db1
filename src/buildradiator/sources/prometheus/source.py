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

from typing import Any
from urllib.parse import quote

from buildradiator.errors import AuthFailed, BadPayload, NotFound, ServerError, SourceError
from buildradiator.model import Health, ServiceCheck, SourceResult
from buildradiator.sources.base import Source, Words, parse_model
from buildradiator.sources.http import Response, brief_url, looks_like_html, redact
from buildradiator.sources.prometheus import PROVIDER
from buildradiator.sources.prometheus.config import PrometheusSource
from buildradiator.sources.prometheus.judge import SHOWN_WARNING, Judge, Verdict
from buildradiator.sources.prometheus.payloads import QueryAnswer, QueryData, Series
from buildradiator.text import clean_text

QUERY_PATH = "/api/v1/query"
SHOWN_QUERY = 60
"""Characters of the query an error message repeats: enough to recognise it, short enough for a
status bar (the server's own message gives the position of a parse error)."""
SHOWN_ERROR = 200
SHOWN_LABELS = 3
SHOWN_LABEL_VALUE = 40

# Worst first: what the check shows when series disagree. A series without a number is worse
# than a healthy one (it may hide a problem), but not as bad as one past a threshold.
_RANK = {Health.DOWN: 3, Health.WARN: 2, Health.UNKNOWN: 1, Health.UP: 0}
_STATE_WORDS = {Health.DOWN: "down", Health.WARN: "at warn", Health.UNKNOWN: "without a number"}


_NO_TOKEN = "no token given; set token_env, token_file or token_command"  # noqa: S105 - words
_BAD_TOKEN = "the {credential} from {origin} is wrong or lacks permission"  # noqa: S105 - words

# --- the source ----------------------------------------------------------------------------------


class PrometheusQuery(Source[PrometheusSource]):
    """One instant query, judged against its thresholds, as one ``ServiceCheck``."""

    provider = PROVIDER
    status_words = {
        401: Words(
            AuthFailed,
            f"{{host}} refused the credentials (HTTP 401): {_NO_TOKEN}",
            f"{{host}} refused the credentials (HTTP 401): {_BAD_TOKEN}",
        ),
        403: Words(
            AuthFailed,
            f"{{host}} denied access to {{what}} (HTTP 403): {_NO_TOKEN}",
            f"{{host}} denied access to {{what}} (HTTP 403): {_BAD_TOKEN}",
        ),
        404: Words(
            NotFound,
            "not found: no Prometheus query API at {url} "
            "(url must be the Prometheus root, e.g. https://prometheus.example.com)",
        ),
    }

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
        response = await self._get_query()
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

    def _auth_headers(self) -> dict[str, str]:
        return self._basic_or_bearer(self.config.username)

    def _placeholders(self) -> dict[str, str]:
        username = self.config.username
        return {"credential": f"password for {username}" if username else "token"}

    async def _get_query(self) -> Response:
        # Prometheus answers a refused query with a JSON body on 400, 422 and 503: take those
        # as answers so the message can say what the server disliked about the query.
        return await self._get(
            f"{self._root}{QUERY_PATH}",
            {"query": self.config.query},
            ok=(200, 400, 422, 503),
            conditional=False,
            what="the query API",
        )

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
                kind, error = self._why(answer)
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
        kind, error = self._why(answer)
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

    def _why(self, answer: QueryAnswer) -> tuple[str, str]:
        """The server's ``errorType`` and ``error``, without our token, cleaned and cut for a
        status bar (the token out first: a cut through it would leave half of it)."""
        kind = clean_text(self._without_secrets(answer.error_type or ""), 40) or "error"
        error = clean_text(self._without_secrets(answer.error or ""), SHOWN_ERROR)
        return kind, error or "no reason given"

    def _scrub(self, text: str) -> str:
        """Our token out of text derived from the answer (a proxy may echo the request)."""
        return clean_text(self._without_secrets(text))


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
