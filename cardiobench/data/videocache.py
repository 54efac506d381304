"""Decode each video once into an on-disk uint8 array, read memory-mapped after;
or, for users short of disk, decode it each time it is read.

A cache entry is ``<stem>-s<size>-<key>.npy`` holding (T, H, W, C) uint8
frames, where the key hashes the source path, its size and modification time,
so a changed source is decoded again (and its stale entry of that frame size
removed); each frame size has its own entry, and a ``.json`` beside it keeps
the source's own frame geometry (annotations are drawn in the source's
pixels). Every plugin that reads videos shares this cache. Before decoding,
the cache's size is estimated and refused with a clear paragraph when the
disk cannot hold it (:func:`check_space`).

:class:`DecodePerAccess` is the same interface without the disk: every read
decodes the video again, as EchoNet-Dynamic's own loader does
(``data.video_cache: none``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "0")  # corrupt files are reported by us, not by FFmpeg's log
import cv2  # noqa: E402
import numpy as np
from cardiobench import atomic, phases, progress
from cardiobench.errors import DataError

CACHE_FORMAT = 1
STORES = ("decoded", "none")
CACHE_ENV = "CARDIOBENCH_CACHE"


class DecodeError(Exception):
    """A video could not be decoded completely."""


@dataclass(frozen=True)
class Geometry:
    """A source video's own frame count and frame size, in its pixels."""

    frames: int
    height: int
    width: int


def probe(path: Path) -> Geometry:
    """The geometry a video's header states (no frame is decoded)."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise DecodeError("cannot be opened as a video")
        props = (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_HEIGHT, cv2.CAP_PROP_FRAME_WIDTH)
        return Geometry(*(int(capture.get(p)) for p in props))
    finally:
        capture.release()


def decode(path: Path, size: int | None = None, expected_frames: int | None = None) -> np.ndarray:
    """All frames of a video as (T, H, W, 3) uint8 RGB, resized to ``size`` x ``size``.

    Raises :class:`DecodeError` for unreadable files and for videos with fewer
    frames than ``expected_frames`` (truncated).
    """
    return decode_with_geometry(path, size, expected_frames)[0]


def decode_with_geometry(path: Path, size: int | None = None, expected_frames: int | None = None) -> tuple[np.ndarray, Geometry]:
    """:func:`decode` and the source's own :class:`Geometry` (before resizing)."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DecodeError("cannot be opened as a video")
    frames = []
    native = (0, 0)
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            native = frame.shape[:2]
            if size is not None and frame.shape[:2] != (size, size):
                frame = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames:
        raise DecodeError("holds no decodable frame")
    if expected_frames is not None and len(frames) < expected_frames:
        raise DecodeError(f"is truncated: decoded {len(frames)} of {expected_frames} frames")
    return np.stack(frames), Geometry(len(frames), *native)


def _gigabytes(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def check_space(root: Path, frames: int, size: int | None, videos: int) -> None:
    """Refuse, before decoding a single video, a cache that the disk under
    ``root`` cannot hold (with a 5% and 1 GB margin for everything else)."""
    if size is None or frames <= 0:
        return
    need = frames * size * size * 3 + videos * 256
    probe_at = Path(root)
    while not probe_at.exists() and probe_at != probe_at.parent:
        probe_at = probe_at.parent
    free = shutil.disk_usage(probe_at).free
    if need <= free * 0.95 - 1e9:
        return
    raise atomic.DiskFull(
        f"Decoding {videos} video(s) once into the cache needs about {_gigabytes(need)} ({frames:,} frames of {size}x{size}x3 bytes), "
        f"but {probe_at} has {_gigabytes(free)} free, so nothing was decoded. Point {CACHE_ENV} at a folder on a larger disk, "
        "or set data.video_cache=none to decode each video when it is read (EchoNet-Dynamic's way: no disk, more CPU per epoch; "
        "use DataLoader workers on a GPU machine), or lower data.size (the cache grows with its square)."
    )


class Store(Protocol):
    """Where a dataset reads its videos' frames from: :class:`VideoCache` or :class:`DecodePerAccess`."""

    size: int | None

    def ensure_all(self, items: Iterable[tuple[Path, int | None]], workers: int | None = None, desc: str = "decoding videos") -> dict[Path, str]: ...

    def frames(self, source: Path) -> np.ndarray: ...

    def length(self, source: Path) -> int: ...

    def geometry(self, source: Path) -> Geometry: ...


def open_store(kind: str, root: Path, size: int | None) -> Store:
    """The store ``data.video_cache`` names: ``decoded`` (decode once, under
    ``root``) or ``none`` (decode per access)."""
    if kind == "decoded":
        return VideoCache(root, size)
    if kind == "none":
        return DecodePerAccess(size)
    raise ValueError(f"data.video_cache must be one of {', '.join(STORES)}, got {kind!r}")


def _pool_map(work, items: list, desc: str, unit: str = "video", workers: int | None = None) -> None:  # noqa: ANN001 - any callable over the items
    with ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1)) as pool:
        list(progress.bar(pool.map(work, items), total=len(items), desc=desc, unit=unit))


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
        frames, native = decode_with_geometry(source, self.size, expected_frames)
        for stale in target.parent.glob(f"{Path(source).stem}-s{self.size}-*.*"):
            if stale.stem != target.stem:  # a concurrent run's copy of this very entry is replaced atomically below, never removed
                stale.unlink(missing_ok=True)
        atomic.write_text(target.with_suffix(".json"), json.dumps(asdict(native)))  # before the frames: an entry always has its geometry
        atomic.write_with(target, lambda handle: np.save(handle, frames))
        return target

    def geometry(self, source: Path) -> Geometry:
        """The source's own geometry, as decoded (or from its header, for an
        entry written before geometry was kept)."""
        side = self.entry(source).with_suffix(".json")
        try:
            return Geometry(**json.loads(side.read_text()))
        except (OSError, ValueError, TypeError):
            return probe(source)

    def length(self, source: Path) -> int:
        return len(self.frames(source))

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
            check_space(self.root, sum(_frame_count(path, n) for path, n in missing), self.size, len(missing))
            with phases.phase(f"video decoding ({self.size}x{self.size})"):
                _pool_map(work, missing, desc, workers=workers)
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


def _frame_count(path: Path, stated: int | None) -> int:
    if stated:
        return int(stated)
    try:
        return probe(path).frames
    except DecodeError:
        return 0


class DecodePerAccess:
    """Videos decoded each time their frames are read (``data.video_cache:
    none``): no disk at all, a full decode per item. Checking reads only each
    video's header, unless ``verify="decode"`` (``data check``) decodes every
    video once."""

    def __init__(self, size: int | None, verify: str = "header"):
        self.size, self.verify = size, verify
        self._geometry: dict[Path, Geometry] = {}

    def ensure_all(self, items: Iterable[tuple[Path, int | None]], workers: int | None = None, desc: str = "decoding videos") -> dict[Path, str]:
        problems: dict[Path, str] = {}

        def work(item: tuple[Path, int | None]) -> None:
            path, expected = item
            try:
                if self.verify == "decode":
                    self._geometry[path] = decode_with_geometry(path, self.size, expected)[1]
                    return
                found = probe(path)
                if expected is not None and found.frames < expected:
                    raise DecodeError(f"is truncated: its header states {found.frames} of {expected} frames")
                self._geometry[path] = found
            except DecodeError as exc:
                problems[path] = str(exc)
            except OSError as exc:
                problems[path] = f"cannot be read: {exc}"

        _pool_map(work, list(items), "checking videos (no cache)", workers=workers)
        return problems

    def frames(self, source: Path) -> np.ndarray:
        try:
            return decode(source, self.size)
        except DecodeError as exc:
            raise DataError(f"{source} {exc} (read with data.video_cache=none, which checks only headers before a run; cardiobench data check names every bad video).") from exc

    def length(self, source: Path) -> int:
        return self.geometry(source).frames

    def geometry(self, source: Path) -> Geometry:
        if source not in self._geometry:
            self._geometry[source] = probe(source)
        return self._geometry[source]
