"""A Buildbot master's REST API v2, as the simulator speaks it (api-facts §7), under ``/buildbot``.

A small build farm, four builders, each with its own part of the story (act 2 of the loop, see
``moments.py``):

- ``linux-x86_64`` (tags platform, linux): green; at ~365 a build ends RETRY (its worker was
  lost) and Buildbot runs the same request again, which passes at ~415 (attempt 2, green only
  after a retry).
- ``macos-arm64`` (platform, macos): Chen Wei's "Port allocator to arm64" FAILS at ~400, the next
  build ends in an EXCEPTION at ~435 (two in a row), Dana's fix is green at ~475. These builds
  carry no author property: the author comes from ``/builds/{id}/changes``.
- ``windows-x64`` (platform, windows): nightly-style builds that end with WARNINGS; one runs from
  ~370 to ~460 through ``compile`` -> ``test`` -> ``upload`` (its ``state_string``).
- ``docs`` (docs): a build CANCELLED at ~405; a request waits for a worker from ~480 to ~510.

Faithful where a client can tell: ``{"<plural>": [...], "meta": {"total": N}}`` bodies, epoch
seconds as integers, ``results`` codes with ``null`` while running, properties only when asked
for with ``property=`` (``{name: [value, source]}``), the ``complete``/``claimed`` filters,
``order`` and ``limit``, and Buildbot's JSON error body on a 404. No ETag, no rate-limit headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from typing import Any

from buildradiator.simulator.answer import Answer, json_answer, param, text_answer
from buildradiator.simulator.scenario import Moment, Scenario, fake_sha
from buildradiator.simulator.sourceblock import source_block

SUCCESS, WARNINGS, FAILURE, SKIPPED, EXCEPTION, RETRY, CANCELLED = range(7)
LOOPS_SHOWN = 3
_DONE_WORDS = {
    SUCCESS: "build successful",
    WARNINGS: "warnings test",
    FAILURE: "failed test",
    EXCEPTION: "exception git",
    RETRY: "retry lost remote",
    CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class Plan:
    """One build (or one waiting request) of one loop, in script seconds."""

    k: int
    start: float
    seconds: float
    results: int
    author: str | None = None
    """``Name <email>``; None for builds without a change (nightly ones)."""
    message: str = ""
    owner_property: bool = False
    """The author travels as the ``owners`` property (forced builds) instead of a change."""
    request: int | None = None
    """The ``k`` of the build whose request this one runs again (after a RETRY)."""
    submitted: float | None = None
    """When its request was submitted, if it waited for a worker before ``start``."""
    steps: tuple[str, ...] = ("update", "compile", "test")


@dataclass(frozen=True)
class Builder:
    builderid: int
    name: str
    tags: tuple[str, ...]
    number_base: int
    plans: tuple[Plan, ...]


CHEN = "Chen Wei <chen@acme.example>"
DANA = "Dana Smith <dana@acme.example>"
ALICE = "Alice Nguyen <alice@acme.example>"
ERIN = "Erin Walsh <erin@acme.example>"

BUILDERS = (
    Builder(
        1,
        "linux-x86_64",
        ("platform", "linux"),
        800,
        (
            Plan(0, 295, 40, SUCCESS, ALICE, "Vendor zlib 1.3.1", owner_property=True),
            Plan(1, 350, 15, RETRY, ALICE, "Enable LTO for release builds", owner_property=True),
            Plan(2, 370, 45, SUCCESS, ALICE, "Enable LTO for release builds", True, request=1),
            Plan(3, 470, 40, SUCCESS, ERIN, "Trim debug symbols", owner_property=True),
        ),
    ),
    Builder(
        2,
        "macos-arm64",
        ("platform", "macos"),
        500,
        (
            Plan(0, 300, 50, SUCCESS, ALICE, "Vendor zlib 1.3.1"),
            Plan(1, 360, 40, FAILURE, CHEN, "Port allocator to arm64\n\nUse 16-byte alignment."),
            Plan(2, 405, 30, EXCEPTION, CHEN, "Allocator: tidy up"),
            Plan(3, 440, 35, SUCCESS, DANA, "Fix arm64 alignment in allocator"),
        ),
    ),
    Builder(
        3,
        "windows-x64",
        ("platform", "windows"),
        300,
        (
            Plan(0, 270, 90, WARNINGS, steps=("compile", "test", "upload")),
            Plan(1, 370, 90, WARNINGS, steps=("compile", "test", "upload")),
        ),
    ),
    Builder(
        4,
        "docs",
        ("docs",),
        150,
        (
            Plan(0, 320, 20, SUCCESS, ERIN, "Document the allocator", owner_property=True),
            Plan(1, 390, 15, CANCELLED, ERIN, "Docs: new theme", owner_property=True),
            Plan(2, 510, 20, SUCCESS, ERIN, "Docs: new theme", True, submitted=480),
        ),
    ),
)
BY_ID = {b.builderid: b for b in BUILDERS}


@dataclass(frozen=True)
class _Run:
    """One planned build placed in time."""

    builder: Builder
    loop: int
    plan: Plan

    @property
    def buildid(self) -> int:
        return 40_000 + (self.loop + 10) * 100 + self.builder.builderid * 10 + self.plan.k

    @property
    def number(self) -> int:
        per_loop = len(self.builder.plans)
        return self.builder.number_base + (self.loop + LOOPS_SHOWN + 1) * per_loop + self.plan.k

    @property
    def buildrequestid(self) -> int:
        k = self.plan.request if self.plan.request is not None else self.plan.k
        return 90_000 + (self.loop + 10) * 100 + self.builder.builderid * 10 + k

    @property
    def sha(self) -> str:
        k = self.plan.request if self.plan.request is not None else self.plan.k
        return fake_sha(self.builder.name, self.loop, k)


class BuildbotSim:
    """Answers ``/buildbot/...``. Pure: every answer is computed from the moment."""

    prefix = "buildbot"

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    # -- the SimProvider protocol

    def answer(
        self, path: str, query: dict[str, list[str]], headers: Message, moment: Moment, web: str
    ) -> Answer:
        parts = [p for p in path.split("/") if p]
        if parts[:2] != ["api", "v2"]:
            if not parts:
                page = (
                    "<!DOCTYPE html><html><head><title>Buildbot</title></head><body></body></html>"
                )
                return text_answer(200, page, "text/html")
            return text_answer(404, "Not Found\n")
        rest = parts[2:]
        if rest == ["builders"]:
            builders = [_builder_json(b) for b in BUILDERS]
            return _collection("builders", builders, query)
        if len(rest) == 3 and rest[0] == "builders" and rest[2] == "builds":
            builder = _builder_named(rest[1])
            if builder is None:
                return _error(404, "not found")
            runs = [r for r in self._runs(moment) if r.builder is builder]
            return self._builds(runs, query, moment)
        if rest == ["builds"]:
            return self._builds(self._runs(moment), query, moment)
        if len(rest) == 3 and rest[0] == "builds" and rest[2] == "changes":
            run = next((r for r in self._runs(moment) if str(r.buildid) == rest[1]), None)
            if run is None:
                return _error(404, "not found")
            changes = [self._change(run)] if run.plan.author and not run.plan.owner_property else []
            return _collection("changes", changes, query)
        if rest == ["buildrequests"]:
            return _collection("buildrequests", self._requests(moment, query), query)
        return _error(404, "not found")

    def demo_sources(self, base_url: str) -> str:
        return source_block(
            name="buildbot",
            type="buildbot",
            url=f"{base_url.rstrip('/')}/buildbot",
            tags=["platform", "docs"],
            builds=10,
        )

    # -- state at a moment

    def _runs(self, moment: Moment) -> list[_Run]:
        runs = []
        for loop in range(max(-LOOPS_SHOWN, moment.loop - LOOPS_SHOWN), moment.loop + 1):
            for builder in BUILDERS:
                for plan in builder.plans:
                    if self.scenario.at(loop, plan.start) <= moment.now:
                        runs.append(_Run(builder, loop, plan))
        return runs

    def _done(self, run: _Run, moment: Moment) -> bool:
        return self.scenario.at(run.loop, run.plan.start + run.plan.seconds) <= moment.now

    def _builds(self, runs: list[_Run], query: dict[str, list[str]], moment: Moment) -> Answer:
        wanted = param(query, "complete")
        if wanted in ("true", "false"):
            runs = [r for r in runs if self._done(r, moment) == (wanted == "true")]
        builds = [self._build(r, moment, query.get("property", [])) for r in runs]
        return _collection("builds", builds, query)

    def _build(self, run: _Run, moment: Moment, asked: list[str]) -> dict[str, Any]:
        plan = run.plan
        start = self.scenario.at(run.loop, plan.start)
        end = self.scenario.at(run.loop, plan.start + plan.seconds)
        done = end <= moment.now
        if done:
            state = _DONE_WORDS.get(plan.results, "finished")
        else:
            share = (moment.now - start) / (end - start)
            step = plan.steps[min(len(plan.steps) - 1, int(share * len(plan.steps)))]
            state = f"running '{step}'" if share > 0.02 else "starting"
        properties: dict[str, list[Any]] = {
            "branch": ["main", "Build"],
            "got_revision": [run.sha, "Git"],
            "revision": [run.sha, "Build"],
            "buildername": [run.builder.name, "Builder"],
            "buildnumber": [run.number, "Build"],
            "workername": [f"{run.builder.name}-worker-1", "Worker"],
            "scheduler": ["nightly" if plan.author is None else "on-push", "Scheduler"],
        }
        if plan.owner_property and plan.author:
            properties["owners"] = [[plan.author], "Force Build Form"]
        if "*" not in asked:
            properties = {k: v for k, v in properties.items() if k in asked}
        return {
            "builderid": run.builder.builderid,
            "buildid": run.buildid,
            "buildrequestid": run.buildrequestid,
            "complete": done,
            "complete_at": int(end.timestamp()) if done else None,
            "locks_duration_s": 0,
            "masterid": 1,
            "number": run.number,
            "properties": properties,
            "results": plan.results if done else None,
            "started_at": int(start.timestamp()),
            "state_string": state,
            "workerid": run.builder.builderid,
        }

    def _change(self, run: _Run) -> dict[str, Any]:
        plan = run.plan
        when = int(self.scenario.at(run.loop, plan.start).timestamp()) - 180
        return {
            "changeid": run.buildid,
            "author": plan.author,
            "committer": plan.author,
            "comments": plan.message,
            "revision": run.sha,
            "branch": "main",
            "when_timestamp": when,
            "category": None,
            "codebase": "",
            "files": ["src/alloc.c"],
            "parent_changeids": [],
            "project": "acme/platform",
            "properties": {},
            "repository": "https://git.acme.example/acme/platform.git",
            "revlink": f"https://git.acme.example/acme/platform/commit/{run.sha}",
            "sourcestamp": {"ssid": run.buildid, "branch": "main", "revision": run.sha},
        }

    def _requests(self, moment: Moment, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        requests: list[dict[str, Any]] = []
        for loop in range(max(-LOOPS_SHOWN, moment.loop - LOOPS_SHOWN), moment.loop + 1):
            for builder in BUILDERS:
                for plan in builder.plans:
                    if plan.submitted is None:
                        continue
                    submitted = self.scenario.at(loop, plan.submitted)
                    started = self.scenario.at(loop, plan.start)
                    if not submitted <= moment.now < started:
                        continue
                    run = _Run(builder, loop, plan)
                    requests.append(
                        {
                            "buildrequestid": run.buildrequestid,
                            "builderid": builder.builderid,
                            "buildsetid": run.buildrequestid - 10_000,
                            "claimed": False,
                            "claimed_at": None,
                            "claimed_by_masterid": None,
                            "complete": False,
                            "complete_at": None,
                            "priority": 0,
                            "properties": {},
                            "results": -1,
                            "submitted_at": int(submitted.timestamp()),
                            "waited_for": False,
                        }
                    )
        if param(query, "claimed") == "true":
            return []
        return requests


def _builder_json(builder: Builder) -> dict[str, Any]:
    return {
        "builderid": builder.builderid,
        "description": None,
        "masterids": [1],
        "name": builder.name,
        "projectid": None,
        "tags": list(builder.tags),
    }


def _builder_named(ident: str) -> Builder | None:
    if ident.isdigit():
        return BY_ID.get(int(ident))
    return next((b for b in BUILDERS if b.name == ident), None)


def _collection(kind: str, items: list[dict[str, Any]], query: dict[str, list[str]]) -> Answer:
    order = param(query, "order")
    if order:
        field = order.lstrip("-")
        items = sorted(items, key=lambda i: i.get(field) or 0, reverse=order.startswith("-"))
    total = len(items)
    offset = param(query, "offset")
    if offset and offset.isdigit():
        items = items[int(offset) :]
    limit = param(query, "limit")
    if limit and limit.isdigit():
        items = items[: int(limit)]
    return json_answer(200, {kind: items, "meta": {"total": total}})


def _error(status: int, message: str) -> Answer:
    return json_answer(status, {"error": message})


def make(scenario: Scenario) -> BuildbotSim:
    return BuildbotSim(scenario)
