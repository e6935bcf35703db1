"""``text``: what enters from a server can always be written to a screen, a file and a feed."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from buildradiator.text import clean_text, scrub, scrub_json

HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, blacklist_categories=()),
        st.sampled_from(
            "\ud83d\udca9\ufffe\uffff\ufdd0\u202e\u2066\u200b\ufeff\u2028\u2029\x1b\x9b\x00\r\n\t"
        ),
    )
)


@given(HOSTILE)
def test_scrubbed_text_is_writable_everywhere(value: str) -> None:
    clean = scrub(value)
    clean.encode("utf-8")  # no lone surrogate survives
    ElementTree.fromstring(f"<a>{clean.replace('&', '&amp;').replace('<', '&lt;')}</a>")
    for bad in "\ufffe\uffff\u202e\u200b\ufeff\u2028\x1b\x9b\x00\r":
        assert bad not in clean
    assert scrub(clean) == clean
    one_line = clean_text(value)
    assert "\n" not in one_line and clean_text(one_line) == one_line


def test_newlines_and_tabs_stay_until_folded() -> None:
    assert scrub("Fix\r\nthe\tbuild\u2028now") == "Fix\nthe\tbuild\nnow"
    assert clean_text("Fix\r\nthe\tbuild") == "Fix the build"


def test_json_is_walked_only_when_it_needs_it() -> None:
    plain = '{"name": "acme/monolith", "n": 1}'
    data = json.loads(plain)
    assert scrub_json(plain, data) is data
    raw = '{"a\\u202e": ["Mal\\ud83dlory", {"url": "https://x.example/\\u001b]8;;"}]}'
    assert scrub_json(raw, json.loads(raw)) == {"a": ["Mal\ufffdlory", {"url": ""}]}
