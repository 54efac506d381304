"""Decode every PNG once into one grey uint8 array in the cache, read
memory-mapped afterwards.

Images come in every mode (grey, grey + alpha, RGB, RGBA, 8 or 16 bit); each
becomes one grey channel resized to the preprocessing size (AG-Sononet
section 3: 224 x 288 before the centre crop). The cache entry's name hashes
every source path, size and modification time and the target size, so a
changed folder is decoded again; it is written atomically, so concurrent runs
never read half an entry.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from cardiobench import atomic, progress
from cardiobench.paths import cache_dir

CACHE_FORMAT = 1


class DecodeError(Exception):
    """An image could not be decoded."""


def to_grey(image: np.ndarray) -> np.ndarray:
    """One uint8 grey channel from an OpenCV ``IMREAD_UNCHANGED`` array."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise DecodeError(f"has unsupported sample type {image.dtype}")
    if image.ndim == 2:
        return image
    channels = image.shape[2]
    if channels == 1:
        return image[..., 0]
    if channels == 2:  # grey + alpha
        return image[..., 0]
    if channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise DecodeError(f"has {channels} channels")


def decode(path: Path, size: tuple[int, int]) -> np.ndarray:
    """The image at ``path`` as (H, W) = ``size`` grey uint8."""
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise DecodeError("cannot be decoded as an image (empty, truncated or not a PNG)")
    grey = to_grey(image)
    if grey.shape != tuple(size):
        grey = cv2.resize(grey, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return grey


def cache_entry(paths: Sequence[Path], size: tuple[int, int]) -> Path:
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{size}".encode())
    for path in paths:
        stat = path.stat()
        digest.update(f"|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return cache_dir() / "fetal-planes" / f"images-{size[0]}x{size[1]}-{digest.hexdigest()[:20]}.npy"


def decoded(paths: Sequence[Path], size: tuple[int, int]) -> tuple[np.ndarray | None, dict[Path, str]]:
    """(N, H, W) uint8 images, memory-mapped from the cache (decoded on first
    use), or None with {path: problem} for every image that failed."""
    entry = cache_entry(paths, size)
    if entry.is_file():
        return np.load(entry, mmap_mode="r"), {}
    out = np.zeros((len(paths), *size), dtype=np.uint8)
    problems: dict[Path, str] = {}

    def work(i: int) -> None:
        try:
            out[i] = decode(paths[i], size)
        except DecodeError as exc:
            problems[paths[i]] = str(exc)
        except OSError as exc:
            problems[paths[i]] = f"cannot be read: {exc}"

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        list(progress.bar(pool.map(work, range(len(paths))), total=len(paths), desc="decoding images (once)", unit="image"))
    if problems:
        return None, problems
    atomic.write_with(entry, lambda handle: np.save(handle, out))
    return np.load(entry, mmap_mode="r"), {}
