"""Property-based fuzzing of the dataset readers: random mutations of a valid
generated folder must end in success or a ``DataError`` that names the file
(or its patient/record folder); any other exception is a bug.

``CARDIOBENCH_FUZZ_EXAMPLES`` sets the examples per reader (CI: a bounded
number; ``pytest -m faults`` runs with more, see docs/reliability.md).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cardiobench.errors import DataError
from cardiobench.specs import DataRequest

EXAMPLES = int(os.environ.get("CARDIOBENCH_FUZZ_EXAMPLES", "20"))
TEXT_SUFFIXES = {".csv", ".cfg", ".hea", ".txt", ".md"}
BAD_VALUES = ["NaN", "nan", "inf", "-inf", "1e308", "-1", "", "abc", "\x00", "ÿ", "9" * 40, "0x1F", " ", "None", "1,5"]
TEXT_MUTATIONS = ["truncate", "empty", "delete", "symlink_outside", "bad_value", "drop_column", "extra_column", "drop_line", "duplicate_line", "latin1", "utf16", "flip_bytes"]
BINARY_MUTATIONS = ["truncate", "empty", "delete", "symlink_outside", "flip_bytes"]

fuzz_settings = settings(max_examples=EXAMPLES, deadline=None, derandomize=False, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TRIED: Counter[str] = Counter()  # per reader, mutations tried (reported by the faults run)


def _split(line: str, suffix: str) -> tuple[list[str], str]:
    sep = "," if suffix == ".csv" else ":" if suffix == ".cfg" else " "
    return line.split(sep), sep


def mutate(root: Path, data: st.DataObject, outside: Path) -> tuple[str, Path]:
    """Apply one drawn mutation to one drawn file under ``root``."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    target = data.draw(st.sampled_from(files), label="file")
    text = target.suffix.lower() in TEXT_SUFFIXES
    kind = data.draw(st.sampled_from(TEXT_MUTATIONS if text else BINARY_MUTATIONS), label="mutation")
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    raw = target.read_bytes()
    if kind == "truncate":
        target.write_bytes(raw[: rng.randrange(max(len(raw), 1))])
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "delete":
        target.unlink()
    elif kind == "symlink_outside":
        target.unlink()
        target.symlink_to(outside)
    elif kind == "flip_bytes":
        buffer = bytearray(raw)
        for _ in range(rng.randint(1, 16)):
            if buffer:
                buffer[rng.randrange(len(buffer))] = rng.randrange(256)
        target.write_bytes(bytes(buffer))
    elif kind == "latin1":
        target.write_bytes(raw.decode("utf-8", "replace").replace("a", "ä", 3).encode("latin-1", "replace"))
    elif kind == "utf16":
        target.write_bytes(raw.decode("utf-8", "replace").encode("utf-16"))
    else:
        lines = raw.decode("utf-8", "replace").splitlines()
        if not lines:
            return kind, target
        index = rng.randrange(len(lines))
        cells, sep = _split(lines[index], target.suffix.lower())
        if kind == "bad_value":
            cells[rng.randrange(len(cells))] = rng.choice(BAD_VALUES)
            lines[index] = sep.join(cells)
        elif kind in ("drop_column", "extra_column"):
            column = rng.randrange(len(cells))
            for i, line in enumerate(lines):
                row, sep = _split(line, target.suffix.lower())
                if kind == "drop_column" and column < len(row):
                    row.pop(column)
                elif kind == "extra_column":
                    row.insert(min(column, len(row)), rng.choice(BAD_VALUES + ["extra"]))
                lines[i] = sep.join(row)
        elif kind == "drop_line":
            lines.pop(index)
        else:
            lines.insert(index, lines[index])
        target.write_text("\n".join(lines) + "\n")
    return kind, target


def names_the_file(message: str, target: Path, root: Path) -> bool:
    """Whether an error message points at ``target``: its name or stem, or its
    folder below ``root`` (a patient or record folder)."""
    found = [target.name, target.stem]
    if target.parent != root:
        found.append(target.parent.name)
    return any(name and name in message for name in found)


def check_survives(dataset, request: DataRequest, valid: Path, data: st.DataObject, reader: str) -> None:  # noqa: ANN001
    """Copy ``valid``, mutate it, check it: success or a DataError naming the file."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / valid.name
        shutil.copytree(valid, root)
        outside = Path(tmp) / "outside.txt"
        outside.write_text("not part of the dataset\n")
        kind, target = mutate(root, data, outside)
        TRIED[reader] += 1
        try:
            dataset.check(DataRequest(request.task, root, request.config, request.seed))
        except DataError as exc:
            assert names_the_file(str(exc), target, root), f"{kind} of {target.relative_to(root)}: the error does not name it: {exc}"
