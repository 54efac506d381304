"""The cost of portable numerics against native, per training step, on the ci
and quick presets (one model per task; ``numerics_steps.py``).

A numerics mode holds for a whole process, so each (mode, preset) is timed in
a process of its own; native and portable alternate so drift hits both alike.
Reported: portable / native seconds per step, per model and as a geometric
mean. No target: portable numerics buy bit-identical results on any x86-64 CPU
(what CI regeneration needs) at this price; native stays the default elsewhere.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.numerics_steps import CASES

ROUNDS = int(os.environ.get("CARDIOBENCH_NUMERICS_ROUNDS", "1"))
REPO = Path(__file__).resolve().parent.parent


def _steps(mode: str, preset: str, out: Path) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR")}
    done = subprocess.run([sys.executable, "-m", "benchmarks.numerics_steps", mode, preset, str(out)], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(out.read_text())["seconds_per_step"]


@pytest.mark.parametrize("preset", ["ci", "quick"])
def test_portable_numerics_cost(preset: str, benchmark, report, tmp_path: Path):
    seconds: dict[str, dict[str, list[float]]] = {"native": {}, "portable": {}}
    for round_ in range(ROUNDS):
        for mode in ("native", "portable") if round_ % 2 == 0 else ("portable", "native"):
            for case, s in _steps(mode, preset, tmp_path / f"{mode}-{round_}.json").items():
                seconds[mode].setdefault(case, []).append(s)
    ratios = {case: min(seconds["portable"][case]) / min(seconds["native"][case]) for case in seconds["native"]}
    geomean = math.exp(sum(math.log(r) for r in ratios.values()) / len(ratios))
    benchmark.extra_info.update({"ratios": ratios, "geomean": geomean, "seconds": seconds})
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    assert set(ratios) == {f"{task}/{model}" for task, model in CASES}
    report(
        f"portable / native numerics, {preset} preset, seconds per training step: geometric mean {geomean:.2f}x ("
        + ", ".join(f"{case} {r:.2f}x" for case, r in ratios.items())
        + ")"
    )
