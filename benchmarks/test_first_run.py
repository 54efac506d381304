"""The README's main command (``cardiobench run --task lvef --model stca``),
phase by phase, against the previous quick protocol, in one process.

Each phase's unit of work (an STCA training step, a test clip, a segmenter
training step, a pseudo-labelled frame, a generated video) is timed under the
previous protocol (lvef quick v2 with lvef-seg quick v1, phantom v3 video
lengths, that commit's foreach AdamW, dilated convolutions over every tap, batch
norms not folded) and under the current presets and code, alternating the two so
drift hits both alike; multiplied by how many units each protocol runs, they give the
estimated wall time per phase and the ratio the issue asks for
(target: the whole run at <= 40% of the previous one's).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from benchmarks.timing import paired_medians
from cardiobench import config
from cardiobench.engine import devices, optim
from cardiobench.registry import load_registry
from cardiobench_echo.echonet import phantom
from cardiobench_echo.models.segmentation import CentreTapConv2d, LVSegmenter, swap_conv2d
from cardiobench_echo.models.stca import EFNet
from cardiobench_echo.pseudo_labels import FramePredictor

TRAIN, VAL, TEST = 0.60, 0.15, 0.25  # EchoNet-Dynamic's split shares, kept by the synthetic set
TRACED_PER_VIDEO = 2  # end-diastole and end-systole tracings train the segmenter
PREVIOUS = {  # lvef quick v2, lvef-seg quick v1, phantom v3 (mean 119.5 frames per video)
    "frames": 10, "period": 7, "size": 32, "epochs": 11, "batch": 8, "test_clips": 5, "videos": 500,
    "seg_size": 64, "seg_epochs": 8, "seg_batch": 16, "seg_channels_last": 0, "video_frames": 119.5,
}


def current() -> dict[str, float]:
    registry = load_registry()
    lvef = config.resolve(registry.task("lvef"), registry.model("stca"), "quick").values
    seg = config.resolve(registry.task("lvef-seg"), registry.model("deeplabv3"), "quick").values
    return {
        "frames": lvef["data"]["frames"], "period": lvef["data"]["period"], "size": lvef["data"]["size"], "epochs": lvef["train"]["epochs"],
        "batch": lvef["train"]["batch_size"], "test_clips": lvef["data"]["test_clips"], "seg_size": seg["data"]["size"],
        "seg_epochs": seg["train"]["epochs"], "seg_batch": seg["train"]["batch_size"], "seg_channels_last": int(seg["train"]["channels_last"]), "video_frames": 96.0,
        "videos": lvef["data"]["synthetic_videos"],
    }


def as_of(p: dict[str, float], model: torch.nn.Module) -> torch.nn.Module:
    """``model`` now, or as the previous commit computed it: every dilated
    convolution over all its taps, padding included."""
    if p is not PREVIOUS:
        return model
    return swap_conv2d(model, lambda conv: isinstance(conv, CentreTapConv2d), torch.nn.Conv2d)


def adamw(p: dict[str, float], model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    """The previous commit's AdamW (foreach) or the engine's now."""
    if p is PREVIOUS:
        return torch.optim.AdamW(model.parameters(), lr)
    return optim.build(model, {"optimizer": "adamw", "lr": lr, "weight_decay": 1e-4, "scheduler": "none", "epochs": 1}, 1).optimizer


def stca_step(p: dict[str, float]) -> Callable[[], None]:
    torch.manual_seed(0)
    model = as_of(p, EFNet("tca", True))
    opt = adamw(p, model, 1e-3)
    b, t, s = int(p["batch"]), int(p["frames"]), int(p["size"])
    batch = {"input": torch.randn(b, 3, t, s, s), "target": torch.rand(b) * 60 + 20, "pseudo_ed": (torch.rand(b, s, s) > 0.5).float(), "pseudo_es": (torch.rand(b, s, s) > 0.5).float(), "alpha": torch.ones(b)}

    def step() -> None:
        model.train()
        loss = model.loss(model(batch["input"]), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def stca_clips(p: dict[str, float], n: int = 32) -> Callable[[], None]:
    model = as_of(p, EFNet("tca", True)).eval()
    x = torch.randn(n, 3, int(p["frames"]), int(p["size"]), int(p["size"]))

    def run() -> None:
        with torch.no_grad():
            model(x)

    return run


def seg_step(p: dict[str, float]) -> Callable[[], None]:
    model = devices.prepare_model(as_of(p, LVSegmenter("mobilenet_v3_large")), torch.device("cpu"), bool(p["seg_channels_last"]))
    opt = adamw(p, model, 2e-3)
    b, s = int(p["seg_batch"]), int(p["seg_size"])
    x, y = torch.randn(b, 3, s, s), (torch.rand(b, s, s) > 0.5).float()

    def step() -> None:
        model.train()
        loss = model.loss(model(x), {"target": y})
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def pseudo_frames(p: dict[str, float], n: int = 256) -> Callable[[], None]:
    """Segmenter inference the way pseudo-labels are predicted (previous: plain layout, batches of 64)."""
    model = as_of(p, LVSegmenter("mobilenet_v3_large")).eval()
    frames = np.random.default_rng(0).integers(0, 255, (n, int(p["seg_size"]), int(p["seg_size"]), 3), dtype=np.uint8)

    def previous() -> None:
        with torch.no_grad():
            for i in range(0, n, 64):
                model(torch.from_numpy(frames[i : i + 64]).permute(0, 3, 1, 2).float())

    if p is PREVIOUS:
        return previous
    predictor = FramePredictor(model, np.zeros(3), np.ones(3))
    return lambda: predictor.probabilities(frames)


def test_first_run_phases_against_the_previous_protocol(report, tmp_path):
    new = current()
    rows = []

    def phase(name: str, unit: Callable[[dict[str, float]], Callable[[], None]], count: Callable[[dict[str, float]], float], rounds: int = 3) -> None:
        old_fn, new_fn = unit(PREVIOUS), unit(new)
        old_fn(), new_fn()  # warm-up
        old_s, new_s = paired_medians(old_fn, new_fn, rounds)
        rows.append((name, old_s * count(PREVIOUS), new_s * count(new)))

    phase("STCA training", stca_step, lambda p: p["epochs"] * TRAIN * p["videos"] / p["batch"])
    phase("STCA validation and test", stca_clips, lambda p: (p["epochs"] * VAL + TEST * p["test_clips"]) * p["videos"] / 32)
    phase("segmenter stage", seg_step, lambda p: p["seg_epochs"] * TRACED_PER_VIDEO * TRAIN * p["videos"] / p["seg_batch"])
    phase("pseudo-labels", pseudo_frames, lambda p: TRAIN * p["videos"] * p["video_frames"] / 256)
    (tmp_path / "Videos").mkdir()
    render = lambda: phantom.render_video(tmp_path, 0, 0, "TRAIN")  # noqa: E731
    frames = int(render()[0]["NumberOfFrames"])
    frame_s = min(paired_medians(render, render, 3)) / frames
    rows.append(("data generation (video lengths only: the v3 renderer is gone; its 2x more per frame is in README's end-to-end figure)", frame_s * PREVIOUS["video_frames"] * PREVIOUS["videos"] / 2, frame_s * new["video_frames"] * new["videos"] / 2))

    old_total, new_total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    for name, old_s, new_s in rows:
        report(f"first run, {name}: {old_s:.0f} s -> {new_s:.0f} s ({new_s / old_s:.2f}x)")
    report(f"first run, these phases together: {old_total:.0f} s -> {new_total:.0f} s ({new_total / old_total:.2f}x; target <= 0.40)")
    assert new_total / old_total <= 0.40
