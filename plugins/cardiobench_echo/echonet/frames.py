"""Traced end-diastolic and end-systolic frames with their LV masks: the
segmentation task EchoNet-Dynamic trains its DeepLabV3 on (and that the STCA
paper's pseudo-labels come from, section 2.2)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from cardiobench.data.videocache import Store
from cardiobench_echo.echonet.layout import Video

PHASES = ("ED", "ES")


def normalise_frames(frames: np.ndarray, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    """(N, H, W, C) uint8 -> (N, C, H, W) float32 normalised per channel."""
    x = torch.from_numpy(np.array(frames)).permute(0, 3, 1, 2).float()  # a private copy of the memory map
    return (x - torch.from_numpy(mean).view(1, -1, 1, 1)) / torch.from_numpy(std).view(1, -1, 1, 1)


def trace_mask(video: Video, phase: str, size: int) -> np.ndarray:
    """The traced polygon of ``phase`` as a (size, size) uint8 mask. Trace
    coordinates are the AVI's pixels (EchoNet-Dynamic draws the polygon in
    the video's own grid), so they scale by the decoded video's width and
    height, never by FileList's FrameWidth (some real rows state 768 x 1024
    for 112 x 112 AVIs)."""
    ed, es = video.ed_es
    return (ed if phase == "ED" else es).mask(size, size, scale=(size / video.width, size / video.height))


class TracedFrames(Dataset):
    """One item per traced frame: ``input`` (C, S, S), ``target`` mask (S, S),
    ``id`` ``<video>/<ED|ES>``."""

    def __init__(self, videos: Sequence[Video], cache: Store, size: int, mean: np.ndarray, std: np.ndarray):
        self.videos, self.cache, self.size, self.mean, self.std = list(videos), cache, size, mean, std
        self.items = [(i, phase) for i in range(len(self.videos)) for phase in PHASES]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, object]:
        i, phase = self.items[index]
        video = self.videos[i]
        ed, es = video.ed_es
        frame = self.cache.frames(video.path)[(ed if phase == "ED" else es).frame]
        return {
            "input": normalise_frames(frame[None], self.mean, self.std)[0],
            "target": torch.from_numpy(trace_mask(video, phase, self.size).astype(np.float32)),
            "id": f"{video.name}/{phase}",
        }


def phase_of(ids: Sequence[str], phase: str) -> np.ndarray:
    """Which ids are frames of ``phase``."""
    return np.array([i.endswith(f"/{phase}") for i in ids])
