"""Every benchmark in ``bench/`` still runs, at a tiny size, and prints its figures and verdict.

Not a timed test: the figures are not judged here (the benchmarks print MET or MISSED for that),
only that each one runs end to end against the real engine and app and reports what it measured.
The benchmarks run as separate processes, all at once, so the whole file takes a few seconds.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

RUNS: dict[str, list[str]] = {
    "poll_cycle": ["--sizes", "6", "--cycles", "2", "--kinds", "mixed"],
    "idle": ["--seconds", "0.5", "--warmup", "0.5", "--pipelines", "5", "--interval", "1"],
    "quota": [
        "--hours",
        "0.05",
        "--repos",
        "3",
        "--big-repos",
        "4",
        "--big-interval",
        "10",
        "--layout",
        "grouped",
    ],
    "reaction": ["--changes", "1", "--interval", "1", "--repos", "2", "--projects", "2"],
    "startup": ["--runs", "1", "--repos", "2", "--projects", "5"],
    "memory": ["--cycles", "16", "--repos", "1", "--projects", "5"],
    "buildnotify_compare": ["--projects", "7", "--polls", "2"],
    "serve_quota": ["--seconds", "2", "--screens", "3", "--interval", "1"],
    "delivery": ["--builds", "4000", "--deploys", "600", "--pipelines", "20", "--runs", "1"],
}


@pytest.fixture(scope="module")
def outputs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    home = tmp_path_factory.mktemp("home")
    # Nothing a benchmark does may touch the user's own config, cache or logs.
    env = {**os.environ, "BUILDRADIATOR_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(BENCH / f"{name}.py"), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name, args in RUNS.items()
    }
    done = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_every_benchmark_is_covered() -> None:
    scripts = {p.stem for p in BENCH.glob("*.py") if not p.stem.startswith("_")}
    assert scripts - {"history"} == set(RUNS)


def test_poll_cycle(outputs) -> None:
    out = ok(outputs["poll_cycle"])
    row = re.search(r"^mixed\s+(\d+)\s+([\d.]+)ms\s+([\d.]+)ms\s+([\d.]+)ms", out, re.M)
    assert row and int(row[1]) == 6  # every pipeline of the estate reached the snapshot
    assert float(row[2]) > 0 and float(row[4]) > 0  # engine and render both cost something
    assert re.search(r"^target: 6 pipelines under 100 ms CPU per cycle -> (MET|MISSED)", out, re.M)


def test_idle(outputs) -> None:
    out = ok(outputs["idle"])
    assert re.search(r"bare textual clock\s+\d+ ms CPU\s+[\d.]+% of a core", out)
    assert re.search(r"radiator, 5 pipelines\s+\d+ ms CPU\s+[\d.]+% of a core", out)
    assert re.search(r"^target: .* -> (MET|MISSED)$", out, re.M)


def test_quota(outputs) -> None:
    out = ok(outputs["quota"])
    with_etags = re.search(r"3 repos/30s \(a\) nothing changes, ETags\s+(\d+)\s+(\d+)\s+(\d+)", out)
    without = re.search(r"3 repos/30s \(a\) nothing changes, no ETags\s+(\d+)\s+(\d+)\s+(\d+)", out)
    assert with_etags and without
    requests, spent, not_modified = map(int, with_etags.groups())
    # Nothing changes: only the first poll of each repository costs quota, the rest are 304s.
    assert spent == 3 and not_modified == requests - 3 and requests > 3 * 3
    assert int(without[2]) == int(without[1]) and int(without[3]) == 0
    assert "target: the engine never runs into the rate limit ->" in out


def test_reaction(outputs) -> None:
    out = ok(outputs["reaction"])
    assert "reaction over 1/1 changes" in out
    assert re.search(r"on screen:\s+median [\d.]+, worst [\d.]+ of an interval", out)


def test_startup(outputs) -> None:
    out = ok(outputs["startup"])
    cold = re.search(r"cold \(no cache\)\s+\d+ ms\s+(\d+) ms\s+-\s+(\d+) ms", out)
    warm = re.search(r"warm \(cache from last run\)\s+\d+ ms\s+(\d+) ms\s+(\d+) ms\s+(\d+) ms", out)
    assert cold, out  # a cold start has no last known state to show
    assert warm, out  # a warm one shows the cache before fresh data arrives
    assert int(warm[2]) <= int(warm[3])


def test_memory(outputs) -> None:
    out = ok(outputs["memory"])
    answers = re.search(r"answers: (.*);", out)
    assert answers and all(k in answers[1] for k in ("500", "good", "html", "timeout", "truncated"))
    assert re.search(r"RSS at start [\d.]+ MB, after warm-up \(1 cycles\) [\d.]+ MB", out)
    assert re.search(r"^target: growth under 5 MB -> (MET|MISSED)$", out, re.M)


def test_buildnotify_compare(outputs) -> None:
    result = outputs["buildnotify_compare"]
    if importlib.util.find_spec("buildnotifylib") is None:
        # A bench-only package: without it the script says how to get it, in one line.
        assert result.returncode != 0 and "pip install buildnotify" in result.stderr
        return
    out = ok(result)
    assert re.search(r"BuildNotify \(get_data \+ status\)\s+7\s+[\d.]+ms", out)
    assert re.search(r"buildradiator CCTray source\s+7\s+[\d.]+ms", out)
    assert re.search(r"ratio buildradiator CCTray source / BuildNotify \(wall\): [\d.]+x", out)


def test_serve_quota(outputs) -> None:
    out = ok(outputs["serve_quota"])
    assert re.search(r"1 screen \(the engine alone\)\s+\d+\s+\d+", out)
    assert re.search(r"3 screens on `serve`\s+\d+\s+\d+", out)
    assert re.search(r"screens: \d+ answers", out)


def test_delivery(outputs) -> None:
    out = ok(outputs["delivery"])
    assert re.search(r"^four keys \(rules\)\s+[\d.]+\s+[\d.]+$", out, re.M)
    assert re.search(r"^all of delivery_facts\s+[\d.]+\s+[\d.]+$", out, re.M)
    assert re.search(r"^target: every delivery fact under 50 ms CPU -> (MET|MISSED)", out, re.M)
