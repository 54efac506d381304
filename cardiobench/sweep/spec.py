"""A sweep file: the grid of runs (task x models x seeds x presets x data x
overrides) and the resources each run asks for.

```yaml
task: lvef
models: [mc3, r3d]
seeds: [0, 1, 2]
presets: [paper]
data:                        # default: the task's dataset, synthetic
  - {dataset: echonet-dynamic, data_root: ~/data/EchoNet-Dynamic}
  - {test_dataset: camus, test_data_root: ~/data/CAMUS}   # external validation: train on the task's dataset, test on CAMUS
overrides:                   # a list expands to the grid; a list of lists gives list values
  train.lr: [1.0e-4, 3.0e-4]
resources:
  gpus_per_run: 1
  cpus_per_run: 8
track: [mlflow]              # experiment trackers of every run (they never change results)
```
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cardiobench.errors import ConfigError
from cardiobench.run_request import RunRequest, request_name

TOP_KEYS = {"task", "models", "seeds", "presets", "data", "overrides", "resources", "runs_dir", "track"}
DATA_KEYS = {"dataset", "data_root", "test_dataset", "test_data_root"}


@dataclass(frozen=True)
class Resources:
    """What each run of a sweep asks its executor for."""

    gpus_per_run: int = 0  # > 1: one run data-parallel over that many GPUs (SLURM tasks of one job)
    cpus_per_run: int = 2
    mem_gb: int = 16
    timeout_min: int = 240
    partition: str | None = None  # SLURM partition
    array_parallelism: int = 4  # at most this many runs at once (SLURM array, local subprocesses)
    device: str = "auto"
    ray_address: str | None = None  # Ray: an existing cluster's address (default: start or join a local one)


@dataclass(frozen=True)
class Point:
    """One grid point: the run it makes and the directory it makes it in."""

    request: RunRequest
    name: str

    def label(self) -> dict[str, Any]:
        r = self.request
        return {"point": self.name, "model": r.model, "preset": r.preset, "seed": r.seed, "data": (r.data_root or r.dataset or "synthetic") + (f" -> {r.test_data_root or r.test_dataset}" if r.test_dataset else ""), "overrides": " ".join(r.overrides)}


@dataclass(frozen=True)
class Sweep:
    task: str
    points: list[Point]
    resources: Resources
    runs_dir: Path | None = None
    source: Path = field(default=Path("sweep.yaml"))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _override_grid(overrides: dict[str, Any]) -> list[list[str]]:
    keys = sorted(overrides)
    choices = [_as_list(overrides[key]) for key in keys]
    return [[f"{key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}" for key, value in zip(keys, combo)] for combo in itertools.product(*choices)]


def load(path: Path, plugins: list[str] | None = None) -> Sweep:
    """Read and check a sweep file; every problem is named in one error."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"Cannot read sweep file {path}: {exc.strerror or exc}.") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"Sweep file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"Sweep file {path} must be a mapping with at least task and models.")
    problems = [f"unknown key {key!r} (known: {', '.join(sorted(TOP_KEYS))})" for key in raw if key not in TOP_KEYS]
    if not isinstance(raw.get("task"), str):
        problems.append("task must be a task name")
    models = _as_list(raw.get("models", []))
    if not models or not all(isinstance(m, str) for m in models):
        problems.append("models must be a model name or a list of them")
    seeds = _as_list(raw.get("seeds", 0))
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        problems.append("seeds must be non-negative integers")
    presets = _as_list(raw.get("presets", "quick"))
    if not all(isinstance(p, str) for p in presets):
        problems.append("presets must be preset names")
    data = _as_list(raw.get("data", {}))
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or set(entry) - DATA_KEYS:
            problems.append(f"data[{i}] must be a mapping of {', '.join(sorted(DATA_KEYS))}")
    overrides = raw.get("overrides", {}) or {}
    if not isinstance(overrides, dict) or not all(isinstance(k, str) and "." in k for k in overrides):
        problems.append("overrides must map dotted config keys (train.lr) to a value or a list of values")
    track = _as_list(raw.get("track", []))
    if not all(isinstance(t, str) for t in track):
        problems.append("track must be a tracker name or a list of them")
    resources_raw = raw.get("resources", {}) or {}
    known = set(Resources.__dataclass_fields__)
    if not isinstance(resources_raw, dict):
        problems.append("resources must be a mapping")
    else:
        problems += [f"unknown key resources.{key} (known: {', '.join(sorted(known))})" for key in resources_raw if key not in known]
    if problems:
        raise ConfigError(f"Sweep file {path} has {len(problems)} problem(s): " + "; ".join(problems) + ".")
    resources = Resources(**resources_raw)
    if resources.gpus_per_run < 0 or resources.cpus_per_run < 1 or resources.array_parallelism < 1:
        raise ConfigError(f"Sweep file {path}: resources need gpus_per_run >= 0, cpus_per_run >= 1 and array_parallelism >= 1.")
    points = []
    for model, preset, seed, entry, combo in itertools.product(models, presets, seeds, data, _override_grid(overrides)):
        root, test_root = entry.get("data_root"), entry.get("test_data_root")
        request = RunRequest(
            task=raw["task"],
            model=model,
            dataset=entry.get("dataset"),
            data_root=str(Path(root).expanduser().resolve()) if root else None,
            test_dataset=entry.get("test_dataset"),
            test_data_root=str(Path(test_root).expanduser().resolve()) if test_root else None,
            preset=preset,
            seed=seed,
            overrides=combo,
            device=resources.device,
            plugins=list(plugins or []),
            track=list(track),
        )
        points.append(Point(request, request_name(request)))
    runs_dir = Path(raw["runs_dir"]).expanduser() if raw.get("runs_dir") else None
    return Sweep(raw["task"], points, resources, runs_dir, path)
