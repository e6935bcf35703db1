"""The CCTray export read by BuildNotify's own feed parser (``buildnotifylib.core.cctray``, no
Qt), and by the radiator's CCTray source: both must agree with the snapshot and each other.

BuildNotify brings PySide6 (hundreds of MB), so it is not in the ``test`` extra: these tests are
marked ``interop``, left out of the default run, and run by ``.ci/run`` after
``pip install -e '.[interop]'`` (``python3 -m pytest -m interop``). BuildNotify is imported inside
the tests, so the default run collects this file without it installed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from buildradiator.export.cctray import cc_xml, project_names
from buildradiator.model import Build, Snapshot, Status
from buildradiator.rules.ordering import result_shown
from buildradiator.text import clean_text
from cctray_helpers import FEED_URL, hostile_estate, read_back
from snapshot_fixtures import NOW, red_estate, red_estate_with_history

pytestmark = pytest.mark.interop


def buildnotify(data: bytes) -> list[Any]:  # list[buildnotifylib Project]
    from buildnotifylib.core.cctray import parse
    from buildnotifylib.core.settings import ServerSettings

    return parse(data, ServerSettings(url=FEED_URL))


def _time(last: Build | None) -> datetime | None:
    if last is None:
        return None
    when = last.finished_at or last.started_at or last.created_at
    return when.replace(microsecond=0) if when else None


async def assert_agree(snapshot: Snapshot) -> None:
    from buildnotifylib.core.model import Activity
    from buildnotifylib.core.model import Status as BNStatus

    bn_status = {Status.PASSED: BNStatus.SUCCESS, Status.FAILED: BNStatus.FAILURE}
    data = cc_xml(snapshot)
    seen = buildnotify(data)
    ours = await read_back(data)
    names = project_names(snapshot.pipelines)
    assert [p.name for p in seen] == names == [p.name for p in ours.pipelines]
    for original, name, bn, mine in zip(
        snapshot.pipelines, names, seen, ours.pipelines, strict=True
    ):
        # Status: BuildNotify's enum for the snapshot's; our source reads the same word back.
        # Stale data is never green nor building (``result_shown``): Unknown, Sleeping.
        stale = original.source in snapshot.stale_sources
        shown = result_shown(original, snapshot.stale_sources)
        assert bn.status is bn_status.get(shown, BNStatus.UNKNOWN), name
        assert mine.status is {
            BNStatus.SUCCESS: Status.PASSED,
            BNStatus.FAILURE: Status.FAILED,
        }.get(bn.status, Status.UNKNOWN)
        # Activity: BuildNotify never sees one it does not know.
        building = original.in_flight and not stale
        assert bn.activity is (Activity.BUILDING if building else Activity.SLEEPING)
        assert bool(mine.in_flight) == (bn.activity is Activity.BUILDING)
        # Label and time.
        last = original.last
        if last is None:
            assert bn.last_build_label == "" and bn.build_time is None
        else:
            label = str(last.number) if last.number is not None else clean_text(last.id)
            assert bn.last_build_label == label
            assert mine.last is not None and mine.last.id == label
        assert bn.build_time == _time(last) == (mine.last.finished_at if mine.last else None)
        # The link: the same page for both (BuildNotify shows "http://" for none).
        assert bn.url == (mine.url or "http://"), name


async def test_red_estate_agrees() -> None:
    snap = red_estate()
    await assert_agree(snap)
    seen = {p.name: p for p in buildnotify(cc_xml(snap))}
    monolith = seen["acme/monolith"]
    assert monolith.get_build_status() == "Failure.Building"
    assert monolith.url == "https://ci.example/acme/monolith/9103"
    assert monolith.last_build_label == "9103"
    assert monolith.build_time == datetime.fromisoformat("2026-11-26T11:46:00+00:00")
    assert seen["platform/core"].get_build_status() == "Unknown.Building"
    assert seen["docs-site"].get_build_status() == "Success.Sleeping"


async def test_history_estate_agrees() -> None:
    await assert_agree(red_estate_with_history())


async def test_hostile_estate_agrees() -> None:
    snap = hostile_estate()
    await assert_agree(snap)
    seen = buildnotify(cc_xml(snap))
    assert seen[0].name.startswith("He said \"hi\" <b>&amp; 'x' ]]> [bold red]boom[/]")
    assert all("hunter2" not in p.url and "SECRET123" not in p.url for p in seen)


async def test_empty_feed_agrees() -> None:
    await assert_agree(Snapshot(taken_at=NOW))
    assert buildnotify(cc_xml(Snapshot(taken_at=NOW))) == []
