"""A synthetic apical-4-chamber echocardiogram in EchoNet-Dynamic's on-disk layout.

Each video shows an ultrasound sector with speckle, a left ventricle (LV) whose
base descends and walls move inward and thicken in systole, a right ventricle,
and atria filling in counter-phase. Heart rate, frame rate, length, probe
position, LV size and orientation, gain and depth attenuation vary per video
and are drawn independently of the ejection fraction, so EF is recoverable
only from how the LV moves (``tests/echo/test_phantom.py`` checks brightness
and size alone do not predict it).

Labels follow the clinical recipe: the LV is traced on one end-diastolic (ED)
and one end-systolic (ES) frame, volumes come from the traces by the method of
discs and EF = 100 (EDV - ESV) / EDV.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cardiobench import progress
from cardiobench.data.generated import worker_pool
from cardiobench_echo.echonet.traces import Trace, ejection_fraction

GENERATOR_VERSION = 4  # v4: shapes drawn inside their bounding boxes (v3 drew every shape over the whole frame; 2-3x slower)
SIZE = 112
N_CHORDS = 20
SPLIT_SHARES = {"TRAIN": 0.6, "VAL": 0.15, "TEST": 0.25}  # more test videos than EchoNet-Dynamic's 12.5%, for precise small-set metrics
EDGE_PX = 0.6  # softness of anatomical boundaries
SPECKLE_POOL = 8  # decorrelating speckle fields drawn per video and cycled through its frames
MARGIN_PX = 8.0  # a shape is drawn within this distance of its outline; beyond, its soft edge is below 1e-5


@dataclass(frozen=True)
class Heart:
    """Per-video acquisition and anatomy."""

    fps: float
    heart_rate: float  # beats per minute
    n_frames: int
    phase0: float  # cardiac phase of frame 0, in cycles
    systole: float  # systolic share of the cycle
    apex: tuple[float, float]  # LV apex (x, y) in pixels
    angle: float  # LV long axis, radians from vertical
    length_ed: float  # LV long axis at ED, pixels
    width_ed: float  # LV half-width at ED, pixels
    wall_ed: float  # myocardial thickness at ED, pixels
    k_long: float  # fractional long-axis shortening ED -> ES
    k_wide: float  # fractional half-width shortening ED -> ES
    sector_apex: tuple[float, float]
    sector_half_angle: float
    sector_radius: float
    gain: float
    attenuation: float
    spacing_cm: float  # centimetres per pixel

    def contraction(self, frame: np.ndarray | int) -> np.ndarray:
        """0 at end-diastole, 1 at end-systole: a half-cosine rise over systole
        and a half-cosine fall over diastole."""
        phase = np.mod(np.asarray(frame, dtype=np.float64) / self.fps * self.heart_rate / 60.0 + self.phase0, 1.0)
        rise = 0.5 * (1 - np.cos(np.pi * phase / self.systole))
        fall = 0.5 * (1 + np.cos(np.pi * (phase - self.systole) / (1 - self.systole)))
        return np.where(phase < self.systole, rise, fall)

    def lv_shape(self, frame: int) -> tuple[float, float, float]:
        """(long axis, half-width, wall thickness) of the LV at ``frame``."""
        f = float(self.contraction(frame))
        return (
            self.length_ed * (1 - self.k_long * f),
            self.width_ed * (1 - self.k_wide * f),
            self.wall_ed * (1 + 0.35 * f),
        )

    @property
    def axis(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors along the long axis (apex to base) and across it."""
        d = np.array([np.sin(self.angle), np.cos(self.angle)])
        return d, np.array([d[1], -d[0]])


def _profile(s: np.ndarray) -> np.ndarray:
    """Half-width along the long axis (0 = apex, 1 = base), relative to the widest."""
    s = np.clip(s, 0.0, 1.0)
    return np.sqrt(s * (2 - s)) * (1 - 0.15 * s * s * s)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))


def _chamber(u: np.ndarray, v: np.ndarray, length: float, width: float) -> np.ndarray:
    """Soft mask of a bullet-shaped chamber with apex at u = 0 and base at u = length."""
    w = width * _profile(u / length)
    return _sigmoid((w - np.abs(v)) / EDGE_PX) * _sigmoid(u / EDGE_PX) * _sigmoid((length - u) / EDGE_PX)


def _window(xs: list[float], ys: list[float]) -> tuple[slice, slice]:
    """The (rows, columns) of the frame covering the points (``xs``, ``ys``)."""
    def span(values: list[float]) -> slice:
        return slice(min(SIZE, max(0, math.floor(min(values)))), min(SIZE, max(0, math.ceil(max(values)) + 1)))

    return span(ys), span(xs)


def _ellipse(x: np.ndarray, y: np.ndarray, centre: np.ndarray, d: np.ndarray, a: float, b: float) -> np.ndarray:
    cx, cy, dx, dy = (float(c) for c in (*centre, *d))
    u = (x - cx) * dx + (y - cy) * dy
    v = (x - cx) * dy - (y - cy) * dx
    r = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    return _sigmoid((1 - r) * min(a, b) / EDGE_PX)


def ef_volume_ratio(k_long: float, k_wide: float) -> float:
    """ESV / EDV for the model's shape: volume scales with length x width^2."""
    return (1 - k_long) * (1 - k_wide) ** 2


def sample_heart(rng: np.random.Generator, ef_target: float) -> Heart:
    """Draw one video's anatomy and acquisition; only k_long and k_wide depend on EF."""
    ratio = rng.uniform(0.3, 0.55)  # share of shortening along the long axis
    lo, hi = 0.0, 0.95
    for _ in range(60):  # solve (1 - ratio k)(1 - k)^2 = 1 - EF
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ef_volume_ratio(ratio * mid, mid) > 1 - ef_target / 100 else (lo, mid)
    k_wide = 0.5 * (lo + hi)
    fps = float(rng.uniform(40, 55))
    heart_rate = float(rng.uniform(55, 100))
    return Heart(
        fps=round(fps, 2),
        heart_rate=heart_rate,
        # v4: 72-120 frames (v3: 90-149; every preset's clip spans at most 64), and at least
        # 1.5 beats, so that an end-diastole followed by its end-systole is always on screen
        n_frames=max(int(rng.integers(72, 121)), math.ceil(1.5 * round(fps, 2) * 60.0 / heart_rate) + 1),
        phase0=float(rng.uniform(0, 1)),
        systole=float(rng.uniform(0.33, 0.42)),
        apex=(float(rng.uniform(55, 63)), float(rng.uniform(15, 21))),
        angle=float(np.deg2rad(rng.normal(10, 4))),
        length_ed=float(rng.uniform(46, 58)),
        width_ed=float(rng.uniform(15, 20)),
        wall_ed=float(rng.uniform(4.0, 6.0)),
        k_long=ratio * k_wide,
        k_wide=k_wide,
        sector_apex=(float(rng.uniform(52, 60)), float(rng.uniform(-3, 2))),
        sector_half_angle=float(np.deg2rad(rng.uniform(36, 42))),
        sector_radius=float(rng.uniform(104, 116)),
        gain=float(rng.uniform(0.7, 1.3)),
        attenuation=float(rng.uniform(0.2, 0.9)),
        spacing_cm=float(rng.uniform(0.15, 0.19)),
    )


class Renderer:
    """Draws the frames of one :class:`Heart`."""

    def __init__(self, heart: Heart, rng: np.random.Generator):
        self.heart = heart
        self.rng = rng
        self.y, self.x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
        sx, sy = heart.sector_apex
        r = np.hypot(self.x - sx, self.y - sy)
        theta = np.arctan2(self.x - sx, self.y - sy)
        self.sector = (_sigmoid((heart.sector_radius - r) / 1.0) * _sigmoid((heart.sector_half_angle - np.abs(theta)) * r / 1.0)).astype(np.float32)
        self.depth_gain = (heart.gain * np.exp(-heart.attenuation * r / heart.sector_radius)).astype(np.float32)
        self.near_field = (0.35 * np.exp(-r / 9.0)).astype(np.float32)
        self.speckle_fixed = self._speckle()
        self.speckle_pool = [self._speckle() for _ in range(SPECKLE_POOL)]
        d, n = heart.axis
        ax, ay = heart.apex
        self.u = ((self.x - ax) * d[0] + (self.y - ay) * d[1]).astype(np.float32)
        self.v = ((self.x - ax) * n[0] + (self.y - ay) * n[1]).astype(np.float32)

    def _speckle(self) -> np.ndarray:
        field = self.rng.normal(size=(SIZE, SIZE)) + 1j * self.rng.normal(size=(SIZE, SIZE))
        re = cv2.GaussianBlur(field.real, (0, 0), 0.8)
        im = cv2.GaussianBlur(field.imag, (0, 0), 0.8)
        mag = np.hypot(re, im)
        return (mag / mag.mean()).astype(np.float32)

    def _draw_chamber(self, into: np.ndarray, du: float, dv: float, length: float, width: float) -> None:
        """``into`` = max(``into``, the chamber at u + du, v + dv), inside its bounding box."""
        (dx, dy), (nx, ny) = self.heart.axis
        ax, ay = self.heart.apex
        corners = [(ax + u * dx + v * nx, ay + u * dy + v * ny) for u in (-MARGIN_PX - du, length + MARGIN_PX - du) for v in (-width - MARGIN_PX - dv, width + MARGIN_PX - dv)]
        rows, cols = _window([c[0] for c in corners], [c[1] for c in corners])
        if rows.start < rows.stop and cols.start < cols.stop:
            np.maximum(into[rows, cols], _chamber(self.u[rows, cols] + du, self.v[rows, cols] + dv, length, width), out=into[rows, cols])

    def _draw_ellipse(self, into: np.ndarray, centre: np.ndarray, a: float, b: float) -> None:
        """``into`` = max(``into``, the ellipse), inside its bounding box."""
        reach, (cx, cy) = max(a, b) + MARGIN_PX, centre
        rows, cols = _window([cx - reach, cx + reach], [cy - reach, cy + reach])
        if rows.start < rows.stop and cols.start < cols.stop:
            np.maximum(into[rows, cols], _ellipse(self.x[rows, cols], self.y[rows, cols], centre, self.heart.axis[0], a, b), out=into[rows, cols])

    def _left_heart(self, t: int) -> tuple[float, float, float, float, np.ndarray]:
        """(contraction, LV long axis, half-width, wall, left-atrium centre) at frame ``t``."""
        h = self.heart
        f = float(h.contraction(t))
        length, width, wall = h.lv_shape(t)
        atrium = 1 + 0.18 * f  # atria fill while the ventricles contract
        return f, length, width, wall, np.array(h.apex) + length * h.axis[0] + (12.0 * atrium) * h.axis[0]

    def labels(self, t: int) -> np.ndarray:
        """uint8 (SIZE, SIZE) map of frame ``t`` in CAMUS's classes: 1 LV
        cavity, 2 LV myocardium, 3 left atrium, 0 elsewhere."""
        f, length, width, wall, la_centre = self._left_heart(t)
        atrium = 1 + 0.18 * f
        cavity, outer, la = (np.zeros((SIZE, SIZE), np.float32) for _ in range(3))
        self._draw_chamber(cavity, 0.0, 0.0, length, width)
        self._draw_chamber(outer, wall, 0.0, length + wall, width + wall)
        self._draw_ellipse(la, la_centre, 11.0 * atrium, 0.85 * width + 2)
        out = np.zeros((SIZE, SIZE), np.uint8)
        out[la > 0.5] = 3
        out[outer > 0.5] = 2
        out[cavity > 0.5] = 1
        return out

    def frame(self, t: int, right_heart: bool = True) -> np.ndarray:
        """uint8 (SIZE, SIZE) grey frame number ``t``; without the right
        ventricle and atrium (``right_heart=False``) it is a two-chamber view."""
        h = self.heart
        f, length, width, wall, la_centre = self._left_heart(t)
        d, n = h.axis
        rv_offset = width + wall + 2.5  # RV sits across the septum
        rv_du, rv_dv = -9.0, rv_offset + 0.65 * h.width_ed
        rv_len, rv_w = 0.78 * length, 0.62 * h.width_ed * (1 - 0.2 * f)
        atrium = 1 + 0.18 * f
        ra_centre = np.array(h.apex) + (9.0 + rv_len + 10.0 * atrium) * d - (rv_offset + 0.65 * h.width_ed) * n

        walls = np.zeros((SIZE, SIZE), np.float32)
        blood = np.zeros((SIZE, SIZE), np.float32)
        self._draw_chamber(blood, 0.0, 0.0, length, width)
        self._draw_chamber(walls, wall, 0.0, length + wall, width + wall)
        if right_heart:
            self._draw_chamber(blood, rv_du, rv_dv, rv_len, rv_w)
            self._draw_chamber(walls, rv_du + 3.0, rv_dv, rv_len + 3.0, rv_w + 3.0)
        self._draw_ellipse(blood, la_centre, 11.0 * atrium, 0.85 * width + 2)
        self._draw_ellipse(walls, la_centre, 11.0 * atrium + 2.5, 0.85 * width + 4.5)
        if right_heart:
            self._draw_ellipse(blood, ra_centre, 10.0 * atrium, 0.75 * h.width_ed)
            self._draw_ellipse(walls, ra_centre, 10.0 * atrium + 2.5, 0.75 * h.width_ed + 2.5)

        tissue = 0.28 + 0.34 * walls
        tissue *= 1 - blood
        tissue += 0.03 * blood + self.near_field
        speckle = 0.8 * self.speckle_fixed + 0.2 * self.speckle_pool[t % SPECKLE_POOL]
        image = tissue * speckle * self.depth_gain
        image += self.rng.standard_normal((SIZE, SIZE), dtype=np.float32) * np.float32(0.015)
        image *= self.sector
        return np.clip(image * 255, 0, 255).astype(np.uint8)

    def lv_trace(self, t: int) -> Trace:
        """The LV trace of frame ``t``: long axis then N_CHORDS perpendicular chords."""
        length, width, _ = self.heart.lv_shape(t)
        d, n = self.heart.axis
        apex = np.array(self.heart.apex)
        u = (np.arange(N_CHORDS) + 0.5) / N_CHORDS * length
        half = width * _profile(u / length)
        centres = apex[None, :] + u[:, None] * d[None, :]
        ends_a = centres - half[:, None] * n[None, :]
        ends_b = centres + half[:, None] * n[None, :]
        axis = np.concatenate([apex, apex + length * d])
        return Trace(frame=t, axis=axis, chords=np.hstack([ends_a, ends_b]))


def traced_frames(heart: Heart) -> tuple[int, int]:
    """(ED, ES) frame indices of the beat nearest the middle of the video whose
    end-systole is still on screen: ED is the frame nearest an end-diastole
    (contraction 0), ES the most contracted frame of the beat that follows."""
    cycle = heart.fps * 60.0 / heart.heart_rate  # frames per beat
    last = heart.n_frames - 1
    eds = [round((k - heart.phase0) * cycle) for k in range(int(heart.n_frames / cycle) + 2)]
    eds = [t for t in eds if 0 <= t and t + heart.systole * cycle + 1 <= last]
    ed = min(eds, key=lambda t: abs(t - last / 2))
    after = np.arange(ed, min(heart.n_frames, ed + int(cycle)))
    es = int(after[np.argmax(heart.contraction(after))])
    return int(ed), es


def write_avi(path: Path, frames: np.ndarray, fps: float) -> None:
    """MJPG AVI of grey frames stored as 3 channels, as EchoNet-Dynamic's."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (frames.shape[2], frames.shape[1]))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write MJPG AVI {path}")
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()


def _sample_ef(rng: np.random.Generator) -> float:
    """EF distributed like EchoNet-Dynamic's (mean ~55, sd ~12, range ~10-85)."""
    return float(np.clip(rng.normal(55.5, 12.0), 10.0, 85.0))


def _splits(n: int, rng: np.random.Generator) -> list[str]:
    counts = {k: int(round(v * n)) for k, v in SPLIT_SHARES.items()}
    counts["TRAIN"] = n - counts["VAL"] - counts["TEST"]
    labels = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(labels)
    return labels


def render_video(out_dir: Path, seed: int, index: int, split: str) -> tuple[dict[str, object], list[list[object]]]:
    """Write video ``index`` and return its FileList row and VolumeTracings rows."""
    rng = np.random.default_rng([seed, index])
    heart = sample_heart(rng, _sample_ef(rng))
    renderer = Renderer(heart, rng)
    name = f"0X{seed:04X}{index:08X}"
    write_avi(out_dir / "Videos" / f"{name}.avi", np.stack([renderer.frame(t) for t in range(heart.n_frames)]), heart.fps)

    ed, es = traced_frames(heart)
    # labels come from the coordinates exactly as written, so they can be recomputed from the file
    traces = [Trace.from_rows(t, np.round(renderer.lv_trace(t).rows(), 4)) for t in (ed, es)]
    edv, esv = (tr.disc_volume() * heart.spacing_cm**3 for tr in traces)
    tracings = [
        [f"{name}.avi", *(f"{c:.4f}" for c in row), traces[k].frame]
        for k in rng.permutation(2)  # the public files list ED and ES in either order
        for row in traces[k].rows()
    ]
    row = {
        "FileName": name,
        "EF": f"{ejection_fraction(edv, esv):.6f}",
        "ESV": f"{esv:.6f}",
        "EDV": f"{edv:.6f}",
        "FrameHeight": SIZE,
        "FrameWidth": SIZE,
        "FPS": heart.fps,
        "NumberOfFrames": heart.n_frames,
        "Split": split,
    }
    return row, tracings


def synthesize(out_dir: Path, n: int, seed: int, workers: int | None = None) -> None:
    """Write ``n`` videos with FileList.csv and VolumeTracings.csv into ``out_dir``."""
    out_dir = Path(out_dir)
    (out_dir / "Videos").mkdir(parents=True, exist_ok=True)
    splits = _splits(n, np.random.default_rng(seed))
    with worker_pool(workers) as pool:
        jobs = pool.map(render_video, [out_dir] * n, [seed] * n, range(n), splits, chunksize=4)
        results = list(progress.bar(jobs, total=n, desc="synthesizing echo videos", unit="video"))
    with open(out_dir / "FileList.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0][0]))
        writer.writeheader()
        writer.writerows(row for row, _ in results)
    with open(out_dir / "VolumeTracings.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["FileName", "X1", "Y1", "X2", "Y2", "Frame"])
        writer.writerows(r for _, rows in results for r in rows)
