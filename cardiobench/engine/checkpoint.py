"""Checkpoints: written atomically, read with ``weights_only=True``."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import torch

from cardiobench import atomic
from cardiobench.errors import CardiobenchError


def save(path: Path, state: dict[str, Any]) -> None:
    atomic.write_with(path, lambda handle: torch.save(state, handle))


class BackgroundWriter:
    """Checkpoints written on one background thread while training goes on
    (an STCA quick epoch's 0.5 GB took 1 s of 33 on 2 CPU cores).

    ``save`` waits for the previous writes, then snapshots the states (later
    steps cannot touch what is written; one snapshot is held at a time) and
    writes them in order, each atomically. Leaving the ``with`` block waits for
    the last writes and raises their error, unless one is already on its way.
    A run killed mid-write keeps the previous complete file, so a resume
    repeats at most one epoch, to the same result.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._pending: Future[None] | None = None

    def save(self, writes: Sequence[tuple[Path, dict[str, Any]]]) -> None:
        self.wait()
        snapshots = copy.deepcopy(list(writes))  # one copy: best.pt and last.pt share the model's tensors

        def write_all() -> None:
            for path, state in snapshots:
                save(path, state)

        self._pending = self._pool.submit(write_all)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None) -> None:
        try:
            if kind is None:
                self.wait()
            elif self._pending is not None:
                self._pending.exception()  # finished, its own error dropped for the one on its way
        finally:
            self._pool.shutdown(wait=True)


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
