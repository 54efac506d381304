"""``Key: value`` files, the per-patient info files of ACDC (``Info.cfg``) and
CAMUS (``Info_2CH.cfg``, ``Info_4CH.cfg``)."""

from __future__ import annotations

from pathlib import Path


def read_key_values(path: Path) -> tuple[dict[str, str], list[str]]:
    """The file as {key: value}, and a problem for each line that is not ``Key: value``."""
    info, problems = {}, []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            problems.append(f"line {number} {line.strip()!r} is not 'Key: value'")
            continue
        info[key.strip()] = value.strip()
    return info, problems
