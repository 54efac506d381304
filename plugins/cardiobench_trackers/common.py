"""What every tracker records, named once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cardiobench.config import flatten
from cardiobench.specs import RunInfo


def epoch_scalars(run: RunInfo, fold: str, values: dict[str, float], separator: str) -> dict[str, float]:
    """An epoch's values by name, under the fold's name when the run has several."""
    prefix = f"{fold}{separator}" if len(run.folds) > 1 else ""
    return {f"{prefix}{key}": float(value) for key, value in values.items()}


def test_scalars(record: dict[str, Any]) -> dict[str, float]:
    """``test_<metric>`` and its 95% interval bounds (those that are finite)."""
    out: dict[str, float] = {}
    for metric, bounds in record["metrics"].items():
        for field, value in bounds.items():
            if value is not None:
                out[f"test_{metric}" + ("" if field == "value" else f"_{field}")] = float(value)
    return out


def params(run: RunInfo) -> dict[str, str]:
    """The run's identity and every config key, as strings."""
    return {"task": run.task, "model": run.model, "seed": str(run.seed), "preset": run.preset, **{key: str(value) for key, value in flatten(run.config).items()}}


def plot_files(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "plots").rglob("*.png"))
