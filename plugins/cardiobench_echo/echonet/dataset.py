"""The ``echonet-dynamic`` dataset: the official folder or its synthetic stand-in.

With no ``--data-root`` the synthetic set (``data.synthetic_videos`` videos,
seed ``data.synthetic_seed``) is generated on first use under
``<cache>/synthetic/`` (see :func:`cardiobench.paths.cache_dir`) and read by
the very same reader as a real download.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from cardiobench.data.generated import generated
from cardiobench.data.videocache import STORES, DecodePerAccess, Store, VideoCache
from cardiobench.engine.seeding import rng_for
from cardiobench.errors import ConfigError, DataError, bulleted
from cardiobench.events import warn
from cardiobench.paths import cache_dir
from cardiobench.specs import DataBundle, DataRequest, Fold
from cardiobench_echo.echonet import phantom
from cardiobench_echo.echonet.clips import ClipSpec, Corruption, VideoClips, channel_stats, corruption, reference_stats
from cardiobench_echo.echonet.frames import TracedFrames
from cardiobench_echo.echonet.layout import FILELIST, VIDEOS, Layout, Video, raise_problems, scan_layout

NAME = "echonet-dynamic"
VERSION = 1
UNTRACED = ("keep", "drop")
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


@dataclass(frozen=True)
class Opened:
    """A read, validated folder: its videos (with their AVIs' own frame sizes),
    where their frames come from, a description, and the videos whose traces
    cannot give ED/ES masks (name -> why)."""

    layout: Layout
    store: Store
    source: str
    without_masks: dict[str, str]
    stated_sizes_wrong: list[str]

    def usable(self, videos: list[Video]) -> list[Video]:
        """``videos`` less those without usable traces."""
        return [v for v in videos if v.name not in self.without_masks]


def open_store(data: Mapping[str, Any], verify: str = "header") -> Store:
    """``data.video_cache``: ``decoded`` (the shared decode-once cache) or ``none``."""
    kind = str(data.get("video_cache", "decoded"))
    if kind not in STORES:
        raise ConfigError(f"data.video_cache must be one of {', '.join(STORES)} (decoded: decode every video once into the cache; none: decode per access, no disk), got {kind!r}.")
    return DecodePerAccess(int(data["size"]), verify) if kind == "none" else VideoCache(cache_dir() / "videos", int(data["size"]))


def _opened_videos(layout: Layout, store: Store) -> tuple[list[Video], dict[str, str], list[str]]:
    """Videos with the AVIs' own sizes, those whose traces give no masks, and
    the names whose FileList frame size is not their AVI's."""
    videos, without, wrong = [], {}, []
    for v in layout.videos:
        geometry = store.geometry(v.path)
        if (v.width, v.height) != (geometry.width, geometry.height):
            wrong.append(f"{v.name} ({v.height}x{v.width} in {FILELIST}, {geometry.height}x{geometry.width} in its AVI)")
        v = replace(v, width=geometry.width, height=geometry.height)
        why = v.trace_problem(store.length(v.path))
        if why:
            without[v.name] = why
        videos.append(v)
    return videos, without, wrong


def open_layout(data_root: Path | None, config: Mapping[str, Any], need_traces: bool = False, verify: str = "header") -> Opened:
    """Read, validate and decode a folder (or the synthetic set); bad rows and
    undecodable videos are reported together, in one error."""
    data = config["data"]
    root, source = _root(data_root, data)
    layout, problems = scan_layout(root, need_traces=need_traces)
    store = open_store(data, verify)
    present = [(v.path, v.n_frames or None) for v in layout.videos if v.path.is_file()]
    decoding = store.ensure_all(present, desc="decoding videos (once)")
    raise_problems(root, problems + [f"{VIDEOS}/{Path(p).name} {msg}" for p, msg in sorted(decoding.items())])
    videos, without, wrong = _opened_videos(layout, store)
    return Opened(replace(layout, videos=videos), store, source, without, wrong)


def _frames(store: Store, video: Video):  # noqa: ANN202 - a zero-argument loader
    return lambda: store.frames(video.path)


def normalisation(cache: Store, train: list[Video], count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean/std over ``count`` training videos, as EchoNet-Dynamic samples them."""
    chosen = rng_for(seed, "normalisation").permutation(len(train))[:count]
    return channel_stats([cache.frames(train[i].path) for i in sorted(chosen)])


def _stats(cache: Store, train: list[Video], request: DataRequest) -> tuple[np.ndarray, np.ndarray]:
    """The training videos' channel statistics, or the training dataset's when this one only tests."""
    return reference_stats(request.reference) or normalisation(cache, train, int(request.config["data"]["normalization_videos"]), request.seed)


def _splits(layout: Layout, keep: Callable[[list[Video]], list[Video]] = list) -> tuple[list[Video], list[Video], list[Video]]:
    train, val, test = (keep(layout.split(s)) for s in ("TRAIN", "VAL", "TEST"))
    if not val:
        raise DataError(f"{layout.root}/FileList.csv has no VAL rows (with usable traces, where the task needs them); validation selects the best epoch.")
    if not train or not test:
        raise DataError(f"{layout.root}/FileList.csv has no TRAIN or no TEST rows with usable traces; this task needs the ED/ES traces of both.")
    return train, val, test


def _info(data: Mapping[str, Any], train: list[Video], val: list[Video], test: list[Video], mean: np.ndarray, std: np.ndarray, opened: Opened) -> dict[str, Any]:
    return {
        "train_target_mean": float(np.mean([v.ef for v in train])),
        "videos": {"train": len(train), "val": len(val), "test": len(test)},
        "channel_mean": [round(float(x), 4) for x in mean],
        "channel_std": [round(float(x), 4) for x in std],
        "frame_size": int(data["size"]),
        "videos_without_masks": len(opened.without_masks),
        "filelist_sizes_not_the_avis": len(opened.stated_sizes_wrong),
    }


def _left_out(opened: Opened, task: str) -> str:
    """The notice (stderr) and the source suffix for videos ``task`` leaves out."""
    names = sorted(opened.without_masks)
    if not names:
        return ""
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    warn(
        f"{len(names)} EchoNet-Dynamic video(s) have no usable ED/ES traces ({shown}) and are left out of {task}, as EchoNet-Dynamic's own loader leaves them out; "
        f"cardiobench data check --task lvef-seg names each with the reason."
    )
    return f"; {len(names)} video(s) without usable traces left out"


def _untraced_policy(data: Mapping[str, Any]) -> str:
    policy = str(data.get("untraced_videos", "keep"))
    if policy not in UNTRACED:
        raise ConfigError(f"data.untraced_videos must be one of {', '.join(UNTRACED)} (keep: lvef uses every video with an EF; drop: leave out videos without ED/ES traces, as EchoNet-Dynamic's loader does), got {policy!r}.")
    return policy


def load_clips(request: DataRequest) -> DataBundle:
    """The ``lvef`` task: video clips with EF targets. Videos without usable
    traces are kept (``data.untraced_videos: keep``: EF needs no trace) or
    left out as EchoNet-Dynamic's loader does (``drop``; the fingerprint
    then says so)."""
    opened = open_layout(request.data_root, request.config)
    layout, cache, source = opened.layout, opened.store, opened.source
    data = request.config["data"]
    drop = _untraced_policy(data) == "drop" and bool(opened.without_masks)
    train, val, test = _splits(layout, opened.usable if drop else list)
    if drop:
        source += _left_out(opened, request.task)
    mean, std = _stats(cache, train, request)
    spec = ClipSpec(int(data["frames"]), int(data["period"]), mean, std)
    corrupt = corruption(request.config)

    def clips(videos: list[Video], mode: str, clips: int = 1, transform: Corruption | None = None) -> VideoClips:
        lengths = [cache.length(v.path) for v in videos]
        return VideoClips([v.name for v in videos], [_frames(cache, v) for v in videos], [v.ef for v in videos], spec, mode, request.seed, clips, transform, lengths)

    test_mode = str(data["test_mode"])
    if test_mode not in ("random", "all"):
        raise DataError(f"data.test_mode must be 'random' (paper: average of data.test_clips random clips) or 'all' (EchoNet-Dynamic's every clip), got {test_mode!r}.")
    fold = Fold("official", clips(train, "train"), clips(val, "fixed"), clips(test, test_mode, int(data["test_clips"]), corrupt))
    fingerprint = hashlib.sha256(f"{layout.fingerprint}|untraced=drop".encode()).hexdigest() if drop else layout.fingerprint
    info = _info(data, train, val, test, mean, std, opened) | {"untraced_videos": "drop" if drop else "keep"}
    return DataBundle([fold], fingerprint, source, info, [np.array([v.ef for v in train])])


def load_frames(request: DataRequest) -> DataBundle:
    """The ``lvef-seg`` task: traced ED/ES frames with LV masks; videos without
    usable traces are left out (named once on stderr, counted in the record)."""
    opened = open_layout(request.data_root, request.config, need_traces=True)
    layout, cache, source = opened.layout, opened.store, opened.source
    data = request.config["data"]
    train, val, test = _splits(layout, opened.usable)
    source += _left_out(opened, request.task)
    mean, std = _stats(cache, train, request)
    size = int(data["size"])
    fold = Fold("official", *(TracedFrames(videos, cache, size, mean, std) for videos in (train, val, test)))
    return DataBundle([fold], layout.fingerprint, source, _info(data, train, val, test, mean, std, opened))


LOADERS = {"lvef": load_clips, "lvef-seg": load_frames}


def load(request: DataRequest) -> DataBundle:
    return LOADERS[request.task](request)


def check(request: DataRequest) -> str:
    """Every video decoded (whatever data.video_cache says), every bad row
    named; for ``lvef-seg`` every video without usable traces named."""
    opened = open_layout(request.data_root, request.config, need_traces=request.task == "lvef-seg", verify="decode")
    layout = opened.layout
    counts = {s: len(layout.split(s)) for s in ("TRAIN", "VAL", "TEST")}
    lines = [
        f"{opened.source}: {len(layout.videos)} videos (TRAIN {counts['TRAIN']}, VAL {counts['VAL']}, TEST {counts['TEST']}), "
        f"all decodable; {len(layout.videos) - len(opened.without_masks)} with usable ED/ES traces; fingerprint {layout.fingerprint[:12]}"
    ]
    if opened.without_masks:
        used = "left out of lvef-seg and of STCA's pseudo-label weights (alpha 0); lvef keeps them (data.untraced_videos=drop leaves them out)"
        lines.append(f"{len(opened.without_masks)} video(s) without usable traces, {used}: {bulleted([f'{n} {why}' for n, why in sorted(opened.without_masks.items())], limit=len(opened.without_masks))}")
    if opened.stated_sizes_wrong:
        lines.append(f"{len(opened.stated_sizes_wrong)} FileList row(s) state a frame size other than their AVI's; masks use the AVI's: {bulleted(opened.stated_sizes_wrong, limit=len(opened.stated_sizes_wrong))}")
    return "\n".join(lines)
