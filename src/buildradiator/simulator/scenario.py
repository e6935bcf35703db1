"""The demo's script: what every simulated CI, feed and service says at each moment.

Pure and deterministic: everything is a function of the loop number and of the time into the
loop, so a test pins a moment and knows exactly what the server answers, and a long-running demo
tells the same story every ``loop_seconds`` with new builds. Run ids and run numbers keep growing
with the loop number, so a new loop looks like new builds, never like time going backwards.

The script is written in *script seconds* (a 600 s loop, ``SCRIPT_SECONDS``); a shorter or longer
loop stretches it evenly. It tells one story at a time (``moments.py`` names the moments to look
at): act 1 (0-300) is the headline, act 2 (300-600) each CI provider's red main in turn, never
more than two broken windows at once. Every state worth showing stays visible for at least ~20
script seconds:

- ``acme/monolith``: green; Mallory's ``c0ffee0`` "Fix login flow" turns main red at ~38 (job
  ``integration``), Chen's commit is red too at ~89 (two in a row), Dana's revert is green at
  ~131. A run on a feature branch shows that the ``branch`` filter matters.
- ``acme/billing``: a run fails on attempt 1 (~148) and passes on attempt 2 (~207): green only
  after a retry. Then a green merge whose message is hostile text (Rich markup and an ANSI escape).
- ``acme/ledger``: every 100 s a build queues for 30 s, then runs build -> test -> deploy for 60 s.
- CCTray: ``platform/core-master`` builds from ~120 to ~180, the whole feed drops connections
  from 280 to 299 (``FEED_DROPS``), and in act 2 ``mobile-app`` fails from 390 to 430 (with
  ``<messages>``, ``MOBILE_APP``).
- Health: ``payments`` answers 500 from 217 to 262 (after its deploy, see ``prodstory``) and
  is slow while its fix rolls out; ``search`` is slow 440-500 (``SEARCH_SLOW``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Generic, Literal, TypeVar

from buildradiator.simulator import prodstory
from buildradiator.simulator.runs import (
    AttemptPlan,
    Commit,
    Person,
    Repo,
    RunPlan,
    RunState,
    attempt_plan,
    run_state,
)

SCRIPT_SECONDS = 600.0
RUN_ID_BASE = 11_000_000_000
HISTORY_RUNS = 20
RUNS_PER_LOOP = 10
"""Room per repository and loop in the run-number space (the script uses at most 6)."""
LEDGER_RUNS = 6
"""The ledger builds every 100 s of the loop."""

UNTRUSTED_MESSAGE = 'Merge "[bold red]x[/]" \x1b[31m'
"""A commit message that looks like Rich markup and carries an ANSI escape: shown literally."""
MALLORY_SHA_PREFIX = "c0ffee0"
SEARCH_SLOW = (440.0, 500.0)
"""``/health/search`` answers slowly (act 2, with the ``SearchLatencyHigh`` alert)."""
MOBILE_APP = (370.0, 390.0, 415.0, 430.0)
"""CCTray's ``mobile-app`` (act 2): builds, fails (Breakers: mallory), rebuilds, is green."""
FEED_DROPS = (280.0, 299.0)
"""The CCTray feed drops every connection (after the payments story, with nothing broken)."""

PaymentsState = Literal["pass", "warn", "fail"]


ALICE = Person("Alice Nguyen", "alice")
BOB = Person("Bob Okafor", "bob")
CHEN = Person("Chen Wei", "chen")
DANA = Person("Dana Smith", "dana")
ERIN = Person("Erin Walsh", "erin")
FARID = Person("Farid Haddad", "farid")
GRACE = Person("Grace Kim", "grace")
MALLORY = Person("Mallory", "mallory")
PEOPLE = (ALICE, BOB, CHEN, DANA, ERIN, FARID, GRACE)

MESSAGES = (
    "Add retry to payment webhook",
    "Refactor session store",
    "Bump dependencies",
    "Fix flaky clock test",
    "Improve error messages on checkout",
    "Add metrics for queue depth",
    "Update CI cache key",
    "Remove dead feature flag",
    "Speed up fixture setup",
    "Fix N+1 query in orders\n\nLoad line items in one query instead of one per order.",
    "Handle empty cart",
    "Tune connection pool size",
    "Document the release process",
    "Migrate invoices table to bigint ids",
)


MONOLITH = Repo(
    "acme/monolith", 0, 61_001, "CI", "ci.yml", ("build", "integration", "lint"), (240, 600), 4100
)
BILLING = Repo(
    "acme/billing", 1, 62_001, "CI", "ci.yml", ("build", "test", "package"), (240, 600), 700
)
# The ledger's past builds last about as long as its live ones (~90 s), so its ETA is right.
LEDGER = Repo(
    "acme/ledger",
    2,
    63_001,
    "Build and deploy",
    "deploy.yml",
    ("build", "test", "deploy"),
    (75, 110),
    2300,
)
REPOS = {repo.full_name: repo for repo in (MONOLITH, BILLING, LEDGER)}


def _unit(*key: object) -> float:
    """A deterministic number in [0, 1) for a key: the script's only source of variety."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _person(*key: object) -> Person:
    return PEOPLE[int(_unit(*key) * len(PEOPLE))]


def _message(*key: object) -> str:
    return MESSAGES[int(_unit(*key) * len(MESSAGES))]


def fake_sha(*key: object) -> str:
    """A commit SHA (40 hex digits) that is the same for the same ``key`` on every run."""
    return hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()


# -- CCTray and health -------------------------------------------------------------------------


@dataclass(frozen=True)
class CCProject:
    name: str
    activity: str
    last_build_status: str
    last_build_label: str
    last_build_time: datetime
    next_build_time: datetime | None = None
    messages: tuple[tuple[str, str], ...] = ()
    """``(kind, text)`` pairs, e.g. ``("Breakers", "mallory")``."""
    utc_offset_hours: int = 0
    """Feeds in the wild write local times with an offset; one project does so."""
    extra: tuple[tuple[str, str], ...] = ()
    """Attributes beyond the spec, which clients must tolerate."""


LOOPS_KEPT = 6
"""Past loops whose runs the simulated API still lists (more than any client pages through)."""


@dataclass(frozen=True)
class Moment:
    """One point of the demo: which loop, how far into it, and the wall-clock time it stands for."""

    loop: int
    t: float
    script_t: float
    now: datetime


class Scenario:
    """The script, anchored at ``start`` (the beginning of loop 0)."""

    def __init__(self, start: datetime, loop_seconds: float = SCRIPT_SECONDS) -> None:
        if loop_seconds <= 0:
            raise ValueError("loop_seconds must be positive")
        self.start = start if start.tzinfo else start.replace(tzinfo=UTC)
        self.loop_seconds = loop_seconds
        self.scale = loop_seconds / SCRIPT_SECONDS
        self._loops: dict[int, dict[str, tuple[RunPlan, ...]]] = {}
        self._settled: dict[tuple[str, int], tuple[RunState, ...]] = {}

    # -- time

    def moment(self, now: datetime, pinned: float | None = None) -> Moment:
        """Where ``now`` falls in the loop; ``pinned`` overrides the time into the current loop."""
        elapsed = max(0.0, (now - self.start).total_seconds())
        loop = int(elapsed // self.loop_seconds)
        t = elapsed - loop * self.loop_seconds if pinned is None else pinned % self.loop_seconds
        at = self.start + timedelta(seconds=loop * self.loop_seconds + t)
        return Moment(loop, t, t / self.scale, at)

    def at(self, loop: int, script_seconds: float) -> datetime:
        offset = loop * self.loop_seconds + script_seconds * self.scale
        return self.start + timedelta(seconds=offset)

    # -- GitHub

    def runs(self, repo: str, moment: Moment) -> list[RunState]:
        """Every run of ``repo`` that exists at ``moment``, newest first (all branches)."""
        info = REPOS[repo]
        states: list[RunState] = []
        # Only the last few loops: a demo left on a wall for a week must not answer with (and
        # keep in memory) every run since it started. The API pages anyway.
        first = max(-1, moment.loop - LOOPS_KEPT)
        for key in [k for k in self._settled if k[1] < first]:
            del self._settled[key]
        for old_loop in [k for k in self._loops if 0 <= k < first]:
            del self._loops[old_loop]
        for loop in range(first, moment.loop + 1):
            if loop < moment.loop:
                states.extend(self._settled_states(info, loop))
                continue
            for plan in self.plans(loop)[repo]:
                state = run_state(plan, moment.now)
                if state is not None:
                    states.append(state)
        states.sort(key=lambda s: (s.created_at, s.plan.id), reverse=True)
        return states

    def run(
        self, repo: str, run_id: int, moment: Moment, attempt: int | None = None
    ) -> RunState | None:
        offset = run_id - RUN_ID_BASE
        loop = offset // 1000 - 1
        if offset < 0 or loop > moment.loop or repo not in REPOS:
            return None
        for plan in self.plans(loop)[repo]:
            if plan.id == run_id:
                return run_state(plan, moment.now, attempt)
        return None

    def _settled_states(self, repo: Repo, loop: int) -> tuple[RunState, ...]:
        # A past loop's runs are all over, so their states never change again: compute once.
        key = (repo.full_name, loop)
        cached = self._settled.get(key)
        if cached is None:
            plans = self.plans(loop)[repo.full_name]
            end = self.at(loop + 1, 0)
            cached = tuple(s for p in plans if (s := run_state(p, end)) is not None)
            self._settled[key] = cached
        return cached

    def plans(self, loop: int) -> dict[str, tuple[RunPlan, ...]]:
        """Every run planned in ``loop`` per repository (loop -1 is the history before start)."""
        cached = self._loops.get(loop)
        if cached is None:
            if loop < 0:
                cached = {name: self._history(repo) for name, repo in REPOS.items()}
            else:
                cached = {
                    MONOLITH.full_name: self._monolith(loop),
                    BILLING.full_name: self._billing(loop),
                    LEDGER.full_name: self._ledger(loop),
                }
            self._loops[loop] = cached
        return cached

    def _plan(
        self,
        repo: Repo,
        loop: int,
        k: int,
        commit: Commit,
        attempts: list[AttemptPlan],
        branch: str = "main",
    ) -> RunPlan:
        run_id = RUN_ID_BASE + (loop + 1) * 1000 + repo.index * 100 + k
        if loop < 0:
            number = repo.number_base + k + 1
        else:
            number = repo.number_base + HISTORY_RUNS + loop * RUNS_PER_LOOP + k + 1
        return RunPlan(run_id, repo, number, branch, "push", commit, commit.author, tuple(attempts))

    def _run(
        self,
        repo: Repo,
        loop: int,
        k: int,
        commit: Commit,
        queue: float,
        *attempts: tuple[float, tuple[float, ...], str | None],
        branch: str = "main",
    ) -> RunPlan:
        """Run ``k`` of ``loop`` for ``commit``, by its author. Each attempt is (queued at, in
        script seconds; its jobs' seconds; the job that fails, or None), ``queue`` seconds in the
        queue (scaled, like the jobs)."""
        planned = [
            attempt_plan(
                number,
                self.at(loop, queued),
                queue * self.scale,
                self._jobs(repo, seconds, failing),
                commit.author,
            )
            for number, (queued, seconds, failing) in enumerate(attempts, 1)
        ]
        return self._plan(repo, loop, k, commit, planned, branch)

    def _commit(
        self, repo: Repo, loop: int, k: int, message: str, author: Person, pushed: datetime
    ) -> Commit:
        sha = fake_sha(repo.full_name, loop, k)
        written = pushed - timedelta(seconds=60 + 540 * _unit("commit", repo.index, loop, k))
        return Commit(sha, message, author, written.replace(microsecond=0))

    def _jobs(
        self, repo: Repo, seconds: tuple[float, ...], failing: str | None = None
    ) -> list[tuple[str, float, bool]]:
        return [
            (name, secs * self.scale, name != failing)
            for name, secs in zip(repo.jobs, seconds, strict=True)
        ]

    def _monolith(self, loop: int) -> tuple[RunPlan, ...]:
        repo, at = MONOLITH, self.at
        mallory = self._commit(repo, loop, 0, "Fix login flow", MALLORY, at(loop, 8))
        mallory = replace(mallory, sha=MALLORY_SHA_PREFIX + mallory.sha[7:])
        feature = self._commit(repo, loop, 1, "WIP: SSO login button", MALLORY, at(loop, 18))
        second = self._commit(repo, loop, 2, "Bump session timeout to 30 min", CHEN, at(loop, 55))
        revert = self._commit(
            repo,
            loop,
            3,
            'Revert login flow change\n\nThis reverts commit c0ffee0 ("Fix login flow").',
            DANA,
            at(loop, 95),
        )
        return (
            self._run(repo, loop, 0, mallory, 4, (8, (10, 16, 6), "integration")),
            self._run(
                repo, loop, 1, feature, 4, (18, (10, 20, 6), None), branch="feature/login-sso"
            ),
            self._run(repo, loop, 2, second, 4, (55, (12, 18, 6), "integration")),
            self._run(repo, loop, 3, revert, 4, (95, (12, 14, 6), None)),
        )

    def _billing(self, loop: int) -> tuple[RunPlan, ...]:
        repo, at = BILLING, self.at
        rounding = self._commit(repo, loop, 0, "Add invoice rounding", ERIN, at(loop, 105))
        merge = self._commit(repo, loop, 1, UNTRUSTED_MESSAGE, FARID, at(loop, 240))
        return (
            self._run(
                repo, loop, 0, rounding, 3, (105, (10, 30, 8), "test"), (162, (10, 24, 8), None)
            ),
            self._run(repo, loop, 1, merge, 3, (240, (10, 22, 8), None)),
        )

    def _ledger(self, loop: int) -> tuple[RunPlan, ...]:
        repo, at, d = LEDGER, self.at, self.scale
        plans = []
        for k in range(LEDGER_RUNS):
            queued = at(loop, 5 + 100 * k)
            author = _person("ledger", loop, k)
            message = _message("ledger", loop, k)
            commit = self._commit(repo, loop, k, message, author, queued)
            attempt = attempt_plan(1, queued, 30 * d, self._jobs(repo, (15, 30, 15)), author)
            plans.append(self._plan(repo, loop, k, commit, [attempt]))
        return tuple(plans)

    def _history(self, repo: Repo) -> tuple[RunPlan, ...]:
        """``HISTORY_RUNS`` finished runs before loop 0, newest last, ending before ``start``."""
        failures = {"acme/monolith": {5, 6, 13}, "acme/billing": {7}, "acme/ledger": {12}}
        retries = {"acme/monolith": {10}, "acme/billing": {3, 9, 15}, "acme/ledger": {16}}
        low, high = repo.history_seconds
        plans: list[RunPlan] = []
        queued = self.start
        for i in reversed(range(HISTORY_RUNS)):
            key = ("history", repo.full_name, i)
            total = low + (high - low) * _unit(*key, "duration")
            gap = timedelta(minutes=30 + 50 * _unit(*key, "gap"))
            queued = (queued - gap).replace(microsecond=0)
            seconds = (0.2 * total, 0.6 * total, 0.2 * total)
            if i == HISTORY_RUNS - 1:
                # The newest past run tells the story the loop starts from (a green main).
                last = self.plans(0)[repo.full_name][-1].commit
                author, message = last.author, last.message
            else:
                author, message = _person(*key, "author"), _message(*key, "message")
            commit = self._commit(repo, -1, i, message, author, queued)
            failing = (
                repo.jobs[1] if i in failures[repo.full_name] | retries[repo.full_name] else None
            )
            first = attempt_plan(1, queued, 20, _scaled(repo, seconds, failing), author)
            attempts = [first]
            if i in retries[repo.full_name]:
                again = first.ended_at + timedelta(minutes=2 + 3 * _unit(*key, "retry"))
                attempts.append(attempt_plan(2, again, 15, _scaled(repo, seconds, None), author))
            plans.append(self._plan(repo, -1, i, commit, attempts))
        return tuple(reversed(plans))

    # -- CCTray

    def cctray(self, moment: Moment) -> list[CCProject] | None:
        """The feed's projects, or None while the feed drops every connection."""
        loop, s = moment.loop, moment.script_t
        if prodstory.within(s, FEED_DROPS):
            return None
        at = self.at
        if s < 120:
            core = CCProject(
                "platform/core-master",
                "Sleeping",
                "Success",
                f"build.{1000 + loop}",
                at(loop - 1, 180),
            )
        elif s < 180:
            core = CCProject(
                "platform/core-master",
                "Building",
                "Success",
                f"build.{1000 + loop}",
                at(loop - 1, 180),
            )
        else:
            core = CCProject(
                "platform/core-master", "Sleeping", "Success", f"build.{1001 + loop}", at(loop, 180)
            )
        breakers = (("Breakers", "mallory"), ("FailingTasks", "ui-tests: 3 failed"))
        building, failed, rebuilding, fixed = MOBILE_APP
        # Green and sleeping, building, red (and sleeping), building the fix, green again.
        activity = "Building" if building <= s < failed or rebuilding <= s < fixed else "Sleeping"
        if s < failed:
            mobile = CCProject(
                "mobile-app", activity, "Success", str(300 + 2 * loop), at(loop - 1, fixed)
            )
        elif s < fixed:
            mobile = CCProject(
                "mobile-app",
                activity,
                "Failure",
                str(301 + 2 * loop),
                at(loop, failed),
                messages=breakers,
            )
        else:
            mobile = CCProject(
                "mobile-app", "Sleeping", "Success", str(302 + 2 * loop), at(loop, fixed)
            )
        built = self.start.replace(microsecond=123000) - timedelta(hours=3)
        docs = CCProject(
            "docs-site",
            "Sleeping",
            "Success",
            "2026.11.3",
            built,
            next_build_time=built + timedelta(days=1),
            utc_offset_hours=2,
            extra=(("category", "docs"),),
        )
        return [core, mobile, docs]

    # -- health

    def payments(self, moment: Moment) -> PaymentsState:
        """Down while the loop's revision is live, slow while its fix rolls out."""
        s = moment.script_t
        if prodstory.within(s, prodstory.PAYMENTS_HEALTH_FAILS):
            return "fail"
        if prodstory.within(s, prodstory.PAYMENTS_FIX):
            return "warn"
        return "pass"

    def search_is_slow(self, moment: Moment) -> bool:
        return prodstory.within(moment.script_t, SEARCH_SLOW)


def _scaled(
    repo: Repo, seconds: tuple[float, ...], failing: str | None
) -> list[tuple[str, float, bool]]:
    return [(name, secs, name != failing) for name, secs in zip(repo.jobs, seconds, strict=True)]


P = TypeVar("P")


class LoopStory(Generic[P]):
    """A simulated provider's script: the plans of each loop of the scenario (loop -1 is the
    history before the start), each computed once; with ``kept``, only that many loops back."""

    kept: int | None = None

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._loops: dict[int, tuple[P, ...]] = {}

    def plans(self, loop: int) -> tuple[P, ...]:
        cached = self._loops.get(loop)
        if cached is None:
            cached = self._history() if loop < 0 else self._loop(loop)
            self._loops[loop] = cached
            if self.kept is not None:
                for old in [k for k in self._loops if 0 <= k < loop - self.kept]:
                    del self._loops[old]
        return cached

    def _history(self) -> tuple[P, ...]:
        raise NotImplementedError

    def _loop(self, loop: int) -> tuple[P, ...]:
        raise NotImplementedError
