"""The phantom: EF distribution, and EF carried by wall motion alone."""

from __future__ import annotations

import numpy as np

from cardiobench_echo.echonet.phantom import Renderer, _sample_ef, sample_heart, traced_frames
from cardiobench_echo.echonet.traces import ejection_fraction


def test_ef_is_distributed_like_echonet_dynamic():
    rng = np.random.default_rng(0)
    ef = np.array([_sample_ef(rng) for _ in range(4000)])
    assert 53 < ef.mean() < 58 and 10 < ef.std() < 14
    assert ef.min() >= 10 and ef.max() <= 85 and (ef < 35).mean() > 0.03


def test_traced_ef_matches_the_drawn_contraction():
    for i in range(20):
        rng = np.random.default_rng([3, i])
        target = _sample_ef(rng)
        heart = sample_heart(rng, target)
        renderer = Renderer(heart, rng)
        ed, es = traced_frames(heart)
        ef = ejection_fraction(renderer.lv_trace(ed).disc_volume(), renderer.lv_trace(es).disc_volume())
        assert abs(ef - target) < 4.0  # frames sample the beat near, not exactly at, ED and ES


def test_ef_is_not_recoverable_from_brightness_or_size_alone():
    ef, brightness, ed_area, area_change = [], [], [], []
    for i in range(80):
        rng = np.random.default_rng([11, i])
        heart = sample_heart(rng, _sample_ef(rng))
        renderer = Renderer(heart, rng)
        ed, es = traced_frames(heart)
        frames = np.stack([renderer.frame(t) for t in range(0, heart.n_frames, 6)])
        trace_ed, trace_es = renderer.lv_trace(ed), renderer.lv_trace(es)
        ef.append(ejection_fraction(trace_ed.disc_volume(), trace_es.disc_volume()))
        brightness.append(frames.mean())
        ed_area.append(trace_ed.area())
        area_change.append(1 - trace_es.area() / trace_ed.area())
    r = lambda a: abs(np.corrcoef(ef, a)[0, 1])  # noqa: E731
    assert r(brightness) < 0.3, "EF must not leak into brightness"
    assert r(ed_area) < 0.3, "EF must not be readable from the ventricle's size"
    assert r(area_change) > 0.9, "EF must be carried by the wall motion"
