"""Decode each video once into an on-disk uint8 array, read memory-mapped after.

A cache entry is ``<stem>-s<size>-<key>.npy`` holding (T, H, W, C) uint8
frames, where the key hashes the source path, its size and modification time,
so a changed source is decoded again (and its stale entry of that frame size
removed); each frame size has its own entry. Every plugin that
reads videos shares this cache.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "0")  # corrupt files are reported by us, not by FFmpeg's log
import cv2  # noqa: E402
import numpy as np
from cardiobench import atomic, phases, progress

CACHE_FORMAT = 1


class DecodeError(Exception):
    """A video could not be decoded completely."""


def decode(path: Path, size: int | None = None, expected_frames: int | None = None) -> np.ndarray:
    """All frames of a video as (T, H, W, 3) uint8 RGB, resized to ``size`` x ``size``.

    Raises :class:`DecodeError` for unreadable files and for videos with fewer
    frames than ``expected_frames`` (truncated).
    """
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DecodeError("cannot be opened as a video")
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if size is not None and frame.shape[:2] != (size, size):
                frame = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames:
        raise DecodeError("holds no decodable frame")
    if expected_frames is not None and len(frames) < expected_frames:
        raise DecodeError(f"is truncated: decoded {len(frames)} of {expected_frames} frames")
    return np.stack(frames)


class VideoCache:
    """Decoded videos under ``root``, one ``.npy`` per (source, size)."""

    def __init__(self, root: Path, size: int | None):
        self.root = Path(root)
        self.size = size
        self._open: dict[Path, np.ndarray] = {}

    def entry(self, source: Path) -> Path:
        source = Path(source).resolve()
        stat = source.stat()
        key = f"{CACHE_FORMAT}|{source}|{stat.st_size}|{stat.st_mtime_ns}|{self.size}"
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        folder = hashlib.sha1(str(source.parent).encode()).hexdigest()[:12]
        return self.root / folder / f"{source.stem}-s{self.size}-{digest}.npy"

    def ensure(self, source: Path, expected_frames: int | None = None) -> Path:
        """Decode ``source`` unless a current entry exists; return the entry."""
        target = self.entry(source)
        if target.exists():
            return target
        frames = decode(source, self.size, expected_frames)
        for stale in target.parent.glob(f"{Path(source).stem}-s{self.size}-*.npy"):
            if stale != target:  # a concurrent run's copy of this very entry is replaced atomically below, never removed
                stale.unlink(missing_ok=True)
        atomic.write_with(target, lambda handle: np.save(handle, frames))
        return target

    def ensure_all(self, items: Iterable[tuple[Path, int | None]], workers: int | None = None, desc: str = "decoding videos") -> dict[Path, str]:
        """Decode every (source, expected frame count) missing from the cache.

        Returns {source: problem} for the videos that failed; the rest are cached.
        """
        items = list(items)
        problems: dict[Path, str] = {}

        def work(item: tuple[Path, int | None]) -> None:
            try:
                self.ensure(*item)
            except DecodeError as exc:
                problems[item[0]] = str(exc)
            except OSError as exc:
                problems[item[0]] = f"cannot be read: {exc}"

        missing = [it for it in items if not self._cached(it[0])]
        if missing:
            with phases.phase(f"video decoding ({self.size}x{self.size})"), ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1)) as pool:
                list(progress.bar(pool.map(work, missing), total=len(missing), desc=desc, unit="video"))
        return problems

    def _cached(self, source: Path) -> bool:
        try:
            return self.entry(source).exists()
        except OSError:
            return False

    def frames(self, source: Path) -> np.ndarray:
        """Memory-mapped (T, H, W, C) frames of a cached video."""
        source = Path(source)
        if source not in self._open:
            self._open[source] = np.load(self.entry(source), mmap_mode="r")
        return self._open[source]

    def __getstate__(self) -> dict[str, object]:  # DataLoader workers reopen their own maps
        return {"root": self.root, "size": self.size, "_open": {}}
