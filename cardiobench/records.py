"""Run records: the versioned JSON that every leaderboard row is built from.

The schema lives in ``cardiobench/schemas/run-record.v<N>.json``; bump
:data:`SCHEMA_VERSION` (and add a new file) for any incompatible change.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import torch
import torchvision

import cardiobench
from cardiobench import atomic
from cardiobench.errors import CardiobenchError

SCHEMA_VERSION = 1
RECORD_FILE = "record.json"


@cache
def schema(version: int = SCHEMA_VERSION) -> dict[str, Any]:
    text = resources.files("cardiobench.schemas").joinpath(f"run-record.v{version}.json").read_text()
    return json.loads(text)


def problems(record: Any) -> list[str]:
    """Every way ``record`` violates its schema, as 'path: message' lines."""
    if not isinstance(record, dict):
        return ["a run record must be a JSON object"]
    version = record.get("schema_version")
    try:
        validator = jsonschema.Draft202012Validator(schema(version if isinstance(version, int) else SCHEMA_VERSION))
    except FileNotFoundError:
        return [f"schema_version: unknown version {version!r}"]
    out = []
    for error in sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        out.append(f"{where}: {error.message}")
    return out


def portable(value: Any, places: dict[Path, str]) -> Any:
    """``value`` (a record or any part of it) with every absolute local path
    made portable: below a place in ``places`` (e.g. the cache -> ``<cache>``,
    the runs folder -> ``<runs>``), else below the working directory or its
    parent (relative: ``../shared/data/mitdb``), else below the home folder
    (``~/...``). A path elsewhere keeps only its last two parts after ``<local>``."""
    named = {str(Path(p).resolve()): name for p, name in places.items()}
    cwd = Path.cwd().resolve()
    named |= {str(cwd): ".", str(cwd.parent): "..", str(Path.home().resolve()): "~"}
    prefixes = sorted((p for p in named if p != "/"), key=len, reverse=True)
    pattern = re.compile(r"(?<![\w.~<>-])/[^\s'\"(),;]*")

    def replace(match: re.Match[str]) -> str:
        path = match.group(0)
        for prefix in prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return named[prefix] + path[len(prefix) :]
        tail = [part for part in path.split("/") if part][-2:]
        return "/".join(["<local>", *tail]) if tail else path

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(replace, item) if "/" in item else item
        if isinstance(item, dict):
            return {key: walk(v) for key, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value)


def read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CardiobenchError(f"Cannot read run record {path}: {exc}") from exc


def write(path: Path, record: dict[str, Any]) -> None:
    atomic.write_text(path, dumps(record))


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, sort_keys=False, allow_nan=False) + "\n"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _git(*args: str) -> str | None:
    root = Path(cardiobench.__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def environment(device: str, plugins: dict[str, str], numerics: dict[str, Any]) -> dict[str, Any]:
    """Versions, device, numerics signature and code revision that made a run."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {
        "device": device,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cardiobench": cardiobench.__version__,
        "plugins": plugins,
        "git_commit": commit,
        "git_dirty": bool(status) if status is not None else None,
        "platform": platform.platform(),
        "numerics": numerics,
    }
