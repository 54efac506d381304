"""The GPU suite's dry run (benchmarks/gpu/suite.py --dry-run): every section
runs at tiny shapes on the CPU, Triton interpreted, and writes its report, so
the command a session with a GPU pastes cannot fail for a silly reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_dry_run_writes_every_section(tmp_path: Path):
    out = tmp_path / "report"
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu" / "suite.py"), "--out", str(out), "--dry-run"], cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads((out / "report.json").read_text())
    assert report["dry_run"] and report["skipped"] == []
    impls = {r["impl"] for r in report["kernels"]["rows"]}
    assert {"eager", "torch", "triton"} <= impls, impls
    assert report["kernels"]["checks"] and all(c["ok"] for c in report["kernels"]["checks"])
    assert {c["impl"] for c in report["kernels"]["checks"]} == {"torch", "triton"}
    assert {(r["model"], r["variant"]) for r in report["training"]["rows"]} >= {("r2plus1d", "base"), ("stca", "base"), ("r2plus1d", "channels_last_3d")}
    assert all(r["clips_per_second"] > 0 and 0 <= r["data_wait_fraction"] <= 1 for r in report["training"]["rows"])
    assert set(report["training"]["loading_clips_per_second"]) == {"decode-once cache", "decode per access"}
    assert {r["mode"] for r in report["ag_sononet"]} == {"forward", "forward+backward"}
    assert len(report["goals"]) == 6 and all(g["met"] is None for g in report["goals"]), "a dry run claims no goal"
    text = (out / "report.md").read_text()
    assert text.startswith("# cardiobench GPU suite (dry run") and "## Kernels" in text and "## Training throughput" in text
