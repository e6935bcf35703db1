"""Stage times in the snapshot's document: written with each finished build, read back by
another radiator (``radiator`` source), odd entries left out one by one."""

from __future__ import annotations

import json

from buildradiator.document import build_doc
from buildradiator.export.document import to_json
from buildradiator.model import StageTime
from buildradiator.sources.radiator.fields import stages_of
from buildradiator.sources.radiator.reading import Reading
from buildradiator.sources.stages import MAX_STAGES
from snapshot_fixtures import red_estate

STAGES = (StageTime(name="build", seconds=180.0), StageTime(name="test", seconds=612.5))


def test_stages_round_trip_through_another_radiator() -> None:
    snap = red_estate()
    first = snap.pipelines[0]
    staged = first.model_copy(
        update={"recent": tuple(b.model_copy(update={"stages": STAGES}) for b in first.recent)}
    )
    snap = snap.model_copy(update={"pipelines": (staged, *snap.pipelines[1:])})
    written = json.loads(json.dumps(build_doc(staged.recent[0])))
    assert written["stages"] == [
        {"name": "build", "seconds": 180.0},
        {"name": "test", "seconds": 612.5},
    ]
    result = Reading("central", ()).read(json.loads(to_json(snap)))
    (ours,) = [p for p in result.pipelines if p.key == f"{staged.source}:{staged.key}"]
    assert ours.recent and all(b.stages == STAGES for b in ours.recent)


def test_odd_stage_entries_are_left_out_one_by_one() -> None:
    entries = [
        {"name": "build", "seconds": 60},
        {"name": "neg", "seconds": -5},
        {"name": "huge", "seconds": 1e12},
        {"name": "flag", "seconds": True},
        {"name": 7, "seconds": 3},
        {"seconds": 3},
        "test",
        None,
        {"name": "nan", "seconds": "NaN"},
        {"name": "\x1b[2Jtest", "seconds": "12.5"},
    ]
    assert stages_of(entries) == (
        StageTime(name="build", seconds=60),
        StageTime(name="test", seconds=12.5),
    )
    assert stages_of(None) == () and stages_of({"name": "x"}) == () and stages_of("x") == ()
    many = [{"name": f"s{i}", "seconds": 1} for i in range(MAX_STAGES + 5)]
    assert len(stages_of(many)) == MAX_STAGES
