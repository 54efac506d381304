"""Synthetic CAMUS patients in the NIfTI release's layout, with a domain
shift from the synthetic EchoNet-Dynamic set.

Each patient is one heart of the EchoNet-Dynamic phantom
(:mod:`cardiobench_echo.echonet.phantom`) seen in two views: four-chamber
and two-chamber (no right heart, the long axis turned). What differs from
the EchoNet set, as a second hospital's scanner and population would:

- acquisition: lower frame rate (25-45 fps, EchoNet's phantom 40-55), a
  wider and shorter sector, lower gain and stronger depth attenuation;
- image: frames of 160 x 136 pixels (taller than wide) at 0.6 mm, coarser
  speckle, and noise growing with the image quality drawn per patient
  (Good / Medium / Poor, 40/40/20%);
- anatomy: longer and narrower ventricles;
- labels: the half sequence runs ED to ES only; EF is the volume ratio of the
  phantom's shape (CAMUS's EF is a biplane value from both views; here both
  views show the same heart, so one EF fits both).

Written with nibabel in the release's orientation (``array[:, :, t]`` is a
transposed frame: the apex on the left), so the reader's transpose puts the
apex at the top.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import cv2
import nibabel as nib
import numpy as np

from cardiobench import progress
from cardiobench.data.generated import worker_pool
from cardiobench_echo.camus.layout import NIFTI, QUALITIES, SPLIT, SPLIT_FILES
from cardiobench_echo.echonet.phantom import Renderer, ef_volume_ratio, sample_heart

GENERATOR_VERSION = 1
HEIGHT, WIDTH = 160, 136
SPACING_MM = 0.6
QUALITY_SHARES = (0.4, 0.4, 0.2)
QUALITY_NOISE = {"Good": 0.02, "Medium": 0.05, "Poor": 0.1}
SPLIT_SHARES = {"TRAIN": 0.7, "VAL": 0.15, "TEST": 0.15}


def shifted_heart(rng: np.random.Generator):  # noqa: ANN201 - a phantom Heart
    """One patient's heart, its acquisition shifted from the EchoNet phantom's."""
    heart = sample_heart(rng, float(np.clip(rng.normal(52.0, 13.0), 12.0, 82.0)))
    return dataclasses.replace(
        heart,
        fps=float(round(rng.uniform(25, 45))),
        phase0=0.0,  # frame 0 is end-diastole
        length_ed=heart.length_ed * float(rng.uniform(1.02, 1.12)),
        width_ed=heart.width_ed * float(rng.uniform(0.82, 0.95)),
        sector_half_angle=float(np.deg2rad(rng.uniform(44, 50))),
        sector_radius=float(rng.uniform(92, 104)),
        gain=float(rng.uniform(0.55, 0.95)),
        attenuation=float(rng.uniform(0.8, 1.4)),
    )


def _to_camus_frame(frame: np.ndarray, rng: np.random.Generator, quality: str) -> np.ndarray:
    """A 112 x 112 phantom frame as a CAMUS frame: resized, coarser speckle, noise by quality."""
    image = cv2.resize(frame.astype(np.float32), (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)
    inside = image > 0  # the sector
    speckle = cv2.GaussianBlur(rng.standard_normal((HEIGHT, WIDTH)).astype(np.float32), (0, 0), 1.6)
    image *= 1 + 0.35 * speckle
    image += rng.standard_normal((HEIGHT, WIDTH)).astype(np.float32) * 255 * QUALITY_NOISE[quality]
    return np.clip(image, 0, 255) * inside


def _to_camus_labels(labels: np.ndarray) -> np.ndarray:
    return cv2.resize(labels, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)


def _save(path: Path, frames_hw: np.ndarray, dtype: type) -> None:
    """(H, W) or (T, H, W) frames as a NIfTI volume (x, y[, t]) at SPACING_MM."""
    array = frames_hw.T if frames_hw.ndim == 2 else np.transpose(frames_hw, (2, 1, 0))
    nib.save(nib.Nifti1Image(np.ascontiguousarray(array).astype(dtype), np.diag([SPACING_MM, SPACING_MM, 1.0, 1.0])), str(path))


def write_patient(root: Path, seed: int, index: int) -> str:
    """Write one patient's two views; returns its name."""
    rng = np.random.default_rng([seed, index, 7])
    heart = shifted_heart(rng)
    ef = 100 * (1 - ef_volume_ratio(heart.k_long, heart.k_wide))
    es = max(2, round(heart.systole * heart.fps * 60.0 / heart.heart_rate))
    quality = str(rng.choice(QUALITIES, p=QUALITY_SHARES))
    name = f"patient{index + 1:04d}"
    folder = root / NIFTI / name
    folder.mkdir(parents=True, exist_ok=True)
    sex, age = str(rng.choice(["M", "F"])), int(rng.integers(20, 90))
    for view, turn, right_heart in (("4CH", 0.0, True), ("2CH", float(np.deg2rad(rng.uniform(-12, -4))), False)):
        view_heart = dataclasses.replace(heart, angle=heart.angle + turn)
        renderer = Renderer(view_heart, rng)
        frames = np.stack([_to_camus_frame(renderer.frame(t, right_heart), rng, quality) for t in range(es + 1)])
        labels = np.stack([_to_camus_labels(renderer.labels(t)) for t in range(es + 1)])
        _save(folder / f"{name}_{view}_half_sequence.nii.gz", frames, np.float32)
        _save(folder / f"{name}_{view}_half_sequence_gt.nii.gz", labels, np.uint8)
        for phase, t in (("ED", 0), ("ES", es)):
            _save(folder / f"{name}_{view}_{phase}.nii.gz", frames[t], np.float32)
            _save(folder / f"{name}_{view}_{phase}_gt.nii.gz", labels[t], np.uint8)
        cfg = {"ED": 1, "ES": es + 1, "NbFrame": es + 1, "Sex": sex, "Age": age, "ImageQuality": quality, "EF": f"{ef:.2f}", "FrameRate": f"{heart.fps:g}"}
        (folder / f"Info_{view}.cfg").write_text("".join(f"{k}: {v}\n" for k, v in cfg.items()))
    return name


def synthesize(out_dir: Path, n: int, seed: int, workers: int | None = None) -> None:
    """Write ``n`` patients and the split files into ``out_dir``."""
    out_dir = Path(out_dir)
    with worker_pool(workers) as pool:
        jobs = pool.map(write_patient, [out_dir] * n, [seed] * n, range(n), chunksize=4)
        names = list(progress.bar(jobs, total=n, desc="synthesizing CAMUS patients", unit="patient"))
    order = np.random.default_rng([seed, 1]).permutation(names)
    n_val, n_test = math.ceil(SPLIT_SHARES["VAL"] * n), math.ceil(SPLIT_SHARES["TEST"] * n)
    parts = {"VAL": order[:n_val], "TEST": order[n_val : n_val + n_test], "TRAIN": order[n_val + n_test :]}
    (out_dir / SPLIT).mkdir(parents=True, exist_ok=True)
    for part, members in parts.items():
        (out_dir / SPLIT / SPLIT_FILES[part]).write_text("".join(f"{m}\n" for m in sorted(members)))
