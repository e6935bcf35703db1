"""Stage times as each provider gives them: the shared reading (``sources.stages``) against odd
payloads, each provider's parser, and GitHub reading a finished run's jobs once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from buildradiator.clock import FakeClock
from buildradiator.model import StageTime
from buildradiator.sources import stages as stages_mod
from buildradiator.sources.azure.parse import timeline_facts
from buildradiator.sources.azure.payloads import TimelinePayload
from buildradiator.sources.buildkite.builds import stages_of as buildkite_stages
from buildradiator.sources.buildkite.payloads import JobPayload as BuildkiteJob
from buildradiator.sources.circleci.builds import stages_of as circleci_stages
from buildradiator.sources.circleci.payloads import Job as CircleJob
from buildradiator.sources.github.config import GitHubSource
from buildradiator.sources.github.payloads import JobPayload as GitHubJob
from buildradiator.sources.github.runs import stages_of as github_stages
from buildradiator.sources.github.source import GitHubActions
from buildradiator.sources.gitlab.builds import stages_of as gitlab_stages
from buildradiator.sources.gitlab.payloads import Job as GitLabJob
from buildradiator.sources.http import HttpClient
from buildradiator.sources.stages import MAX_STAGES, StageMemo, stage_times

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def named(stages: tuple[StageTime, ...]) -> list[tuple[str, float]]:
    return [(s.name, s.seconds) for s in stages]


# --- the shared reading -----------------------------------------------------------------------


def test_parallel_jobs_make_one_stage_from_first_start_to_last_end_in_start_order() -> None:
    got = stage_times(
        [
            ("test", at(3), at(10)),
            ("build", at(0), at(3)),
            ("test", at(4), at(12)),  # in parallel with the first test job
            ("deploy", at(12), at(13)),
        ]
    )
    assert named(got) == [("build", 180.0), ("test", 540.0), ("deploy", 60.0)]


@pytest.mark.parametrize(
    "span",
    [
        (None, at(0), at(1)),  # no name
        (42, at(0), at(1)),  # a name that is not text
        ("  ", at(0), at(1)),  # a blank name
        ("lint", None, at(1)),  # never started (skipped)
        ("lint", at(0), None),  # never finished
        ("lint", "yesterday", at(1)),  # garbage time
        ("lint", 1764150000, at(1)),  # a number, not a time
        ("lint", at(5), at(1)),  # ends before it starts
        ("lint", "0001-01-01T00:00:00", at(1)),  # Azure's "never"
        ("lint", T0.replace(tzinfo=None), T0.replace(tzinfo=None)),  # naive datetimes
        ("lint", at(0), at(60 * 24 * 40)),  # longer than a month: no build
    ],
)
def test_a_job_without_a_believable_time_is_left_out(span: tuple[object, object, object]) -> None:
    assert stage_times([span, ("build", at(0), at(2))]) == (StageTime(name="build", seconds=120),)


def test_names_are_scrubbed_and_stages_are_capped() -> None:
    got = stage_times([("\x1b[31mred\x1b[0m", at(0), at(1))])
    assert got[0].name == "red"
    many = stage_times((f"shard {i}", at(0), at(1)) for i in range(MAX_STAGES + 10))
    assert len(many) == MAX_STAGES


def test_the_model_refuses_a_negative_stage_time() -> None:
    with pytest.raises(ValidationError):
        StageTime(name="test", seconds=-1)


def test_the_memo_remembers_and_forgets_the_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stages_mod, "KEPT", 2)
    memo = StageMemo()
    one = (StageTime(name="a", seconds=1),)
    assert memo.known(1) is None and memo.keep(1, one) == one and memo.known(1) == one
    memo.keep(2, ())
    memo.keep(3, ())
    assert memo.known(1) is None and memo.known(2) == ()


# --- each provider ----------------------------------------------------------------------------


def test_gitlab_stages_from_the_latest_jobs() -> None:
    jobs = [
        GitLabJob(id=1, name="compile", stage="build", started_at=at(0), finished_at=at(3)),
        GitLabJob(id=2, name="rspec", stage="test", started_at=at(3), finished_at=at(5)),
        GitLabJob(id=3, name="rspec", stage="test", started_at=at(20), finished_at=at(29)),
        GitLabJob(id=4, name="jest", stage="test", started_at=at(21), finished_at=at(27)),
        GitLabJob(id=5, name="prod", stage="deploy", started_at=None, finished_at=None),  # manual
        GitLabJob(id=6, name="orphan", stage=None, started_at=at(29), finished_at=at(30)),
    ]
    # The retried rspec (id 2) is not the stage's time; the manual deploy never ran.
    assert named(gitlab_stages(jobs)) == [("build", 180), ("test", 540), ("orphan", 60)]


def test_gitlab_garbage_times_are_null_not_a_failed_parse() -> None:
    job = GitLabJob.model_validate({"id": 1, "name": "x", "stage": "t", "started_at": 17})
    assert gitlab_stages([job]) == ()


def test_buildkite_groups_steps_and_skips_retried_and_waiters() -> None:
    jobs = [
        BuildkiteJob(type="script", name="Build", started_at=at(0), finished_at=at(2)),
        BuildkiteJob(type="waiter"),
        BuildkiteJob(
            type="script",
            name="rspec",
            group_key="tests",
            started_at=at(2),
            finished_at=at(5),
            retried=True,
        ),
        BuildkiteJob(
            type="script", name="rspec", group_key="tests", started_at=at(6), finished_at=at(10)
        ),
        BuildkiteJob(
            type="script", name="jest", group_key="tests", started_at=at(2), finished_at=at(9)
        ),
        BuildkiteJob(type="manual", name="Release?"),
    ]
    assert named(buildkite_stages(jobs)) == [("Build", 120), ("tests", 480)]


def test_buildkite_odd_job_fields_cost_only_the_stage() -> None:
    job = BuildkiteJob.model_validate(
        {"type": "script", "name": ["x"], "started_at": {}, "finished_at": at(1)}
    )
    assert buildkite_stages([job]) == ()


def test_azure_stage_records_and_jobs_outside_a_stage() -> None:
    timeline = TimelinePayload.model_validate(
        {
            "records": [
                {"id": "s1", "type": "Stage", "name": "Build", "order": 1},
                {"id": "p1", "parentId": "s1", "type": "Phase", "order": 1},
                {"id": "j1", "parentId": "p1", "type": "Job", "name": "compile", "order": 1,
                 "startTime": at(0), "finishTime": at(4), "state": "completed"},
                {"id": "s2", "type": "Stage", "name": "Test", "order": 2},
                {"id": "p2", "parentId": "s2", "type": "Phase", "order": 1},
                {"id": "j2", "parentId": "p2", "type": "Job", "name": "unit", "order": 1,
                 "startTime": at(5), "finishTime": at(15), "state": "completed"},
                {"id": "j3", "parentId": "p2", "type": "Job", "name": "ui", "order": 2,
                 "startTime": "0001-01-01T00:00:00", "finishTime": None, "state": "pending"},
                {"id": "s3", "type": "Stage", "name": "__default", "order": 3},
                {"id": "j4", "parentId": "s3", "type": "Job", "name": "publish", "order": 1,
                 "startTime": at(15), "finishTime": at(16), "state": "completed"},
            ]
        }
    )  # fmt: skip
    assert named(timeline_facts(timeline).stages) == [
        ("Build", 240),
        ("Test", 600),
        ("publish", 60),
    ]


def test_github_matrix_jobs_are_one_stage() -> None:
    jobs = [
        GitHubJob(name="lint", started_at=at(0), completed_at=at(1)),
        GitHubJob(name="test (ubuntu, 3.11)", started_at=at(1), completed_at=at(8)),
        GitHubJob(name="test (ubuntu, 3.12)", started_at=at(1), completed_at=at(10)),
        GitHubJob(name="(weird)", started_at=at(10), completed_at=at(11)),
        GitHubJob(name="deploy", started_at=None, completed_at=None),  # never ran
        GitHubJob(name="docs", conclusion="skipped", started_at=at(11), completed_at=at(11)),
    ]
    assert named(github_stages(jobs)) == [("lint", 60), ("test", 540), ("(weird)", 60)]


def test_circleci_jobs_are_stages_and_an_approval_has_none() -> None:
    jobs = [
        CircleJob(name="build", started_at=at(0), stopped_at=at(3)),
        CircleJob(name="hold", type="approval", started_at=None, stopped_at=None),
        CircleJob(name="test", started_at=at(3), stopped_at=at(12)),
    ]
    assert named(circleci_stages(jobs)) == [("build", 180), ("test", 540)]


# --- GitHub: a finished run's jobs, read once -------------------------------------------------

RUNS = "/repos/acme/widget/actions/runs"


def run(run_id: int, status: str = "completed") -> dict[str, Any]:
    return {
        "id": run_id, "name": "CI", "workflow_id": 7, "head_branch": "main", "run_number": run_id,
        "run_attempt": 1, "status": status, "conclusion": "success" if status == "completed" else None,
        "created_at": at(0), "updated_at": at(12), "run_started_at": at(0),
        "html_url": f"https://github.com/acme/widget/actions/runs/{run_id}",
    }  # fmt: skip


JOBS = {
    "total_count": 2,
    "jobs": [
        {"id": 1, "name": "build", "status": "completed", "conclusion": "success",
         "started_at": at(0), "completed_at": at(3)},
        {"id": 2, "name": "test", "status": "completed", "conclusion": "success",
         "started_at": at(3), "completed_at": at(12)},
    ],
}  # fmt: skip


class Fake:
    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = [run(11), run(10)]
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path == RUNS:
            body: Any = {"total_count": len(self.runs), "workflow_runs": self.runs}
        elif request.url.path.endswith("/jobs"):
            body = JOBS
        else:
            return httpx.Response(404, json={"message": "Not Found"})
        return httpx.Response(200, content=json.dumps(body).encode(),
                              headers={"content-type": "application/json"})  # fmt: skip


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture
async def http(fake: Fake, clock: FakeClock) -> AsyncIterator[HttpClient]:
    client = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(fake)), clock=clock)
    yield client
    await client.aclose()


def source(http: HttpClient, **fields: Any) -> GitHubActions:
    config = {"type": "github", "name": "gh", "repo": "acme/widget", "token_env": "GH",
              "token": SecretStr("ghp_x"), "batch": "rest", **fields}  # fmt: skip
    return GitHubActions(GitHubSource.model_validate(config), http)


async def test_github_reads_the_newest_finished_runs_jobs_once(
    fake: Fake, http: HttpClient
) -> None:
    gh = source(http, stage_times=True)
    (pipeline,) = (await gh.poll()).pipelines
    newest, older = pipeline.recent
    assert named(newest.stages) == [("build", 180), ("test", 540)] and older.stages == ()
    assert fake.paths.count(f"{RUNS}/11/jobs") == 1 and f"{RUNS}/10/jobs" not in fake.paths
    (pipeline,) = (await gh.poll()).pipelines
    assert pipeline.recent[0].stages == newest.stages
    assert fake.paths.count(f"{RUNS}/11/jobs") == 1  # remembered: never every poll
    fake.runs = [run(12), run(11), run(10)]
    (pipeline,) = (await gh.poll()).pipelines
    assert fake.paths.count(f"{RUNS}/12/jobs") == 1 and pipeline.recent[0].stages


async def test_github_without_stage_times_reads_no_jobs_of_finished_runs(
    fake: Fake, http: HttpClient
) -> None:
    (pipeline,) = (await source(http).poll()).pipelines
    assert not any(p.endswith("/jobs") for p in fake.paths)
    assert all(b.stages == () for b in pipeline.recent)
