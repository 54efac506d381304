"""Boxes from attention maps (AG-Sononet appendix) on constructed maps with a
known box, IoU and the Table 3 summary."""

from __future__ import annotations

import numpy as np
import pytest

from cardiobench.localisation import Heuristic, box_from_maps, iou, table3


def _blob(shape: tuple[int, int], box: tuple[int, int, int, int], value: float = 1.0) -> np.ndarray:
    m = np.zeros(shape)
    x0, y0, x1, y1 = box
    m[y0:y1, x0:x1] = value
    return m


def test_box_of_the_object_all_scales_agree_on():
    rng = np.random.default_rng(0)
    truth = (30, 20, 70, 50)
    fine = _blob((96, 128), truth) + 0.05 * rng.random((96, 128))
    coarse = _blob((96, 128), (26, 16, 74, 54), 0.8) + _blob((96, 128), (100, 70, 110, 80), 0.3)
    distractor = _blob((96, 128), truth, 0.9) + _blob((96, 128), (5, 70, 15, 90), 1.0)  # a strong spot elsewhere at one scale only
    box = box_from_maps({"AG1": fine, "AG2": coarse, "AG3": distractor}, Heuristic(sigma=0.0, threshold=0.5))
    # the seed (the object in the mean map) and the components overlapping it at each scale; not the distractor
    assert box == (26.0, 16.0, 74.0, 54.0) and iou(box, truth) > 0.65


def test_iou_and_table3():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert iou(None, (0, 0, 1, 1)) == 0.0
    rows = {r["class"]: r for r in table3([0.9, 0.6, 0.2, 0.4, 0.1], ["a", "a", "a", "b", "b"])}
    assert rows["a"]["n"] == 3 and rows["a"]["iou_mean"] == pytest.approx(1.7 / 3)
    assert rows["a"]["correct"] == pytest.approx(2 / 3) and rows["a"]["relative"] == pytest.approx(2 / 3)
    assert rows["b"]["correct"] == 0.0 and rows["b"]["relative"] == pytest.approx(0.5)


def test_empty_maps_give_no_box():
    assert box_from_maps({"a": np.zeros((8, 8))}) is None
