"""XML from servers we do not control, parsed without the dangerous parts of XML.

Every XML answer (CCTray feeds now, JUnit reports later) goes through ``parse_xml``. It drives the
stdlib expat parser itself rather than ``ElementTree.fromstring`` because the C-accelerated
``XMLParser`` hides its expat handle, and we need that handle to refuse a document type
declaration outright. No payload we read (cc.xml, JUnit) ever needs a DTD, so refusing any
DOCTYPE and any entity declaration is cheap and closes the whole family at once: entity expansion
bombs ("billion laughs", quadratic blowup) and external entities (XXE: ``file:///etc/passwd`` or a
request to an internal URL) are never even declared, let alone expanded or fetched.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import NoReturn
from xml.parsers import expat

from buildradiator.errors import BadPayload
from buildradiator.sources.http import looks_like_html

MAX_XML_BYTES = 5 * 1024 * 1024


class _Refused(Exception):
    """Raised from inside an expat handler to stop parsing; turned into ``BadPayload``."""


def _refuse_dtd(*_args: object) -> NoReturn:
    raise _Refused("declares a document type (DTD); DTDs and entities are refused")


def _refuse_entity(*_args: object) -> NoReturn:
    raise _Refused("declares an entity; DTDs and entities are refused")


def _refuse_external(*_args: object) -> NoReturn:
    raise _Refused("refers to an external entity; external entities are never fetched")


def local_name(tag: str) -> str:
    """``{urn:x}Project`` -> ``Project``: the element name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def parse_xml(data: bytes, *, what: str, max_bytes: int = MAX_XML_BYTES) -> ET.Element:
    """The root element of ``data``, or ``BadPayload`` saying in words why not.

    ``what`` names the document for the message, e.g. ``cc.xml from gocd.example.com``; it must
    not contain a token. Element and attribute names in a namespace come out as ``{uri}name``,
    as with ``ElementTree``.
    """
    if len(data) > max_bytes:
        raise BadPayload(f"{what} is too large ({len(data) // 1024} KiB > {max_bytes // 1024} KiB)")
    if not data.strip():
        raise BadPayload(f"{what} is empty")
    if looks_like_html(data):
        raise BadPayload(f"{what} is an HTML page, not XML")

    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    # Never read a DTD, not even the external subset of a document that only names one.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.buffer_text = True

    def start(tag: str, attrs: dict[str, str]) -> None:
        builder.start(_qualify(tag), {_qualify(k): v for k, v in attrs.items()})

    def end(tag: str) -> None:
        builder.end(_qualify(tag))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data

    try:
        parser.Parse(data, True)
        root = builder.close()
    except _Refused as exc:
        raise BadPayload(f"{what} {exc}") from None
    except expat.ExpatError as exc:
        # expat's own words ("not well-formed (invalid token): line 3, column 8") never quote
        # the document, so they are safe to show.
        raise BadPayload(f"{what} is not XML: {exc}") from None
    except (LookupError, ValueError, UnicodeError):
        # An encoding declaration naming something Python cannot decode lands here. Its name
        # comes from the document, so it is not repeated.
        raise BadPayload(f"{what} is not XML: its declared encoding cannot be decoded") from None
    if local_name(root.tag).lower() == "html":
        raise BadPayload(f"{what} is an HTML page, not XML")
    return root


def _qualify(name: str) -> str:
    # expat joins namespace and local name with the separator ("urn:x}Project"); ElementTree
    # spells that "{urn:x}Project".
    return "{" + name if "}" in name else name
