"""The engine with a fake clock: scheduling, backoff, Retry-After, staleness, publishing."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import timedelta

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.clock import FakeClock
from buildradiator.engine import engine as engine_mod
from buildradiator.engine.slots import content
from buildradiator.errors import RateLimited, SourceError, Unreachable
from buildradiator.history.facts import HistoryFacts
from buildradiator.model import Build, Pipeline, Snapshot, SourceResult, Status
from buildradiator.sources.base import Source
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient
from engine_helpers import CONFIG, pipeline, source


async def test_success_schedules_interval_with_jitter(make_engine, clock) -> None:
    eng = make_engine()
    await eng.poll_source("one")
    delay = eng.slots["one"].next_due - clock.monotonic()
    assert 27 <= delay <= 33
    await eng.aclose()


async def test_polls_faster_while_builds_are_in_flight(make_engine, clock) -> None:
    eng = make_engine()
    source(eng, "one").script = [
        SourceResult(pipelines=(pipeline("one", Status.PASSED, running=True),))
    ]
    await eng.poll_source("one")
    delay = eng.slots["one"].next_due - clock.monotonic()
    assert 9 <= delay <= 11
    await eng.aclose()


async def test_errors_back_off_exponentially_and_reset_on_success(make_engine, clock) -> None:
    eng = make_engine()
    src = source(eng, "one")
    src.script = [Unreachable("down")] * 4 + [SourceResult()]
    delays = []
    for _ in range(4):
        await eng.poll_source("one")
        delays.append(eng.slots["one"].next_due - clock.monotonic())
    assert (
        delays[1] > delays[0] * 1.5 and delays[2] > delays[1] * 1.5 and delays[3] > delays[2] * 1.5
    )
    await eng.poll_source("one")
    assert eng.slots["one"].failures == 0
    assert 27 <= eng.slots["one"].next_due - clock.monotonic() <= 33
    await eng.aclose()


async def test_retry_after_is_honoured(make_engine, clock) -> None:
    eng = make_engine()
    source(eng, "one").script = [
        RateLimited("slow down", retry_at=clock.now() + timedelta(seconds=300))
    ]
    await eng.poll_source("one")
    delay = eng.slots["one"].next_due - clock.monotonic()
    assert 300 <= delay <= 306
    # 'r' does not override a rate limit.
    eng.poll_now()
    assert eng.slots["one"].next_due - clock.monotonic() >= 300
    await eng.aclose()


async def test_rate_limit_without_retry_time_waits_a_minute_then_doubles(make_engine, clock):
    eng = make_engine()
    source(eng, "one").script = [RateLimited("slow down")]
    await eng.poll_source("one")
    first = eng.slots["one"].next_due - clock.monotonic()
    await eng.poll_source("one")
    second = eng.slots["one"].next_due - clock.monotonic()
    assert 54 <= first <= 66 and 108 <= second <= 132
    await eng.aclose()


async def test_failure_keeps_last_good_data_marked_stale(make_engine, clock) -> None:
    eng = make_engine()
    good = SourceResult(pipelines=(pipeline("one", Status.PASSED),))
    source(eng, "one").script = [good, Unreachable("cannot reach one.example: connection refused")]
    await eng.poll_source("one")
    snap = eng.snapshot()
    # ("two" is not polled in this test: it waits for its first data, which is not fresh.)
    assert "one" not in snap.stale_sources
    clock.advance(30)
    await eng.poll_source("one")
    snap = eng.snapshot()
    assert [p.name for p in snap.pipelines] == ["one-p"]
    assert snap.stale_sources == {"one", "two"}
    state = snap.source_state("one")
    assert state is not None and state.stale and "connection refused" in (state.error or "")
    assert state.last_success == clock.now() - timedelta(seconds=30)
    await eng.aclose()


async def test_old_data_goes_stale_without_any_error(make_engine, clock) -> None:
    eng = make_engine()
    await eng.poll_source("one")
    clock.advance(3 * 30 + 59)
    assert not eng.snapshot().source_state("one").stale  # type: ignore[union-attr]
    clock.advance(2)
    assert eng.snapshot().source_state("one").stale  # type: ignore[union-attr]
    await eng.aclose()


async def test_one_failing_source_does_not_touch_the_other(make_engine, clock) -> None:
    eng = make_engine()
    source(eng, "one").script = [SourceError("boom")]
    source(eng, "two").script = [SourceResult(pipelines=(pipeline("two", Status.FAILED),))]
    snap = await eng.poll_all()
    assert snap.source_state("one").error == "boom"  # type: ignore[union-attr]
    assert snap.source_state("two").error is None  # type: ignore[union-attr]
    assert [w.name for w in snap.broken] == ["two-p"]
    await eng.aclose()


async def test_a_crashing_source_becomes_its_error(make_engine, clock) -> None:
    eng = make_engine()
    source(eng, "one").script = [RuntimeError("bug")]
    snap = await eng.poll_all()
    assert "internal error" in (snap.source_state("one").error or "")  # type: ignore[union-attr]
    await eng.aclose()


async def test_run_polls_on_schedule_and_publishes_changes(make_engine, clock) -> None:
    eng = make_engine()
    published: list[Snapshot] = []
    start = clock.now()
    task = asyncio.create_task(eng.run(published.append))
    while clock.now() - start < timedelta(seconds=300):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # A 30 s interval with +-10% jitter over 300 fake seconds: about ten polls per source.
    assert 9 <= source(eng, "one").calls <= 12
    assert 9 <= source(eng, "two").calls <= 12
    # Every publish carries something new (here: freshness), none is a duplicate.
    contents = [content(s) for s in published]
    assert all(a != b for a, b in itertools.pairwise(contents))
    await eng.aclose()


async def test_run_publishes_nothing_when_nothing_changes(make_engine, clock) -> None:
    eng = make_engine()
    eng.slots.pop("two")
    published: list[Snapshot] = []
    await eng.poll_source("one")
    eng._publish_if_changed(published.append)
    eng._publish_if_changed(published.append)
    assert len(published) == 1
    source(eng, "one").script = [SourceResult(pipelines=(pipeline("one", Status.FAILED),))]
    await eng.poll_source("one")
    eng._publish_if_changed(published.append)
    assert len(published) == 2 and published[-1].broken
    await eng.aclose()


async def test_poll_now_wakes_the_loop(make_engine, clock, monkeypatch) -> None:
    eng = make_engine()
    waits: list[float] = []
    real_sleep = clock.sleep

    async def slow_sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(3600)  # never wakes by itself

    monkeypatch.setattr(clock, "sleep", slow_sleep)
    task = asyncio.create_task(eng.run(lambda s: None))
    for _ in range(20):
        await asyncio.sleep(0)
    calls = source(eng, "one").calls
    eng.poll_now()
    for _ in range(20):
        await asyncio.sleep(0)
    assert source(eng, "one").calls == calls + 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.setattr(clock, "sleep", real_sleep)
    await eng.aclose()


async def test_low_quota_stretches_the_interval(make_engine, clock) -> None:
    eng = make_engine()
    budget = eng.http.budget("http://one.example/health")
    from buildradiator.model import RateInfo

    budget.rate = RateInfo(limit=5000, remaining=10, reset_at=clock.now() + timedelta(hours=1))
    await eng.poll_source("one")
    delay = eng.slots["one"].next_due - clock.monotonic()
    assert delay >= 3600 / 10 * 0.9
    await eng.aclose()


async def test_service_down_since_is_remembered(make_engine, clock) -> None:
    from buildradiator.model import Health, ServiceCheck

    eng = make_engine()
    down = ServiceCheck(
        source="one", name="payments", health=Health.DOWN, http_status=500, checked_at=clock.now()
    )
    source(eng, "one").script = [SourceResult(services=(down,))]
    await eng.poll_source("one")
    started = clock.now()
    clock.advance(60)
    source(eng, "one").script = [
        SourceResult(services=(down.model_copy(update={"checked_at": clock.now()}),))
    ]
    source(eng, "one").calls = 0
    await eng.poll_source("one")
    snap = eng.snapshot()
    assert snap.broken[0].kind == "service" and snap.broken[0].since == started
    await eng.aclose()


async def test_green_since_follows_recovery(make_engine, clock) -> None:
    eng = make_engine()
    source(eng, "one").script = [
        SourceResult(pipelines=(pipeline("one", Status.FAILED),)),
        SourceResult(pipelines=(pipeline("one", Status.PASSED),)),
    ]
    source(eng, "two").script = [SourceResult()] * 2
    await eng.poll_source("one")
    assert eng.snapshot().broken
    clock.advance(30)
    await eng.poll_source("one")
    await eng.poll_source("two")  # green since: only once every source is current
    snap = eng.snapshot()
    assert not snap.broken and snap.green_since == clock.now()
    await eng.aclose()


async def test_tls_verification_is_off_only_where_asked(make_engine) -> None:
    eng = make_engine(
        CONFIG.replace(
            'url = "http://two.example/health"',
            'url = "http://two.example/health"\nverify_tls = false',
        )
    )
    one, two = source(eng, "one"), source(eng, "two")
    assert one.http is eng.http and two.http is eng.http.unverified()
    await eng.aclose()


async def test_display_names_and_groups_are_applied(make_engine) -> None:
    text = CONFIG.replace(
        'url = "http://one.example/health"',
        'url = "http://one.example/health"\nnames = { p = "Pretty" }',
    )
    text += '\n[[groups]]\nname = "Team"\npipelines = ["one:*"]\n'
    eng = make_engine(text)
    source(eng, "one").script = [SourceResult(pipelines=(pipeline("one", Status.PASSED),))]
    [p] = (await eng.poll_all()).pipelines
    assert p.name == "Pretty" and p.key == "p" and p.group == "Team"
    await eng.aclose()


async def test_privacy_drops_authors(make_engine) -> None:
    eng = make_engine(CONFIG.replace("interval = 30", "interval = 30\nprivacy = true"))
    build = Build(source="one", pipeline="p", id="1", status=Status.FAILED, author="Mallory")
    source(eng, "one").script = [
        SourceResult(pipelines=(Pipeline(source="one", key="p", name="p", recent=(build,)),))
    ]
    snap = await eng.poll_all()
    assert snap.pipelines[0].recent[0].author is None
    assert snap.broken[0].author is None
    await eng.aclose()


def timed(
    i: int,
    status: Status,
    clock: FakeClock,
    *,
    author: str = "a",
    attempt: int = 1,
    commit: str | None = None,
    minutes: float = 5,
) -> Build:
    """Build number i, finished i hours ago."""
    end = clock.now() - timedelta(hours=i)
    return Build(
        source="one",
        pipeline="p",
        id=str(100 - i),
        number=100 - i,
        attempt=attempt,
        status=status,
        started_at=end - timedelta(minutes=minutes),
        finished_at=end,
        commit=commit or f"sha{i}",
        author=author,
        message=f"change {i}",
    )


async def test_history_keeps_red_since_across_restarts(make_engine, clock, tmp_path) -> None:
    from buildradiator.history import History

    path = tmp_path / "history.sqlite3"
    full = (
        timed(1, Status.FAILED, clock),
        timed(2, Status.FAILED, clock),
        timed(3, Status.FAILED, clock, author="Mallory"),
        timed(4, Status.PASSED, clock),
    )
    eng = make_engine()
    eng.recorder = HistoryFacts(History.open(path, clock=clock))
    source(eng, "one").script = [
        SourceResult(pipelines=(Pipeline(source="one", key="p", name="p", recent=full),))
    ]
    await eng.poll_source("one")
    await eng.aclose()
    eng.recorder.history.close()

    # After a restart the API shows only the newest failure: history still knows the rest.
    clock.advance(600)
    eng = make_engine()
    eng.recorder = HistoryFacts(History.open(path, clock=clock))
    running = Build(source="one", pipeline="p", id="101", status=Status.RUNNING)
    source(eng, "one").script = [
        SourceResult(
            pipelines=(
                Pipeline(source="one", key="p", name="p", recent=full[:1], in_flight=(running,)),
            )
        )
    ]
    await eng.poll_source("one")
    snap = eng.snapshot()
    [window] = snap.broken
    assert window.author == "Mallory" and window.streak == 3
    assert window.since == full[2].finished_at
    assert window.last_green_commit == "sha4" and window.newest_commit == "sha1"
    facts = snap.facts_of("one", "p")
    assert facts is not None and facts.strip[:4] == (Status.FAILED,) * 3 + (Status.PASSED,)
    # The running build's estimate is the median of the successful builds history holds.
    assert snap.pipelines[0].in_flight[0].estimated_seconds == 300
    await eng.aclose()
    eng.recorder.history.close()


async def test_history_facts_are_cached_until_the_store_changes(make_engine, clock) -> None:
    from buildradiator.history import History

    eng = make_engine()
    eng.recorder = HistoryFacts(History.memory(clock=clock))
    retried = (
        timed(1, Status.PASSED, clock, attempt=2, commit="x"),
        timed(2, Status.FAILED, clock, commit="x"),
        timed(3, Status.PASSED, clock),
    )
    source(eng, "one").script = [
        SourceResult(pipelines=(Pipeline(source="one", key="p", name="p", recent=retried),))
    ]
    await eng.poll_source("one")
    first = eng.snapshot()
    facts = first.facts_of("one", "p")
    assert facts is not None and facts.retried_7d == 1 and facts.green_7d == 2
    calls = 0
    real = eng.recorder._compute

    def counting(keys):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(keys)

    eng.recorder._compute = counting  # type: ignore[method-assign]
    eng.snapshot()
    await eng.poll_source("one")  # the same builds again: nothing new recorded
    eng.snapshot()
    assert calls == 0
    await eng.aclose()


async def test_test_runs_reach_the_flaky_ranking(make_engine, clock) -> None:
    from buildradiator.history import History
    from buildradiator.model import TestResult, TestRun, TestStatus

    eng = make_engine()
    eng.recorder = HistoryFacts(History.memory(clock=clock))
    first, retry = (
        timed(2, Status.FAILED, clock, commit="c1"),
        timed(1, Status.PASSED, clock, commit="c1", attempt=2),
    )
    retry = retry.model_copy(update={"id": first.id})

    def run(build: Build, status: TestStatus) -> TestRun:
        return TestRun(
            source="one",
            pipeline="p",
            build_id=build.id,
            attempt=build.attempt,
            commit="c1",
            finished_at=build.finished_at,
            results=(
                TestResult("testRedirect", "LoginTest", status),
                TestResult("testOk", "LoginTest", TestStatus.PASSED),
            ),
        )

    source(eng, "one").script = [
        SourceResult(
            pipelines=(Pipeline(source="one", key="p", name="p", recent=(retry, first)),),
            test_runs=(run(first, TestStatus.FAILED), run(retry, TestStatus.PASSED)),
        )
    ]
    await eng.poll_source("one")
    [flaky] = eng.snapshot().flaky_tests
    assert (flaky.classname, flaky.name) == ("LoginTest", "testRedirect")
    assert flaky.times_flaked == 1 and flaky.pipelines == ("one:p",)
    await eng.aclose()


async def test_quota_spreading_weighs_what_each_poll_costs(monkeypatch, clock) -> None:
    """A source watching ten repositories spends ten requests a poll: the spread must count
    them all, or the host's quota runs out before its reset."""
    from buildradiator.sources.http import GITHUB_RATE

    reset = int(clock.now().timestamp()) + 3600

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={},
            headers={
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "600",
                "x-ratelimit-reset": str(reset),
            },
        )

    class TenRepos(Source):  # type: ignore[type-arg]
        type = "tenrepos"
        rate_headers = GITHUB_RATE

        async def poll(self) -> SourceResult:
            for i in range(10):
                await self.http.get(f"https://api.github.com/repo{i}", rate_headers=GITHUB_RATE)
            return SourceResult()

    monkeypatch.setattr(engine_mod, "make_source", lambda c, h: TenRepos(c, h))
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock)
    text = CONFIG.replace("http://one.example/health", "https://api.github.com/one").replace(
        "http://two.example/health", "https://api.github.com/two"
    )
    eng = build_engine(parse_config(text), http=http, clock=clock, rng=random.Random(1))
    for _ in range(3):  # the cost is a moving average: let it settle
        await eng.poll_source("one")
        await eng.poll_source("two")
    delay = eng.slots["one"].next_due - clock.monotonic()
    # Two sources of ~10 requests each share 600 requests over 3600 s: >= 3600 * 20 / 600 s.
    assert delay >= 0.9 * 3600 * 2 * 8.75 / 600
    await eng.aclose()


async def test_cancelling_run_cancels_the_polls_in_flight(make_engine, caplog) -> None:
    eng = make_engine()
    started = asyncio.Event()
    cancelled = []

    async def hang() -> SourceResult:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return SourceResult()

    source(eng, "one").poll = hang  # type: ignore[method-assign]
    runner = asyncio.create_task(eng.run(lambda snapshot: None))
    await asyncio.wait_for(started.wait(), 5)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert cancelled == [True]
    assert "crashed" not in caplog.text
