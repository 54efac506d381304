"""Video clips for EF regression, sampled as EchoNet-Dynamic's video script does.

A clip is ``frames`` frames taken every ``period`` frames, normalised with the
training split's per-channel mean and std; a video shorter than a clip is
padded with zero frames. Training draws one random clip per video per epoch;
validation uses one fixed clip per video; testing averages ``test_clips``
random clips per video (paper section 3.2) or, in ``all`` mode, every clip
(EchoNet-Dynamic's beat-agnostic all-clips evaluation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from cardiobench.engine.seeding import rng_for
from cardiobench.errors import ConfigError

Frames = Callable[[], np.ndarray]  # returns (T, H, W, C) uint8, memory-mapped


@dataclass(frozen=True)
class ClipSpec:
    frames: int
    period: int
    mean: np.ndarray  # (C,)
    std: np.ndarray  # (C,)

    @property
    def span(self) -> int:
        return (self.frames - 1) * self.period + 1


def clip_starts(length: int, span: int) -> int:
    """Number of valid clip start positions in a video of ``length`` frames."""
    return max(1, length - span + 1)


Corruption = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def zero_pixels(level: float) -> Corruption:
    """Replace ``level`` of each frame's pixels (all channels) with 0, the
    degradation of the paper's robustness analysis (appendix 7.5)."""

    def corrupt(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = np.array(frames)
        out[rng.random(out.shape[:3]) < level] = 0
        return out

    return corrupt


CORRUPTIONS: dict[str, Callable[[float], Corruption]] = {"zero-pixels": zero_pixels}


def corruption(config: Mapping[str, Any]) -> Corruption | None:
    """The test-time corruption named by ``eval.corruption`` at ``eval.corruption_level``."""
    name, level = config["eval"]["corruption"], float(config["eval"]["corruption_level"])
    if name is None:
        return None
    if name not in CORRUPTIONS:
        raise ConfigError(f"eval.corruption {name!r} is unknown; choose one of {', '.join(CORRUPTIONS)}.")
    if not 0.0 <= level <= 1.0:
        raise ConfigError(f"eval.corruption_level must lie in [0, 1], got {level}.")
    return CORRUPTIONS[name](level)


def extract(video: np.ndarray, start: int, spec: ClipSpec, corrupt: Corruption | None = None, rng: np.random.Generator | None = None) -> torch.Tensor:
    """(C, frames, H, W) float32 clip starting at ``start``: gather the uint8
    frames (one read of the memory map), corrupt them if asked, then convert
    and normalise in torch."""
    index = start + spec.period * np.arange(spec.frames)
    valid = int(np.count_nonzero(index < len(video)))
    raw = video[index[:valid]]
    if corrupt is not None:
        raw = corrupt(raw, rng if rng is not None else np.random.default_rng(0))
    frames = torch.from_numpy(np.ascontiguousarray(raw))  # (valid, H, W, C) uint8
    clip = torch.empty((video.shape[-1], spec.frames) + video.shape[1:3], dtype=torch.float32)
    clip[:, :valid] = frames.permute(3, 0, 1, 2)
    clip[:, :valid].sub_(torch.from_numpy(spec.mean).view(-1, 1, 1, 1)).div_(torch.from_numpy(spec.std).view(-1, 1, 1, 1))
    clip[:, valid:] = 0.0
    return clip


def channel_stats(videos: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over every frame of ``videos``."""
    total = np.zeros(videos[0].shape[-1])
    squares = np.zeros_like(total)
    count = 0
    for v in videos:
        flat = np.asarray(v, dtype=np.float64).reshape(-1, v.shape[-1])
        total += flat.sum(0)
        squares += (flat**2).sum(0)
        count += len(flat)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 1e-12))
    return mean.astype(np.float32), std.astype(np.float32)


def reference_stats(reference: Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The training dataset's channel mean and std when this dataset only
    tests (``DataRequest.reference``), else None."""
    if not reference or "channel_mean" not in reference:
        return None
    return np.asarray(reference["channel_mean"], dtype=np.float32), np.asarray(reference["channel_std"], dtype=np.float32)


class VideoClips(Dataset):
    """Clips of videos with scalar targets; each item has ``input``, ``target``,
    ``id`` (the video name) and ``start`` (first frame of the clip)."""

    def __init__(
        self,
        ids: Sequence[str],
        videos: Sequence[Frames],
        targets: Sequence[float],
        spec: ClipSpec,
        mode: str,
        seed: int,
        clips_per_video: int = 1,
        corrupt: Corruption | None = None,
        lengths: Sequence[int] | None = None,
    ):
        if mode not in ("train", "fixed", "random", "all"):
            raise ValueError(f"unknown clip mode {mode!r}")
        self.ids, self.videos, self.spec, self.mode, self.seed = list(ids), list(videos), spec, mode, seed
        self.corrupt = corrupt
        self.targets = np.asarray(targets, dtype=np.float32)
        self.lengths = list(lengths) if lengths is not None else [len(video()) for video in self.videos]  # frames per video, without decoding one per item
        self.epoch = 0
        self.items = self._items(clips_per_video) if mode in ("random", "all") else None

    def _items(self, clips: int) -> list[tuple[int, int]]:
        items = []
        for i, length in enumerate(self.lengths):
            starts = clip_starts(length, self.spec.span)
            if self.mode == "all":
                items += [(i, s) for s in range(starts)]
            else:
                items += [(i, int(s)) for s in rng_for(self.seed, "test", i).integers(0, starts, size=clips)]
        return items

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items) if self.items is not None else len(self.videos)

    def locate(self, index: int) -> tuple[int, int]:
        """(video index, clip start) of item ``index``."""
        if self.items is not None:
            return self.items[index]
        starts = clip_starts(self.lengths[index], self.spec.span)
        salt = ("train", self.epoch) if self.mode == "train" else ("val",)
        return index, int(rng_for(self.seed, *salt, index).integers(0, starts))

    def __getitem__(self, index: int) -> dict[str, object]:
        video_index, start = self.locate(index)
        rng = rng_for(self.seed, "corrupt", index) if self.corrupt is not None else None
        return {
            "input": extract(self.videos[video_index](), start, self.spec, self.corrupt, rng),
            "target": torch.tensor(self.targets[video_index]),
            "id": self.ids[video_index],
            "start": start,
        }
