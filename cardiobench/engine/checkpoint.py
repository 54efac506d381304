"""Checkpoints: written atomically, read with ``weights_only=True``."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from cardiobench import atomic
from cardiobench.errors import CardiobenchError


def save(path: Path, state: dict[str, Any]) -> None:
    atomic.write_with(path, lambda handle: torch.save(state, handle))


class UnreadableCheckpoint(CardiobenchError):
    """A checkpoint file that is missing, truncated, corrupted or not weights-only."""


def load(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A checkpoint's dict of tensors and plain values (``weights_only=True``:
    a file that needs arbitrary Python objects is refused, never executed)."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower() or "weights_only" in str(exc):
            raise UnreadableCheckpoint(
                f"{path} is a full pickle (it stores Python objects, not only tensors); cardiobench loads weights only, so that a file cannot run code. "
                "Save a state dict instead: torch.save({'model': model.state_dict()}, PATH) (or torch.save(model.state_dict(), PATH))."
            ) from exc
        raise UnreadableCheckpoint(f"{path} is not a readable checkpoint (corrupted: {exc}).") from exc
    except FileNotFoundError as exc:
        raise UnreadableCheckpoint(f"Checkpoint {path} does not exist.") from exc
    except Exception as exc:
        raise UnreadableCheckpoint(f"{path} is not a readable checkpoint (truncated or corrupted: {type(exc).__name__}: {str(exc)[:200]}).") from exc


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
