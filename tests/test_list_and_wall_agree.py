"""The Main branches list and the wall rank and roll up from the same rules (issue 14), with the
two fixes that brought: stale data with a build in flight is not "running", and a group whose
only red members are stale is STALE (ranked with the red) in both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from buildradiator.model import Build, Pipeline, Snapshot, SourceState, Status
from buildradiator.ui.widgets.finder import Finder
from buildradiator.ui.widgets.pipeline_rows import GROUP_KEY, pipeline_rows
from buildradiator.ui.widgets.wall_tiles import RED, wall_tiles

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(minutes=30)


def pipe(
    name: str, status: Status, source: str = "ci", running: bool = False, group: str | None = None
) -> Pipeline:
    done = Build(source=source, pipeline=name, id="1", status=status, finished_at=OLD)
    flight = Build(source=source, pipeline=name, id="2", status=Status.RUNNING, started_at=OLD)
    return Pipeline(
        source=source,
        key=name,
        name=name,
        recent=(done,),
        in_flight=(flight,) if running else (),
        group=group,
    )


def snapshot(*pipelines: Pipeline) -> Snapshot:
    sources = (
        SourceState(name="ci", type="github", last_success=NOW),
        SourceState(name="old", type="jenkins", last_success=OLD, stale=True),
    )
    return Snapshot(
        taken_at=NOW, pipelines=pipelines, sources=sources, stale_sources=frozenset({"old"})
    )


def keys(rows: list[object]) -> list[str]:
    return [getattr(r, "key").split("\x1f")[-1] for r in rows]


def test_stale_data_with_a_build_in_flight_does_not_rank_as_running() -> None:
    snap = snapshot(
        pipe("a-stale-running", Status.PASSED, source="old", running=True),
        pipe("b-running", Status.PASSED, running=True),
        pipe("c-green", Status.PASSED),
    )
    listed = keys(pipeline_rows(snap, NOW))
    assert listed == ["b-running", "a-stale-running", "c-green"]
    row = pipeline_rows(snap, NOW)[1]
    assert "running" not in "".join(text for text, _ in row.cells[0])
    walled = [t.key.split("\x1f")[-1] for t in wall_tiles(snap, NOW)]
    assert walled.index("b-running") < walled.index("a-stale-running")


def test_a_group_red_only_on_stale_data_is_stale_ranked_red_on_list_and_wall() -> None:
    snap = snapshot(
        pipe("api", Status.FAILED, source="old", group="backend"),
        pipe("db", Status.PASSED, group="backend"),
        pipe("zz-fresh-red", Status.FAILED),
        pipe("aa-running", Status.PASSED, running=True),
    )
    rows = pipeline_rows(snap, NOW)
    assert keys(rows) == ["backend", "zz-fresh-red", "aa-running"]
    group = rows[0]
    assert group.key == GROUP_KEY + "backend"
    head = "".join(text for text, _ in group.cells[0])
    assert "stale 1 of 2" in head and "failed" not in head
    tile = next(t for t in wall_tiles(snap, NOW) if t.key == "group\x1fbackend")
    assert tile.word == "STALE 1 of 2" and tile.rank == RED and not tile.filled


def test_green_finds_only_what_is_green() -> None:
    stale_passed = pipe("old-pass", Status.PASSED, source="old")
    running = pipe("busy", Status.PASSED, running=True)
    fresh = pipe("fresh", Status.PASSED)
    stale = frozenset({"old"})
    find = Finder(query="green")
    assert find.keeps([fresh], stale)
    assert not find.keeps([stale_passed], stale) and not find.keeps([running], stale)
    hide = Finder(hide_passing=True)
    assert not hide.keeps([fresh], stale) and hide.keeps([stale_passed], stale)
