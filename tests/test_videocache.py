"""Decode once, memory-map after, decode again when the source changes."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from cardiobench.data import videocache
from cardiobench import atomic
from cardiobench.data.videocache import DecodePerAccess, Geometry, VideoCache
from cardiobench.errors import DataError
from cardiobench_echo.echonet.phantom import write_avi


def test_decodes_once_and_invalidates_on_change(tmp_path: Path, monkeypatch):
    source = tmp_path / "v.avi"
    frames = (np.random.default_rng(0).random((12, 112, 112)) * 255).astype(np.uint8)
    write_avi(source, frames, 50.0)
    calls = []
    real = videocache.decode_with_geometry
    monkeypatch.setattr(videocache, "decode_with_geometry", lambda *a, **k: calls.append(a) or real(*a, **k))

    cache = VideoCache(tmp_path / "cache", size=32)
    assert cache.ensure_all([(source, 12)]) == {}
    first = cache.entry(source)
    assert first.exists() and len(calls) == 1
    assert cache.ensure_all([(source, 12)]) == {} and len(calls) == 1
    mapped = cache.frames(source)
    assert isinstance(mapped, np.memmap) and mapped.shape == (12, 32, 32, 3) and mapped.dtype == np.uint8

    write_avi(source, frames[:10], 50.0)
    os.utime(source, ns=(first.stat().st_mtime_ns + 10**9,) * 2)
    assert VideoCache(tmp_path / "cache", size=32).ensure_all([(source, 10)]) == {}
    assert len(calls) == 2 and not first.exists()
    assert VideoCache(tmp_path / "cache", size=32).frames(source).shape[0] == 10


def test_each_frame_size_keeps_its_own_entry(tmp_path: Path):
    source = tmp_path / "v.avi"
    write_avi(source, np.zeros((6, 112, 112), np.uint8), 50.0)
    small, large = VideoCache(tmp_path / "cache", size=16), VideoCache(tmp_path / "cache", size=32)
    assert small.ensure_all([(source, 6)]) == {} and large.ensure_all([(source, 6)]) == {}
    assert small.entry(source).exists() and large.entry(source).exists()
    assert small.frames(source).shape[1:3] == (16, 16) and large.frames(source).shape[1:3] == (32, 32)


def _colour_avi(path: Path, frames: int = 5, size: tuple[int, int] = (96, 128)) -> np.ndarray:
    """An MJPEG AVI whose three colour channels differ (as the real MJPEG AVIs' do); returns its RGB frames."""
    rng = np.random.default_rng(1)
    rgb = np.zeros((frames, *size, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[..., 1] = (rng.random((frames, *size)) * 60).astype(np.uint8)
    rgb[..., 2] = 20
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (size[1], size[0]))
    for frame in rgb:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return rgb


def test_colour_channels_stay_apart_in_rgb_order_and_geometry_is_the_sources(tmp_path: Path):
    source = tmp_path / "colour.avi"
    _colour_avi(source)
    cache = VideoCache(tmp_path / "cache", size=32)
    assert cache.ensure_all([(source, 5)]) == {}
    means = np.asarray(cache.frames(source), np.float64).mean(axis=(0, 1, 2))
    assert means[0] > 150 and means[2] < 60 and 10 < means[1] < 50, "R, G, B as written, not averaged to grey, not BGR"
    assert cache.geometry(source) == Geometry(5, 96, 128) == videocache.probe(source)
    cache.entry(source).with_suffix(".json").unlink()  # an entry from before geometry was kept: read from the header
    assert cache.geometry(source) == Geometry(5, 96, 128)


def test_decode_per_access_gives_the_cached_frames_and_needs_no_disk(tmp_path: Path):
    source = tmp_path / "colour.avi"
    _colour_avi(source, frames=7)
    cache, direct = VideoCache(tmp_path / "cache", size=32), DecodePerAccess(32)
    assert cache.ensure_all([(source, 7)]) == {} and direct.ensure_all([(source, 7)]) == {}
    np.testing.assert_array_equal(np.asarray(cache.frames(source)), direct.frames(source))
    assert direct.length(source) == cache.length(source) == 7 and direct.geometry(source) == cache.geometry(source)
    assert direct.ensure_all([(source, 9)]) == {source: "is truncated: its header states 7 of 9 frames"}
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"RIFF" + bytes(64))
    assert "cannot be opened" in DecodePerAccess(32, verify="decode").ensure_all([(broken, 3)])[broken]
    with pytest.raises(DataError, match=r"broken\.avi cannot be opened.*video_cache=none.*data check"):
        direct.frames(broken)


def test_a_cache_too_large_for_the_disk_is_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    source = tmp_path / "v.avi"
    write_avi(source, np.zeros((6, 112, 112), np.uint8), 50.0)
    monkeypatch.setattr(videocache.shutil, "disk_usage", lambda _: type("Usage", (), {"free": 2 * 10**9})())
    cache = VideoCache(tmp_path / "cache", size=112)
    with pytest.raises(atomic.DiskFull, match=r"10030 video\(s\).*about 66\.6 GB \(1,770,000 frames of 112x112x3 bytes\).*2\.0 GB free.*CARDIOBENCH_CACHE.*video_cache=none"):
        videocache.check_space(cache.root, 1_770_000, 112, 10030)
    monkeypatch.setattr(videocache, "_frame_count", lambda path, stated: 1_000_000)
    with pytest.raises(atomic.DiskFull):
        cache.ensure_all([(source, 6)])
    assert not cache.entry(source).exists() and not any((tmp_path / "cache").rglob("*.npy"))
