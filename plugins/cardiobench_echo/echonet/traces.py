"""Left-ventricle traces in EchoNet-Dynamic's ``VolumeTracings.csv`` form.

Per traced frame the first row is the long axis (apex to mitral-plane
midpoint), every further row a chord across the ventricle perpendicular to it.
Volumes follow the method of discs (Simpson's monoplane rule, as the
EchoNet-Dynamic labels do); masks follow EchoNet-Dynamic's segmentation code:
a polygon through the chord end points, one side then the other reversed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Trace:
    """One traced frame: ``axis`` (x1, y1, x2, y2) and ``chords`` (K, 4)."""

    frame: int
    axis: np.ndarray
    chords: np.ndarray

    @classmethod
    def from_rows(cls, frame: int, rows: np.ndarray) -> Trace:
        rows = np.asarray(rows, dtype=np.float64)
        return cls(frame=int(frame), axis=rows[0], chords=rows[1:])

    def rows(self) -> np.ndarray:
        return np.vstack([self.axis[None, :], self.chords])

    def polygon(self) -> np.ndarray:
        """(2K, 2) x, y vertices through the chord end points."""
        side_a = self.chords[:, 0:2]
        side_b = self.chords[::-1, 2:4]
        return np.vstack([side_a, side_b])

    def area(self) -> float:
        """Area of :meth:`polygon` in square pixels (shoelace formula)."""
        x, y = self.polygon().T
        return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))

    def disc_volume(self) -> float:
        """Volume in cubic pixels by the method of discs: every chord is the
        diameter of a disc whose height is the long axis divided by K."""
        length = float(np.hypot(self.axis[2] - self.axis[0], self.axis[3] - self.axis[1]))
        diameters = np.hypot(self.chords[:, 2] - self.chords[:, 0], self.chords[:, 3] - self.chords[:, 1])
        return float(np.sum(np.pi * (diameters / 2.0) ** 2) * length / len(self.chords))

    def mask(self, height: int, width: int, scale: float | tuple[float, float] = 1.0) -> np.ndarray:
        """uint8 (height, width) mask of the traced polygon, coordinates scaled
        by ``scale`` (x, y; one number for both) for frames resized from the
        traced video's own pixel grid."""
        out = np.zeros((height, width), dtype=np.uint8)
        pts = np.rint(self.polygon() * np.asarray(scale, dtype=np.float64)).astype(np.int32)
        cv2.fillPoly(out, [pts], 1)
        return out


def end_diastole_systole(traces: list[Trace]) -> tuple[Trace, Trace]:
    """(ED, ES): the traced frames with the largest and smallest area.

    Never inferred from row order, which varies in the public files.
    """
    if len(traces) < 2:
        raise ValueError("need at least two traced frames")
    ordered = sorted(traces, key=Trace.area)
    return ordered[-1], ordered[0]


def ejection_fraction(edv: float, esv: float) -> float:
    """EF in percent, 100 (EDV - ESV) / EDV."""
    return 100.0 * (edv - esv) / edv
