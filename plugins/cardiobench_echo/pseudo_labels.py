"""Pseudo-labels for STCA's semi-supervised branch (section 2.2, appendix 7.1).

An STCA run names a finished ``lvef-seg`` run (``aux.segmenter=RUN_DIR``) or
trains one first as a recorded stage of its own; it never retrains silently.
The segmenter then predicts every frame of every training video once (cached
on disk). For each sampled clip, the predicted masks with the largest and the
smallest area among the clip's frames become its ED and ES pseudo-labels, and
each video's weight alpha is the mean Dice of the segmenter on its annotated
ED and ES frames (Eq. 8); a training video without usable traces gets
alpha 0 (no annotation, no evidence for its pseudo-labels).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from cardiobench import atomic, config, fold_model, phases, progress, records
from cardiobench.engine import checkpoint, devices, numerics
from cardiobench.errors import CardiobenchError, ConfigError
from cardiobench.paths import cache_dir
from cardiobench.registry import Registry
from cardiobench.runner import RunRequest, StageContext
from cardiobench.specs import DataBundle
from cardiobench_echo.echonet.clips import VideoClips
from cardiobench_echo.echonet.dataset import open_layout
from cardiobench_echo.echonet.frames import PHASES, normalise_frames, trace_mask
from cardiobench_echo.echonet.layout import Video
from cardiobench_metrics import dice_from_masks

SEG_TASK = "lvef-seg"


def segmenter_request(values: Mapping[str, Any], context: StageContext) -> RunRequest:
    """The lvef-seg run that serves an STCA run: same data, seed and device."""
    aux, data = values["aux"], values["data"]
    shared = [f"data.{k}={data[k]}" for k in ("synthetic_videos", "synthetic_seed", "normalization_videos")]
    if data["video_cache"] != "decoded":  # a user short of disk is short of it for the segmenter's frames too
        shared.append(f"data.video_cache={data['video_cache']}")
    return RunRequest(
        task=SEG_TASK,
        model=aux["segmenter_model"],
        data_root=context.request.data_root,
        preset=aux["segmenter_preset"] or context.request.preset,
        seed=context.request.seed,
        overrides=shared,
        device=context.request.device,
        plugins=context.request.plugins,
    )


class FramePredictor:
    """A segmentation model prepared for predicting frames on the CPU: batch
    norms folded into the convolutions, channels-last (MobileNet's depthwise
    convolutions: 2.6x faster on oneDNN), inputs normalised as in training."""

    def __init__(self, model: torch.nn.Module, mean: np.ndarray, std: np.ndarray):
        self.model = devices.prepare_model(devices.fold_batch_norm(model), torch.device("cpu"), channels_last=True)
        self.mean, self.std = np.asarray(mean, dtype=np.float32), np.asarray(std, dtype=np.float32)

    @torch.inference_mode()
    def probabilities(self, frames: np.ndarray, batch: int = 128) -> np.ndarray:
        """(T, S, S) LV probabilities of (T, S, S, C) uint8 frames."""
        out = [torch.sigmoid(self.model(normalise_frames(frames[i : i + batch], self.mean, self.std))).numpy() for i in range(0, len(frames), batch)]
        return np.concatenate(out)


class Segmenter:
    """A finished lvef-seg run: its config and its model (best weights) as a :class:`FramePredictor`."""

    def __init__(self, run_dir: Path, registry: Registry, fingerprint: str):
        self.run_dir = Path(run_dir)
        record_path = self.run_dir / records.RECORD_FILE
        if not record_path.is_file():
            raise ConfigError(f"aux.segmenter: {self.run_dir} is not a finished run (no {records.RECORD_FILE}); train one with cardiobench run --task {SEG_TASK} --model deeplabv3.")
        self.record = records.read(record_path)
        if self.record["task"]["name"] != SEG_TASK:
            raise ConfigError(f"aux.segmenter: {self.run_dir} is a {self.record['task']['name']!r} run, not a {SEG_TASK!r} run.")
        if self.record["dataset"]["fingerprint"] != fingerprint:
            raise ConfigError(
                f"aux.segmenter: {self.run_dir} was trained on data with fingerprint {self.record['dataset']['fingerprint'][:12]}, "
                f"but this run's data has {fingerprint[:12]}; train the segmenter on the same data."
            )
        self.config = config.read_yaml(self.run_dir / "config.yaml")
        weights = self.run_dir / "checkpoints" / "official" / "best.pt"
        model = fold_model.build(registry.model(self.record["model"]["name"], SEG_TASK), registry.task(SEG_TASK), self.config, self.record["dataset"]["info"])
        model.load_state_dict(checkpoint.load(weights)["model"])
        with weights.open("rb") as f:
            self.weights_digest = hashlib.file_digest(f, "sha256").hexdigest()
        info = self.record["dataset"]["info"]
        self.predictor = FramePredictor(model, info["channel_mean"], info["channel_std"])
        self.size = int(self.config["data"]["size"])


def _resize_masks(probabilities: np.ndarray, size: int) -> np.ndarray:
    if probabilities.shape[-1] != size:
        probabilities = np.stack([cv2.resize(p, (size, size), interpolation=cv2.INTER_LINEAR) for p in probabilities])
    return (probabilities > 0.5).astype(np.uint8)


def pseudo_label_folder(segmenter: Segmenter, values: Mapping[str, Any], size: int) -> Path:
    """The cache folder of ``segmenter``'s masks at ``size``, named by what
    decides them: the data, the segmenter's weights (two stages of one name in
    two runs folders are two segmenters) and the numerics signature of the
    kernels that predict them."""
    fingerprint = segmenter.record["dataset"]["fingerprint"]
    kernels = numerics.signature(numerics.configured(values)[0])["key"]
    return cache_dir() / "pseudo-labels" / f"{segmenter.record['run_id']}-{fingerprint[:12]}-w{segmenter.weights_digest[:12]}-n{kernels}-s{size}"


def cache_pseudo_labels(segmenter: Segmenter, values: Mapping[str, Any], data_root: Path | None, size: int) -> Path:
    """Predict every frame of every training video once; returns the cache folder
    (:func:`pseudo_label_folder`) holding ``<video>.npy`` (T, size, size) uint8
    masks and ``alpha.json``."""
    folder = pseudo_label_folder(segmenter, values, size)
    if (folder / "alpha.json").is_file():
        return folder
    with atomic.exclusive(folder), phases.phase("pseudo-labels"):  # concurrent runs of one segmenter predict once
        if not (folder / "alpha.json").is_file():
            _predict_pseudo_labels(segmenter, values, data_root, size, folder)
    return folder


def _predict_pseudo_labels(segmenter: Segmenter, values: Mapping[str, Any], data_root: Path | None, size: int, folder: Path) -> None:
    seg_values = config.merge(values, {"data": {"size": segmenter.size}})
    opened = open_layout(data_root, seg_values, need_traces=True)
    alpha = {}
    with atomic.directory(folder) as tmp:
        for video in progress.bar(opened.layout.split("TRAIN"), desc="pseudo-labels", unit="video"):
            prob = segmenter.predictor.probabilities(opened.store.frames(video.path))
            np.save(tmp / f"{video.name}.npy", _resize_masks(prob, size))
            alpha[video.name] = _alpha(video, prob, segmenter.size) if video.name not in opened.without_masks else 0.0
        atomic.write_text(tmp / "alpha.json", json.dumps(alpha))


def _alpha(video: Video, prob: np.ndarray, size: int) -> float:
    """Eq. 8: the segmenter's mean Dice on the video's annotated ED and ES
    frames. A training video without usable traces gets alpha 0 (our choice:
    with no annotation there is no evidence of the pseudo-labels' quality, so
    they carry no weight; its EF still trains the model)."""
    ed, es = video.ed_es
    return float(np.mean([dice_from_masks(trace_mask(video, phase, size), prob[t.frame] > 0.5) for phase, t in zip(PHASES, (ed, es))]))


class WithPseudoLabels(Dataset):
    """Training clips plus ``pseudo_ed`` / ``pseudo_es`` (the largest and the
    smallest predicted LV among the clip's frames) and the video's ``alpha``."""

    def __init__(self, clips: VideoClips, masks: list[Callable[[], np.ndarray]], alpha: np.ndarray):
        self.clips, self.masks, self.alpha = clips, masks, alpha

    def set_epoch(self, epoch: int) -> None:
        self.clips.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict[str, object]:
        item = self.clips[index]
        video, start = self.clips.locate(index)
        masks = self.masks[video]()
        frames = start + self.clips.spec.period * np.arange(self.clips.spec.frames)
        clip_masks = masks[frames[frames < len(masks)]]
        areas = clip_masks.reshape(len(clip_masks), -1).sum(axis=1)
        item["pseudo_ed"] = torch.from_numpy(clip_masks[int(np.argmax(areas))].astype(np.float32))
        item["pseudo_es"] = torch.from_numpy(clip_masks[int(np.argmin(areas))].astype(np.float32))
        item["alpha"] = torch.tensor(self.alpha[video], dtype=torch.float32)
        return item


def prepare_stca(bundle: DataBundle, values: dict[str, Any], context: StageContext) -> tuple[DataBundle, dict[str, Any]]:
    """The segmenter stage, then pseudo-labelled training clips."""
    if context.request.dataset not in (None, "echonet-dynamic"):
        raise ConfigError(
            f"stca trains on EchoNet-Dynamic only: its pseudo-labels come from a segmenter trained on EchoNet-Dynamic's traced frames and predicted on its videos, "
            f"which dataset {context.request.dataset!r} does not have in that form. To test an EchoNet-Dynamic-trained STCA on {context.request.dataset}, use --test-dataset {context.request.dataset}."
        )
    aux = values["aux"]
    trained_here = aux["segmenter"] is None
    if trained_here:
        request = segmenter_request(values, context)
        print(f"stca: no aux.segmenter given, so the LV segmenter comes first, a recorded stage ({request.task} / {request.model}, preset {request.preset}) under RUNS_DIR/stages/, trained once and shared by every STCA run on the same data, preset and seed (or name one with --set aux.segmenter=RUN_DIR)", flush=True)
        stage = context.run_stage(request, key=bundle.fingerprint)
        trained_here = not stage.reused
        aux["segmenter"] = str(stage.run_dir.resolve())
    segmenter = Segmenter(Path(aux["segmenter"]).expanduser(), context.registry, bundle.fingerprint)
    size = int(bundle.info["frame_size"])
    data_root = Path(context.request.data_root) if context.request.data_root else None
    folder = cache_pseudo_labels(segmenter, values, data_root, size)
    alpha_by_name = json.loads((folder / "alpha.json").read_text())

    fold = bundle.folds[0]
    train: VideoClips = fold.train
    missing = [name for name in train.ids if name not in alpha_by_name]
    if missing:
        raise CardiobenchError(f"pseudo-label cache {folder} lacks {len(missing)} training video(s), e.g. {missing[0]}; delete the folder to rebuild it.")
    masks = [lambda n=name: np.load(folder / f"{n}.npy", mmap_mode="r") for name in train.ids]
    alpha = np.array([alpha_by_name[name] for name in train.ids], dtype=np.float32)
    wrapped = replace(bundle, folds=[replace(fold, train=WithPseudoLabels(train, masks, alpha))])
    seg_metrics = segmenter.record["metrics"]
    stages = {
        "segmenter": {
            "run_dir": str(segmenter.run_dir),
            "trained_in_this_run": trained_here,
            "model": segmenter.record["model"]["name"],
            "backbone": segmenter.config["model"].get("backbone"),
            "preset": segmenter.record["preset"]["name"],
            "test_dice": seg_metrics.get("dice", {}).get("value"),
            "pseudo_labels": str(folder),
            "alpha_mean": float(alpha.mean()),
        }
    }
    return wrapped, stages
