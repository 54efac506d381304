"""Keep native decoders' own log lines off the terminal.

FFmpeg (through OpenCV), OpenCV itself and libpng write straight to the
process's standard error, below Python: ``[mjpeg @ 0x...] error count``,
``libpng error: IDAT: incorrect data check``, ``[ WARN:0@1.2] ...``. A bad
file is reported by the reader's own ``DataError``, which says what these
lines mean; the lines themselves only confuse. :func:`filtered` points
Python's ``sys.stderr`` at a copy of the terminal and routes the native
descriptor 2 through a thread that drops those lines and forwards every other.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator

NATIVE_NOISE = re.compile(
    rb"^\s*(\[[\w .-]+ @ 0x[0-9a-fA-F]+\]"  # FFmpeg's av_log: [mjpeg @ 0x55...] ...
    rb"|libpng (warning|error)"  # libpng's default handlers
    rb"|\[ ?(WARN|ERROR|INFO|DEBUG|VERBOSE)(:\d+@[\d.]+)?\]"  # OpenCV's logger: [ WARN:0@1.234] ...
    rb"|Corrupt JPEG data|Premature end of JPEG file)"  # libjpeg's warnings
)


def keep(line: bytes) -> bool:
    """Whether a line written to descriptor 2 reaches the terminal."""
    return NATIVE_NOISE.match(line) is None


def _forward(read_fd: int, out_fd: int) -> None:
    pending = b""
    while chunk := os.read(read_fd, 65536):
        pending += chunk
        *lines, pending = re.split(rb"(?<=[\n\r])", pending)
        kept = b"".join(line for line in lines if keep(line))
        if kept:
            os.write(out_fd, kept)
    if pending and keep(pending):
        os.write(out_fd, pending)
    os.close(read_fd)


@contextlib.contextmanager
def filtered() -> Iterator[None]:
    """Inside, native noise on descriptor 2 is dropped; Python's own writes to
    ``sys.stderr`` (messages, progress bars, tracebacks) pass unchanged."""
    try:
        sys.stderr.flush()
        real = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        real = False
    if not real:  # Python's stderr is captured (tests, notebooks): leave both as they are
        yield
        return
    terminal = os.dup(2)
    read_fd, write_fd = os.pipe()
    python_stderr = sys.stderr
    sys.stderr = os.fdopen(os.dup(terminal), "w", buffering=1, errors=python_stderr.errors or "backslashreplace")
    os.dup2(write_fd, 2)
    os.close(write_fd)
    forwarder = threading.Thread(target=_forward, args=(read_fd, terminal), name="native-stderr-filter", daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(terminal, 2)  # closes the pipe's last writer in this process: the forwarder drains and ends
        forwarder.join(timeout=2.0)
        sys.stderr.close()
        sys.stderr = python_stderr
        os.close(terminal)
