"""Weakly supervised localisation from attention maps (AG-Sononet, appendix 6):
(1) blur each map, (2) threshold the low activations, (3) connected
components, (4) the components that overlap across scales, (5) their
bounding box; scored by IoU against ground-truth boxes as the paper's Table 3.

Our reading of step 4, which the paper states in one line: the seed is the
component of the mean of the max-normalised maps ("AG-all") holding the most
attention; at every scale, the components overlapping the seed are selected;
the box encloses the seed and them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (pixel edges)


@dataclass(frozen=True)
class Heuristic:
    """``sigma``: Gaussian blur in pixels of the input; ``threshold``: share of
    each blurred map's maximum below which activations are dropped."""

    sigma: float = 2.0
    threshold: float = 0.5


def normalised(maps: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each map shifted to a minimum of 0 and scaled to a maximum of 1."""
    out = {}
    for name, m in maps.items():
        m = np.asarray(m, dtype=np.float64) - float(np.min(m))
        top = float(m.max())
        out[name] = m / top if top > 0 else m
    return out


def _mask(m: np.ndarray, heuristic: Heuristic) -> np.ndarray:
    blurred = ndimage.gaussian_filter(m, heuristic.sigma) if heuristic.sigma > 0 else m
    top = float(blurred.max())
    return blurred >= heuristic.threshold * top if top > 0 else np.zeros_like(blurred, dtype=bool)


def bounding_box(mask: np.ndarray) -> Box | None:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def box_from_maps(maps: Mapping[str, np.ndarray], heuristic: Heuristic = Heuristic()) -> Box | None:
    """The box of the attended object from same-sized (H, W) maps of several scales."""
    scaled = normalised(maps)
    mean = np.mean(list(scaled.values()), axis=0)
    labels, count = ndimage.label(_mask(mean, heuristic))
    if count == 0:
        return None
    mass = ndimage.sum_labels(mean, labels, index=np.arange(1, count + 1))
    region = labels == int(np.argmax(mass)) + 1
    selected = region.copy()
    for m in scaled.values():
        scale_labels, _ = ndimage.label(_mask(m, heuristic))
        touching = np.unique(scale_labels[region & (scale_labels > 0)])
        selected |= np.isin(scale_labels, touching[touching > 0])
    return bounding_box(selected)


def iou(a: Box | None, b: Box | None) -> float:
    if a is None or b is None:
        return 0.0
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def table3(ious: Sequence[float], classes: Sequence[str]) -> list[dict[str, float | str | int]]:
    """Per class: IoU mean and sd, Correct (share with IoU > 0.5) and Relative
    (share with IoU > 0.5 x the class's best IoU), as the paper's Table 3."""
    values, names = np.asarray(ious, dtype=np.float64), np.asarray(classes)
    rows = []
    for name in dict.fromkeys(classes):
        v = values[names == name]
        rows.append({"class": name, "n": int(len(v)), "iou_mean": float(v.mean()), "iou_sd": float(v.std()), "correct": float(np.mean(v > 0.5)), "relative": float(np.mean(v > 0.5 * v.max())) if v.max() > 0 else 0.0})
    return rows
