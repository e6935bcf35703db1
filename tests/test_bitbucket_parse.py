"""Bitbucket Pipelines' answers read into builds: the documented shapes and the odd ones.

The fixtures under ``payloads/bitbucket/`` follow the OpenAPI description of api.bitbucket.org 2.0
plus what the server sends beyond it (``run_number``, ``duration_in_seconds``, step ``name``);
``*-odd.json`` carry what real servers and proxies send that the docs leave out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from buildradiator.errors import BadPayload
from buildradiator.model import Status
from buildradiator.sources.bitbucket import parse
from buildradiator.sources.bitbucket.parse import (
    Words,
    needs_steps,
    parse_pipelines,
    parse_steps,
    stage_of,
    state_words,
    to_build,
    to_pipeline,
    verdict,
)
from buildradiator.sources.bitbucket.payloads import PipelinePayload, State

PAYLOADS = Path(__file__).parent / "payloads" / "bitbucket"
KEY = "acme/web-portal"


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def pipelines(name: str) -> list[PipelinePayload]:
    return list(parse_pipelines(load(name)).values)


def by_number(name: str) -> dict[int | None, PipelinePayload]:
    return {p.build_number: p for p in pipelines(name)}


def state(**data: Any) -> State:
    return State.model_validate(data)


# --- the state vocabulary ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"name": "PENDING", "type": "pipeline_state_pending"}, Words("PENDING")),
        (
            {"name": "IN_PROGRESS", "stage": {"name": "RUNNING"}},
            Words("IN_PROGRESS", "RUNNING"),
        ),
        (
            {"name": "COMPLETED", "result": {"name": "SUCCESSFUL"}},
            Words("COMPLETED", result="SUCCESSFUL"),
        ),
        # Only types, no names.
        (
            {
                "type": "pipeline_state_completed",
                "result": {"type": "pipeline_state_completed_failed"},
            },
            Words("COMPLETED", result="FAILED"),
        ),
        (
            {
                "type": "pipeline_state_in_progress",
                "stage": {"type": "pipeline_state_in_progress_paused"},
            },
            Words("IN_PROGRESS", "PAUSED"),
        ),
        (
            {"type": "pipeline_step_state_completed", "result": {"type": "x_completed_not_run"}},
            Words("COMPLETED", result="NOT_RUN"),
        ),
        # Lower case, spaces; a result or a stage where the state should be.
        ({"name": "in progress"}, Words("IN_PROGRESS")),
        ({"name": "failed"}, Words("COMPLETED", result="FAILED")),
        ({"name": "HALTED"}, Words("IN_PROGRESS", "HALTED")),
        # A generic type says nothing; a result without a state is a completed one.
        ({"type": "pipeline_state"}, Words()),
        ({"result": {"name": "ERROR"}}, Words("COMPLETED", result="ERROR")),
        ({}, Words()),
    ],
)
def test_state_words_read_names_types_and_misplaced_words(
    data: dict[str, Any], words: Words
) -> None:
    assert state_words(state(**data)) == words


def test_no_state_at_all_is_no_words() -> None:
    assert state_words(None) == Words()


@pytest.mark.parametrize(
    ("words", "completed", "status", "word"),
    [
        (Words("COMPLETED", result="SUCCESSFUL"), True, Status.PASSED, "successful"),
        (Words("COMPLETED", result="FAILED"), True, Status.FAILED, "failed"),
        (Words("COMPLETED", result="ERROR"), True, Status.FAILED, "error"),
        (Words("COMPLETED", result="STOPPED"), True, Status.CANCELED, "stopped"),
        (Words("COMPLETED", result="EXPIRED"), True, Status.CANCELED, "expired"),
        (Words("COMPLETED", result="SOMETHING_NEW"), True, Status.UNKNOWN, "something_new"),
        (Words("COMPLETED"), True, Status.UNKNOWN, "completed"),
        (Words("IN_PROGRESS", "RUNNING"), False, Status.RUNNING, "in progress"),
        (Words("IN_PROGRESS", "BUILDING"), False, Status.RUNNING, "in progress"),
        (Words("PENDING"), False, Status.QUEUED, "pending"),
        (Words("PARSING"), False, Status.QUEUED, "parsing"),
        (Words("IN_PROGRESS", "PAUSED"), False, Status.QUEUED, "paused"),
        (Words("IN_PROGRESS", "HALTED"), False, Status.QUEUED, "halted"),
        (Words("PAUSED"), False, Status.QUEUED, "paused"),
        # Undocumented: waiting until completed_on says it is over, then unknown (never green).
        (Words("FROBNICATING"), False, Status.QUEUED, "frobnicating"),
        (Words("FROBNICATING"), True, Status.UNKNOWN, "frobnicating"),
        (Words(), False, Status.QUEUED, "unknown"),
        (Words(), True, Status.UNKNOWN, "unknown"),
    ],
)
def test_verdicts(words: Words, completed: bool, status: Status, word: str) -> None:
    found = verdict(words, completed)
    assert (found.status, found.word) == (status, word)


# --- steps ------------------------------------------------------------------------------------


def test_stage_names_the_running_steps() -> None:
    steps = parse_steps(load("steps-running.json"))
    assert [s.name for s in steps] == ["Build", "Unit tests", "Lint", "Deploy to staging"]
    assert stage_of(steps) == "Unit tests, Lint"


def test_stage_cuts_many_running_steps() -> None:
    data = {
        "values": [{"name": f"shard {i}", "state": {"name": "IN_PROGRESS"}} for i in range(1, 6)]
    }
    assert stage_of(parse_steps(data)) == "shard 1, shard 2, shard 3 +2 more"


def test_stage_of_a_paused_pipeline_is_the_manual_step() -> None:
    steps = parse_steps(load("steps-paused.json"))
    assert stage_of(steps) == "waiting for manual step Deploy to production"


def test_odd_steps_are_read_or_dropped_never_fatal() -> None:
    steps = parse_steps(load("steps-odd.json"))
    # "junk" is dropped; a state that is a string is no state.
    assert len(steps) == 4
    assert steps[3].state is None
    # An unnamed running step is "step 1"; the manual step is known by its trigger's name.
    assert stage_of(steps) == "step 1"
    assert parse.waits_for_a_person(steps[2:3]) == "Deploy"


def test_a_paused_pipeline_whose_steps_passed_and_wait_for_a_person_is_green() -> None:
    steps = parse_steps(load("steps-paused.json"))
    found = verdict(Words("IN_PROGRESS", "PAUSED"), False, steps)
    assert found.status is Status.PASSED
    assert found.word == "paused (waiting for manual step Deploy to production)"


def test_a_paused_pipeline_with_a_failed_step_or_no_manual_step_is_not_green() -> None:
    steps = parse_steps(load("steps-paused.json"))
    failed = steps[0].model_copy(
        update={"state": state(name="COMPLETED", result={"name": "FAILED"})}
    )
    found = verdict(Words("IN_PROGRESS", "PAUSED"), False, [failed, *steps[1:]])
    assert found.status is Status.QUEUED
    # Waiting for a deployment lock: the waiting step is automatic.
    automatic = steps[2].model_copy(update={"trigger": None})
    found = verdict(Words("IN_PROGRESS", "HALTED"), False, [steps[0], automatic])
    assert (found.status, found.word, found.stage) == (
        Status.QUEUED,
        "halted",
        "Deploy to production",
    )


# --- whole pipelines --------------------------------------------------------------------------


def test_documented_page_on_main() -> None:
    page = parse_pipelines(load("pipelines.json"))
    assert page.size == 7  # the paging the source reads: how many pipelines there are
    steps = parse_steps(load("steps-running.json"))
    running = "{8e0b7b3e-6a55-4f2c-9a35-2f1b1d0c9a01}"
    pipeline = to_pipeline(
        page.values,
        source="bitbucket",
        key=KEY,
        name="web-portal",
        branch="main",
        url="https://bitbucket.org/acme/web-portal/pipelines",
        steps={running: steps},
        page_url=lambda p: (
            f"https://bitbucket.org/acme/web-portal/pipelines/results/{p.build_number}"
        ),
    )
    assert pipeline is not None
    # The feature branch and the pull-request pipeline are not main's.
    assert [b.number for b in pipeline.in_flight] == [412]
    assert [b.number for b in pipeline.recent] == [411, 409]
    live = pipeline.in_flight[0]
    assert live.id == running
    assert live.status is Status.RUNNING
    assert live.stage == "Unit tests, Lint"
    assert live.author == "Grace Kim"
    assert live.commit == "4f2a9c1e7b3d5a8f0c6e2b9d1a7f3c5e8b0d2a4c"
    assert live.message is None  # the list does not expand the commit
    assert live.started_at == datetime(2026, 12, 6, 8, 59, 40, tzinfo=UTC)
    assert live.finished_at is None
    assert live.url == "https://bitbucket.org/acme/web-portal/pipelines/results/412"
    rerun = pipeline.recent[0]
    assert (rerun.status, rerun.attempt, rerun.provider_status) == (
        Status.PASSED,
        2,
        "successful",
    )
    assert rerun.message == "Retry S3 uploads on 503"
    assert rerun.url == "https://bitbucket.org/acme/web-portal/pipelines/results/411"
    # started = completed - duration_in_seconds: the run's own time, not the queue before it.
    assert rerun.duration_seconds == 205
    nightly = pipeline.recent[1]
    assert nightly.status is Status.FAILED
    assert nightly.provider_status == (
        "error: There is an error in your bitbucket-pipelines.yml at [pipelines > custom]., "
        "scheduled"
    )
    assert pipeline.status is Status.PASSED


def test_every_documented_state_on_main() -> None:
    found = {
        p.build_number: to_build(p, source="bitbucket", key=KEY)
        for p in pipelines("pipelines-states.json")
    }
    statuses = {n: (b.status, b.provider_status) for n, b in found.items() if b is not None}
    assert statuses == {
        7: (Status.QUEUED, "pending"),
        6: (Status.QUEUED, "paused"),
        5: (Status.QUEUED, "halted"),
        4: (Status.CANCELED, "stopped"),
        3: (Status.CANCELED, "expired"),
        2: (Status.FAILED, "failed"),
        1: (Status.QUEUED, "parsing"),
    }
    assert found[6] is not None and found[6].stage == "paused"


def test_which_pipelines_need_their_steps() -> None:
    wanted = {n for n, p in by_number("pipelines-states.json").items() if needs_steps(p)}
    # Pending, paused, halted, parsing: in flight or paused; never the completed ones.
    assert wanted == {7, 6, 5, 1}


def test_odd_answers_survive() -> None:
    page = parse_pipelines(load("pipelines-odd.json"))
    assert page.size is None
    values = page.values
    assert len(values) == 9  # the string and the null are dropped
    pipeline = to_pipeline(values, source="bitbucket", key=KEY, name="web-portal", branch="main")
    assert pipeline is not None
    builds = {b.number: b for b in (*pipeline.recent, *pipeline.in_flight)}
    # 9 twice (by uuid): the first one is kept; the tag pipeline (3) is not the branch's;
    # the one without uuid or number cannot be told apart from any other.
    assert set(builds) == {9, 8, 7, 6, 5, 4}
    nine = builds[9]
    assert (nine.status, nine.attempt, nine.author) == (Status.PASSED, 1, None)
    assert nine.message == "Tidy up"
    assert nine.created_at == datetime(2026, 12, 6, 8, 0, 0, 123456, tzinfo=UTC)
    # completed - duration_in_seconds falls before created_on: never earlier than created.
    assert nine.duration_seconds == pytest.approx(240 - 0.123456)
    assert nine.url is None  # links.html was a string
    eight = builds[8]
    assert (eight.status, eight.author) == (Status.FAILED, "mallory")
    # "yesterday" and an epoch number are no times; a javascript: link is no link.
    assert (eight.created_at, eight.finished_at, eight.url) == (None, None, None)
    assert (builds[7].status, builds[7].provider_status) == (Status.UNKNOWN, "frobnicating")
    assert (builds[6].status, builds[6].provider_status) == (
        Status.QUEUED,
        "queued_somewhere_new",
    )
    # Year 1 is a sentinel, not a time.
    assert (builds[5].status, builds[5].created_at) == (Status.RUNNING, None)
    assert builds[4].status is Status.QUEUED
    assert pipeline.status is Status.PASSED


@pytest.mark.parametrize(
    "data", [[], "<html>502</html>", None, 3, {}, {"values": "not a list"}, {"values": None}]
)
def test_an_answer_that_is_no_page_is_a_bad_payload(data: Any) -> None:
    with pytest.raises(BadPayload):
        parse_pipelines(data)


def test_no_pipeline_on_the_branch_is_none() -> None:
    values = pipelines("pipelines.json")
    assert to_pipeline(values, source="b", key=KEY, name="x", branch="develop") is None


def test_a_manual_rerun_counts_as_a_retry_and_says_who_started_it() -> None:
    data = load("pipelines.json")["values"][1]
    data = {
        **data,
        "run_number": 3,
        "trigger": {"name": "MANUAL", "type": "pipeline_trigger_manual"},
    }
    build = to_build(PipelinePayload.model_validate(data), source="b", key=KEY)
    assert build is not None
    assert build.attempt == 3
    assert build.provider_status == "successful, started by hand"


def test_a_rerun_in_flight_keeps_the_run_before_it_as_mains_last_word() -> None:
    data = load("pipelines.json")["values"][1]
    failed = {
        **data,
        "run_number": 1,
        "state": {"name": "COMPLETED", "result": {"name": "FAILED"}},
    }
    rerun = {
        **data,
        "run_number": 2,
        "completed_on": None,
        "state": {"name": "IN_PROGRESS", "stage": {"name": "RUNNING"}},
    }
    before = to_pipeline(
        [PipelinePayload.model_validate(failed)], source="b", key=KEY, name="x", branch="main"
    )
    assert before is not None and before.status is Status.FAILED
    earlier = {b.id: b for b in before.recent}
    during = to_pipeline(
        [PipelinePayload.model_validate(rerun)],
        source="b",
        key=KEY,
        name="x",
        branch="main",
        earlier=earlier,
    )
    assert during is not None
    assert [(b.attempt, b.status) for b in during.in_flight] == [(2, Status.RUNNING)]
    assert [(b.attempt, b.status) for b in during.recent] == [(1, Status.FAILED)]
    # A run that is no re-run (same attempt) does not bring the old one back.
    same = {**rerun, "run_number": 1}
    again = to_pipeline(
        [PipelinePayload.model_validate(same)],
        source="b",
        key=KEY,
        name="x",
        branch="main",
        earlier=earlier,
    )
    assert again is not None and again.recent == ()


@pytest.mark.parametrize(
    ("raw", "number"),
    [(12, 12), ("12", 12), (12.0, 12), (12.5, None), (-3, None), (2**70, None), (True, None)],
)
def test_numbers_beyond_belief_are_no_numbers(raw: Any, number: int | None) -> None:
    payload = PipelinePayload.model_validate({"build_number": raw, "run_number": raw})
    assert (payload.build_number, payload.run_number) == (number, number)
