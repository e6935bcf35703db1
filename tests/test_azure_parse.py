"""Azure Pipelines payloads and parse functions against answers in the documented shapes.

The fixtures under ``payloads/azure/`` follow the Build REST API 7.1 (``Build``, ``Timeline``,
``Change`` of ``vsts-rest-api-specs/specification/build/7.1/build.json``), full objects with the
fields the radiator ignores; the ``*_odd`` ones carry what servers send that the docs leave out:
nulls, wrong types, unknown enum words, Go-style zero dates, offsets, nine fractional digits,
duplicate ids, non-object list items, cycles in a timeline's parents.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from buildradiator.errors import BadPayload
from buildradiator.model import Status
from buildradiator.sources.azure import parse
from buildradiator.sources.azure.payloads import (
    BuildList,
    BuildPayload,
    ChangeList,
    ErrorBody,
    TimelinePayload,
)
from buildradiator.sources.base import parse_model

PAYLOADS = Path(__file__).parent / "payloads" / "azure"
BASE = "https://dev.azure.com/acme"
REF = "refs/heads/main"


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def builds(name: str = "builds.json", definition: int | None = 41) -> list[BuildPayload]:
    """The list's builds; of one definition unless ``definition`` is ``None``."""
    value = BuildList.model_validate(load(name)).value
    return value if definition is None else parse.by_definition(value, [definition])[definition]


def timeline(name: str) -> TimelinePayload:
    return TimelinePayload.model_validate(load(name))


# --- statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "result", "finished", "expected", "word"),
    [
        ("completed", "succeeded", True, Status.PASSED, "succeeded"),
        ("completed", "partiallySucceeded", True, Status.PASSED, "partially succeeded"),
        ("completed", "failed", True, Status.FAILED, "failed"),
        ("completed", "canceled", True, Status.CANCELED, "canceled"),
        ("completed", "none", True, Status.UNKNOWN, "none"),
        ("completed", None, True, Status.UNKNOWN, "completed"),
        ("completed", "skippedByPolicy", True, Status.UNKNOWN, "skippedByPolicy"),
        ("inProgress", None, False, Status.RUNNING, "in progress"),
        ("inprogress", "none", False, Status.RUNNING, "in progress"),
        ("cancelling", None, False, Status.RUNNING, "cancelling"),
        ("notStarted", None, False, Status.QUEUED, "not started"),
        ("postponed", None, False, Status.QUEUED, "postponed"),
        ("none", None, False, Status.QUEUED, "none"),
        ("all", None, False, Status.QUEUED, "all"),
        ("someNewStatus", None, False, Status.QUEUED, "someNewStatus"),
        ("someNewStatus", None, True, Status.UNKNOWN, "someNewStatus"),
        ("none", "failed", True, Status.FAILED, "failed"),
        (None, None, False, Status.QUEUED, None),
        (None, None, True, Status.UNKNOWN, None),
    ],
)
def test_every_documented_status_and_result_has_a_meaning(
    status: str | None, result: str | None, finished: bool, expected: Status, word: str | None
) -> None:
    assert parse.build_status(status, result, finished) == (expected, word)


def test_branch_names_become_the_refs_the_api_filters_on() -> None:
    assert parse.branch_ref("main") == "refs/heads/main"
    assert parse.branch_ref(" release/2.1 ") == "refs/heads/release/2.1"
    assert parse.branch_ref("refs/tags/v1") == "refs/tags/v1"
    assert parse.branch_ref("$/Platform/Main") == "$/Platform/Main"  # TFVC on a Server
    assert parse.short_branch("refs/heads/main") == "main"


# --- the documented list ------------------------------------------------------------------------


def test_the_documented_list_maps_to_rows_per_definition() -> None:
    payloads = builds()
    ci = parse.pipeline_of("azure", BASE, "Platform", 41, REF, payloads, {}, {})
    assert ci is not None
    assert (ci.key, ci.name, ci.branch) == ("Platform/41", "platform-api CI", "main")
    assert ci.url == f"{BASE}/Platform/_build?definitionId=41"
    assert [b.id for b in ci.in_flight] == ["1204", "1203"]
    assert [b.id for b in ci.recent] == ["1202", "1201"]
    assert ci.status is Status.FAILED
    queued, running = ci.in_flight
    assert queued.status is Status.QUEUED and queued.provider_status == "not started"
    assert running.status is Status.RUNNING and running.finished_at is None
    failed = ci.recent[0]
    assert failed.author == "Erin Walsh"
    assert failed.commit == "c1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    assert failed.message == "Bump grpc to 1.66"
    assert failed.url == f"{BASE}/2f2cfc9d-71d5-48f9-a438-b27f90d2d343/_build/results?buildId=1202"
    # Seven fractional digits (Azure's own) are read, not refused.
    assert failed.started_at == datetime(2026, 12, 6, 7, 30, 9, 468283, tzinfo=UTC)
    assert failed.finished_at == datetime(2026, 12, 6, 7, 36, 17, 447970, tzinfo=UTC)
    assert failed.created_at == datetime(2026, 12, 6, 7, 30, 1, tzinfo=UTC)
    assert failed.duration_seconds == pytest.approx(368.0, abs=0.1)
    assert queued.message == "Add request tracing"  # the subject line only


def test_a_partially_succeeded_nightly_is_green_with_its_word_and_a_service_requester() -> None:
    nightly = parse.pipeline_of("azure", BASE, "Platform", 42, REF, builds(definition=42), {}, {})
    assert nightly is not None and nightly.status is Status.PASSED
    assert nightly.last is not None
    assert nightly.last.provider_status == "partially succeeded"
    # Run on behalf of a service identity, and no person at hand: the service it is.
    assert nightly.last.author == "Microsoft.VisualStudio.Services.TFS"
    nightly_build = builds(definition=42)[0]
    changes = ChangeList.model_validate(load("changes.json")).value
    commit = changes[0].model_copy(update={"id": nightly_build.sourceVersion})
    assert parse.author_of(nightly_build, commit) == "Dana Smith"  # the commit's author
    service = nightly_build.model_copy(
        update={"requestedFor": nightly_build.requestedBy.model_copy(  # type: ignore[union-attr]
            update={"displayName": "Project Collection Build Service (acme)"})}
    )  # fmt: skip
    assert parse.author_of(service, commit) == "Dana Smith"


def test_a_definition_without_builds_on_the_branch_has_no_row() -> None:
    assert parse.pipeline_of("azure", BASE, "Platform", 99, REF, [], {}, {}) is None
    only_pr = [b for b in builds("builds_odd.json") if b.id == 1294]
    assert parse.pipeline_of("azure", BASE, "Platform", 41, REF, only_pr, {}, {}) is None


# --- odd answers ----------------------------------------------------------------------------------


def test_odd_items_are_read_leniently_or_skipped() -> None:
    payloads = builds("builds_odd.json", definition=None)
    # None, 17 and "build" are not objects: skipped; the rest are read.
    assert len(payloads) == 12
    first = payloads[0]
    assert first.id == 1300  # a quoted id
    assert first.requestedFor is None  # a string where an identity belongs
    assert first.triggerInfo == {}  # a number where the message belongs
    assert first.links is not None and first.links.web is None
    assert payloads[-2].id is None  # true is no id


def test_odd_list_becomes_a_row_without_crashing() -> None:
    row = parse.pipeline_of("azure", BASE, "Platform", 41, REF, builds("builds_odd.json"), {}, {})
    assert row is not None
    ids = [b.id for b in (*row.in_flight, *row.recent)]
    # 1300 once (the first copy wins), the pull-request build 1294 left out, no id-less entries.
    assert sorted(ids) == ["1292", "1293", "1295", "1296", "1297", "1298", "1299", "1300"]
    by_id = {b.id: b for b in (*row.in_flight, *row.recent)}
    assert by_id["1300"].status is Status.PASSED
    # The +02:00 offset is honoured and nine fractional digits are cut to six.
    assert by_id["1300"].finished_at == datetime(2026, 12, 6, 7, 4, 5, 123456, tzinfo=UTC)
    assert by_id["1300"].author == "build-bot@acme.example"  # uniqueName when no displayName
    assert by_id["1300"].url == f"{BASE}/Platform/_build/results?buildId=1300"
    # An unknown status without a finish is waiting; its garbage and zero dates read as unknown.
    assert by_id["1299"].status is Status.QUEUED
    assert by_id["1299"].created_at is None and by_id["1299"].started_at is None
    assert by_id["1298"].status is Status.UNKNOWN  # an unknown result word
    assert by_id["1298"].finished_at == datetime(2026, 12, 6, 6, 1, tzinfo=UTC)  # no zone: UTC
    assert by_id["1297"].status is Status.RUNNING and by_id["1297"].provider_status == "cancelling"
    assert by_id["1296"].status is Status.QUEUED and by_id["1296"].provider_status == "postponed"
    assert by_id["1295"].status is Status.CANCELED and by_id["1295"].finished_at is None  # 9999
    assert by_id["1293"].status is Status.FAILED  # status "none", but a result and a finish
    # Hostile text reaches the model as plain, clean text.
    message = by_id["1292"].message
    assert message is not None and "\x1b" not in message and "\ud83d" not in message
    assert message.startswith("Commit with a [bold red]markup[/] tag")
    assert row.name == "platform-api CI"


def test_builds_are_grouped_by_their_definition() -> None:
    everything = builds(definition=None)
    grouped = parse.by_definition(everything, [41, 42, 43, 41])
    assert list(grouped) == [41, 42, 43]
    assert [b.id for b in grouped[42]] == [1187]
    assert grouped[43] == []
    # A build that names no definition belongs to the only one asked for, else to none.
    hollow = BuildPayload.model_validate({"id": 5, "status": "completed"})
    assert parse.by_definition([hollow], [7]) == {7: [hollow]}
    assert parse.by_definition([hollow], [7, 8]) == {7: [], 8: []}


@pytest.mark.parametrize(
    "body", [{}, {"value": None}, {"value": "not a list"}, {"count": [5], "value": {"id": 1}}, []]
)
def test_a_list_that_is_no_list_is_another_document(body: Any) -> None:
    # Read as "no builds", a proxy's answer would empty the rows: it must fail the poll instead.
    with pytest.raises(BadPayload, match="value"):
        parse_model(BuildList, body if isinstance(body, dict) else {"value": "x"})
    with pytest.raises(BadPayload):
        parse_model(BuildList, body)


@pytest.mark.parametrize(
    "body", [{"value": []}, {"count": None, "value": [None]}, {"count": "x", "value": [{}]}]
)
def test_an_empty_or_hollow_list_reads_as_no_builds(body: Any) -> None:
    payloads = BuildList.model_validate(body).value
    assert parse.pipeline_of("azure", BASE, "Platform", 41, REF, payloads, {}, {}) is None


# --- the timeline -----------------------------------------------------------------------------------


def test_a_running_timeline_names_the_stage_and_its_running_jobs() -> None:
    facts = parse.timeline_facts(timeline("timeline_running.json"))
    assert facts.stage == "Test › unit, integration"
    assert facts.attempt == 1
    assert facts.failing == ()


def test_a_rerun_of_failed_jobs_raises_the_attempt() -> None:
    facts = parse.timeline_facts(timeline("timeline_retried.json"))
    assert facts.attempt == 2
    assert facts.stage is None  # nothing runs or waits


def test_a_pending_approval_is_named() -> None:
    facts = parse.timeline_facts(timeline("timeline_approval.json"))
    assert facts.stage == "Deploy › waiting for approval"


def test_a_failed_job_in_a_running_build_makes_it_failing_and_hides_default_stage() -> None:
    facts = parse.timeline_facts(timeline("timeline_failing.json"))
    assert facts.stage == "integration"  # the single stage is "__default": not shown
    assert facts.failing == ("unit",)
    payload = next(b for b in builds() if b.id == 1203)
    build = parse.to_build("azure", "Platform/41", BASE, "Platform", payload, facts)
    assert build is not None and build.status is Status.RUNNING
    assert build.provider_status == "failing: unit"
    assert build.stage == "integration"


def test_timeline_facts_reach_the_builds_of_a_row() -> None:
    running = parse.timeline_facts(timeline("timeline_running.json"))
    retried = parse.timeline_facts(timeline("timeline_retried.json"))
    row = parse.pipeline_of(
        "azure", BASE, "Platform", 41, REF, builds(), {1203: running, 1201: retried}, {}
    )
    assert row is not None
    assert row.in_flight[1].stage == "Test › unit, integration"
    assert row.recent[1].attempt == 2 and row.recent[1].status is Status.PASSED
    assert row.recent[1].stage is None  # a finished build has no stage


def test_an_odd_timeline_never_crashes_and_believes_no_absurd_attempt() -> None:
    odd = timeline("timeline_odd.json")
    assert len(odd.records) == 5
    facts = parse.timeline_facts(odd)
    # attempt "3" (quoted) is read; 10^12 and -4 are not believed.
    assert facts.attempt == 3
    # loop-a's parents form a cycle: no stage, just the job.
    assert facts.stage == "job, loop-a"  # "InProgress" counts too, in any case
    assert parse.timeline_facts(None) == parse.TimelineFacts()
    assert parse.timeline_facts(TimelinePayload.model_validate({"records": None})).stage is None


def test_many_running_jobs_are_cut_short() -> None:
    records = [{"id": "s", "type": "Stage", "name": "Test", "state": "inProgress"}] + [
        {"id": f"j{i}", "parentId": "s", "type": "Job", "name": f"shard {i}", "state": "inProgress",
         "order": i}
        for i in range(6)
    ]  # fmt: skip
    facts = parse.timeline_facts(TimelinePayload.model_validate({"records": records}))
    assert facts.stage == "Test › shard 0, shard 1, shard 2 +3"


# --- the commit message from the build's changes ----------------------------------------------------


def test_a_build_without_ci_message_borrows_its_changes_message() -> None:
    changes = ChangeList.model_validate(load("changes.json")).value
    manual = next(b for b in builds() if b.id == 1204).model_copy(update={"triggerInfo": {}})
    assert parse.message_of(manual) is None
    assert parse.message_of(manual, changes[0]) == "Add request tracing"
    # Only the commit that was built lends its message.
    assert parse.message_of(manual, changes[1]) is None
    no_requester = manual.model_copy(update={"requestedFor": None, "requestedBy": None})
    assert parse.author_of(no_requester, changes[0]) == "Dana Smith"


def test_error_bodies_give_their_first_line() -> None:
    body = ErrorBody.model_validate(load("error_project.json"))
    assert parse.error_text(body) is not None
    assert parse.error_text(body).startswith("TF200016: The following project does not exist")  # type: ignore[union-attr]
    assert parse.error_text(ErrorBody.model_validate({"message": None})) is None
    assert parse.error_text(None) is None
