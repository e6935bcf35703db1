"""Delivery measures at scale: a year of history with a million builds and 50,000 deploys, and
the time each delivery fact takes.

    python bench/delivery.py [--builds 1000000] [--deploys 50000] [--pipelines 200]
                             [--services 40] [--runs 5] [--db PATH]

The store is filled with SQL straight into its tables (the write path is measured by
``bench/history.py``; this one measures reading): builds of 200 main pipelines with red spells
and re-runs, the queue wait of every build, the commits of a quarter of the pipelines, deploys of
built commits to production, staging and qa (some failed, suspect or rolled back), service
outages and gate holds, and the stages (build, test, deploy) of half the pipelines' builds.
Then, median of ``--runs`` runs, each part of ``delivery_facts`` over 7 and 30 days with the windows before them, and the whole of it. The day rollups are computed
once on first use (as for the screen's trends; the cold figure is printed apart).

Target (issue "Measure what moves the needle"): every delivery fact under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from buildradiator.clock import FakeClock
from buildradiator.history import History
from buildradiator.history.delivery_queries import (
    commits_per_build,
    deploy_rows,
    gate_changes,
    health_changes,
    main_days,
    main_landings,
    undeployed,
)
from buildradiator.history.delivery_report import delivery_facts
from buildradiator.history.queue_rollups import queue_days
from buildradiator.history.stages import stage_buckets
from buildradiator.rules.congestion import gate_facts, queue_facts
from buildradiator.rules.delivery import four_keys, restore_facts
from buildradiator.rules.dora import DAY
from buildradiator.rules.stages import stage_bucket, stage_facts

END = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TARGET_MS = 50.0


def fill(history: History, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    end = END.timestamp()
    start = end - args.days * DAY
    db = history._db
    per_pipeline = args.builds // args.pipelines
    shipped: dict[int, list[tuple[str, float]]] = {}
    with history._transaction():
        for p in range(args.pipelines):
            pid = history._pid(db, ("gh", f"team{p % 12}/service-{p}"))
            gap = (end - start) / per_pipeline
            t = start
            rows, waits, commits, built, stages = [], [], [], [], []
            red = 0
            for n in range(per_pipeline):
                t += gap * rng.uniform(0.5, 1.5)
                sha = f"{p:03d}{n:07d}"
                if red == 0 and rng.random() < 0.04:
                    red = rng.randint(1, 5)
                status = "failed" if red else "passed"
                red = max(0, red - 1)
                took = rng.uniform(300, 1500)
                rows.append((pid, str(n), 1, n, "main", sha, "dev", "Change", status, None,
                             t, t + took, 0, None))  # fmt: skip
                waits.append((pid, str(n), 1, t - rng.expovariate(1 / 60), t))
                if p % 2 == 0:  # half the pipelines name stages: build, test (dominant), deploy
                    ok = status == "passed"
                    spent = {"build": rng.uniform(120, 240), "test": rng.uniform(360, 720)}
                    if ok:
                        spent["deploy"] = rng.uniform(50, 70)
                    stages += [(pid, str(n), 1, name, i, s, stage_bucket(s), int(ok), t + took)
                               for i, (name, s) in enumerate(spent.items())]  # fmt: skip
                if p % 4 == 0:
                    commits += [(pid, f"{sha}-{k}", t - 60 * (k + 1)) for k in range(2)]
                if status == "passed":
                    built.append((sha, t))
            db.executemany(
                "INSERT INTO builds (pipeline_id, build_id, attempt, number, branch, commit_sha,"
                " author, message, status, provider_status, started_at, finished_at,"
                " time_guessed, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.executemany("INSERT INTO queue_waits VALUES (?, ?, ?, ?, ?)", waits)
            db.executemany("INSERT INTO build_stages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", stages)
            db.executemany("INSERT OR IGNORE INTO commits VALUES (?, ?, ?)", commits)
            shipped[p] = built
        envs = ("production", "staging", "qa")
        per_target = args.deploys // (args.services * len(envs))
        deploys, changes = [], []
        for s in range(args.services):
            built = shipped[s % args.pipelines]
            for env in envs:
                step = max(1, len(built) // per_target)
                for k, (sha, landed) in enumerate(built[::step][:per_target]):
                    at = landed + rng.uniform(600, 20 * 3600)
                    roll = rng.random()
                    state = "failed" if roll < 0.05 else "succeeded"
                    suspect = "5xx" if 0.05 <= roll < 0.1 else None
                    resolved = at + 1800 if suspect else None
                    deploys.append((f"svc-{s}", env, f"d{k}", sha, state, suspect, resolved, at,
                                    f"team{s % 12}/service-{s}"))  # fmt: skip
            t = start
            while t < end:
                t += rng.uniform(0.5, 3) * DAY
                changes += [(f"svc-{s}", "production", "down", t),
                            (f"svc-{s}", "production", "up", t + rng.uniform(60, 7200))]  # fmt: skip
        db.executemany(
            "INSERT INTO deploys (source, service, environment, deploy_key, commit_sha, state,"
            " suspect, resolved_at, at, finished_at, pipeline)"
            " VALUES ('gh', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*d[:8], d[7], d[8]) for d in deploys],
        )
        db.executemany(
            "INSERT INTO service_changes (service, environment, health, at) VALUES (?, ?, ?, ?)",
            changes,
        )
        t = start
        gates = []
        while t < end:
            t += rng.uniform(2, 12) * 3600
            reasons = [["main_red", "main red"]] if rng.random() < 0.7 else [["service_down", "x"]]
            gates += [(0, json.dumps(reasons), t), (1, "[]", t + rng.uniform(600, 4 * 3600))]
        db.executemany("INSERT INTO gate_changes (go, reasons, at) VALUES (?, ?, ?)", gates)
    db.execute("ANALYZE")


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU ms (the machine may be shared: CPU time is what the call costs)."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=1_000_000)
    parser.add_argument("--deploys", type=int, default=50_000)
    parser.add_argument("--pipelines", type=int, default=200)
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, help="store path (default: a temp dir, removed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "history.sqlite"
        history = History.open(path, retention_days=args.days + 30, clock=FakeClock(END))
        t0 = time.perf_counter()
        fill(history, args)
        print(f"filled {args.builds:,} builds, {args.deploys:,} deploys in"
              f" {time.perf_counter() - t0:.1f}s", file=sys.stderr)  # fmt: skip
        now = END.timestamp()
        today = int(now // DAY)
        t0 = time.perf_counter()
        rollups = {d: main_days(history, d) for d in (7, 30)}
        print(f"build day rollups, first use (cold): {(time.perf_counter() - t0) * 1000:.0f} ms")
        t0 = time.perf_counter()
        queue_days(history, today - 59, today, today=today)
        print(f"queue day rollups, first use (cold): {(time.perf_counter() - t0) * 1000:.0f} ms")
        t0 = time.perf_counter()
        for days in (7, 30):
            stage_buckets(history, today - days + 1, today, today=today)
            stage_buckets(history, today - 2 * days + 1, today - days, today=today)
        print(f"stage windows, first use today (cold): {(time.perf_counter() - t0) * 1000:.0f} ms")
        deploys = deploy_rows(history, now - 60 * DAY, now + 1)
        landings = main_landings(history, deploys)
        changes = health_changes(history, now - 60 * DAY, now + 1)
        gates, initial = gate_changes(history, now - 60 * DAY, now + 1)

        def queue(days: int) -> object:
            waits, hours = queue_days(history, today - days + 1, today, today=today)
            before, _ = queue_days(history, today - 2 * days + 1, today - days, today=today)
            return queue_facts(days, waits, before, hours, "UTC")

        def stages(days: int) -> object:
            this = stage_buckets(history, today - days + 1, today, today=today)
            before = stage_buckets(history, today - 2 * days + 1, today - days, today=today)
            return stage_facts(days, this, before)

        parts: dict[str, Callable[[], object]] = {
            "deploys read (60 d)": lambda: deploy_rows(history, now - 60 * DAY, now + 1),
            "commit landings (60 d)": lambda: main_landings(history, deploys),
            "four keys (rules)": lambda: four_keys(
                deploys, now=now, windows=(7, 30), landings=landings
            ),
            "restores main+service": lambda: restore_facts(
                [(d, *main_days(history, d)) for d in (7, 30)], changes, now=now
            ),
            "health changes read": lambda: health_changes(history, now - 60 * DAY, now + 1),
            "queue wait + hours (30 d)": lambda: queue(30),
            "commits per build (30 d)": lambda: commits_per_build(history, now - 30 * DAY, now),
            "oldest undeployed": lambda: undeployed(history),
            "gate hold (30 d)": lambda: gate_facts(
                30, gate_changes(history, now - 60 * DAY, now + 1)[0], initial, initial, now=now
            ),
            "retry time (rollups)": lambda: rollups and main_days(history, 30),
            "stage times (7 d)": lambda: stages(7),
            "stage times (30 d)": lambda: stages(30),
        }
        print(f"{'fact':<28} {'wall ms':>9} {'CPU ms':>9}")
        worst = 0.0
        for name, fn in parts.items():
            wall, cpu = timed(fn, args.runs)
            worst = max(worst, cpu)
            print(f"{name:<28} {wall:>9.1f} {cpu:>9.1f}")
        wall, cpu = timed(lambda: delivery_facts(history, now=END, windows=(7, 30)), args.runs)
        print(f"{'all of delivery_facts':<28} {wall:>9.1f} {cpu:>9.1f}")
        print(f"rows: {len(deploys):,} deploys in 60 d, {len(changes):,} health changes,"
              f" {len(gates):,} gate changes")  # fmt: skip
        staged = history._db.execute("SELECT count(*) FROM build_stages").fetchone()[0]
        days_rows = len(stage_buckets(history, today - 59, today, today=today))
        print(f"stage rows: {staged:,} (half the pipelines), {days_rows:,} histogram rows in 60 d")
        verdict = "MET" if worst < TARGET_MS else "MISSED"
        print(f"target: every delivery fact under {TARGET_MS:.0f} ms CPU -> {verdict}"
              f" (slowest {worst:.1f} ms)")  # fmt: skip
        history.close()


if __name__ == "__main__":
    main()
