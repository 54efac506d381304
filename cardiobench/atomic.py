"""Atomic file and directory writes: a reader sees the old content or the new,
never half of it. Everything cardiobench writes goes through here, and
:func:`exclusive` lets concurrent processes build a shared cache entry once."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from filelock import FileLock, Timeout

from cardiobench.errors import CardiobenchError

FULL_BELOW = 64 * 2**20  # bytes left on a device that count as full (torch.save reports a full disk as a RuntimeError)


def _process_umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _as_if_created(path: str | Path, mode: int) -> None:
    """Give a temporary file (created 0600) or folder (0700) the mode a plain
    ``open``/``mkdir`` would have given it under the user's umask, so a
    collaborator in the same group reads what a run wrote."""
    os.chmod(path, mode & ~_process_umask())


class DiskFull(CardiobenchError):
    """A write ran out of space; what was written before is intact."""


def disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether ``exc`` (raised while writing into ``folder``) means the disk is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    with contextlib.suppress(OSError):
        return isinstance(exc, (OSError, RuntimeError)) and shutil.disk_usage(folder).free < FULL_BELOW
    return False


def disk_full_error(path: Path, exc: BaseException) -> DiskFull:
    free = shutil.disk_usage(Path(path).parent).free / 2**20 if Path(path).parent.exists() else 0.0
    return DiskFull(
        f"No space left to write {path} ({free:.0f} MiB free on its device; {type(exc).__name__}: {str(exc)[:160]}). "
        "Nothing already written was damaged. Free some space (old run directories, or the cache: see CARDIOBENCH_CACHE), "
        "or write elsewhere with --runs-dir; an interrupted run continues with: cardiobench run --resume RUN_DIR."
    )


def _replace_from_temp(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        _as_if_created(tmp, 0o666)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        full = isinstance(exc, Exception) and disk_full(exc, path.parent)  # judged before the partial file is freed
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if full:
            raise disk_full_error(path, exc) from exc
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
        _as_if_created(tmp, 0o777)
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
