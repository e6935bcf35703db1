"""Cleaning a server's text is remembered for short values (``model.values._remembered``): the
same answer as cleaning it again, every time, and bounded."""

from __future__ import annotations

from buildradiator.model import Build, Status, values
from buildradiator.text import clean_text


def test_a_remembered_cleaning_answers_as_the_cleaning_does() -> None:
    calls: list[str] = []

    def shout(value: str) -> str:
        calls.append(value)
        return value.upper()

    remembered = values._remembered(shout)
    assert [remembered("a"), remembered("a"), remembered("b")] == ["A", "A", "B"]
    assert calls == ["a", "b"]
    long = "x" * (values._REMEMBERED_UP_TO + 1)
    assert remembered(long) == remembered(long) == long.upper()
    assert calls[2:] == [long, long]  # never kept


def test_what_is_remembered_is_bounded() -> None:
    remembered = values._remembered(str.upper)
    for n in range(values._REMEMBERED + 100):
        remembered(f"v{n}")
    assert remembered.cache_info().currsize == values._REMEMBERED  # type: ignore[attr-defined]


def test_objects_built_again_from_dirty_text_are_clean_every_time() -> None:
    dirty = "fix\u202e\x1b[31m the\nthing\u200b"
    first, second = (
        Build(source="s", pipeline="p\x00", id="1", status=Status.PASSED, message=dirty)
        for _ in range(2)
    )
    assert first.message == second.message == clean_text(dirty)
    assert first.pipeline == second.pipeline == "p"
