"""Decode once, memory-map after, decode again when the source changes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cardiobench.data import videocache
from cardiobench.data.videocache import VideoCache
from cardiobench_echo.echonet.phantom import write_avi


def test_decodes_once_and_invalidates_on_change(tmp_path: Path, monkeypatch):
    source = tmp_path / "v.avi"
    frames = (np.random.default_rng(0).random((12, 112, 112)) * 255).astype(np.uint8)
    write_avi(source, frames, 50.0)
    calls = []
    real = videocache.decode
    monkeypatch.setattr(videocache, "decode", lambda *a, **k: calls.append(a) or real(*a, **k))

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
