"""Clip sampling as EchoNet-Dynamic's video script does it."""

from __future__ import annotations

import numpy as np
import torch

from cardiobench_echo.echonet.clips import ClipSpec, VideoClips, channel_stats, extract


def ramp(length: int) -> np.ndarray:
    """A video whose frame t has every pixel equal to t."""
    return np.broadcast_to(np.arange(length, dtype=np.uint8)[:, None, None, None], (length, 4, 4, 3)).copy()


SPEC = ClipSpec(frames=5, period=3, mean=np.zeros(3, np.float32), std=np.ones(3, np.float32))


def test_extract_takes_every_period_frame_and_pads_with_zeros():
    clip = extract(ramp(40), 2, SPEC)
    assert clip.shape == (3, 5, 4, 4) and clip.dtype == torch.float32
    assert clip[0, :, 0, 0].tolist() == [2, 5, 8, 11, 14]
    short = extract(ramp(8), 1, SPEC)
    assert short[0, :, 0, 0].tolist() == [1, 4, 7, 0, 0]


def test_normalisation_uses_the_given_channel_statistics():
    spec = ClipSpec(2, 1, np.array([1, 2, 3], np.float32), np.array([2, 2, 2], np.float32))
    clip = extract(ramp(5), 3, spec)
    assert clip[:, 0, 0, 0].tolist() == [1.0, 0.5, 0.0]
    mean, std = channel_stats([ramp(5), ramp(5)])
    assert np.allclose(mean, 2.0) and np.allclose(std, np.sqrt(2.0))


def dataset(mode: str, clips: int = 1) -> VideoClips:
    videos = [ramp(40), ramp(30), ramp(12)]
    return VideoClips(["a", "b", "c"], [lambda v=v: v for v in videos], [50.0, 60.0, 70.0], SPEC, mode, seed=0, clips_per_video=clips)


def test_test_modes_enumerate_clips():
    assert len(dataset("random", clips=10)) == 30
    span = SPEC.span  # 13 frames
    assert len(dataset("all")) == (40 - span + 1) + (30 - span + 1) + 1
    items = dataset("random", clips=10)
    assert {items[i]["id"] for i in range(len(items))} == {"a", "b", "c"}


def test_training_clips_change_with_epoch_and_repeat_within_it():
    data = dataset("train")
    starts = []
    for epoch in range(6):
        data.set_epoch(epoch)
        starts.append(tuple(data[i]["start"] for i in range(3)))
        assert starts[-1] == tuple(data[i]["start"] for i in range(3))
    assert len(set(starts)) > 1
    fixed = dataset("fixed")
    fixed.set_epoch(3)
    assert [fixed[i]["start"] for i in range(3)] == [dataset("fixed")[i]["start"] for i in range(3)]
