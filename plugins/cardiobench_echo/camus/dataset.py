"""The ``camus`` dataset for ``lvef`` and ``lvef-seg``: the CAMUS NIfTI
release or its synthetic stand-in, harmonised to EchoNet-Dynamic's protocol.

``lvef``: one item per view (``camus.view``: 4CH, the default, 2CH, or both:
two items per patient), its half sequence (ED to ES) resampled in time from
its FrameRate to ``camus.frame_rate`` and, by default, mirrored into an
ED-ES-ED pseudo-cycle repeated to the clip's span (``camus.half_cycle``),
then sampled into clips exactly as EchoNet-Dynamic's videos are (``data.frames``
every ``data.period``). The target is the patient's EF from Info cfg, which
CAMUS computes from both views (biplane Simpson) while a model sees one: a
single-view model is asked for a biplane number.

``lvef-seg``: the ED and ES frames of both views with the LV cavity (label 1)
as the mask, at ``data.size``.

Splits: the official ``database_split`` files (see :mod:`.layout`). Each item
keeps its patient's ImageQuality, and runs report every metric per quality
(``mae/good``, ``dice/poor``, ...), as CAMUS reports its results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from cardiobench.data.generated import generated
from cardiobench.engine.seeding import rng_for
from cardiobench.errors import ConfigError, DataError
from cardiobench.specs import DataBundle, DataRequest, Fold
from cardiobench_echo.camus import phantom
from cardiobench_echo.camus.frames import Decoded, decoded, pseudo_cycle, pseudo_cycle_length
from cardiobench_echo.camus.layout import LV_CAVITY, PHASES, QUALITIES, VIEWS, Layout, View, raise_problems, scan
from cardiobench_echo.echonet.clips import ClipSpec, VideoClips, channel_stats, corruption, reference_stats
from cardiobench_echo.echonet.frames import normalise_frames

NAME = "camus"
VERSION = 1
CITATION = "Leclerc et al., Deep learning for segmentation using an open large-scale dataset in 2D echocardiography, IEEE TMI 38(9), 2019"
SECTIONS = {
    "camus": {
        "view": "4CH",  # lvef items: 4CH | 2CH | both (two items per patient)
        "half_cycle": "mirror",  # mirror: ED-ES-ED pseudo-cycles fill a clip | pad: the half sequence, zero frames after it
        "frame_rate": 50.0,  # frames per second the clips are sampled at (EchoNet-Dynamic's videos: about 50)
        "val_fraction": 0.1,  # of the training patients, where database_split has no validation file
    }
}
VIEW_CHOICES = {"4CH": ("4CH",), "2CH": ("2CH",), "both": VIEWS}
HALF_CYCLES = ("mirror", "pad")


def ensure_synthetic(n: int, seed: int) -> Path:
    name = f"camus-v{phantom.GENERATOR_VERSION}-n{n}-s{seed}"
    return generated(name, "database_split/subgroup_testing.txt", f"{n} synthetic CAMUS patients", lambda out: phantom.synthesize(out, n, seed))


def _root(data_root: Path | None, data: Mapping[str, Any]) -> tuple[Path, str]:
    if data_root is not None:
        return data_root, f"CAMUS folder {data_root}"
    n, seed = int(data["synthetic_videos"]), int(data["synthetic_seed"])
    return ensure_synthetic(n, seed), f"synthetic CAMUS phantom v{phantom.GENERATOR_VERSION} (n={n} patients, seed={seed})"


def _options(config: Mapping[str, Any]) -> dict[str, Any]:
    options = dict(config["camus"])
    if options["view"] not in VIEW_CHOICES:
        raise ConfigError(f"camus.view must be one of {', '.join(VIEW_CHOICES)}, got {options['view']!r}.")
    if options["half_cycle"] not in HALF_CYCLES:
        raise ConfigError(f"camus.half_cycle must be one of {', '.join(HALF_CYCLES)} (mirror: ED-ES-ED pseudo-cycles; pad: the half sequence then zero frames), got {options['half_cycle']!r}.")
    if not float(options["frame_rate"]) > 0 or not 0 < float(options["val_fraction"]) < 1:
        raise ConfigError(f"camus.frame_rate must be positive and camus.val_fraction in (0, 1), got {options['frame_rate']} and {options['val_fraction']}.")
    return options


def open_views(request: DataRequest, with_sequence: bool) -> tuple[Layout, list[View], Decoded, str]:
    """The folder read and checked, its views decoded at ``data.size``; every
    bad patient named in one error."""
    data, options = request.config["data"], _options(request.config)
    root, source = _root(request.data_root, data)
    layout, problems = scan(root, need_sequence=with_sequence, val_fraction=float(options["val_fraction"]), seed=request.seed)
    raise_problems(root, problems)
    views = [v for v in layout.views if v.patient in layout.split]
    found, problems = decoded(views, int(data["size"]), with_sequence)
    raise_problems(root, problems)
    return layout, views, found, f"{source}, {layout.split_note}"


def _parts(layout: Layout, views: list[View], names: tuple[str, ...]) -> dict[str, list[int]]:
    """Indices into ``views`` per split, for the views ``names``."""
    out = {part: [i for i, v in enumerate(views) if layout.split[v.patient] == part and v.name in names] for part in ("TRAIN", "VAL", "TEST")}
    empty = [part for part, rows in out.items() if not rows]
    if empty:
        raise DataError(f"{layout.root}: the split has no {', '.join(empty)} patients with {'/'.join(names)} views; every part is needed (validation selects the best epoch).")
    return out


def quality_subsets(views: list[View], rows: list[int]) -> dict[str, Any]:
    """``good``/``medium``/``poor``: the test items of patients of each
    ImageQuality present (an item id starts with its view's id)."""
    quality = {views[i].id: views[i].quality for i in rows}
    present = [q for q in QUALITIES if q in quality.values()]
    return {q.lower(): (lambda ids, q=q: np.array([quality.get("/".join(i.split("/")[:2])) == q for i in ids])) for q in present}


def _stats(found: Decoded, rows: list[int], request: DataRequest) -> tuple[np.ndarray, np.ndarray]:
    """Channel statistics of ``data.normalization_videos`` training views'
    ED/ES frames, or the training dataset's when CAMUS only tests."""
    given = reference_stats(request.reference)
    if given is not None:
        return given
    chosen = sorted(rng_for(request.seed, "normalisation").permutation(rows)[: int(request.config["data"]["normalization_videos"])].tolist())
    return channel_stats([np.repeat(found.frames[i][..., None], 3, axis=-1) for i in chosen])


def _info(views: list[View], parts: dict[str, list[int]], mean: np.ndarray, std: np.ndarray, data: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    test = [views[i] for i in parts["TEST"]]
    return {
        "train_target_mean": float(np.mean([views[i].ef for i in parts["TRAIN"]])),
        "views": {part.lower(): len(rows) for part, rows in parts.items()},
        "test_quality": {q: sum(v.quality == q for v in test) for q in QUALITIES},
        "channel_mean": [round(float(x), 4) for x in mean],
        "channel_std": [round(float(x), 4) for x in std],
        "frame_size": int(data["size"]),
        "camus": dict(options),
    }


def load_clips(request: DataRequest) -> DataBundle:
    """``lvef``: clips of each view's harmonised half sequence, EF targets."""
    options, data = _options(request.config), request.config["data"]
    layout, views, found, source = open_views(request, with_sequence=True)
    parts = _parts(layout, views, VIEW_CHOICES[options["view"]])
    mean, std = _stats(found, parts["TRAIN"], request)
    spec = ClipSpec(int(data["frames"]), int(data["period"]), mean, std)
    rate, mode = float(options["frame_rate"]), str(options["half_cycle"])
    test_mode = str(data["test_mode"])

    def loader(i: int):  # noqa: ANN202 - a zero-argument frame source
        return lambda: np.repeat(pseudo_cycle(found.sequence(i), views[i].frame_rate, rate, mode, spec.span)[..., None], 3, axis=-1)

    def clips(rows: list[int], kind: str, count: int = 1, transform: Any = None) -> VideoClips:
        sources = [loader(i) for i in rows]
        lengths = [pseudo_cycle_length(int(found.length[i]), views[i].frame_rate, rate, mode, spec.span) for i in rows]  # without building every clip source
        return VideoClips([views[i].id for i in rows], sources, [views[i].ef for i in rows], spec, kind, request.seed, count, transform, lengths)

    fold = Fold("official", clips(parts["TRAIN"], "train"), clips(parts["VAL"], "fixed"), clips(parts["TEST"], test_mode, int(data["test_clips"]), corruption(request.config)))
    subsets = quality_subsets(views, parts["TEST"])
    fingerprint = hashlib.sha256(f"{layout.fingerprint}|view={options['view']}|{mode}|{rate:g}fps".encode()).hexdigest()
    return DataBundle([fold], fingerprint, source, _info(views, parts, mean, std, data, options), [np.array([views[i].ef for i in parts["TRAIN"]])], subsets)


class CavityFrames(Dataset):
    """One item per ED or ES frame: ``input`` (3, S, S), ``target`` the LV
    cavity mask (S, S), ``id`` ``patientNNNN/<view>/<ED|ES>``."""

    def __init__(self, views: Sequence[View], rows: list[int], found: Decoded, mean: np.ndarray, std: np.ndarray):
        self.views, self.found, self.mean, self.std = views, found, mean, std
        self.items = [(i, k) for i in rows for k in range(len(PHASES))]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, object]:
        i, k = self.items[index]
        frame = np.repeat(self.found.frames[i, k][None, ..., None], 3, axis=-1)
        return {
            "input": normalise_frames(frame, self.mean, self.std)[0],
            "target": torch.from_numpy((self.found.labels[i, k] == LV_CAVITY).astype(np.float32)),
            "id": f"{self.views[i].id}/{PHASES[k]}",
        }


def load_frames(request: DataRequest) -> DataBundle:
    """``lvef-seg``: ED and ES frames of both views with the LV cavity mask."""
    options, data = _options(request.config), request.config["data"]
    layout, views, found, source = open_views(request, with_sequence=False)
    parts = _parts(layout, views, VIEWS)
    mean, std = _stats(found, parts["TRAIN"], request)
    fold = Fold("official", *(CavityFrames(views, parts[p], found, mean, std) for p in ("TRAIN", "VAL", "TEST")))
    subsets = quality_subsets(views, parts["TEST"])
    return DataBundle([fold], layout.fingerprint, source, _info(views, parts, mean, std, data, options), [], subsets)


LOADERS = {"lvef": load_clips, "lvef-seg": load_frames}


def load(request: DataRequest) -> DataBundle:
    return LOADERS[request.task](request)


def check(request: DataRequest) -> str:
    """Every file of every patient read and checked; every bad patient named at once."""
    layout, views, _, source = open_views(request, with_sequence=request.task == "lvef")
    patients = {v.patient for v in views}
    counts = {part: len({v.patient for v in views if layout.split[v.patient] == part}) for part in ("TRAIN", "VAL", "TEST")}
    quality = {q: sum(v.quality == q for v in views) for q in QUALITIES}
    return (
        f"{source}: {len(patients)} patients, {len(views)} views (TRAIN {counts['TRAIN']}, VAL {counts['VAL']}, TEST {counts['TEST']} patients), "
        f"all readable; image quality {', '.join(f'{q} {n}' for q, n in quality.items())}; fingerprint {layout.fingerprint[:12]}"
    )
