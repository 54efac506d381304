"""Atomic file and directory writes: a reader sees the old content or the new,
never half of it. Everything cardiobench writes goes through here, and
:func:`exclusive` lets concurrent processes build a shared cache entry once."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from filelock import FileLock, Timeout


def _replace_from_temp(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    _replace_from_temp(path, lambda h: h.write(data))


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_with(path: Path, writer: Callable[[IO[bytes]], None]) -> None:
    """Atomically write ``path`` with ``writer(handle)`` (torch.save, np.save, ...)."""
    _replace_from_temp(path, writer)


@contextlib.contextmanager
def directory(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling directory that is renamed to ``final`` on
    success and removed on failure."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the inter-process lock of ``path`` (the file ``<path>.lock``) for
    the block: concurrent runs filling the same cache entry take turns, and the
    later ones find it finished. The lock is released if the holder dies."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(_lock_file(path)):
        yield


def held(path: Path) -> bool:
    """Whether some process holds :func:`exclusive` on ``path`` now."""
    lock_file = _lock_file(Path(path))
    if not lock_file.exists():
        return False
    lock = FileLock(lock_file)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def _lock_file(path: Path) -> Path:
    return path.with_name(path.name + ".lock")
