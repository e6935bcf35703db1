"""The demo config's ``[[sources]]`` blocks, written from Python values.

Every simulated provider declares the source that watches it as fields (``source_block(name=...,
type=..., url=...)``), and the TOML is written here, one way: strings as TOML basic strings (a
JSON string is one: same quotes and escapes), a ``Literal`` as a literal string, lists and inline
tables as TOML writes them.
"""

from __future__ import annotations

import json

TomlValue = str | int | float | bool | list["TomlValue"] | dict[str, "TomlValue"]


class Literal(str):
    """A TOML literal string (``'...'``): double quotes and backslashes stay as typed. It must
    hold no single quote nor line break."""

    __slots__ = ()


def toml_value(value: TomlValue) -> str:
    """``value`` as TOML writes it on the right of ``key = ``."""
    if isinstance(value, Literal):
        if "'" in value or "\n" in value:
            raise ValueError(f"a TOML literal string cannot hold {value!r}")
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    pairs = ", ".join(f"{json.dumps(key)} = {toml_value(item)}" for key, item in value.items())
    return "{ " + pairs + " }"


def source_block(**fields: TomlValue) -> str:
    """A ``[[sources]]`` block with ``fields`` in the order given, ending with a line break."""
    return "[[sources]]\n" + "".join(f"{key} = {toml_value(v)}\n" for key, v in fields.items())
