"""The CCTray export (``/cc.xml``): read back by the radiator's own CCTray source, which must
see what the snapshot says; hostile names stay well-formed; tokens never leave."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from buildradiator.export.cctray import CONTENT_TYPE, cc_xml, project_names
from buildradiator.model import Build, Pipeline, Snapshot, Status
from buildradiator.rules.ordering import result_shown
from cctray_helpers import HOSTILE_NAME, hostile_estate, read_back
from snapshot_fixtures import NOW, green_estate, red_estate


def projects(data: bytes) -> list[dict[str, str]]:
    root = ET.fromstring(data)
    assert root.tag == "Projects"
    assert all(child.tag == "Project" for child in root)
    return [dict(child.attrib) for child in root]


def expected_status(status: Status | None) -> Status:
    """What a CCTray reader can know: passed and failed survive, the rest is unknown."""
    return status if status in (Status.PASSED, Status.FAILED) else Status.UNKNOWN


def shown(pipeline: Pipeline, snapshot: Snapshot) -> Status | None:
    """The status a view shows (stale data: only red)."""
    return result_shown(pipeline, snapshot.stale_sources)


def expected_time(last: Build) -> datetime | None:
    when = last.finished_at or last.started_at or last.created_at
    return when.replace(microsecond=0) if when else None


async def assert_round_trip(snapshot: Snapshot) -> None:
    """Every pipeline comes back from our CCTray source as the radiator shows it (stale data
    never green nor building)."""
    data = cc_xml(snapshot)
    result = await read_back(data)
    names = project_names(snapshot.pipelines)
    assert [p.name for p in result.pipelines] == names
    for original, name, read in zip(snapshot.pipelines, names, result.pipelines, strict=True):
        assert read.key == name
        assert read.status is expected_status(shown(original, snapshot)), name
        stale = original.source in snapshot.stale_sources
        assert bool(read.in_flight) == bool(original.in_flight and not stale), name
        assert all(b.status is Status.RUNNING for b in read.in_flight)
        last, back = original.last, read.last
        assert back is not None
        if last is None:
            assert (back.id, back.number, back.finished_at) == ("last", None, None)
        else:
            assert back.number == last.number, name
            assert back.id == (str(last.number) if last.number is not None else back.id)
            assert back.finished_at == expected_time(last), name
            if last.url and last.url.startswith("https://ci.example/"):
                assert back.url == last.url


async def test_red_estate_round_trips_through_our_cctray_source() -> None:
    snap = red_estate()
    await assert_round_trip(snap)
    result = await read_back(cc_xml(snap))
    by_name = {p.name: p for p in result.pipelines}
    assert by_name["acme/monolith"].status is Status.FAILED
    assert by_name["acme/monolith"].last is not None
    assert by_name["acme/monolith"].last.url == "https://ci.example/acme/monolith/9103"
    assert by_name["acme/monolith"].last.finished_at == NOW - timedelta(minutes=14)
    # Canceled is not a broken build: Unknown, never Failure or Exception.
    assert by_name["platform/core"].status is Status.UNKNOWN
    # Queued counts as in flight: the format has no agreed word for it.
    assert [b.status for b in by_name["acme/ledger"].in_flight] == [Status.RUNNING]
    assert by_name["docs-site"].in_flight == ()
    assert result.summary == "6 projects, 3 building, 1 failing"


async def test_green_estate_round_trips() -> None:
    await assert_round_trip(green_estate())


async def test_hostile_estate_round_trips_and_stays_well_formed() -> None:
    snap = hostile_estate()
    data = cc_xml(snap)
    attrs = projects(data)  # strict parse: well-formed XML
    await assert_round_trip(snap)
    names = [a["name"] for a in attrs]
    assert names[0] == HOSTILE_NAME + " tail"
    assert len(set(names)) == len(names) == len(snap.pipelines)
    assert names[1:5] == [
        "gh: monolith",
        "jenkins: monolith",
        "gh: acme/app:main",
        "gh: acme/app:release",
    ]
    # Escaped, not raw: the markup-like text and quotes are data in the document.
    assert b"&quot;hi&quot; &lt;b&gt;&amp;amp;" in data
    assert b"\x07" not in data and b"\x1b" not in data and b"\x01" not in data
    assert attrs[0]["lastBuildLabel"] == "run<&>\"'"


async def test_tokens_never_leave_and_only_http_urls_do() -> None:
    data = cc_xml(hostile_estate())
    assert b"hunter2" not in data and b"SECRET123" not in data
    attrs = projects(data)
    assert attrs[0]["webUrl"] == "https://***@ci.example/x/7?access_token=***&branch=main"
    # No build, a javascript: pipeline URL: no webUrl at all rather than a dangerous one.
    assert "webUrl" not in attrs[5]
    # An ftp: build URL falls back to the pipeline's page.
    assert attrs[6]["webUrl"] == "https://buildkite.example/acme/odd"


async def test_times_keep_their_offset_in_whole_seconds() -> None:
    attrs = projects(cc_xml(hostile_estate()))
    assert attrs[0]["lastBuildTime"] == "2026-11-26T16:20:09+05:30"
    # No finish: the start; the source reads it back as the same moment.
    assert attrs[6]["lastBuildTime"] == (NOW - timedelta(seconds=900)).isoformat()
    assert datetime.fromisoformat(attrs[1]["lastBuildTime"]).tzinfo is not None
    result = await read_back(cc_xml(hostile_estate()))
    first = result.pipelines[0].last
    assert first is not None
    assert first.finished_at == datetime(2026, 11, 26, 10, 50, 9, tzinfo=UTC)


def test_attributes_per_project() -> None:
    attrs = projects(cc_xml(hostile_estate()))
    hostile, gh_mono, jenkins_mono, main, release, new, odd = attrs
    assert hostile["activity"] == "Sleeping" and hostile["lastBuildStatus"] == "Failure"
    assert gh_mono["lastBuildStatus"] == "Success" and gh_mono["lastBuildLabel"] == "5"
    assert jenkins_mono["lastBuildStatus"] == "Failure"
    assert release["lastBuildStatus"] == "Unknown"
    # A group's members are listed one by one; the group rides along as TeamCity's category.
    assert release["category"] == "Release train" and "category" not in main
    assert main["lastBuildLabel"] == "1"
    # Never built, one queued: Building, Unknown, and nothing invented.
    assert new == {"name": "new one", "activity": "Building", "lastBuildStatus": "Unknown"}
    assert odd["lastBuildStatus"] == "Unknown" and odd["lastBuildLabel"] == "uuid-1"
    assert all(a["activity"] in ("Building", "Sleeping") for a in attrs)


def test_stale_pipelines_are_listed_marked_and_never_success() -> None:
    """Stale is never green: clients read lastBuildStatus, not the ``stale`` attribute."""
    attrs = {a["name"]: a for a in projects(cc_xml(red_estate()))}
    assert attrs["acme/reports"]["stale"] == "true"
    assert attrs["acme/reports"]["lastBuildStatus"] == "Unknown"
    assert [n for n, a in attrs.items() if "stale" in a] == ["acme/reports"]


def test_services_are_not_projects() -> None:
    snap = red_estate()
    names = {a["name"] for a in projects(cc_xml(snap))}
    assert names == {p.name for p in snap.pipelines}
    assert not names & {s.name for s in snap.services}


async def test_empty_snapshot_is_an_empty_feed() -> None:
    data = cc_xml(Snapshot(taken_at=NOW))
    assert projects(data) == []
    assert data.startswith(b"<?xml")
    result = await read_back(data)
    assert result.pipelines == ()


def test_names_stay_unique_even_when_prefixes_clash() -> None:
    # "gh: x" as a real name, and two "x" that become "gh: x" and "ci: x" once prefixed.
    clash = (
        Pipeline(source="gh", key="k1", name="gh: x"),
        Pipeline(source="gh", key="k2", name="x"),
        Pipeline(source="ci", key="k3", name="x"),
        Pipeline(source="gh", key="gh: x", name="gh: x"),
    )
    names = project_names(clash)
    assert len(set(names)) == len(names) == 4
    assert names[2] == "ci: x"


def test_content_type_is_xml() -> None:
    assert CONTENT_TYPE == "application/xml; charset=utf-8"
    assert cc_xml(red_estate()).decode("utf-8")
