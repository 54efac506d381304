"""Trained weights from a file, loaded by the engine into any model
(``--weights FILE``): a cardiobench checkpoint, a plain ``state_dict``, or a
timm / torchvision / Lightning checkpoint (``state_dict`` or ``model`` keys,
``module.`` / ``_orig_mod.`` / ``model.`` prefixes), always with
``weights_only=True``. Strict by default: every missing, unexpected or
mis-shaped key is named in one message."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cardiobench.engine import checkpoint
from cardiobench.errors import CardiobenchError, bulleted

PREFIXES = ("module.", "_orig_mod.", "model.", "net.")
SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")


def sha256(path: Path) -> str:
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class WeightsSource:
    """``--weights``: one file, or a folder with one file per fold
    (``<fold>.pt`` or ``<fold>/best.pt``, as a run's ``checkpoints/``)."""

    path: Path

    def for_fold(self, fold: str, folds: int) -> Path:
        if self.path.is_dir():
            for candidate in [self.path / f"{fold}{s}" for s in SUFFIXES] + [self.path / fold / "best.pt", self.path / "checkpoints" / fold / "best.pt"]:
                if candidate.is_file():
                    return candidate
            raise CardiobenchError(f"--weights {self.path}: no weights for fold {fold!r} (looked for {fold}.pt, {fold}/best.pt and checkpoints/{fold}/best.pt).")
        if not self.path.is_file():
            raise CardiobenchError(f"--weights {self.path} does not exist.")
        if folds > 1:
            raise CardiobenchError(
                f"--weights {self.path} is one file, but this task is cross-validated over {folds} folds: each fold's model must be tested with "
                "weights trained without its test patients, which are in the other folds' training sets. Give a folder with one file per fold "
                "(<fold>.pt or <fold>/best.pt, e.g. a run's checkpoints/ folder)."
            )
        return self.path


def _state_dict(loaded: Any, path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a loaded checkpoint, wherever its format keeps them."""
    if isinstance(loaded, Mapping):
        for key in ("model", "state_dict", "model_state_dict", "module"):
            inner = loaded.get(key)
            if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return dict(inner)
        if loaded and all(isinstance(v, torch.Tensor) for v in loaded.values()):
            return dict(loaded)
    raise CardiobenchError(f"--weights {path} holds no state dict (a mapping of names to tensors, at the top or under 'model' or 'state_dict'); found {type(loaded).__name__} with keys {list(loaded)[:8] if isinstance(loaded, Mapping) else []}.")


def _candidates(state: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    """``state`` as given, with each known wrapper prefix removed, and with ``net.`` added (a bare network's weights for a completed model)."""
    out = [state]
    for prefix in PREFIXES:
        if all(k.startswith(prefix) for k in state):
            out.append({k.removeprefix(prefix): v for k, v in state.items()})
    out += [{f"net.{k}": v for k, v in candidate.items()} for candidate in list(out)]
    return out


@dataclass
class LoadReport:
    path: Path
    sha256: str
    reinitialised: list[str] = field(default_factory=list)

    def line(self) -> str:
        head = f"weights: {self.path.name} (sha256 {self.sha256[:12]})"
        return head + (f"; re-initialised, not loaded: {', '.join(self.reinitialised)}" if self.reinitialised else "")


def load_into(model: nn.Module, path: Path, reinit_mismatched: bool = False) -> LoadReport:
    """Load ``path`` into ``model``, strictly unless ``reinit_mismatched``
    (then keys missing from the file or shaped differently keep the model's
    fresh initialisation, e.g. a head for another number of classes)."""
    state = _state_dict(checkpoint.load(path), path)
    own = model.state_dict()
    best = max(_candidates(state), key=lambda c: sum(k in own for k in c))
    missing = sorted(k for k in own if k not in best)
    unexpected = sorted(k for k in best if k not in own)
    misshaped = sorted(f"{k} {tuple(best[k].shape)} (model: {tuple(own[k].shape)})" for k in best if k in own and best[k].shape != own[k].shape)
    if not reinit_mismatched and (missing or unexpected or misshaped):
        problems = [f"{len(missing)} missing: {', '.join(missing[:12])}{' ...' if len(missing) > 12 else ''}"] if missing else []
        problems += [f"{len(unexpected)} unexpected: {', '.join(unexpected[:12])}{' ...' if len(unexpected) > 12 else ''}"] if unexpected else []
        problems += [f"{len(misshaped)} shaped differently: {', '.join(misshaped[:12])}"] if misshaped else []
        raise CardiobenchError(
            f"--weights {path} does not fit this model: {bulleted(problems)}. Weights must come from the same model with the same arguments; "
            "to re-initialise a head that differs (e.g. another number of classes) and load the rest, add --reinit-mismatched."
        )
    usable = {k: v for k, v in best.items() if k in own and v.shape == own[k].shape}
    if not usable:
        raise CardiobenchError(f"--weights {path}: no tensor matches this model by name and shape.")
    model.load_state_dict(usable, strict=False)
    reinitialised = sorted(set(missing) | {k for k in best if k in own and best[k].shape != own[k].shape})
    return LoadReport(path, sha256(path), reinitialised)
