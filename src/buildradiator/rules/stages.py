"""Build time per stage: p50/p90 of each stage of each pipeline over a window, the trend against
the window before, and which stage dominates (where to fork and join). Pure: the histograms come
from ``history.stages`` (day rollups of green builds' stages).

Facts, all with key ``stage_time`` and unit ``seconds``:

- one per pipeline and stage, scope ``<source>:<pipeline> › <stage>``: p50 (value) and p90 of the
  stage, to the histogram's step (``stage_bucket``, within 5%); the note gives its share of the
  build's stage time (the sum of the pipeline's stage p50s) and names the dominant stage, with
  the build time the pipeline lost to retries in the window beside it;
- one for the estate: the slowest dominant stage anywhere (the best place to fork), and in its
  note how many pipelines each stage name dominates. When no provider gave stage times, the
  estate fact alone, with ``value`` ``None`` and a note saying what gives them.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from buildradiator.rules.dora import ESTATE, Fact, trend_of

STEP = 1.05
"""Above a minute, stage times are kept to 5% steps: a day's stages of a pipeline fit in a few
histogram rows, and a p50 of 9m 30s is never shown as more than 5% off."""
STAGES_UNKNOWN = (
    "no stage times yet: GitLab, Azure Pipelines, Buildkite, CircleCI and GitHub Actions"
    " sources give them for finished builds (other providers name no stages here)"
)
SEPARATOR = " › "
"""Between the pipeline and the stage in a fact's scope."""


@dataclass(frozen=True, slots=True)
class StageBucket:
    """Green builds of one pipeline whose stage took ``bucket`` seconds (rounded down)."""

    pipeline: str
    stage: str
    bucket: float
    builds: int


def stage_bucket(seconds: float) -> float:
    """The histogram step ``seconds`` rounds down to: whole seconds under a minute, then 5%
    steps (60, 63, 66, 69...). Negative or not finite: 0."""
    if not math.isfinite(seconds) or seconds <= 0:
        return 0.0
    if seconds < 60:
        return float(int(seconds))
    k = math.floor(math.log(seconds / 60) / math.log(STEP) + 1e-9)
    return float(math.floor(60 * STEP**k))


def quantile(counts: dict[float, int], q: float) -> float | None:
    """The ``q`` quantile of a histogram: the bucket of the ``ceil(q * n)``-th smallest value
    (nearest rank: the p90 of 3 builds is the slowest)."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total - 1e-9))
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return bucket
    return max(counts)


def _histograms(rows: Sequence[StageBucket]) -> dict[tuple[str, str], dict[float, int]]:
    out: dict[tuple[str, str], dict[float, int]] = defaultdict(dict)
    for r in rows:
        if r.builds > 0:
            h = out[(r.pipeline, r.stage)]
            h[r.bucket] = h.get(r.bucket, 0) + r.builds
    return out


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes = seconds / 60
    return f"{minutes:.0f}m" if minutes < 60 else f"{minutes / 60:.1f}h"


def stage_facts(
    days: int,
    this: Sequence[StageBucket],
    before: Sequence[StageBucket],
    *,
    known: bool = True,
    retries: Mapping[str, float] | None = None,
) -> list[Fact]:
    """The stage facts of one window (see the module docstring). ``known`` is False when history
    holds no stage times at all (then the note says what gives them). ``retries``: per pipeline,
    the build time lost to retries in the window, said beside its dominant stage."""
    now, then = _histograms(this), _histograms(before)
    if not now:
        note = (
            f"no green build with stage times in the last {days} days" if known else STAGES_UNKNOWN
        )
        return [Fact("stage_time", ESTATE, days, None, "seconds", note=note)]
    p50s = {key: quantile(h, 0.5) or 0.0 for key, h in now.items()}
    totals: dict[str, float] = defaultdict(float)
    for (pipeline, _), p50 in p50s.items():
        totals[pipeline] += p50
    dominant: dict[str, tuple[str, float]] = {}
    for (pipeline, stage), p50 in sorted(p50s.items()):
        if pipeline not in dominant or p50 > dominant[pipeline][1]:
            dominant[pipeline] = (stage, p50)
    counted = Counter(pipeline for pipeline, _ in now)
    facts = []
    for (pipeline, stage), h in sorted(now.items()):
        p50 = p50s[(pipeline, stage)]
        share = p50 / totals[pipeline] if totals[pipeline] else 0.0
        note = f"{share:.0%} of the build's stage time"
        if dominant[pipeline][0] == stage:
            if counted[pipeline] > 1:
                note = f"{stage} dominates: {note}"
            lost = (retries or {}).get(pipeline, 0.0)
            if lost > 0:
                note += f"; retries cost {_duration(lost)} in {days} days"
        previous = quantile(then[(pipeline, stage)], 0.5) if (pipeline, stage) in then else None
        facts.append(
            Fact(
                "stage_time", f"{pipeline}{SEPARATOR}{stage}", days, p50, "seconds",
                p90=quantile(h, 0.9), previous=previous,
                trend=trend_of("stage_time", p50, previous), samples=sum(h.values()), note=note,
            )
        )  # fmt: skip
    return [_estate(days, facts, dominant, totals), *facts]


def _estate(
    days: int,
    facts: Sequence[Fact],
    dominant: dict[str, tuple[str, float]],
    totals: dict[str, float],
) -> Fact:
    pipeline, (stage, p50) = max(dominant.items(), key=lambda kv: (kv[1][1], kv[0]))
    slowest = next(f for f in facts if f.scope == f"{pipeline}{SEPARATOR}{stage}")
    # ``Test`` in Azure and ``test`` in GitLab are one kind of stage in the estate's words.
    spelled = {s.casefold(): s for s, _ in sorted(dominant.values(), reverse=True)}
    ranked = [
        (spelled[k], n)
        for k, n in Counter(s.casefold() for s, _ in dominant.values()).most_common()
    ]
    share = p50 / totals[pipeline] if totals[pipeline] else 0.0
    note = (
        f"slowest: {pipeline}{SEPARATOR}{stage}, p50 {_duration(p50)}"
        f" ({share:.0%} of its build's stage time); dominant stage: "
        + ", ".join(f"{name} in {n} of {len(dominant)} pipelines" for name, n in ranked[:3])
    )
    return Fact(
        "stage_time", ESTATE, days, p50, "seconds", p90=slowest.p90, previous=slowest.previous,
        trend=slowest.trend, samples=sum(f.samples for f in facts), note=note,
    )  # fmt: skip


def dominant_only(facts: Sequence[Fact]) -> list[Fact]:
    """``facts`` with, of the stage facts, only the estate's and each pipeline's dominant stage
    per window: what a snapshot (every screen, ``/metrics``) needs, where the report shows all."""
    best: dict[tuple[str, int], Fact] = {}
    for f in facts:
        if f.key == "stage_time" and f.scope != ESTATE and f.value is not None:
            key = (f.scope.rsplit(SEPARATOR, 1)[0], f.window_days)
            if key not in best or f.value > (best[key].value or 0.0):
                best[key] = f
    kept = {id(f) for f in best.values()}
    return [f for f in facts if f.key != "stage_time" or f.scope == ESTATE or id(f) in kept]
