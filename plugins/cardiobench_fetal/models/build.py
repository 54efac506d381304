"""Model builders of the fetal plugin, read from a run's config."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from torch import nn

from cardiobench.engine import checkpoint
from cardiobench.errors import ConfigError
from cardiobench_fetal.models.ag_sononet import AGSononet
from cardiobench_fetal.models.sononet import Sononet
from cardiobench_fetal.planes.layout import class_names

DEFAULTS = {"init_from": "", "norm": "range", "gate_backend": None}


def init_from(model: nn.Module, run_dir: str) -> None:
    """Start from a finished run's selected weights where names and shapes
    match (the authors initialise AG-Sononet from a partly trained Sononet)."""
    found = sorted(Path(run_dir).expanduser().glob("checkpoints/*/best.pt"))
    if len(found) != 1:
        raise ConfigError(f"model.init_from={run_dir!r} must be a finished cardiobench run directory with one checkpoints/<fold>/best.pt; found {len(found)}.")
    loaded, kept = checkpoint.load_matching(model, found[0])
    print(f"model.init_from: {len(loaded)} tensors from {found[0]}; {len(kept)} newly initialised", flush=True)


def builder(width: int, aggregation: str | None) -> Callable[[Mapping[str, Any], Mapping[str, Any]], nn.Module]:
    """Sononet-``width`` (``aggregation=None``) or AG-Sononet-``width``."""

    def build(config: Mapping[str, Any], _info: Mapping[str, Any]) -> nn.Module:
        n_classes = len(class_names(str(config["data"]["classes"])))
        cfg = config["model"]
        if aggregation is None:
            model: nn.Module = Sononet(width, n_classes)
        else:
            model = AGSononet(width, n_classes, aggregation, str(cfg["norm"]), backend=cfg["gate_backend"])
        if cfg["init_from"]:
            init_from(model, str(cfg["init_from"]))
        return model

    return build
