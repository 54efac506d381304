"""The ``echonet-dynamic`` dataset: the official folder or its synthetic stand-in.

With no ``--data-root`` the synthetic set (``data.synthetic_videos`` videos,
seed ``data.synthetic_seed``) is generated on first use under
``<cache>/synthetic/`` (see :func:`cardiobench.paths.cache_dir`) and read by
the very same reader as a real download.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from cardiobench.data.generated import generated
from cardiobench.data.videocache import VideoCache
from cardiobench.engine.seeding import rng_for
from cardiobench.errors import DataError
from cardiobench.paths import cache_dir
from cardiobench.specs import DataBundle, DataRequest, Fold
from cardiobench_echo.echonet import phantom
from cardiobench_echo.echonet.clips import ClipSpec, Corruption, VideoClips, channel_stats, corruption
from cardiobench_echo.echonet.frames import TracedFrames
from cardiobench_echo.echonet.layout import VIDEOS, Layout, Video, raise_problems, scan_layout

NAME = "echonet-dynamic"
VERSION = 1
CITATION = "Ouyang et al., Video-based AI for beat-to-beat assessment of cardiac function, Nature 580, 2020"


def ensure_synthetic(n: int, seed: int) -> Path:
    """The synthetic folder for (n, seed), generated if missing."""
    name = f"echonet-v{phantom.GENERATOR_VERSION}-n{n}-s{seed}"
    return generated(name, "FileList.csv", f"{n} synthetic EchoNet-Dynamic videos", lambda out: phantom.synthesize(out, n, seed))


def _root(data_root: Path | None, data: Mapping[str, Any]) -> tuple[Path, str]:
    if data_root is not None:
        return data_root, f"EchoNet-Dynamic folder {data_root}"
    n, seed = int(data["synthetic_videos"]), int(data["synthetic_seed"])
    root = ensure_synthetic(n, seed)
    return root, f"synthetic EchoNet-Dynamic phantom v{phantom.GENERATOR_VERSION} (n={n}, seed={seed}) at {root}"


def decode_all(layout: Layout, size: int) -> tuple[VideoCache, list[str]]:
    """Decode every present video into the shared cache; returns the cache and
    a problem line per video that failed."""
    cache = VideoCache(cache_dir() / "videos", size)
    present = [(v.path, v.n_frames or None) for v in layout.videos if v.path.is_file()]
    problems = cache.ensure_all(present, desc="decoding videos (once)")
    return cache, [f"{VIDEOS}/{Path(p).name} {msg}" for p, msg in sorted(problems.items())]


def open_layout(data_root: Path | None, config: Mapping[str, Any], need_traces: bool = False) -> tuple[Layout, VideoCache, str]:
    """Read, validate and decode a folder (or the synthetic set); bad rows and
    undecodable videos are reported together, in one error."""
    data = config["data"]
    root, source = _root(data_root, data)
    layout, problems = scan_layout(root, need_traces=need_traces)
    cache, decoding = decode_all(layout, int(data["size"]))
    raise_problems(root, problems + decoding)
    return layout, cache, source


def _frames(cache: VideoCache, video: Video):  # noqa: ANN202 - a zero-argument loader
    return lambda: cache.frames(video.path)


def normalisation(cache: VideoCache, train: list[Video], count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean/std over ``count`` training videos, as EchoNet-Dynamic samples them."""
    chosen = rng_for(seed, "normalisation").permutation(len(train))[:count]
    return channel_stats([cache.frames(train[i].path) for i in sorted(chosen)])


def _stats(cache: VideoCache, train: list[Video], data: Mapping[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray]:
    return normalisation(cache, train, int(data["normalization_videos"]), seed)


def _splits(layout: Layout) -> tuple[list[Video], list[Video], list[Video]]:
    train, val, test = (layout.split(s) for s in ("TRAIN", "VAL", "TEST"))
    if not val:
        raise DataError(f"{layout.root}/FileList.csv has no VAL rows; validation selects the best epoch.")
    return train, val, test


def _info(data: Mapping[str, Any], train: list[Video], val: list[Video], test: list[Video], mean: np.ndarray, std: np.ndarray) -> dict[str, Any]:
    return {
        "train_target_mean": float(np.mean([v.ef for v in train])),
        "videos": {"train": len(train), "val": len(val), "test": len(test)},
        "channel_mean": [round(float(x), 4) for x in mean],
        "channel_std": [round(float(x), 4) for x in std],
        "frame_size": int(data["size"]),
    }


def load_clips(request: DataRequest) -> DataBundle:
    """The ``lvef`` task: video clips with EF targets."""
    layout, cache, source = open_layout(request.data_root, request.config)
    data = request.config["data"]
    train, val, test = _splits(layout)
    mean, std = _stats(cache, train, data, request.seed)
    spec = ClipSpec(int(data["frames"]), int(data["period"]), mean, std)
    corrupt = corruption(request.config)

    def clips(videos: list[Video], mode: str, clips: int = 1, transform: Corruption | None = None) -> VideoClips:
        return VideoClips([v.name for v in videos], [_frames(cache, v) for v in videos], [v.ef for v in videos], spec, mode, request.seed, clips, transform)

    test_mode = str(data["test_mode"])
    if test_mode not in ("random", "all"):
        raise DataError(f"data.test_mode must be 'random' (paper: average of data.test_clips random clips) or 'all' (EchoNet-Dynamic's every clip), got {test_mode!r}.")
    fold = Fold("official", clips(train, "train"), clips(val, "fixed"), clips(test, test_mode, int(data["test_clips"]), corrupt))
    return DataBundle([fold], layout.fingerprint, source, _info(data, train, val, test, mean, std), [np.array([v.ef for v in train])])


def load_frames(request: DataRequest) -> DataBundle:
    """The ``lvef-seg`` task: traced ED/ES frames with LV masks."""
    layout, cache, source = open_layout(request.data_root, request.config, need_traces=True)
    data = request.config["data"]
    train, val, test = _splits(layout)
    mean, std = _stats(cache, train, data, request.seed)
    size = int(data["size"])
    fold = Fold("official", *(TracedFrames(videos, cache, size, mean, std) for videos in (train, val, test)))
    return DataBundle([fold], layout.fingerprint, source, _info(data, train, val, test, mean, std))


LOADERS = {"lvef": load_clips, "lvef-seg": load_frames}


def load(request: DataRequest) -> DataBundle:
    return LOADERS[request.task](request)


def check(request: DataRequest) -> str:
    layout, _, source = open_layout(request.data_root, request.config, need_traces=request.task == "lvef-seg")
    counts = {s: len(layout.split(s)) for s in ("TRAIN", "VAL", "TEST")}
    traced = sum(len(v.traces) >= 2 for v in layout.videos)
    return (
        f"{source}: {len(layout.videos)} videos (TRAIN {counts['TRAIN']}, VAL {counts['VAL']}, TEST {counts['TEST']}), "
        f"all decodable; {traced} with ED/ES traces; fingerprint {layout.fingerprint[:12]}"
    )
