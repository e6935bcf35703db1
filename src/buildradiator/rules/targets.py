"""``[[targets]]``: each goal measured from the snapshot, and the words the views show for it.

Pure and Textual-free: the engine calls ``evaluate`` on every snapshot, and the main screen, the
wall and the exports read the resulting ``TargetStatus`` objects. Everything comes from the
snapshot alone (history's daily series in ``facts``, the flaky tests, the deployments), so a
radiator fed by another radiator judges the same targets the same way.

Unknown is never met: with no data the value is ``None`` and so is ``met``, and the screen says
"no data yet". A scope that matches nothing is unknown too, and says so in ``scope``. Nor is a
goal met on part of its scope (a deploy drift with one deployment's drift unknown now), nor on
a stale source's last word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fnmatch import fnmatchcase
from statistics import fmean

from buildradiator import fmt
from buildradiator.config.loading import GroupConfig
from buildradiator.config.share import TargetConfig
from buildradiator.model import (
    Deployment,
    Pipeline,
    PipelineFacts,
    Snapshot,
    Status,
    TargetStatus,
)
from buildradiator.rules import delivery_targets
from buildradiator.rules.production import current_drift, most_behind

SHARE_MEASURES = frozenset({"main_green_share", "retry_share"})
SECONDS_MEASURES = frozenset({"duration_p50", "duration_p90", "mttr"})
"""Delivery measures spell their own units (``delivery_targets.value_text``)."""
MEASURE_WORDS = delivery_targets.WORDS | {
    "main_green_share": "main green",
    "flaky_tests": "flaky tests",
    "retry_share": "retried builds",
    "duration_p50": "build p50",
    "duration_p90": "build p90",
    "mttr": "MTTR",
    "deploy_drift": "deploy drift",
}
RETRY_WEEK = 7
"""History keeps retry shares over 7 and 30 days: a window up to 7 days reads the first."""
NO_DATA = "no data yet"

Series = Sequence[float | None]


# --- scope --------------------------------------------------------------------------------


def _matches(p: Pipeline, patterns: Iterable[str]) -> bool:
    """A pattern names a pipeline by key or (display) name, optionally as ``source:...``,
    the way ``[[groups]]`` and ``[release] pipelines`` name them."""
    candidates = (p.key, p.name, f"{p.source}:{p.key}", f"{p.source}:{p.name}")
    return any(fnmatchcase(c, pattern) for pattern in patterns for c in candidates)


def scoped_pipelines(
    target: TargetConfig, snapshot: Snapshot, groups: Sequence[GroupConfig]
) -> tuple[list[Pipeline], str, bool]:
    """The pipelines a target covers, its scope in words, and whether the scope matched."""
    if target.pipeline is not None:
        found = [p for p in snapshot.pipelines if _matches(p, (target.pipeline,))]
        if not found:
            return [], f"(no pipeline matches '{target.pipeline}')", False
        # One match reads best by its name; a glob over several keeps the pattern.
        return found, found[0].name if len(found) == 1 else target.pipeline, True
    if target.group is not None:
        config = next((g for g in groups if g.name == target.group), None)
        patterns = tuple(config.pipelines) if config else ()
        # A pipeline belongs to the first group it matches (as the screen shows it); one the
        # engine has not labelled yet is matched by the group's own patterns.
        found = [
            p
            for p in snapshot.pipelines
            if p.group == target.group or (p.group is None and _matches(p, patterns))
        ]
        if not found:
            what = "pipeline in group" if config else "group named"
            return [], f"(no {what} '{target.group}')", False
        return found, target.group, True
    if not snapshot.pipelines:
        return [], "all pipelines", False
    return list(snapshot.pipelines), "all pipelines", True


def scoped_deployments(
    target: TargetConfig, snapshot: Snapshot, groups: Sequence[GroupConfig]
) -> tuple[list[Deployment], str, bool]:
    """The deployments a ``deploy_drift`` target covers: a service (glob), the deployments of
    a pipeline or group's mains, or every one."""
    found = list(snapshot.deployments)
    if target.service is not None:
        pattern = target.service
        found = [d for d in found if fnmatchcase(d.service, pattern)]
        if not found:
            return [], f"(no service matches '{pattern}')", False
        return found, found[0].service if len(found) == 1 else pattern, True
    if target.pipeline is not None or target.group is not None:
        pipelines, words, matched = scoped_pipelines(target, snapshot, groups)
        keys = {p.key for p in pipelines}
        found = [d for d in found if (d.pipeline or d.repo or "") in keys]
        if matched and not found:
            return [], f"(no deployment of {words})", False
        return found, words, matched and bool(found)
    return found, "all services", bool(found)


# --- daily series -------------------------------------------------------------------------


def _window(series: Series, days: int, back: int = 0) -> Series:
    """Days ``back`` windows before the newest window (0: the newest ``days`` days). The
    series end today, so they are aligned on their last element."""
    end = len(series) - days * back
    if end <= 0:
        return ()
    return series[max(0, end - days) : end]


def _known(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _mean(values: Iterable[float | None]) -> float | None:
    known = _known(values)
    return fmean(known) if known else None


def _daily(
    series: Sequence[Series], days: int, combine: Callable[[list[float]], float]
) -> tuple[float | None, ...]:
    """One value per day across pipelines (aligned on today), ``None`` for a day none knows."""
    length = min(days, max((len(s) for s in series), default=0))
    out: list[float | None] = []
    for back in range(length, 0, -1):
        known = [v for s in series if len(s) >= back and (v := s[len(s) - back]) is not None]
        out.append(combine(known) if known else None)
    return tuple(out)


Measured = tuple[float | None, float | None, tuple[float | None, ...]]
"""(value, previous, trend)."""


def _share_like(series: Sequence[Series], days: int) -> Measured:
    """Main green share: each pipeline's mean over the window, then the mean of pipelines."""
    value = _mean(_mean(_window(s, days)) for s in series)
    previous = _mean(_mean(_window(s, days, 1)) for s in series)
    return value, previous, _daily(series, 2 * days, fmean)


def _pooled_mean(series: Sequence[Series], days: int) -> Measured:
    """MTTR: every recovery of the window counts once, whichever pipeline it was."""
    value = _mean(v for s in series for v in _window(s, days))
    previous = _mean(v for s in series for v in _window(s, days, 1))
    return value, previous, _daily(series, 2 * days, fmean)


def _durations(
    facts: Sequence[PipelineFacts], days: int, trend_of: str, overall_of: str
) -> Measured:
    """Build duration: each pipeline's mean daily p50/p90 over the window (its overall figure
    when history has no daily series for it), then the mean of pipelines."""
    series: list[Series] = [getattr(f, trend_of) for f in facts]
    per: list[float | None] = []
    for f, s in zip(facts, series, strict=True):
        per.append(_mean(_window(s, days)) if s else getattr(f, overall_of))
    value = _mean(per)
    previous = _mean(_mean(_window(s, days, 1)) for s in series if s)
    return value, previous, _daily(series, 2 * days, fmean)


def _sum_of_window(series: Sequence[Series], days: int, back: int) -> float | None:
    """A count over a whole window; ``None`` when no series covers all of it."""
    covered = [s for s in series if len(s) >= days * (back + 1)]
    if not covered:
        return None
    return float(sum(v or 0 for s in covered for v in _window(s, days, back)))


def _flaky(
    snapshot: Snapshot,
    pipelines: Sequence[Pipeline],
    facts: Sequence[PipelineFacts],
    days: int,
    everywhere: bool,
) -> Measured:
    series: list[Series] = [f.flakes for f in facts if f.flakes]
    if series:
        value = _sum_of_window(series, days, 0)
        if value is None:  # less history than the window: what there is, all of it
            value = float(sum(v or 0 for s in series for v in s))
        previous = _sum_of_window(series, days, 1)
        return value, previous, _daily(series, 2 * days, lambda vs: float(sum(vs)))
    # No daily history: the flaky tests the radiator lists (from history or a provider);
    # over every pipeline, also those of pipelines no longer watched.
    refs = {f"{p.source}:{p.key}" for p in pipelines}
    listed = [t for t in snapshot.flaky_tests if everywhere or refs.intersection(t.pipelines)]
    if not listed and not facts:
        return None, None, ()
    return float(len(listed)), None, ()


def _retry_share(facts: Sequence[PipelineFacts], days: int) -> Measured:
    """The share of the scope's green builds that needed a retry (weighted by builds, as the
    Flaky panel counts it: one pipeline's single retried build must not read as 100%)."""
    week = days <= RETRY_WEEK
    retried = sum(f.retried_7d if week else f.retried_30d for f in facts)
    green = sum(f.green_7d if week else f.green_30d for f in facts)
    return (retried / green if green else None), None, ()


def measure(
    target: TargetConfig,
    snapshot: Snapshot,
    pipelines: Sequence[Pipeline],
    deployments: Sequence[Deployment],
) -> Measured:
    """(value, previous, trend) of one target over its scope."""
    days = target.window_days
    known = {(f.source, f.key): f for f in snapshot.facts}
    facts = [f for p in pipelines if (f := known.get((p.source, p.key))) is not None]
    match target.measure:
        case "main_green_share":
            return _share_like([f.green_share for f in facts], days)
        case "mttr":
            return _pooled_mean([f.mttr_seconds for f in facts], days)
        case "duration_p50":
            return _durations(facts, days, "p50_trend", "p50_seconds")
        case "duration_p90":
            return _durations(facts, days, "p90_trend", "p90_seconds")
        case "flaky_tests":
            everywhere = target.pipeline is None and target.group is None
            return _flaky(snapshot, pipelines, facts, days, everywhere)
        case "retry_share":
            return _retry_share(facts, days)
        case "deploy_drift":
            return most_behind(deployments, snapshot.stale_sources), None, ()
    return None, None, ()  # pragma: no cover - Measure is a closed Literal


# --- evaluation ---------------------------------------------------------------------------


def goal_words(goal: str) -> str:
    """``>=95%`` -> ``>= 95%``: one spelling whatever the config's spacing."""
    text = goal.strip()
    op = next(o for o in (">=", "<=", ">", "<") if text.startswith(o))
    return f"{op} {text[len(op) :].strip()}"


def effective_days(target: TargetConfig) -> int:
    """The window really measured: retry shares exist for 7 and 30 days only."""
    if target.measure == "retry_share":
        return RETRY_WEEK if target.window_days <= RETRY_WEEK else 30
    if target.measure in delivery_targets.FACT_OF:
        return delivery_targets.window_of(target)
    return target.window_days


def default_name(target: TargetConfig, scope: str) -> str:
    """``main green >= 95% for acme/monolith over 7 d``: plain ASCII words, so the name is
    the same on every screen (``--ascii`` too) and in the exports."""
    name = f"{MEASURE_WORDS[target.measure]} {goal_words(target.goal)} for {scope}"
    if effective_days(target) and target.measure != "deploy_drift":  # drift is now
        name += f" over {effective_days(target)} d"
    return name


def _scope_pattern(target: TargetConfig) -> str | None:
    return target.service or target.pipeline or target.group


def evaluate_one(
    target: TargetConfig, snapshot: Snapshot, groups: Sequence[GroupConfig] = ()
) -> TargetStatus:
    trend: tuple[float | None, ...] = ()
    deployments: list[Deployment] = []
    if target.measure in delivery_targets.FACT_OF:
        value, previous, scope, matched = delivery_targets.measure(target, snapshot)
    elif target.measure == "deploy_drift":
        deployments, scope, matched = scoped_deployments(target, snapshot, groups)
        value, previous, trend = measure(target, snapshot, [], deployments)
    else:
        pipelines, scope, matched = scoped_pipelines(target, snapshot, groups)
        value, previous, trend = measure(target, snapshot, pipelines, [])
    if not matched:
        value, previous, trend = None, None, ()
    met = None if value is None else target.met_by(value)
    if met and any(current_drift(d, snapshot.stale_sources) is None for d in deployments):
        # Drift is the most behind of those known; one not known now may be further behind:
        # met only when every deployment of the scope is known (unmet is already certain).
        met = None
    if met and delivery_targets.partly_known(target, snapshot):
        met = None
    # The name keeps what the config said when nothing matched: the reason is in ``scope``.
    words = scope if matched else (_scope_pattern(target) or scope)
    return TargetStatus(
        name=target.name or default_name(target, words),
        measure=target.measure,
        scope=scope,
        goal=goal_words(target.goal),
        window_days=effective_days(target),
        value=value,
        previous=previous,
        met=met,
        trend=trend,
    )


def evaluate(
    targets: Sequence[TargetConfig], snapshot: Snapshot, groups: Sequence[GroupConfig] = ()
) -> tuple[TargetStatus, ...]:
    """Every configured target, in config order, judged on ``snapshot``."""
    return tuple(evaluate_one(t, snapshot, groups) for t in targets)


# --- words for the views ------------------------------------------------------------------


def value_text(measure_name: str, value: float | None) -> str:
    """The value in its unit: ``97.2%``, ``12m30s``, ``4 commits``, ``3 tests``."""
    if value is None:
        return NO_DATA
    if measure_name in delivery_targets.FACT_OF:
        return delivery_targets.value_text(measure_name, value)
    if measure_name in SHARE_MEASURES:
        return f"{value * 100:.1f}%"
    if measure_name in SECONDS_MEASURES:
        return duration_text(value)
    count = round(value)
    if measure_name == "deploy_drift":
        return fmt.plural(count, "commit")
    return fmt.plural(count, "test")


def duration_text(seconds: float) -> str:
    """Seconds kept while they matter; past a day, days and hours (an MTTR can be long)."""
    return fmt.format_duration(seconds) if seconds < 86400 else fmt.format_age(seconds)


def lower_is_better(goal: str) -> bool:
    return goal.strip().startswith("<")


ARROWS = {False: ("▲", "▼", "="), True: ("^", "v", "=")}


def change(target: TargetStatus, ascii: bool = False) -> tuple[str, int] | None:
    """How the value moved since the window before: the arrow and amount (``▲ 2.1%``), and
    +1 when it moved towards the goal, -1 away from it, 0 when it held; ``None`` when either
    window is unknown."""
    if target.value is None or target.previous is None:
        return None
    delta = target.value - target.previous
    up, down, same = ARROWS[ascii]
    if target.measure in delivery_targets.FACT_OF:
        amount = delivery_targets.value_text(target.measure, abs(delta))
        steady = amount == delivery_targets.value_text(target.measure, 0.0)
    elif target.measure in SHARE_MEASURES:
        amount, steady = f"{abs(delta) * 100:.1f}%", abs(delta) < 0.0005
    elif target.measure in SECONDS_MEASURES:
        amount, steady = duration_text(abs(delta)), abs(delta) < 1
    else:
        amount, steady = str(round(abs(delta))), round(abs(delta)) == 0
    if steady:
        return same, 0
    better = (delta < 0) == lower_is_better(target.goal)
    return f"{up if delta > 0 else down} {amount}", 1 if better else -1


def met_glyph(target: TargetStatus, ascii: bool = False) -> str:
    """``✔`` met, ``✖`` not met, ``?`` unknown (``+``/``x``/``?`` in ASCII)."""
    status = {True: Status.PASSED, False: Status.FAILED, None: Status.UNKNOWN}[target.met]
    return fmt.status_glyph(status, ascii)


def met_word(target: TargetStatus) -> str:
    return {True: "met", False: "unmet", None: NO_DATA}[target.met]


def summary(targets: Sequence[TargetStatus]) -> str:
    """``3 of 4 met``; ``, 1 no data yet`` when some are unknown."""
    met = sum(1 for t in targets if t.met is True)
    text = f"{met} of {len(targets)} met"
    unknown = sum(1 for t in targets if t.met is None)
    if unknown:
        text += f", {unknown} {NO_DATA}"
    return text


def unmet(targets: Sequence[TargetStatus]) -> list[TargetStatus]:
    return [t for t in targets if t.met is False]
