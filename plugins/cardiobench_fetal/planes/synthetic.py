"""Synthetic FETAL_PLANES_DB folders in the real layout: the ``;`` CSV with its
trailing-space header and Train values, and ``Images/*.png`` of varying size
and mode (grey, 16-bit grey, RGB, RGBA).

Each image is an ultrasound fan with speckle and a bias field; a plane's
anatomy is drawn at a random position, scale and rotation inside it, so a
classifier has to find it (which is what the attention gates are for):
- Fetal abdomen: round abdomen with a dark stomach bubble and a bright spine;
- Fetal brain: bright elliptical skull with a midline; the sub-planes add the
  thalami (trans-thalamic), the cerebellum's dumbbell (trans-cerebellum) or an
  elongated ventricle (trans-ventricular);
- Fetal femur: a bright bone bar with an acoustic shadow;
- Fetal thorax: ribbed round chest with a four-chamber heart (a cross);
- Maternal cervix: a dark canal between bright walls;
- Other: unstructured blobs (the background class).
Machines differ in gain, contrast and speckle, and Voluson S10 patients are
nearly all in the test split, as in the real database.

A side file ``synthetic_boxes.csv`` (not part of the real format) holds each
image's size and its anatomy's bounding box in its own pixels (empty for
background images), for weakly supervised
localisation.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cardiobench_fetal.planes.layout import CSV_NAME, IMAGES

GENERATOR_VERSION = 1
BOXES = "synthetic_boxes.csv"
HEADER = "Image_name;Patient_num;Plane;Brain_plane;Operator;US_Machine;Train "
PLANE_SHARES = {"Fetal abdomen": 0.07, "Fetal brain": 0.25, "Fetal femur": 0.09, "Fetal thorax": 0.14, "Maternal cervix": 0.13, "Other": 0.32}
BRAIN_SUBPLANES = ("Trans-thalamic", "Trans-cerebellum", "Trans-ventricular", "Other")
MACHINES = {"Voluson E6": (1.0, 1.0, 0.45), "Aloka": (0.85, 1.2, 0.55), "Voluson S10": (1.15, 0.8, 0.35), "Other": (0.95, 1.0, 0.5)}  # gain, gamma, speckle
SIZES = ((300, 400), (270, 380), (330, 440), (288, 360), (240, 320))  # (H, W)
MODES = ("L", "RGB", "RGBA", "L16")


class Canvas:
    """An image and the mask of its anatomy, drawn in object coordinates
    (unit radius) mapped by scale, rotation and centre."""

    def __init__(self, shape: tuple[int, int], centre: tuple[float, float], scale: float, angle: float):
        self.image = np.zeros(shape, np.float32)
        self.mask = np.zeros(shape, np.uint8)
        self.centre, self.scale, self.angle = np.asarray(centre), scale, angle

    def point(self, x: float, y: float) -> tuple[int, int]:
        c, s = np.cos(np.radians(self.angle)), np.sin(np.radians(self.angle))
        px, py = self.centre + self.scale * np.array([c * x - s * y, s * x + c * y])
        return int(round(px)), int(round(py))

    def ellipse(self, x: float, y: float, a: float, b: float, value: float, thickness: float = -1, tilt: float = 0.0) -> None:
        axes = (max(1, int(self.scale * a)), max(1, int(self.scale * b)))
        t = -1 if thickness < 0 else max(1, int(self.scale * thickness))
        cv2.ellipse(self.image, self.point(x, y), axes, self.angle + tilt, 0, 360, float(value), t, cv2.LINE_AA)
        cv2.ellipse(self.mask, self.point(x, y), axes, self.angle + tilt, 0, 360, 1, t)

    def line(self, x0: float, y0: float, x1: float, y1: float, value: float, thickness: float) -> None:
        t = max(1, int(self.scale * thickness))
        cv2.line(self.image, self.point(x0, y0), self.point(x1, y1), float(value), t, cv2.LINE_AA)
        cv2.line(self.mask, self.point(x0, y0), self.point(x1, y1), 1, t)


def draw_anatomy(canvas: Canvas, plane: str, brain_plane: str, rng: np.random.Generator) -> None:
    e, ln = canvas.ellipse, canvas.line
    if plane == "Fetal abdomen":
        e(0, 0, 1, 0.9, 95)
        e(0, 0, 1, 0.9, 170, 0.06)
        e(0.3, -0.2, 0.28, 0.2, 15)
        e(0, 0.68, 0.14, 0.14, 235)
    elif plane == "Fetal brain":
        e(0, 0, 1, 0.78, 55)
        e(0, 0, 1, 0.78, 225, 0.08)
        ln(-0.95, 0, 0.95, 0, 190, 0.03)
        if brain_plane == "Trans-thalamic":
            e(-0.05, -0.2, 0.2, 0.12, 15)
            e(-0.05, 0.2, 0.2, 0.12, 15)
        elif brain_plane == "Trans-cerebellum":
            e(0.55, -0.2, 0.16, 0.16, 15)
            e(0.55, 0.2, 0.16, 0.16, 15)
            ln(0.55, -0.2, 0.55, 0.2, 15, 0.1)
        elif brain_plane == "Trans-ventricular":
            e(-0.35, 0.35, 0.38, 0.1, 10, tilt=10)
    elif plane == "Fetal femur":
        ln(-1, 0, 1, 0.05, 240, 0.14)
        e(-1, 0.02, 0.1, 0.12, 240)
        e(1, 0.05, 0.1, 0.12, 240)
        ln(-0.9, 0.35, 0.9, 0.4, 8, 0.45)
    elif plane == "Fetal thorax":
        e(0, 0, 1, 1, 85)
        for k in range(8):
            theta = 2 * np.pi * k / 8
            ln(0.92 * np.cos(theta), 0.92 * np.sin(theta), 1.0 * np.cos(theta + 0.3), 1.0 * np.sin(theta + 0.3), 220, 0.07)
        e(-0.2, 0, 0.45, 0.45, 25)
        ln(-0.65, 0, 0.25, 0, 200, 0.06)
        ln(-0.2, -0.45, -0.2, 0.45, 200, 0.06)
    elif plane == "Maternal cervix":
        e(0, 0, 1, 0.32, 150)
        e(0, 0, 0.9, 0.1, 10)
    else:  # background: unstructured tissue, sometimes a fragment of anatomy off the standard plane
        for _ in range(int(rng.integers(2, 5))):
            e(*rng.uniform(-1, 1, 2), *rng.uniform(0.15, 0.5, 2), rng.uniform(20, 200), tilt=rng.uniform(0, 180))
        if rng.random() < 0.4:
            e(0, 0, 0.8, rng.uniform(0.4, 0.8), 200, 0.07)
        elif rng.random() < 0.3:
            ln(-0.5, 0, 0.5, 0, 230, 0.12)
        canvas.mask[:] = 0


def fan_mask(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r, theta = np.hypot(x - w / 2, y + 0.05 * h), np.degrees(np.arctan2(x - w / 2, y + 0.05 * h))
    return ((r < 1.02 * h) & (np.abs(theta) < 38)).astype(np.float32)


def render(plane: str, brain_plane: str, machine: str, shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """A grey uint8 image and its anatomy's box (x0, y0, x1, y1) or None."""
    h, w = shape
    scale = rng.uniform(0.16, 0.26) * min(h, w)
    centre = (rng.uniform(0.3, 0.7) * w, rng.uniform(0.35, 0.7) * h)
    canvas = Canvas(shape, centre, scale, rng.uniform(0, 360))
    tissue = cv2.GaussianBlur(rng.normal(45, 18, shape).astype(np.float32), (0, 0), 6)
    canvas.image[:] = tissue
    draw_anatomy(canvas, plane, brain_plane, rng)
    gain, gamma, speckle = MACHINES[machine]
    image = cv2.GaussianBlur(canvas.image, (0, 0), 1.2)
    grain = cv2.GaussianBlur(rng.rayleigh(1.0, shape).astype(np.float32), (0, 0), 0.8)
    image *= 1 + speckle * (grain / grain.mean() - 1)
    bias = 1 + 0.25 * np.linspace(rng.uniform(-1, 1), rng.uniform(-1, 1), w)[None, :]
    image = 255 * (np.clip(image * bias * gain, 0, 255) / 255) ** gamma * fan_mask(shape)
    ys, xs = np.nonzero(canvas.mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else None
    return np.clip(image, 0, 255).astype(np.uint8), box


def encode(grey: np.ndarray, mode: str) -> np.ndarray:
    if mode == "L16":
        return grey.astype(np.uint16) * 257
    if mode == "RGB":
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    if mode == "RGBA":
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGRA)
    return grey


def write(out: Path, n_images: int, seed: int) -> None:
    """About ``n_images`` images of patients with 3-8 images each into ``out``."""
    out = Path(out)
    (out / IMAGES).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, GENERATOR_VERSION])
    rows, boxes, patient = [], [], 0
    planes, shares = list(PLANE_SHARES), np.array(list(PLANE_SHARES.values()))
    machines = list(MACHINES)
    while len(rows) < n_images:
        patient += 1
        machine = machines[int(rng.choice(len(machines), p=[0.45, 0.2, 0.2, 0.15]))]
        train = rng.random() < (0.1 if machine == "Voluson S10" else 0.7)
        count = int(min(rng.integers(3, 9), n_images - len(rows)))
        operator = f"Op. {int(rng.integers(1, 4))}"
        for k in range(count):
            plane = planes[int(rng.choice(len(planes), p=shares / shares.sum()))]
            brain = BRAIN_SUBPLANES[int(rng.integers(len(BRAIN_SUBPLANES)))] if plane == "Fetal brain" else "Not A Brain"
            shape = SIZES[int(rng.integers(len(SIZES)))]
            grey, box = render(plane, brain, machine, shape, rng)
            name = f"Patient{patient:05d}_Plane{planes.index(plane) + 1}_{k + 1}_of_{count}"
            cv2.imwrite(str(out / IMAGES / f"{name}.png"), encode(grey, MODES[len(rows) % len(MODES)]))
            rows.append(f"{name};{patient};{plane};{brain};{operator};{machine};{int(train)} ")
            boxes.append(f"{name};{shape[1]};{shape[0]};" + (";".join(map(str, box)) if box else ";;;"))
    (out / CSV_NAME).write_text("\n".join([HEADER, *rows]) + "\n")
    (out / BOXES).write_text("\n".join(["Image_name;width;height;x0;y0;x1;y1", *boxes]) + "\n")
