"""The cardiobench CLI with one SIGKILL injected (a test helper, run as a
subprocess by ``tests/test_faults.py``).

``python -m tests.fault_runner SPEC ARGS...`` runs ``cardiobench ARGS`` and
kills itself, without any clean-up, at the moment ``SPEC`` (JSON) names:

- ``{"phase": NAME, "delay": S}``: ``S`` seconds after a phase whose name
  contains ``NAME`` starts (:mod:`cardiobench.phases`), wherever the run is then;
- ``{"write": GLOB, "nth": K, "fraction": F}``: during the ``K``-th atomic
  write of a file matching ``GLOB``, after ``F`` of its bytes reached the
  temporary file (the moment a crash would tear a plain write).
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from cardiobench import atomic, phases
from cardiobench.cli import main


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_in_phase(name: str, delay: float) -> None:
    plain_phase, armed = phases.phase, []

    @contextlib.contextmanager
    def phase(label: str) -> Iterator[None]:
        if name in label and not armed:
            armed.append(threading.Timer(delay, die))
            armed[0].daemon = True
            armed[0].start()
        with plain_phase(label):
            yield

    phases.phase = phase


def kill_in_write(pattern: str, nth: int, fraction: float) -> None:
    plain_replace, seen = atomic._replace_from_temp, [0]

    def replace(path: Path, write: Callable[[IO[bytes]], None]) -> None:
        if fnmatch.fnmatch(Path(path).name, pattern):
            seen[0] += 1
            if seen[0] == nth:
                buffer = io.BytesIO()
                write(buffer)
                data = buffer.getvalue()
                torn = Path(path).with_name(f".{Path(path).name}.torn.tmp")  # where atomic writes stage their bytes
                torn.parent.mkdir(parents=True, exist_ok=True)
                torn.write_bytes(data[: int(len(data) * fraction)])
                die()
        plain_replace(path, write)

    atomic._replace_from_temp = replace


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    if "phase" in spec:
        kill_in_phase(spec["phase"], float(spec["delay"]))
    else:
        kill_in_write(spec["write"], int(spec["nth"]), float(spec["fraction"]))
    sys.exit(main(sys.argv[2:]))
