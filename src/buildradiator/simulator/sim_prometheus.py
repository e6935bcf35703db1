"""Prometheus' instant-query API (api-facts section 9), as the simulator speaks it, under ``/prometheus``.

``url = http://127.0.0.1:PORT/prometheus`` works like ``https://prometheus.example.com`` (the source
adds ``/api/v1/query``); ``/prometheus/graph?g0.expr=...``, where the radiator's links point,
answers with an HTML page.

What it knows (``prodstory``): a query about ``http_requests_total`` of ``payments`` answers the
payments 5xx share of the moment (0.002; 0.034 from 217 to 262 while the new revision fails; 0.007
from 262 to 274, while the fix rolls out), ``up{job="search"}`` answers 1, a bare number or string literal answers a
``scalar`` or ``string``, and anything else an empty vector, as Prometheus does for a metric it has
no series of.

Faithful where clients can tell: values are strings in Go's ``FormatFloat(v, 'f', -1)`` style
next to a unix time in float seconds; an aggregation keeps only its ``by (...)`` labels (a plain
``sum(...)`` answers ``"metric": {}``); a query with unbalanced brackets or quotes is refused with
400 ``{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:15:
parse error: ..."}``; unknown paths get Go's ``404 page not found``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from email.message import Message
from typing import Any

from buildradiator.simulator import prodstory
from buildradiator.simulator.answer import Answer, json_answer, text_answer
from buildradiator.simulator.scenario import Moment, Scenario
from buildradiator.simulator.sourceblock import Literal, source_block

PREFIX = "prometheus"
PAYMENTS_QUERY = (
    'sum by (job, service) (rate(http_requests_total{service="payments",code=~"5.."}[5m]))'
    ' / sum by (job, service) (rate(http_requests_total{service="payments"}[5m]))'
)
"""The demo's query: the share of payments' requests answered 5xx over the last five minutes."""

PAYMENTS_LABELS = {
    "job": "payments",
    "service": "payments",
    "namespace": "prod",
    "instance": "10.42.3.17:8080",
}
"""The labels of payments' ``http_requests_total`` series (``rate`` has dropped ``__name__``)."""
SEARCH_UP = {"__name__": "up", "instance": "search-0.search.prod.svc:8080", "job": "search"}

_UP_SEARCH = re.compile(r'\s*up\s*\{\s*job\s*=\s*"search"\s*\}\s*')
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_STRING = re.compile(r'\s*"([^"\\]*)"\s*')
_AGGREGATION = re.compile(
    r"\b(?:sum|avg|min|max|count|group|stddev|stdvar|topk|bottomk|quantile)\s*"
    r"(?:(by|without)\s*\(([^)]*)\))?\s*\("
)
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_UNCLOSED = {
    "(": "unclosed left parenthesis",
    "[": "unclosed left bracket",
    "{": "unexpected end of input inside braces",
}
_UNEXPECTED = {
    ")": "unexpected right parenthesis ')'",
    "]": "unexpected right bracket ']'",
    "}": "unexpected right brace '}'",
}


def go_float(value: float) -> str:
    """A sample value as Prometheus writes it: ``0.034``, ``1``, ``NaN``, ``+Inf``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_problem(query: str) -> str | None:
    """Why Prometheus' parser would refuse ``query`` (brackets and quotes only), else ``None``.

    Positions are ``line:column`` (1-based) like PromQL's own messages."""
    if not query.strip():
        return "1:1: parse error: no expression found in input"
    stack: list[tuple[str, int]] = []
    quote: str | None = None
    quote_at = 0
    i = 0
    while i < len(query):
        char = query[i]
        if quote is not None:
            if char == "\\" and quote != "`":
                i += 2
                continue
            if char == quote:
                quote = None
        elif char in "\"'`":
            quote, quote_at = char, i
        elif char == "#":
            end = query.find("\n", i)
            i = len(query) if end < 0 else end
            continue
        elif char in "([{":
            stack.append((char, i))
        elif char in _CLOSERS:
            if not stack or stack[-1][0] != _CLOSERS[char]:
                return f"{_where(query, i)}: parse error: {_UNEXPECTED[char]}"
            stack.pop()
        i += 1
    if quote is not None:
        return f"{_where(query, quote_at)}: parse error: unterminated quoted string"
    if stack:
        opener, _ = stack[-1]
        return f"{_where(query, len(query))}: parse error: {_UNCLOSED[opener]}"
    return None


def _where(query: str, index: int) -> str:
    before = query[:index]
    line = before.count("\n") + 1
    column = index - (before.rfind("\n") + 1) + 1
    return f"{line}:{column}"


def result_labels(query: str, labels: dict[str, str]) -> dict[str, str]:
    """The labels an answer keeps: an aggregation keeps its ``by`` labels (or drops its
    ``without`` ones); a query without one keeps the series' own labels."""
    found = _AGGREGATION.search(query)
    if found is None:
        return dict(labels)
    mode, names = found.group(1), {n.strip() for n in (found.group(2) or "").split(",")}
    if mode == "by":
        return {k: v for k, v in labels.items() if k in names}
    if mode == "without":
        return {k: v for k, v in labels.items() if k not in names}
    return {}


def bad_data(message: str) -> Answer:
    payload = {
        "status": "error",
        "errorType": "bad_data",
        "error": f'invalid parameter "query": {message}',
    }
    return json_answer(400, payload)


class PrometheusSim:
    prefix = PREFIX

    def demo_sources(self, base_url: str) -> str:
        # A TOML literal string ('...'): the query's double quotes and backslashes stay as typed.
        return source_block(
            name="prometheus-payments",
            type="prometheus",
            url=f"{base_url.rstrip('/')}/{PREFIX}",
            query=Literal(PAYMENTS_QUERY),
            down_above=0.01,
            warn_above=0.005,
            label="5xx share",
            service="payments",
            environment="prod",
        )

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        if path == "/graph":
            page = "<!doctype html><title>Prometheus Time Series Collection and Processing Server</title>\n"
            return text_answer(200, page, "text/html")
        if path != "/api/v1/query":
            return text_answer(404, "404 page not found\n")
        expr = (query.get("query") or [""])[0]
        problem = parse_problem(expr)
        if problem is not None:
            return bad_data(problem)
        # Whole seconds (Prometheus sends ms precision; "1764158400.0" is as valid): the answer
        # then has the same length at every moment, which the fuzz tests' replays rely on.
        stamp = float(int(moment.now.timestamp()))
        return json_answer(200, {"status": "success", "data": self._data(expr, stamp, moment)})

    def _data(self, expr: str, stamp: float, moment: Moment) -> dict[str, Any]:
        if _NUMBER.fullmatch(expr):
            return {"resultType": "scalar", "result": [stamp, go_float(float(expr))]}
        literal = _STRING.fullmatch(expr)
        if literal:
            return {"resultType": "string", "result": [stamp, literal.group(1)]}
        series: list[dict[str, Any]] = []
        if "http_requests_total" in expr and "payments" in expr:
            share = prodstory.payments_error_rate(moment.script_t)
            metric = result_labels(expr, PAYMENTS_LABELS)
            series.append({"metric": metric, "value": [stamp, go_float(share)]})
        elif _UP_SEARCH.fullmatch(expr):
            series.append({"metric": dict(SEARCH_UP), "value": [stamp, "1"]})
        return {"resultType": "vector", "result": series}


def make(scenario: Scenario) -> PrometheusSim:
    # Prometheus reads the production story (``prodstory``) at the moment's script time alone.
    return PrometheusSim()
