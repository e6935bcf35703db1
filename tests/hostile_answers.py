"""Hostile answers for the property test (``test_hostile_property.py``).

Every source type gets a config pointing at a host of its own (``<name>.test``), and a
``HostileTransport`` answers every request: first the simulator's real answer (its API shapes),
then that answer twisted by a ``Twist`` that hypothesis draws: the status, the headers, the body
(mutated JSON or XML, odd encodings, bombs), the ``Content-Encoding`` and the timing. The answer's
body reaches the client as a stream of chunks, so the HTTP client's streaming caps are exercised.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import email.message
import gzip
import json
import re
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
from hypothesis import strategies as st

from buildradiator import instance
from buildradiator.config.loading import SourceBase
from buildradiator.export.document import to_json
from buildradiator.simulator import Simulator, demo_config_text
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.junit.config import JUnitSource
from buildradiator.sources.radiator.config import RadiatorFeedSource
from hostile_server import HostileServer, Seen
from snapshot_fixtures import red_estate

TOKEN = "hp-S3cretT0ken-5e4d3c2b1a"
SECRETS = (TOKEN, base64.b64encode(f"radiator:{TOKEN}".encode()).decode()[:40])
"""The token as it leaves: as itself (Bearer, PRIVATE-TOKEN, Circle-Token) or in Basic auth."""
TIMEOUT = 0.25
"""Every source's timeout: short, a stalled answer costs this much real time."""

# -- one config per source type -------------------------------------------------------------------

JUNIT_REPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="1">
  <testsuite name="com.acme.CartTest" tests="2" failures="1" time="0.41">
    <testcase classname="com.acme.CartTest" name="addsItem" time="0.12"/>
    <testcase classname="com.acme.CartTest" name="appliesCoupon" time="0.21">
      <failure message="expected 90 but was 100" type="AssertionError">at CartTest.java:42</failure>
    </testcase>
  </testsuite>
</testsuites>
"""


@cache
def radiator_doc() -> bytes:
    # As another radiator process writes it (its own instance id, not this test process's).
    return to_json(red_estate()).replace(instance.ID, "f" * 32).encode()


def _from_demo(kind: str, name: str) -> Callable[[str], list[SourceBase]]:
    """The demo config's source called ``name`` (of type ``kind``), rebased on a base URL."""

    def build(base: str) -> list[SourceBase]:
        sources = parse_config(demo_config_text(base)).sources
        found = [s for s in sources if s.name == name and getattr(s, "type", None) == kind]
        assert found, f"the demo config has no {kind} source called {name}"
        extra = {"username": "radiator"} if kind == "jenkins" else {}  # Basic auth needs one
        return [found[0].model_copy(update=extra)]

    return build


def _junit(base: str) -> list[SourceBase]:
    return [JUnitSource(type="junit", name="junit", urls=[f"{base}/junit/TEST-cart.xml"],
                        pipeline="acme/shop")]  # fmt: skip


def _radiator(base: str) -> list[SourceBase]:
    return [RadiatorFeedSource(type="radiator", name="radiator", url=f"{base}/radiator")]


def _blockers(base: str) -> list[SourceBase]:
    return _from_demo("blockers", "blockers")(base) + _from_demo("blockers", "jira-blockers")(base)


BUILDERS: dict[str, Callable[[str], list[SourceBase]]] = {
    "github": _from_demo("github", "github"),
    "cctray": _from_demo("cctray", "jenkins"),
    "health": _from_demo("health", "health-payments"),
    "gitlab": _from_demo("gitlab", "gitlab"),
    "jenkins": _from_demo("jenkins", "jenkins-ci"),
    "buildkite": _from_demo("buildkite", "buildkite"),
    "circleci": _from_demo("circleci", "circleci"),
    "buildbot": _from_demo("buildbot", "buildbot"),
    "junit": _junit,
    "alertmanager": _from_demo("alertmanager", "alertmanager"),
    "prometheus": _from_demo("prometheus", "prometheus-payments"),
    "argocd": _from_demo("argocd", "argocd"),
    "github_deployments": _from_demo("github_deployments", "deploys"),
    "blockers": _blockers,
    "radiator": _radiator,
    "azure": _from_demo("azure", "azure"),
    "bitbucket": _from_demo("bitbucket", "bitbucket"),
}
"""How to point each source type at a base URL. A registered type missing here fails the test."""


def every_source(timeout: float = TIMEOUT) -> list[SourceBase]:
    """One source (two for blockers: GitHub and Jira) of every type, each on a host of its own
    (``http://<name>.test``), with a short timeout and a token to keep secret."""
    sources = []
    for build in BUILDERS.values():
        for found in build("http://placeholder.test"):
            base = f"http://{found.name}.test"
            [config] = [s for s in build(base) if s.name == found.name]
            sources.append(config.model_copy(update={"timeout": timeout, "token": _secret()}))
    return sources


def _secret() -> Any:
    from pydantic import SecretStr

    return SecretStr(TOKEN)


# -- the simulator's answers ------------------------------------------------------------------------


@dataclass
class Raw:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def simulator_answer(sim: Simulator, request: httpx.Request) -> Raw:
    """What the simulator (or, for JUnit reports and radiator feeds it does not serve, a fixed
    document) answers to ``request``; any host."""
    path = request.url.path
    if path.startswith("/junit/"):
        return Raw(200, [("Content-Type", "application/xml")], JUNIT_REPORT)
    if path.startswith("/radiator"):
        headers = [("Content-Type", "application/json"), ("ETag", '"radiator-1"')]
        return Raw(200, headers, radiator_doc())
    message = email.message.Message()
    for name, value in request.headers.items():
        message[name] = value
    got = sim.answer(request.url.raw_path.decode("ascii"), message)
    return Raw(got.status, list(got.headers), got.body)


# -- twists -----------------------------------------------------------------------------------------

POISON = "\ud83d\ufffe\uffff\u202e\u2067\u200b\u2028\x9b31m\x85\x00\x1b[2J"
"""A lone surrogate, noncharacters, bidi controls, a zero-width space, a line separator, C1 and
C0 controls, an ANSI escape."""
YEAR_1, YEAR_9999 = "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"
YEAR_1_MS, YEAR_9999_MS = -62135596800000, 253402300799000

STATUSES = [None, 100, 101, 103, 199, 201, 202, 204, 206, 299, 301, 302, 303, 304, 305, 306,
            307, 308, 400, 401, 403, 404, 410, 418, 422, 429, 451, 500, 502, 503, 504, 599, 600,
            999]  # fmt: skip
BODIES = ["keep", "node", "node", "node", "empty", "html", "truncate", "bom", "utf16", "utf32",
          "wrong_doc", "nul", "garbage", "xml_bomb", "xml_external", "deep", "huge_array",
          "invalid_utf8", "long_line"]  # fmt: skip
NODES = ["drop", "null", "wrong_type", "huge", "huge_int", "negative", "nan", "year_1",
         "year_9999", "as_string", "poison", "invalid_utf8", "empty", "long", "deep", "array",
         "escaped_surrogate"]  # fmt: skip
HEADERS = ["huge", "many", "dup_type", "dup_retry", "retry_after", "rate_github", "rate_gitlab",
           "etag_bytes", "etag_long", "last_modified_odd", "length_bogus", "length_short",
           "length_huge", "length_negative", "link_odd", "charset_odd"]  # fmt: skip
CONTENT_TYPES = [None, "", "text/html", "application/xml", "application/json; charset=utf-16",
                 "text/plain; charset=latin-1", "application/json; charset=nope",
                 "multipart/mixed; boundary=x", "application/octet-stream",
                 "application/json" + "; x=y" * 2000]  # fmt: skip
ENCODINGS = ["identity", "gzip", "deflate", "raw_deflate", "x-gzip", "stacked", "unknown",
             "lie_gzip", "bomb", "truncated_gzip", "gzip_then_junk"]  # fmt: skip
TIMINGS = ["now", "chunks", "drip", "stall", "stall_body", "cut", "connect_error",
           "read_timeout", "read_error", "protocol_error"]  # fmt: skip
ODD_VALUES = ["9" * 30, "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", "-5",
              "0", "1e9", "1e300", "NaN", "inf", "soon", "", "Wed, 21 Oct 2015 07:28:00 GMT",
              "99999999999", "253402300799", "-62135596800", "\u00e9t\u00e9"]  # fmt: skip
LOCATIONS = ["http://elsewhere.test/steal", "//elsewhere.test/x", "https://elsewhere.test/",
             "http://elsewhere.test:8080/same/path", "", " ", "/", "ftp://x/y",
             "javascript:alert(1)", "http://[::1", "http://a b/", "?page=2", "#frag",
             "http://elsewhere.test:99999/", "data:text/plain,hi", "/" + "a" * 9000,
             "SAME"]  # fmt: skip


Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Twist:
    status: int | None = None
    """None: the simulator's status."""
    body: str = "keep"
    node: str = "drop"
    """For ``body == "node"``: what happens to one value of the document."""
    pick: int = 0
    """Which value, which cut, which odd header value: an index taken modulo the choices."""
    content_type: str | None = None
    headers: tuple[str, ...] = ()
    encoding: str = "identity"
    timing: str = "now"


GOOD = Twist()


def twists() -> st.SearchStrategy[Twist]:
    """One kind of hostility at a time (mostly to the body, so that twisted data gets through
    to the snapshot), or all of them at once."""
    pick = st.integers(min_value=0, max_value=10_000)
    one_header = st.lists(st.sampled_from(HEADERS), min_size=1, max_size=3, unique=True)
    return st.one_of(
        st.builds(Twist, body=st.just("node"), node=st.sampled_from(NODES), pick=pick),
        st.builds(Twist, body=st.just("node"), node=st.sampled_from(NODES), pick=pick),
        st.builds(Twist, body=st.sampled_from(BODIES), pick=pick),
        st.builds(Twist, status=st.sampled_from(STATUSES), pick=pick),
        st.builds(Twist, status=st.sampled_from([301, 302, 303, 307, 308]), pick=pick),
        st.builds(Twist, headers=one_header.map(tuple), pick=pick),
        st.builds(Twist, content_type=st.sampled_from(CONTENT_TYPES)),
        st.builds(Twist, encoding=st.sampled_from(ENCODINGS), pick=pick),
        st.builds(Twist, timing=st.sampled_from(TIMINGS), pick=pick),
        st.builds(
            Twist,
            status=st.one_of(st.none(), st.sampled_from(STATUSES)),
            body=st.sampled_from(BODIES),
            node=st.sampled_from(NODES),
            pick=pick,
            content_type=st.one_of(st.none(), st.sampled_from(CONTENT_TYPES)),
            headers=st.lists(st.sampled_from(HEADERS), max_size=3, unique=True).map(tuple),
            encoding=st.sampled_from(ENCODINGS),
            timing=st.sampled_from(TIMINGS),
        ),
    )


def plans(names: list[str], per_source: int = 4) -> st.SearchStrategy[dict[str, list[Twist]]]:
    """For each source, the twists its host applies to its answers, in turn (cycling)."""
    answers = st.lists(st.one_of(st.just(GOOD), twists()), min_size=1, max_size=per_source)
    return st.fixed_dictionaries({name: answers for name in names})


def big_bodies(plan: dict[str, list[Twist]]) -> int:
    """How many sources the plan serves a body of about the client's cap (or a bomb)."""
    big = {"huge_array", "long_line", "bomb", "array", "long", "deep"}
    return sum(any({t.body, t.node, t.encoding} & big for t in twists) for twists in plan.values())


@dataclass
class HostileTransport(httpx.AsyncBaseTransport):
    """Answers ``<name>.test`` from the simulator, twisted by ``plan[name]`` once ``hostile``
    is set. Counts what each source's requests got, and every request that carried the token
    to a host that is not the source's own."""

    sim: Simulator
    plan: dict[str, list[Twist]] = field(default_factory=dict)
    hostile: bool = False
    sent: dict[str, int] = field(default_factory=dict)
    seen: dict[str, collections.Counter[str]] = field(default_factory=dict)
    """Per source, since the last reset: ``good`` answers (a 2xx or a 304, whole), ``twisted``
    ones among them, and ``failed`` ones (an error status, a broken or stalled exchange)."""
    leaks: list[str] = field(default_factory=list)
    server: HostileServer | None = None
    """When set, every twisted answer is written raw to a real loopback socket and read back
    by httpx's own transport (h11 parsing odd status lines, lengths and 1xx answers)."""
    pending: dict[str, Any] = field(default_factory=dict)
    real: httpx.AsyncHTTPTransport = field(default_factory=httpx.AsyncHTTPTransport)

    async def aclose(self) -> None:
        await self.real.aclose()

    def route(self, seen: Seen) -> Any:
        return self.pending.pop(
            seen.headers.get("x-hostile", ""), b"HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n"
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = request.url.host.removesuffix(".test")
        if name not in self.plan and not self.hostile:
            name = ""
        if name not in self.plan:
            sent = " ".join([str(request.url), *(v for _, v in request.headers.items())])
            if any(secret in sent for secret in SECRETS):
                self.leaks.append(f"{request.url.host}: {request.url.path}")
            raw = simulator_answer(self.sim, request)
            return httpx.Response(raw.status, headers=raw.headers, content=raw.body)
        self.seen.setdefault(name, collections.Counter())
        count = self.sent.get(name, 0)
        self.sent[name] = count + 1
        twist = self.plan[name][count % len(self.plan[name])] if self.hostile else GOOD
        return await answer(self, name, twist, request)


async def answer(
    transport: HostileTransport, name: str, twist: Twist, request: httpx.Request
) -> httpx.Response:
    seen = transport.seen[name]
    if twist.timing in ("connect_error", "read_timeout", "read_error", "protocol_error"):
        seen["failed"] += 1
        error = {
            "connect_error": httpx.ConnectError("[Errno 111] Connection refused"),
            "read_timeout": httpx.ReadTimeout("timed out"),
            "read_error": httpx.ReadError("[Errno 104] Connection reset by peer"),
            "protocol_error": httpx.RemoteProtocolError("illegal status line: b'\\x16\\x03'"),
        }[twist.timing]
        error.request = request
        raise error
    if twist.timing == "stall":
        seen["failed"] += 1
        await asyncio.sleep(3600)  # the client's deadline ends it
    if twist != GOOD:
        # A fresh answer to twist (the simulator would say 304 to the last poll's validators).
        for header in ("if-none-match", "if-modified-since"):
            request.headers.pop(header, None)
    raw = simulator_answer(transport.sim, request)
    status = twist.status if twist.status is not None else raw.status
    body = twist_body(raw.body, twist)
    headers = twist_headers(raw.headers, twist, status, str(request.url))
    body, headers = encode(body, headers, twist)
    whole = twist.timing not in ("stall_body", "cut")
    if (200 <= status < 300 or status == 304) and whole:
        seen["good"] += 1
        seen["twisted"] += twist != GOOD
    else:
        seen["failed"] += 1
    if transport.server is None:
        return httpx.Response(status, headers=headers, stream=Chunks(body, twist), request=request)
    key = str(len(transport.pending)) + "-" + str(id(request))
    transport.pending[key] = raw_answer(status, headers, body, twist)
    request.headers["x-hostile"] = key
    request.url = request.url.copy_with(host="127.0.0.1", port=transport.server.port)
    return await transport.real.handle_async_request(request)


def raw_answer(status: int, headers: Headers, body: bytes, twist: Twist) -> Any:
    """The answer as bytes on the wire (a coroutine writing them, for the timings)."""
    lines = [b"HTTP/1.1 %d X" % status]
    lines += [k + b": " + v for k, v in headers]
    if not any(k.lower() == b"content-length" for k, _ in headers):
        lines.append(b"Content-Length: %d" % len(body))
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    if twist.timing == "now":
        return head + body

    async def write(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head)
        try:
            async for piece in Chunks(body, twist):
                writer.write(piece)
                await writer.drain()
        except httpx.RemoteProtocolError:
            return  # "cut": the connection closes mid-body
        await writer.drain()

    return write


class Chunks(httpx.AsyncByteStream):
    """The body as a stream of pieces, as a socket delivers it (or fails to)."""

    def __init__(self, body: bytes, twist: Twist) -> None:
        self.body, self.twist = body, twist

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body, timing = self.body, self.twist.timing
        if timing == "now":
            if body:
                yield body
            return
        pieces = 2 + self.twist.pick % 7
        size = max(1, len(body) // pieces)
        for at in range(0, len(body), size):
            if timing in ("stall_body", "cut") and at >= len(body) // 2 and at > 0:
                if timing == "cut":
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without a complete body"
                    )
                await asyncio.sleep(3600)
            if timing == "drip":
                await asyncio.sleep(0.001)
            yield body[at : at + size]


def deflate_raw(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@cache
def gzip_bomb() -> bytes:
    """16 MiB of zeros gzipped (16 KiB on the wire): more than any body may hold."""
    return gzip.compress(b"\0" * (16 * 1024 * 1024), compresslevel=9)


# -- bodies -------------------------------------------------------------------------------------

HTML = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
)
XML_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(b'<!ENTITY lol%d "%s">' % (i + 1, (b"&lol%d;" % i if i else b"&lol;") * 10)
                       for i in range(9))
            + b']><Projects><Project name="&lol9;"/></Projects>')  # fmt: skip
XML_EXTERNAL = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                b'<Projects><Project name="&xxe;" activity="Sleeping"/></Projects>')  # fmt: skip
WRONG_DOCS = [b"[]", b"{}", b"null", b"42", b'"text"', b"true", b"[[[]]]", b"<x/>", b"-"]
_ATTRIBUTE = re.compile(rb'(\w+)="([^"]*)"')
BIG = 12 * 1024 * 1024
"""Bodies made big are made this big: past the client's 10 MiB cap, never far past it."""
_MARK = "\ue000MARK\ue000"


def twist_body(body: bytes, twist: Twist) -> bytes:
    kind, pick = twist.body, twist.pick
    if kind == "keep":
        return body
    if kind == "node":
        return twist_xml(body, twist) if body.lstrip()[:1] == b"<" else twist_json(body, twist)
    if kind == "truncate":
        return body[: pick % max(1, len(body))]
    if kind == "bom":
        return b"\xef\xbb\xbf" + body
    if kind in ("utf16", "utf32"):
        text = body.decode("utf-8", "replace")
        return text.encode("utf-16" if kind == "utf16" else "utf-32")
    if kind == "wrong_doc":
        return WRONG_DOCS[pick % len(WRONG_DOCS)]
    if kind == "garbage":
        return bytes((pick * 7919 + i * 104729) % 256 for i in range(1 + pick % 3000))
    if kind == "deep":
        depth = (50, 990, 5000, 200_000)[pick % 4]
        return (
            (b"[" * depth + b"]" * depth) if pick % 2 else (b'{"a":' * depth + b"1" + b"}" * depth)
        )
    if kind == "huge_array":
        item = body if len(body) < 4096 else b"{}"
        copies = min((10, 1000, 50_000)[pick % 3], BIG // len(item))  # just past the cap
        return b"[" + b",".join([item] * copies) + b"]"
    if kind == "invalid_utf8":
        at = pick % max(1, len(body))
        return body[:at] + b"\xff\xfe\xc3\x28\xed\xa0\x80" + body[at:]
    if kind == "long_line":
        return body[:10] + b" " * (1 << 20) + body[10:]
    return {"empty": b"", "html": HTML, "nul": b"\0" * 64, "xml_bomb": XML_BOMB,
            "xml_external": XML_EXTERNAL}[kind]  # fmt: skip


def twist_json(body: bytes, twist: Twist) -> bytes:
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    slots: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack and len(slots) < 5000:
        node = stack.pop()
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, value in items:
            slots.append((node, key))
            if isinstance(value, dict | list):
                stack.append(value)
    suited = [(p, k) for p, k in slots if suits(twist.node, k, p[k])]
    slots = suited or slots
    if not slots:
        return body
    parent, key = slots[twist.pick % len(slots)]
    raw = None
    if twist.node == "drop":
        parent.pop(key)
    elif twist.node in ("invalid_utf8", "deep", "escaped_surrogate", "nan"):
        parent[key] = _MARK
        raw = {"invalid_utf8": b'"ab\xff\xfe\xc3(\xed\xa0\x80"', "deep": b"[" * 3000 + b"]" * 3000,
               "escaped_surrogate": b'"x\\ud83d\\udfff\\udc00y\\u0000"',
               "nan": b"NaN" if twist.pick % 2 else b"-Infinity"}[twist.node]  # fmt: skip
    else:
        parent[key] = new_value(parent[key], twist.node)
    text = json.dumps(doc, ensure_ascii=twist.pick % 3 == 0).encode("utf-8", "surrogatepass")
    if raw is not None:
        text = text.replace(json.dumps(_MARK, ensure_ascii=twist.pick % 3 == 0).encode(), raw, 1)
    return text


_TIMEISH = re.compile(r"time|date|_at$|At$|stamp|started|finished|created|updated|duration|"
                      r"estimated|since|until|expire", re.IGNORECASE)  # fmt: skip


def suits(how: str, key: Any, value: Any) -> bool:
    """Whether a mutation fits a value: numbers get absurd numbers, times absurd years,
    strings poison (so that each hits what a parser reads, not just any value)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if how in ("huge", "huge_int", "negative", "nan", "as_string"):
        return number
    if how in ("year_1", "year_9999"):
        return (number or isinstance(value, str)) and bool(_TIMEISH.search(str(key)))
    if how in ("poison", "invalid_utf8", "escaped_surrogate", "long", "empty"):
        return isinstance(value, str)
    return True


def new_value(value: Any, how: str) -> Any:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if how == "null":
        return None
    if how == "wrong_type":
        if isinstance(value, str):
            return 7
        if number or isinstance(value, bool):
            return "seven"
        return {"a": [1]} if isinstance(value, list) else [1, "2"]
    if how == "huge":
        return 1e300
    if how == "huge_int":
        return 10**40
    if how == "negative":
        return -value if number and value else -(2**63)
    if how == "year_1":
        return YEAR_1_MS if number else YEAR_1
    if how == "year_9999":
        return YEAR_9999_MS if number else YEAR_9999
    if how == "as_string":
        return str(value) if number else json.dumps(value)
    if how == "poison":
        return (value[:3] + POISON + value[3:]) if isinstance(value, str) else POISON
    if how == "empty":
        return "" if not isinstance(value, list | dict) else type(value)()
    if how == "long":
        return "x" * 100_000
    if how == "array":
        return [value] * max(1, min(1000, BIG // len(json.dumps(value))))
    raise AssertionError(how)


def twist_xml(body: bytes, twist: Twist) -> bytes:
    found = list(_ATTRIBUTE.finditer(body))
    if not found:
        return body
    hit = found[twist.pick % len(found)]
    value = {"drop": b"", "null": b"", "wrong_type": b"<>", "huge": b"1e300",
             "huge_int": b"9" * 40, "negative": b"-1", "nan": b"NaN", "year_1": YEAR_1.encode(),
             "year_9999": YEAR_9999.encode(), "as_string": b"12",
             "poison": "\u202e\u2067\u200b\x85\u2028".encode(), "invalid_utf8": b"\xff\xfe",
             "empty": b"", "long": b"x" * 100_000, "deep": b"&#0;", "array": b"&#xFFFE;",
             "escaped_surrogate": b"&#xD83D;"}[twist.node]  # fmt: skip
    if twist.node == "drop":
        return body[: hit.start()] + body[hit.end() :]
    return body[: hit.start(2)] + value + body[hit.end(2) :]


# -- headers and encodings -----------------------------------------------------------------------


def twist_headers(headers: list[tuple[str, str]], twist: Twist, status: int, url: str) -> Headers:
    odd = ODD_VALUES[twist.pick % len(ODD_VALUES)]
    out: list[tuple[str, Any]] = [
        (k, v) for k, v in headers if k.lower() not in ("content-length", "content-encoding")
    ]
    if twist.content_type is not None:
        out = [(k, v) for k, v in out if k.lower() != "content-type"]
        out.append(("Content-Type", twist.content_type))
    if 300 <= status < 400:
        location = LOCATIONS[twist.pick % len(LOCATIONS)]
        out.append(("Location", url if location == "SAME" else location))
    for name in twist.headers:
        extra: dict[str, list[tuple[str, Any]]] = {
            "huge": [("X-Junk", "a" * 60_000)],
            "many": [(f"X-H{i}", str(i)) for i in range(500)],
            "dup_type": [("Content-Type", "text/html"), ("Content-Type", "application/json")],
            "dup_retry": [("Retry-After", "5"), ("Retry-After", odd)],
            "retry_after": [("Retry-After", odd)],
            "rate_github": [
                ("X-RateLimit-Limit", "5000"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", odd),
            ],
            "rate_gitlab": [
                ("RateLimit-Limit", odd),
                ("RateLimit-Remaining", "0"),
                ("RateLimit-Reset", odd),
            ],
            "etag_bytes": [("ETag", b'"\xc3\xa9\xff\x00"')],
            "etag_long": [("ETag", '"' + "e" * 20_000 + '"')],
            "last_modified_odd": [("Last-Modified", odd)],
            "length_bogus": [("Content-Length", "abc")],
            "length_short": [("Content-Length", "3")],
            "length_huge": [("Content-Length", "9" * 30)],
            "length_negative": [("Content-Length", "-1")],
            "link_odd": [("Link", f'<{LOCATIONS[twist.pick % len(LOCATIONS)]}>; rel="next"')],
            "charset_odd": [("Content-Type", 'application/json; charset="\xe9"')],
        }
        out += extra[name]
    return [
        (k.encode(), v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v)
        for k, v in out
    ]


def encode(body: bytes, headers: Headers, twist: Twist) -> tuple[bytes, Headers]:
    coded: dict[str, Callable[[], tuple[bytes, str | None]]] = {
        "identity": lambda: (body, None),
        "gzip": lambda: (gzip.compress(body, 1), "gzip"),
        "x-gzip": lambda: (gzip.compress(body, 1), "x-gzip"),
        "deflate": lambda: (zlib.compress(body, 1), "deflate"),
        "raw_deflate": lambda: (deflate_raw(body), "deflate"),
        "stacked": lambda: (gzip.compress(gzip.compress(body, 1), 1), "gzip, gzip"),
        "unknown": lambda: (body, "br"),
        "lie_gzip": lambda: (body, "gzip"),
        "bomb": lambda: (gzip_bomb(), "gzip"),
        "truncated_gzip": lambda: (gzip.compress(body, 1)[: max(1, len(body) // 3)], "gzip"),
        "gzip_then_junk": lambda: (gzip.compress(body, 1) + b"junk", "gzip"),
    }
    data, coding = coded[twist.encoding]()
    if coding is not None:
        headers = [*headers, (b"Content-Encoding", coding.encode())]
    return data, headers
