"""The four keys of delivery, per service and environment and for the whole estate, over a
window and the window before it, each with its band. Pure: the rows come from
``history.delivery_queries``; no I/O, no clock (``now`` is given).

- **Deployment frequency**: production deploys that succeeded, per day.
- **Lead time for changes**: from a commit landing on main (its first main build, or its
  commit time when no build of it is known) to the production deploy that shipped it; every
  commit a deploy shipped counts (those that landed after the commit live before it), so a
  deploy carrying a batch shows how long the oldest of it waited.
- **Change failure rate**: the share of production deploys that failed, were suspect, or were
  followed within ``FOLLOW_UP`` by a rollback (the next deploy ships an older commit, or one
  already shipped before) or a hotfix (the next deploy's version or commit message says
  ``hotfix`` or starts with ``Revert``).
- **Time to restore** (DORA's "failed deployment recovery time"): a failed or suspect production
  deploy until it was resolved (the watch cleared it) or a good deploy replaced it; median.
  Beside it, not banded: main red to green (mean, from the day rollups) and service down to up.

Bands and the shape of a result: ``rules.dora``. Where the radiator cannot know, a fact
carries ``value=None`` and says in ``note`` what to add; it never shows a zero it did not
measure.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from buildradiator.model.facts import UNIT_OF
from buildradiator.rules.dora import BANDS, DAY, ESTATE, HOUR, Fact, trend_of
from buildradiator.rules.production import env_key
from buildradiator.rules.streaks import percentile

FOLLOW_UP = 24 * HOUR
"""A rollback or hotfix deploy this soon after a production deploy marks that deploy failed."""
NO_DEPLOY_SOURCE = (
    "no deploys recorded: add a deploy source ([[sources]] of type github_deployments or argocd)"
)
_HOTFIX = re.compile(r"hot-?fix|^revert\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DeployRow:
    """One deploy as history keeps it, with the landing of the commit it shipped."""

    service: str
    environment: str
    commit: str | None
    state: str
    suspect: bool
    at: float
    resolved_at: float | None = None
    landed_at: float | None = None
    message: str | None = None
    version: str | None = None
    pipeline_id: int | None = None
    """The pipeline whose main built the commit first (history's id), where known."""


@dataclass(frozen=True, slots=True)
class HealthChange:
    service: str
    environment: str
    health: str
    at: float


@dataclass(frozen=True, slots=True)
class MainDays:
    """Sums over a window of one pipeline's day rollups."""

    pipeline: str
    restore_sum: float
    restore_n: int
    retry_seconds: float


def is_production(environment: str | None) -> bool:
    """``production``, ``prod``, ``prd`` and ``live`` are one environment (``env_key``)."""
    return env_key(environment) == "prod"


def production_service(scope: str) -> str | None:
    """``shop`` for the scope ``shop/production`` (or ``shop/prod``...); ``None`` for any other."""
    service, slash, environment = scope.rpartition("/")
    return service if slash and is_production(environment) else None


def mark_failures(deploys: Sequence[DeployRow], follow_up: float = FOLLOW_UP) -> list[bool]:
    """For the deploys of one service and environment, oldest first: which were failed changes."""
    out: list[bool] = []
    shipped: set[str] = set()
    for i, d in enumerate(deploys):
        failed = d.state == "failed" or d.suspect
        nxt = deploys[i + 1] if i + 1 < len(deploys) else None
        if not failed and nxt is not None and nxt.at - d.at <= follow_up:
            rollback = (
                nxt.commit is not None
                and nxt.commit != d.commit
                and (
                    nxt.commit in shipped
                    or (
                        nxt.landed_at is not None
                        and d.landed_at is not None
                        and nxt.landed_at < d.landed_at
                    )
                )
            )
            hotfix = any(_HOTFIX.search(t) for t in (nxt.version, nxt.message) if t)
            failed = rollback or hotfix
        out.append(failed)
        if d.commit is not None and d.state == "succeeded":
            shipped.add(d.commit)
    return out


def deploy_restores(deploys: Sequence[DeployRow]) -> list[tuple[float, float]]:
    """(resolved at, seconds) for each failed or suspect deploy of one service and environment,
    oldest first: until the watch cleared it, or a good deploy replaced it, whichever first."""
    out: list[tuple[float, float]] = []
    for i, d in enumerate(deploys):
        if d.state != "failed" and not d.suspect:
            continue
        ends = [d.resolved_at] if d.resolved_at is not None else []
        later = itertools.islice(deploys, i + 1, None)
        good = next((n for n in later if n.state == "succeeded" and not n.suspect), None)
        if good is not None:
            ends.append(good.at)
        if ends:
            end = min(ends)
            out.append((end, max(0.0, end - d.at)))
    return out


def service_restores(
    changes: Iterable[HealthChange],
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(up again at, seconds down) per service and environment, from its health changes."""
    down_since: dict[tuple[str, str], float] = {}
    out: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for c in sorted(changes, key=lambda c: c.at):
        key = (c.service, env_key(c.environment))
        if c.health == "down":
            down_since.setdefault(key, c.at)
        elif c.health == "up" and key in down_since:
            start = down_since.pop(key)
            out[key].append((c.at, c.at - start))
    return out


def _in(at: float, since: float, until: float) -> bool:
    return since <= at < until


@dataclass(frozen=True, slots=True)
class _Group:
    """The deploys of one service and environment, oldest first, judged once."""

    rows: Sequence[DeployRow]
    failed: Sequence[bool]
    restores: Sequence[tuple[float, float]]
    redeploy: Sequence[bool]
    """The same commit as the deploy before it went out again (a resync): not a change."""
    leads: Sequence[tuple[float, ...]]
    """Per deploy: the lead times of the commits it shipped (``shipped_leads``)."""


def shipped_leads(
    rows: Sequence[DeployRow], landings: Mapping[int, Sequence[float]] | None = None
) -> list[tuple[float, ...]]:
    """Per deploy of one target, oldest first: the lead time of every commit it shipped. With
    ``landings`` (per pipeline, when each commit first built on main, sorted) a deploy ships
    every commit that landed after the one live before it, up to its own; without, or for the
    first deploy seen, only its own commit. A rollback ships nothing new."""
    out: list[tuple[float, ...]] = []
    live: float | None = None
    for d in rows:
        leads: tuple[float, ...] = ()
        if d.state == "succeeded" and d.landed_at is not None and d.landed_at <= d.at:
            if live is None or d.landed_at > live:
                marks = (
                    landings.get(d.pipeline_id) if landings and d.pipeline_id is not None else None
                )
                if marks and live is not None:
                    lo = bisect.bisect_right(marks, live)
                    hi = bisect.bisect_right(marks, d.landed_at)
                    leads = tuple(d.at - t for t in marks[lo:hi])
                leads = leads or (d.at - d.landed_at,)
            live = d.landed_at
        out.append(leads)
    return out


def _p50_p90(values: list[float]) -> tuple[float | None, float | None]:
    """``percentile`` at 0.5 and 0.9 (the same interpolation) with one sort and no filter:
    lead times are differences of finite times, and there are tens of thousands of them."""
    if not values:
        return None, None
    values.sort()
    out = []
    for q in (0.5, 0.9):
        pos = (len(values) - 1) * q
        lo = int(pos)
        hi = min(lo + 1, len(values) - 1)
        out.append(values[lo] + (values[hi] - values[lo]) * (pos - lo))
    return out[0], out[1]


def _four_keys(
    groups: Sequence[_Group], since: float, until: float, days: int
) -> dict[str, tuple[float | None, float | None, int]]:
    """(value, p90, samples) of the four keys over [since, until) for the deploys of one scope."""
    done = 0
    leads: list[float] = []
    outcomes: list[bool] = []
    restores: list[float] = []
    for group in groups:
        for d, failed, again in zip(group.rows, group.failed, group.redeploy, strict=True):
            if again or not since <= d.at < until or d.state not in ("succeeded", "failed"):
                continue
            outcomes.append(failed)
            if d.state == "succeeded":
                done += 1
        leads += [
            lead
            for d, again, shipped in zip(group.rows, group.redeploy, group.leads, strict=True)
            if not again and since <= d.at < until
            for lead in shipped
        ]
        restores += [s for end, s in group.restores if since <= end < until]
    failure = sum(outcomes) / len(outcomes) if outcomes else None
    return {
        "deploy_frequency": (done / days, None, done),
        "lead_time": (*_p50_p90(leads), len(leads)),
        "change_failure_rate": (failure, None, len(outcomes)),
        "time_to_restore": (percentile(restores, 0.5), None, len(restores)),
    }


def _missing(key: str, samples: int, days: int, prod: bool, any_deploys: bool) -> str:
    if not any_deploys:
        return NO_DEPLOY_SOURCE
    if key == "time_to_restore" and samples == 0:
        return f"no failed or suspect deploy resolved in the last {days} d"
    if key == "lead_time":
        return "no shipped commit was built on a watched main: watch the pipeline that builds it"
    where = "production" if prod else "this environment"
    return f"no deploys to {where} in the last {days} d"


def _partly_watched(fact: Fact, watched: float, span: float) -> Fact:
    """A window longer than history. Deploys per day of the whole window would undercount, and
    a band from them would judge a team on the hours the radiator has run: a day or more
    watched gives the rate over what was watched; less, the window's count as a lower bound,
    not banded."""
    if watched >= span:
        return fact
    if watched >= DAY:
        value = fact.samples / (watched / DAY)
        band = BANDS[fact.key](value) if fact.band is not None else None  # production only
        note = f"over the {watched / DAY:.1f} d watched of the {span / DAY:.0f}"
        return replace(fact, value=value, band=band, trend=None, previous=None, note=note)
    hours = max(0.0, watched) / HOUR
    age = f"{hours:.0f} h" if hours >= 1 else "less than an hour"
    note = f"at least: deploys seen in {age} of watching, of the {span / DAY:.0f} d"
    return replace(fact, band=None, trend=None, previous=None, note=note)


def four_keys(
    deploys: Sequence[DeployRow],
    *,
    now: float,
    windows: Sequence[int] = (7, 30),
    any_deploys: bool | None = None,
    landings: Mapping[int, Sequence[float]] | None = None,
    watched_since: float | None = None,
) -> list[Fact]:
    """The four keys for the estate (production only) and for each service and environment.
    ``deploys`` oldest first, reaching back two windows (for the trend); ``any_deploys`` says
    whether history holds any deploy at all (no deploy source configured, otherwise);
    ``landings`` gives every shipped commit its lead time (``shipped_leads``);
    ``watched_since``: the first build or deploy history holds. A window it does not cover
    was not watched whole: its deploy frequency is read over what was (``_partly_watched``)."""
    ever = bool(deploys) if any_deploys is None else any_deploys
    # Tools spell environments differently (Argo CD's prod, GitHub's production): one target,
    # named by the first spelling met, as on the Production panel.
    by_target: dict[tuple[str, str], list[DeployRow]] = defaultdict(list)
    for d in deploys:
        by_target[(d.service, env_key(d.environment))].append(d)
    scopes: dict[str, list[_Group]] = {ESTATE: []}
    for rows in by_target.values():
        rows.sort(key=lambda d: d.at)
        again = [i > 0 and d.commit is not None and d.commit == rows[i - 1].commit
                 and d.state == rows[i - 1].state == "succeeded" for i, d in enumerate(rows)]  # fmt: skip
        leads = shipped_leads(rows, landings)
        group = _Group(rows, mark_failures(rows), deploy_restores(rows), again, leads)
        scopes[f"{rows[0].service}/{rows[0].environment or '-'}"] = [group]
        if is_production(rows[0].environment):
            scopes[ESTATE].append(group)
    facts: list[Fact] = []
    for scope, groups in scopes.items():
        prod = scope == ESTATE or is_production(groups[0].rows[0].environment)
        for days in windows:
            span = days * DAY
            now_ = _four_keys(groups, now - span, now, days)
            before = _four_keys(groups, now - 2 * span, now - span, days)
            for key, (value, p90, samples) in now_.items():
                if samples == 0:
                    value = None if key != "deploy_frequency" or not ever else value
                previous = before[key][0] if before[key][2] else None
                fact = Fact(
                    key=key,
                    scope=scope,
                    window_days=days,
                    value=value,
                    unit=UNIT_OF[key],
                    p90=p90,
                    previous=previous,
                    trend=trend_of(key, value, previous),
                    band=BANDS[key](value) if value is not None and prod else None,
                    samples=samples,
                )
                if value is None or (key == "deploy_frequency" and samples == 0):
                    fact = replace(fact, note=_missing(key, samples, days, prod, ever))
                elif key == "deploy_frequency" and watched_since is not None:
                    fact = _partly_watched(fact, now - watched_since, span)
                facts.append(fact)
    return facts


def restore_facts(
    main: Sequence[tuple[int, Sequence[MainDays], Sequence[MainDays]]],
    changes: Sequence[HealthChange],
    *,
    now: float,
) -> list[Fact]:
    """Main red to green (mean, from the day rollups: (days, this window, the one before)) and
    service down to up (median), estate-wide, not banded."""
    facts: list[Fact] = []
    restores = service_restores(changes)
    for days, this, before in main:
        n = sum(m.restore_n for m in this)
        value = sum(m.restore_sum for m in this) / n if n else None
        pn = sum(m.restore_n for m in before)
        previous = sum(m.restore_sum for m in before) / pn if pn else None
        note = "mean" if n else f"main did not go red and back in the last {days} d"
        facts.append(_estate_seconds("restore_main", days, value, previous, n, note))
        since, prev = now - days * DAY, now - 2 * days * DAY
        this_s = [s for rs in restores.values() for end, s in rs if _in(end, since, now)]
        before_s = [s for rs in restores.values() for end, s in rs if _in(end, prev, since)]
        value = percentile(this_s, 0.5)
        previous = percentile(before_s, 0.5)
        if this_s:
            note = ""
        elif changes:
            note = f"no service went down and up again in the last {days} d"
        else:
            note = "no health changes recorded: add a health, alertmanager or prometheus source"
        facts.append(_estate_seconds("restore_service", days, value, previous, len(this_s), note))
    return facts


def _estate_seconds(
    key: str, days: int, value: float | None, previous: float | None, samples: int, note: str
) -> Fact:
    """An estate-wide fact in seconds over ``days``, its trend read against the window before."""
    return Fact(
        key=key,
        scope=ESTATE,
        window_days=days,
        value=value,
        unit="seconds",
        previous=previous,
        trend=trend_of(key, value, previous),
        samples=samples,
        note=note,
    )
