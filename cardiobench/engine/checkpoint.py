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
