"""JUnit XML reports as the tools write them (Surefire, pytest, nested suites), and bad ones."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildradiator.errors import BadPayload
from buildradiator.model import TestResult, TestStatus
from buildradiator.sources import xmlsafe
from buildradiator.sources.junit import parse as junit
from buildradiator.sources.junit.parse import collect_junit, parse_junit, parse_time

OK, FAIL, SKIP, FLAKY = TestStatus.PASSED, TestStatus.FAILED, TestStatus.SKIPPED, TestStatus.FLAKY

SUREFIRE = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd"
    version="3.0" name="com.acme.PaymentTest" time="1,234.567" tests="4" errors="0" skipped="1" failures="1">
  <properties><property name="java.version" value="21"/></properties>
  <testcase name="chargesCard" classname="com.acme.PaymentTest" time="1,200.5">
    <flakyFailure message="expected 200" type="java.lang.AssertionError">
      <stackTrace>at com.acme.PaymentTest.chargesCard</stackTrace>
    </flakyFailure>
    <flakyFailure message="timeout" type="java.net.SocketTimeoutException"/>
  </testcase>
  <testcase name="refunds" classname="com.acme.PaymentTest" time="0.1">
    <failure message="boom" type="java.lang.AssertionError">trace</failure>
    <rerunFailure message="boom again" type="java.lang.AssertionError"/>
  </testcase>
  <testcase name="flakyErr" classname="com.acme.PaymentTest" time="0.2">
    <flakyError message="NPE" type="java.lang.NullPointerException"/>
    <system-out>noise</system-out>
  </testcase>
  <testcase name="later" classname="com.acme.PaymentTest" time="0"><skipped message="todo"/></testcase>
</testsuite>
"""

PYTEST = b"""<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite
 name="pytest" errors="1" failures="1" skipped="2" tests="5" time="3.210"
 timestamp="2026-11-26T12:00:00.123456+01:00" hostname="ci-7"><testcase classname="tests.test_api"
 name="test_get[one]" time="0.001" /><testcase classname="tests.test_api" name="test_post"
 time="0.020"><failure message="assert 1 == 2">def test_post(): ...</failure></testcase><testcase
 classname="tests.test_db" name="test_conn" time="0.000"><error message="failed on setup with
 &quot;OSError: no db&quot;">...</error></testcase><testcase classname="tests.test_db"
 name="test_skip" time="0.000"><skipped type="pytest.skip" message="no docker">/x.py:3: no
 docker</skipped></testcase><testcase classname="tests.test_db" name="test_xfail" time="0.1"><skipped
 type="pytest.xfail" message="known bug" /></testcase></testsuite></testsuites>"""


def statuses(results: list[TestResult]) -> dict[str, TestStatus]:
    return {r.name: r.status for r in results}


def test_surefire_reruns_flakes_and_commas() -> None:
    results = parse_junit(SUREFIRE, what="TEST-com.acme.PaymentTest.xml")
    assert statuses(results) == {"chargesCard": FLAKY, "refunds": FAIL, "flakyErr": FLAKY,
                                 "later": SKIP}  # fmt: skip
    assert results[0].duration == 1200.5
    assert results[0].classname == "com.acme.PaymentTest"
    assert all(r.attempt == 1 for r in results)


def test_pytest_junitxml() -> None:
    results = parse_junit(PYTEST, what="report.xml")
    assert statuses(results) == {"test_get[one]": OK, "test_post": FAIL, "test_conn": FAIL,
                                 "test_skip": SKIP, "test_xfail": SKIP}  # fmt: skip
    assert [r.classname for r in results][:2] == ["tests.test_api", "tests.test_api"]
    assert results[1].duration == 0.02


def test_nested_suites_and_classname_from_the_suite() -> None:
    data = b"""<testsuites><testsuite name="outer"><testsuite name="inner">
        <testcase name="a" time="1"/><testsuite name="deeper"><testcase name="b"/></testsuite>
      </testsuite><testcase name="c" classname="given"/></testsuite></testsuites>"""
    results = parse_junit(data, what="nested.xml")
    assert [(r.classname, r.name) for r in results] == [("inner", "a"), ("deeper", "b"),
                                                        ("given", "c")]  # fmt: skip


def test_the_same_test_twice_is_kept_as_attempts() -> None:
    data = b"""<testsuite name="s"><testcase classname="k" name="t" time="2"><failure/></testcase>
      <testcase classname="k" name="t" time="1"/><testcase classname="other" name="t"/></testsuite>"""
    results = parse_junit(data, what="dup.xml")
    assert [(r.classname, r.status, r.attempt) for r in results] == [
        ("k", FAIL, 1), ("k", OK, 2), ("other", OK, 1)
    ]  # fmt: skip


def test_namespaced_and_odd_attributes() -> None:
    data = ('<j:testsuites xmlns:j="urn:junit"><j:testsuite name="s">'
            '<j:testcase name="n\u202e\t" classname="c" time="NaN"><j:error/></j:testcase>'
            '<j:testcase name="" classname="c"/>'  # no name: cannot be followed, dropped
            '<j:testcase name="z" time="-3"/></j:testsuite></j:testsuites>').encode()  # fmt: skip
    results = parse_junit(data, what="ns.xml")
    assert [(r.name, r.status, r.duration) for r in results] == [("n", FAIL, None),
                                                                 ("z", OK, None)]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1,234.567", 1234.567), ("0.5", 0.5), (" 3 ", 3.0), ("", None), (None, None),
     ("abc", None), ("inf", None), ("-1", None), ("1e400", None)],
)  # fmt: skip
def test_parse_time(value: str | None, seconds: float | None) -> None:
    assert parse_time(value) == seconds


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML"),
        (b"<html><body>login</body></html>", "HTML"),
        (b'{"tests": []}', "not XML"),
        (b"<testsuite><testcase name='a'>", "not XML"),  # truncated
        (b"<coverage line-rate='0.9'/>", "not a JUnit report"),
        (b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x "y">]><testsuite/>', "DTD"),
    ],
)
def test_bad_reports_raise_bad_payload(data: bytes, words: str) -> None:
    with pytest.raises(BadPayload) as info:
        parse_junit(data, what="build/report.xml")
    assert words in str(info.value) and "build/report.xml" in str(info.value)


def test_empty_suites_are_no_tests() -> None:
    assert parse_junit(b"<testsuites/>", what="r") == []


def test_a_100_mb_report_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused by its size, before a parser is made: nothing of it is read."""
    huge = b"<testsuites>" + b"<testcase name='t'/>" * (100 * 1024 * 1024 // 20) + b"</testsuites>"

    def no_parser(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a parser was made for a report over the size limit")

    monkeypatch.setattr(xmlsafe.expat, "ParserCreate", no_parser)
    with pytest.raises(BadPayload, match="too large"):
        parse_junit(huge, what="huge.xml")


def test_deep_nesting_does_not_recurse() -> None:
    depth = 50_000
    data = b"<testsuite name='s'>" * depth + b"<testcase name='t'/>" + b"</testsuite>" * depth
    (result,) = parse_junit(data, what="deep.xml")
    assert result.name == "t"


def test_collect_from_globs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "TEST-one.xml").write_bytes(SUREFIRE)
    (tmp_path / "a" / "b" / "report.xml").write_bytes(PYTEST)
    (tmp_path / "a" / "b" / "rerun.xml").write_bytes(
        b'<testsuite><testcase classname="tests.test_api" name="test_post"/></testsuite>'
    )
    (tmp_path / "a" / "broken.xml").write_bytes(b"<html>oops</html>")
    (tmp_path / "a" / "dir.xml").mkdir()
    with caplog.at_level(logging.WARNING):
        results = collect_junit([str(tmp_path / "**" / "*.xml"), str(tmp_path / "a" / "*.xml")])
    assert len(results) == 4 + 5 + 1  # each file read once
    post = [r for r in results if r.name == "test_post"]
    assert [(r.status, r.attempt) for r in post] == [(FAIL, 1), (OK, 2)]  # pytest's, then rerun
    assert "broken.xml" in caplog.text and "HTML" in caplog.text
    assert collect_junit([str(tmp_path / "nothing-*.xml")]) == []


def test_collect_bounds_size_and_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    monkeypatch.setattr(junit, "MAX_REPORT_BYTES", 1000)
    monkeypatch.setattr(junit, "MAX_FILES", 3)
    (tmp_path / "big.xml").write_bytes(b"<testsuite>" + b" " * 2000 + b"</testsuite>")
    for i in range(5):
        (tmp_path / f"r{i}.xml").write_bytes(
            f'<testsuite><testcase name="t{i}"/></testsuite>'.encode()
        )
    with caplog.at_level(logging.WARNING):
        results = collect_junit([str(tmp_path / "*.xml")])
    assert "big.xml" in caplog.text and "too large" in caplog.text
    assert [r.name for r in results] == ["t0", "t1"]  # big.xml, r0, r1: the first three files


# --- fuzz: results or BadPayload, nothing else ------------------------------------------


def _check(data: bytes) -> None:
    try:
        results = parse_junit(data, what="fuzz.xml")
    except BadPayload:
        return
    for r in results:
        assert isinstance(r, TestResult) and r.name and r.attempt >= 1
        assert r.duration is None or r.duration >= 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_bytes(data: bytes) -> None:
    _check(data)


_names = st.sampled_from(["testsuites", "testsuite", "testcase", "failure", "error", "skipped",
                          "flakyFailure", "rerunError", "system-out", "properties", "x"])  # fmt: skip
_attrs = st.dictionaries(
    st.sampled_from(["name", "classname", "time", "tests", "message"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    max_size=4,
)


@st.composite
def _elements(draw: st.DrawFn, depth: int = 0) -> str:
    from xml.sax.saxutils import quoteattr

    tag = draw(_names)
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in draw(_attrs).items())
    children = "" if depth > 3 else "".join(draw(st.lists(_elements(depth + 1), max_size=3)))
    return f"<{tag}{attrs}>{children}</{tag}>"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_elements(), st.sampled_from(["", "<?xml version='1.0'?>", "\ufeff"]), st.booleans())
def test_fuzz_junit_shapes(xml: str, prolog: str, cut: bool) -> None:
    data = (prolog + xml).encode()
    _check(data[: len(data) // 2] if cut else data)
