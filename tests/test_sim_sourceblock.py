"""The demo config's [[sources]] blocks are written from Python values, one way."""

from __future__ import annotations

import tomllib

import pytest

from buildradiator.simulator.sourceblock import Literal, source_block, toml_value


def test_a_block_reads_back_as_the_values_it_was_given() -> None:
    text = source_block(
        name='a "quoted" name\\',
        type="x",
        on=True,
        builds=10,
        share=0.005,
        tags=["a", "b"],
        none=[],
        names={"4242": "platform/terraform"},
        query=Literal('rate(x{code=~"5.."}[5m])'),
    )
    assert text.startswith("[[sources]]\nname = ")
    assert tomllib.loads(text)["sources"] == [
        {
            "name": 'a "quoted" name\\',
            "type": "x",
            "on": True,
            "builds": 10,
            "share": 0.005,
            "tags": ["a", "b"],
            "none": [],
            "names": {"4242": "platform/terraform"},
            "query": 'rate(x{code=~"5.."}[5m])',
        }
    ]


def test_values_are_written_as_toml_writes_them() -> None:
    assert toml_value(True) == "true"  # a bool, not the int it also is
    assert toml_value([41, 42]) == "[41, 42]"
    assert toml_value({"k": "v"}) == '{ "k" = "v" }'
    assert toml_value(Literal('a "b"')) == "'a \"b\"'"


def test_a_literal_that_toml_cannot_hold_is_refused() -> None:
    with pytest.raises(ValueError):
        toml_value(Literal("it's"))
