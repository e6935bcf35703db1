"""The engine keeps a pipeline object across polls while the source says the same about it
(``engine.reuse``), so that what is derived from it is derived once; anything changed, however
small, is the new object."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from buildradiator.engine.reuse import reuse, same_pipeline
from buildradiator.model import Build, Pipeline, SourceResult, Status

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def pipe(key: str, status: Status = Status.PASSED, **build: object) -> Pipeline:
    fields: dict[str, object] = {"finished_at": T0, "message": "fix", **build}
    recent = (Build(source="ci", pipeline=key, id="1", status=status, **fields),)  # type: ignore[arg-type]
    return Pipeline(source="ci", key=key, name=key, recent=recent)


def test_an_unchanged_pipeline_is_the_previous_object() -> None:
    before = SourceResult(pipelines=(pipe("a"), pipe("b")))
    after = reuse(before, SourceResult(pipelines=(pipe("b"), pipe("a"), pipe("c"))))
    assert after.pipelines[0] is before.pipelines[1]
    assert after.pipelines[1] is before.pipelines[0]
    assert after.pipelines[2] == pipe("c")


@pytest.mark.parametrize(
    "changed",
    [
        pipe("a", Status.FAILED),
        pipe("a", message="fix!"),
        pipe("a", finished_at=datetime(2026, 11, 26, 9, 1, tzinfo=UTC)),
        pipe("a", attempt=2),
        pipe("a").model_copy(update={"name": "A"}),
        pipe("a").model_copy(update={"recent": ()}),
        pipe("a").model_copy(
            update={"in_flight": (Build(source="ci", pipeline="a", id="2", status=Status.RUNNING),)}
        ),
    ],
)
def test_a_changed_pipeline_is_the_new_object(changed: Pipeline) -> None:
    before = SourceResult(pipelines=(pipe("a"),))
    after = reuse(before, SourceResult(pipelines=(changed,)))
    assert after.pipelines[0] is changed
    assert not same_pipeline(before.pipelines[0], changed)


def test_same_pipeline_is_pydantic_equality() -> None:
    pairs = [(pipe("a"), pipe("a")), (pipe("a"), pipe("b")), (pipe("a"), pipe("a", attempt=3))]
    assert [same_pipeline(x, y) for x, y in pairs] == [x == y for x, y in pairs]


def test_the_rest_of_the_answer_is_the_new_one() -> None:
    before = SourceResult(pipelines=(pipe("a"),), summary="1 pipeline")
    after = reuse(before, SourceResult(pipelines=(pipe("a"),), summary="1 pipeline, again"))
    assert after.summary == "1 pipeline, again"
    assert after.pipelines[0] is before.pipelines[0]
