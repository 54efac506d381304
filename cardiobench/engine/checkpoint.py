"""Checkpoints: written atomically, read with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from cardiobench import atomic
from cardiobench.errors import CardiobenchError


def save(path: Path, state: dict[str, Any]) -> None:
    atomic.write_with(path, lambda handle: torch.save(state, handle))


def load(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CardiobenchError(f"Cannot load checkpoint {path}: {type(exc).__name__}: {exc}") from exc


def load_matching(model: torch.nn.Module, path: Path) -> tuple[list[str], list[str]]:
    """Copy the weights of checkpoint ``path`` into ``model`` wherever a
    parameter or buffer has the same name and shape (e.g. a Sononet's features
    into an AG-Sononet); returns (loaded names, names of ``model`` left as they were)."""
    state = load(path)["model"]
    own = model.state_dict()
    matching = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not matching:
        raise CardiobenchError(f"No weight of {path} matches the model by name and shape; nothing to initialise from.")
    model.load_state_dict(matching, strict=False)
    return sorted(matching), sorted(k for k in own if k not in matching)
