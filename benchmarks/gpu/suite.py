"""Every GPU figure in one command: kernels, training throughput, data loading
and the AG-Sononet overhead, written as report.json and report.md.

    python benchmarks/gpu/suite.py --out DIR [--budget-s 480] [--dry-run]

On one H100/H200 it fits in ``--budget-s`` seconds of wall time: sections run
in order of importance and a measurement that would start past the budget is
skipped and named in the report. ``--dry-run`` runs the same code at tiny
shapes on whatever device there is, with Triton interpreted on a CPU
(TRITON_INTERPRET=1), two training steps per variant and no torch.compile,
on the CPU, so the test suite keeps this script from rotting between GPUs
(tests/test_gpu_suite.py). The goals it checks are issue 31's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

GOALS = {
    "tca_triton_speedup": ("Triton tca_pool_diff + excite at least 3x eager (forward+backward, bf16, every stage)", 3.0),
    "tca_triton_bandwidth": ("Triton TCA at least 70% of copy bandwidth (moonshot 85%)", 0.70),
    "gate_triton_speedup": ("Triton attention_gate at least 3x eager (forward+backward, bf16)", 3.0),
    "gate_ahead_of_compile": ("Triton attention_gate faster than torch.compile of the module code", 1.0),
    "gpu_never_waits": ("the GPU never waits for data: at most 5% of step time (best variant)", 0.05),
    "cache_vs_decode": ("decode-once cache at least 10x decoding per access (clips/s)", 10.0),
}


class Budget:
    """Wall-time budget: what starts after it is spent is skipped and listed."""

    def __init__(self, seconds: float):
        self.end, self.skipped = time.perf_counter() + seconds, []

    def allows(self, what: str, needs: float = 0.0) -> bool:
        if time.perf_counter() + needs <= self.end:
            return True
        self.skipped.append(what)
        print(f"skipped (budget spent): {what}", flush=True)
        return False


def environment(device: Any) -> dict[str, Any]:
    import torch

    from cardiobench.kernels import triton_available

    out: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda, "device": "cpu", "host": platform.node()}
    if triton_available():
        import triton

        out["triton"] = triton.__version__
    if device.type == "cuda":
        out["device"] = torch.cuda.get_device_name(device)
        try:
            out["driver"] = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out["driver"] = "unknown (nvidia-smi failed)"
    out["triton_mode"] = "interpreted (TRITON_INTERPRET=1)" if os.environ.get("TRITON_INTERPRET") == "1" else ("compiled" if device.type == "cuda" else "absent on CPU")
    return out


def kernels(device: Any, dry: bool, budget: Budget) -> dict[str, Any]:
    """Speed rows and float64 correctness checks of the three kernels at the
    STCA and AG-Sononet training shapes, bf16 (with torch.compile) then float32."""
    import torch

    from cardiobench.kernels import bench

    bandwidth = bench.copy_bandwidth(device, megabytes=8 if dry else 1024)
    rows, checks = [], []
    dtypes = [torch.float32] if dry else [torch.bfloat16, torch.float32]
    shapes = {"tiny": (16, 4, 6)} if dry else None
    stages = list(shapes or bench.STCA_STAGES)
    for dtype in dtypes:
        name = str(dtype).removeprefix("torch.")
        compile_eager = not dry and dtype == torch.bfloat16  # compile once, at the training dtype
        for stage in stages:
            if budget.allows(f"kernels TCA {stage} {name}", needs=0 if dry else 20):
                rows += bench.run_tca(device, 1 if dry else 20, 1 if dry else 10, bandwidth, compile_eager, [stage], dtype, shapes, checks)
        for n in [8] if dry else [8, 16, 32]:
            if budget.allows(f"kernels gate n={n} {name}", needs=0 if dry else 20):
                rows += bench.run_gate(device, 1 if dry else 64, 1 if dry else 10, bandwidth, compile_eager, [n], dtype=dtype, scale=8 if dry else 1, checks=checks)
    return {
        "copy_bandwidth_gb_s": bandwidth / 1e9,
        "rows": [r.__dict__ for r in rows],
        "checks": [c.__dict__ | {"ok": c.ok} for c in checks],
    }


def training(device: Any, dry: bool, budget: Budget) -> dict[str, Any]:
    """lvef r2plus1d and stca at the paper preset's clip size, batch 20, AMP:
    clips/s, data wait and GPU memory per variant; loading alone, cached and
    decoded per access."""
    from benchmarks.gpu import throughput
    from cardiobench.registry import load_registry

    registry = load_registry()
    small = ["data.synthetic_videos=8", "data.frames=4", "data.size=16", "data.normalization_videos=4"] if dry else ["data.synthetic_videos=64", "data.normalization_videos=16"]
    batch, steps = (2, 2) if dry else (20, 12)
    workers = 0 if dry else min(8, os.cpu_count() or 1)
    cached, info = throughput.clip_data(small)
    per_access, _ = throughput.clip_data([*small, "data.video_cache=none"])
    loading = {}
    for label, dataset in (("decode-once cache", cached), ("decode per access", per_access)):
        if budget.allows(f"loading {label}", needs=0 if dry else 20):
            loading[label] = throughput.loading_rate(dataset, batch, workers, 2 if dry else 10)
    variants = [("base", {}), ("channels_last_3d", {"channels_last": True})]
    if device.type == "cuda":
        variants += [("pinned memory", {"pin": True}), ("prefetch 4", {"prefetch": 4}), ("torch.compile", {"compile_model": True})]
    results = []
    for model in ("r2plus1d", "stca"):
        data = throughput.WithPseudoMasks(cached) if model == "stca" else cached
        for variant, options in variants:
            if budget.allows(f"training {model} {variant}", needs=0 if dry else 40):
                results.append(throughput.train_rate(registry, model, variant, data, info, device, batch, steps, workers, warmup=0 if dry else 3, **options))
        if device.type == "cuda" and budget.allows(f"training {model} decode per access", needs=40):
            results.append(throughput.train_rate(registry, model, "decode per access", throughput.WithPseudoMasks(per_access) if model == "stca" else per_access, info, device, batch, steps, workers))
    return {"clip": "paper preset: 32 frames at period 2, 112x112" if not dry else "dry run: 4 frames, 16x16", "batch": batch, "workers": workers, "loading_clips_per_second": loading, "rows": throughput.as_rows(results)}


def ag_sononet(device: Any, dry: bool, budget: Budget) -> list[dict[str, Any]]:
    """AG-Sononet-n against Sononet-n per image, forward and forward+backward (paper Table 1: +37% / +33% at n = 8)."""
    import torch

    from benchmarks.timing import paired_medians
    from cardiobench_fetal.models.ag_sononet import AGSononet
    from cardiobench_fetal.models.sononet import Sononet

    batch, height, width = (1, 26, 34) if dry else (64, 208, 272)
    x = torch.randn(batch, 1, height, width, device=device)
    target = torch.randint(0, 6, (batch,), device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rows = []
    for n in [8] if dry else [8, 16, 32]:
        if not budget.allows(f"AG-Sononet n={n}", needs=0 if dry else 15):
            continue
        base, gated = Sononet(n, 6).to(device), AGSononet(n, 6, "mean").to(device)

        def forward(model: Any) -> None:
            with torch.no_grad():
                model(x)
            sync()

        def train_step(model: Any) -> None:
            model.zero_grad(set_to_none=True)
            model.loss(model(x), {"target": target}).backward()
            sync()

        for mode, step in (("forward", forward), ("forward+backward", train_step)):
            step(base), step(gated)
            base_s, gated_s = paired_medians(lambda: step(base), lambda: step(gated), rounds=1 if dry else 10)
            rows.append({"n": n, "mode": mode, "sononet_ms_per_image": 1000 * base_s / batch, "ag_sononet_ms_per_image": 1000 * gated_s / batch, "overhead": gated_s / base_s - 1})
    return rows


def goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with what was measured and whether it is met (None: not measured)."""
    rows = [r for r in report.get("kernels", {}).get("rows", []) if r["mode"] == "forward+backward" and "bfloat16" in r["workload"]]

    def worst(prefix: str, impl: str, field: str) -> float | None:
        values = [r[field] for r in rows if r["workload"].startswith(prefix) and r["impl"] == impl]
        return min(values) if values else None

    def gate_vs_compile() -> float | None:
        pairs = [(r, c) for r in rows if r["workload"].startswith("gate") and r["impl"] == "triton" for c in rows if c["workload"] == r["workload"] and c["impl"] == "compiled"]
        return min(c["ms"] / r["ms"] for r, c in pairs) if pairs else None

    train = report.get("training", {})
    waits = [r["data_wait_fraction"] for r in train.get("rows", []) if r["variant"] != "decode per access"]
    loading = train.get("loading_clips_per_second", {})
    cache = loading["decode-once cache"] / loading["decode per access"] if len(loading) == 2 else None
    measured = {
        "tca_triton_speedup": worst("TCA", "triton", "speedup_vs_eager"),
        "tca_triton_bandwidth": worst("TCA", "triton", "copy_fraction"),
        "gate_triton_speedup": worst("gate", "triton", "speedup_vs_eager"),
        "gate_ahead_of_compile": gate_vs_compile(),
        "gpu_never_waits": min(waits) if waits else None,
        "cache_vs_decode": cache,
    }
    out = []
    for key, (text, target) in GOALS.items():
        value = measured[key]
        met = None if value is None or report["dry_run"] else (value <= target if key == "gpu_never_waits" else value >= target)  # tiny shapes prove nothing
        out.append({"goal": key, "description": text, "target": target, "measured": value, "met": met})
    return out


def markdown(report: dict[str, Any]) -> str:
    import polars as pl

    from cardiobench.tables import markdown as table

    env = report["environment"]
    lines = [
        "# cardiobench GPU suite" + (" (dry run: tiny shapes, not figures)" if report["dry_run"] else ""),
        "",
        f"`python benchmarks/gpu/suite.py --out DIR{' --dry-run' if report['dry_run'] else ''}` in {report['seconds']:.0f} s: "
        + ", ".join(f"{k} {v}" for k, v in env.items()),
        "",
    ]
    if report["skipped"]:
        lines += [f"Skipped when the {report['budget_s']:.0f} s budget was spent: " + "; ".join(report["skipped"]) + ".", ""]
    lines += ["## Goals", "", table(pl.DataFrame([{k: ("" if v is None else v) for k, v in g.items()} for g in report["goals"]])), ""]
    kernel = report.get("kernels", {})
    if kernel.get("rows"):
        lines += [f"## Kernels (copy bandwidth {kernel['copy_bandwidth_gb_s']:.1f} GB/s)", "", table(pl.DataFrame(kernel["rows"])), ""]
        lines += ["### Against float64 references", "", table(pl.DataFrame(kernel["checks"])), ""]
    train = report.get("training", {})
    if train.get("rows"):
        lines += [f"## Training throughput ({train['clip']}, batch {train['batch']}, {train['workers']} loader workers)", "", table(pl.DataFrame(train["rows"])), ""]
        lines += ["Loading alone (clips/s): " + ", ".join(f"{k} {v:.1f}" for k, v in train["loading_clips_per_second"].items()), ""]
    if report.get("ag_sononet"):
        lines += ["## AG-Sononet against Sononet (paper Table 1: +37% forward, +33% forward+backward at n = 8)", "", table(pl.DataFrame(report["ag_sononet"])), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--budget-s", type=float, default=480.0)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    if args.dry_run:
        os.environ.setdefault("TRITON_INTERPRET", "1")  # before Triton is imported: the dry run is on the CPU
    sys.path.insert(0, str(REPO))
    import torch

    from cardiobench import progress

    progress.set_enabled(False)
    start, budget = time.perf_counter(), Budget(args.budget_s)
    device = torch.device("cuda" if torch.cuda.is_available() and not args.dry_run else "cpu")
    report: dict[str, Any] = {"dry_run": args.dry_run, "budget_s": args.budget_s, "environment": environment(device)}
    report["kernels"] = kernels(device, args.dry_run, budget)
    report["training"] = training(device, args.dry_run, budget)
    report["ag_sononet"] = ag_sononet(device, args.dry_run, budget)
    report |= {"goals": goals(report), "skipped": budget.skipped, "seconds": time.perf_counter() - start}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, default=float))
    (args.out / "report.md").write_text(markdown(report))
    print(markdown(report))
    failed = [c for c in report["kernels"]["checks"] if not c["ok"]]
    if failed:
        print(f"{len(failed)} kernel check(s) outside tolerance: " + "; ".join(f"{c['workload']} {c['impl']}" for c in failed), file=sys.stderr)
    return 1 if failed else 0



if __name__ == "__main__":
    sys.exit(main())
