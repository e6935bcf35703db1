"""parse_xml: plain XML in, every dangerous or broken document out as BadPayload."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildradiator.errors import BadPayload
from buildradiator.sources import xmlsafe
from buildradiator.sources.xmlsafe import local_name, parse_xml

WHAT = "cc.xml from ci.example.com"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Projects><Project name="&lol9;" activity="Sleeping" lastBuildStatus="Success"/></Projects>
"""


def test_plain_xml_with_namespaces_parses_like_elementtree() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment is fine -->
<r:Projects xmlns:r="urn:example:cc" xmlns="urn:example:default" xmlns:x="urn:x">
  <r:Project name="api &amp; web" x:extra="1" webUrl="https://ci.example.com/a?b=1&amp;c=2">
    <messages><message text="&lt;b&gt;not markup&lt;/b&gt;"/></messages>
    <![CDATA[raw <text>]]>
  </r:Project>
  <Project name="plain"/>
</r:Projects>"""
    root = parse_xml(data, what=WHAT)
    assert root.tag == "{urn:example:cc}Projects"
    first, second = list(root)
    assert first.tag == "{urn:example:cc}Project"
    assert first.attrib == {
        "name": "api & web",
        "{urn:x}extra": "1",
        "webUrl": "https://ci.example.com/a?b=1&c=2",
    }
    assert "raw <text>" in (first.text or "") + "".join(c.tail or "" for c in first)
    message = first.find("{urn:example:default}messages/{urn:example:default}message")
    assert message is not None and message.get("text") == "<b>not markup</b>"
    # The default namespace applies to unprefixed elements, as in ElementTree.
    assert second.tag == "{urn:example:default}Project"
    assert local_name(second.tag) == "Project"
    assert local_name("Project") == "Project"


def test_non_utf8_declared_encoding_is_decoded() -> None:
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><a name="café"/>'.encode("latin-1")
    assert parse_xml(data, what=WHAT).get("name") == "café"


def test_billion_laughs_is_refused_before_an_entity_is_expanded() -> None:
    expanded: list[str] = []
    real = xmlsafe.ET.TreeBuilder

    class Watching(real):  # type: ignore[misc,valid-type]
        def data(self, text: str) -> None:
            expanded.append(text)
            super().data(text)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(xmlsafe.ET, "TreeBuilder", Watching)
        with pytest.raises(BadPayload) as info:
            parse_xml(BILLION_LAUGHS, what=WHAT)
    assert expanded == []  # refused at the DTD: not one "lol" reached the tree
    assert str(info.value).startswith(WHAT)
    assert "DTD" in str(info.value)
    assert info.value.kind == "bad_payload"


def test_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    for data in (
        f'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file://{secret}">]><foo>&xxe;</foo>'.encode(),
        b'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>',
        # A parameter entity pulling in an external DTD, and a bare external DTD reference.
        f'<!DOCTYPE foo [<!ENTITY % p SYSTEM "file://{secret}"> %p;]><foo/>'.encode(),
        f'<!DOCTYPE foo SYSTEM "file://{secret}"><foo/>'.encode(),
    ):
        with pytest.raises(BadPayload) as info:
            parse_xml(data, what=WHAT)
        assert "TOP-SECRET" not in str(info.value)
        assert "root:" not in str(info.value)
        assert "DTD" in str(info.value)


def test_entity_declarations_without_use_are_refused() -> None:
    with pytest.raises(BadPayload, match="DTD"):
        parse_xml(b'<!DOCTYPE a [<!ENTITY harmless "x">]><a/>', what=WHAT)


def test_undeclared_entity_reference_is_not_xml() -> None:
    with pytest.raises(BadPayload, match="undefined entity"):
        parse_xml(b"<a>&nbsp;</a>", what=WHAT)


def test_oversize_is_refused_before_parsing() -> None:
    data = b"<a>" + b"x" * 2048 + b"</a>"
    assert parse_xml(data, what=WHAT, max_bytes=len(data)).text == "x" * 2048
    with pytest.raises(BadPayload, match=r"too large \(2 KiB > 1 KiB\)"):
        parse_xml(data, what=WHAT, max_bytes=1024)


@pytest.mark.parametrize("data", [b"", b"   \n\t "])
def test_empty_is_refused(data: bytes) -> None:
    with pytest.raises(BadPayload, match=f"^{WHAT} is empty$"):
        parse_xml(data, what=WHAT)


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html>\n<html><head><title>Sign in [Jenkins]</title></head></html>",
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    ],
)
def test_html_is_refused(data: bytes) -> None:
    with pytest.raises(BadPayload, match="HTML page, not XML"):
        parse_xml(data, what=WHAT)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'<Projects><Project name="a" activity="Sleep', "unclosed token"),
        (b'<Projects><Project name="a"/>', "no element found"),
        (b'{"projects": []}', "line 1, column 0"),
        (b"<a></b>", "mismatched tag"),
        (b"<a/><b/>", "junk after document element"),
        (b'<?xml version="1.0" encoding="x-no-such"?><a/>', "encoding cannot be decoded"),
        (b"<a>\xff\xfe\x00</a>", "not well-formed"),
    ],
)
def test_broken_documents_say_why(data: bytes, words: str) -> None:
    with pytest.raises(BadPayload) as info:
        parse_xml(data, what=WHAT)
    assert str(info.value).startswith(f"{WHAT} is not XML: ")
    assert words in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet="<>/!&;=\"' ?xmlaDOCTYPE[]%", max_size=80))
def test_any_input_gives_an_element_or_bad_payload(data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    try:
        root = parse_xml(raw, what=WHAT)
    except BadPayload as exc:
        assert str(exc).startswith(WHAT)
    else:
        assert isinstance(root.tag, str)
