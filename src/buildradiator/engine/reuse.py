"""A source's answer with the pipeline objects of its previous answer where nothing changed.

Sources build new objects on every poll, even from a 304 (the body comes from the ETag cache and
is parsed again). Everything after the engine keys its work on the object: the derivation's memo
(``rules.memo``) derives a pipeline once per object, and comparing a snapshot with the last one
(is it news?) or the views' diffing stop at ``is``. Comparing each new pipeline once with its
previous one, here, costs ~8 us a pipeline; deriving it afresh ~20 us (measured at 2,000
GitHub pipelines).

Equal is pydantic's equal (every field, builds included); the domain objects are frozen, so a
reused object can never be changed under a view.
"""

from __future__ import annotations

from collections.abc import Sequence

from buildradiator.model import Build, Pipeline, SourceResult

_BUILDS = ("recent", "in_flight")


def reuse(previous: SourceResult | None, result: SourceResult) -> SourceResult:
    """``result``, with each pipeline equal to the previous answer's (same key) replaced by
    that previous object."""
    if previous is None or not previous.pipelines or not result.pipelines:
        return result
    before = {p.key: p for p in previous.pipelines}
    pipelines = []
    reused = 0
    for pipeline in result.pipelines:
        old = before.get(pipeline.key)
        if old is not None and same_pipeline(old, pipeline):
            pipelines.append(old)
            reused += 1
        else:
            pipelines.append(pipeline)
    if not reused:
        return result
    return result.model_copy(update={"pipelines": tuple(pipelines)})


def same_pipeline(a: Pipeline, b: Pipeline) -> bool:
    """``a == b``, in a third less time: builds compared by their fields directly."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    theirs = b.__dict__
    for name, value in a.__dict__.items():
        if name in _BUILDS:
            if not _same_builds(value, theirs[name]):
                return False
        elif value != theirs[name]:
            return False
    return True


def _same_builds(a: Sequence[Build], b: Sequence[Build]) -> bool:
    return len(a) == len(b) and all(
        x is y or (type(x) is type(y) and x.__dict__ == y.__dict__)
        for x, y in zip(a, b, strict=True)
    )
