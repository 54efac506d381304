"""The committed leaderboard folder: run records per task and the ledger of
table versions.

``leaderboards/<task>/records/<run_id>.json`` are the records behind every
reproduced row. ``leaderboards/<task>/versions.json`` maps each table (a
dataset, real or synthetic, and a preset) to its versions, each pinned to one identity: task
version, preset version, dataset fingerprint and table schema version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cardiobench import atomic, records
from cardiobench.errors import CardiobenchError, bulleted

TABLE_SCHEMA_VERSION = 3  # 2: rank ranges, paired comparisons (paired bootstrap, Wilcoxon), baseline tests, rank stability, compute columns (FLOPs, peak memory), HD95; 3: McNemar on accuracy
LEDGER = "versions.json"


@dataclass(frozen=True, order=True)
class Identity:
    """What a table version is made of; any change makes a new version."""

    task_version: int
    preset_version: int
    fingerprint: str
    schema_version: int = TABLE_SCHEMA_VERSION

    @classmethod
    def of(cls, record: dict[str, Any]) -> Identity:
        fingerprint = record["dataset"]["fingerprint"]
        if "test_dataset" in record:  # external validation: both datasets make the table
            fingerprint = hashlib.sha256(f"{fingerprint}>{record['test_dataset']['fingerprint']}".encode()).hexdigest()
        return cls(record["task"]["version"], record["preset"]["version"], fingerprint)


def data_name(record: dict[str, Any]) -> str:
    """The dataset's name, with ``-synthetic`` for runs on its generated stand-in
    (no data root): real and synthetic results never share a table. An
    external validation run's is ``<train>-to-<test>``."""
    name = record["dataset"]["name"] + ("-synthetic" if record["request"]["data_root"] is None else "")
    if "test_dataset" in record:
        name += "-to-" + record["test_dataset"]["name"] + ("-synthetic" if record["request"].get("test_data_root") is None else "")
    return name


def joint_view(record: dict[str, Any], task: str) -> dict[str, Any]:
    """A record seen as a record of ``task``, one of its ``joint`` tasks: the
    same run, model, data and seed, with that task's metrics; ``joint_of``
    names the task it was run under."""
    joint = record["joint"][task]
    view = {k: v for k, v in record.items() if k not in ("joint", "per_class", "reference_baseline", "analysis", "test_items")}
    view |= {"task": {**record["task"], "name": task, "version": joint["version"]}, "metrics": joint["metrics"], "folds": joint["folds"], "joint_of": record["task"]["name"]}
    if "test_items" in joint:
        view["test_items"] = joint["test_items"]
    return view


@dataclass(frozen=True)
class Table:
    """One version of one table: its records share task, dataset, preset and identity."""

    task: str
    dataset: str
    data: str  # data_name of its records
    preset: str
    version: int
    identity: Identity
    records: tuple[dict[str, Any], ...]

    @property
    def stem(self) -> str:
        return f"{self.data}__{self.preset}__v{self.version}"


class Store:
    """A ``leaderboards/`` folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._read: dict[str, list[dict[str, Any]]] = {}  # task -> its validated records, read once

    def native_tasks(self) -> list[str]:
        """Tasks with a records folder."""
        return sorted(p.parent.name for p in self.root.glob("*/records") if p.is_dir())

    def tasks(self) -> list[str]:
        """Tasks with records of their own or scored jointly by another task's records."""
        native = self.native_tasks()
        return sorted(set(native) | {joint for task in native for record in self.records(task) for joint in record.get("joint", {})})

    def records_dir(self, task: str) -> Path:
        return self.root / task / "records"

    def record_paths(self, task: str) -> list[Path]:
        return sorted(self.records_dir(task).glob("*.json"))

    def records(self, task: str) -> list[dict[str, Any]]:
        """Every record of ``task``, validated (read once per store); one error lists every bad file."""
        if task not in self._read:
            self._read[task] = self._read_records(task)
        return list(self._read[task])

    def _read_records(self, task: str) -> list[dict[str, Any]]:
        out, problems = [], []
        for path in self.record_paths(task):
            try:
                record = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                problems.append(f"{path}: not readable JSON ({exc})")
                continue
            found = records.problems(record)
            if not found and record["task"]["name"] != task:
                found = [f"task is {record['task']['name']!r}, but the record sits under {task}/"]
            if not found and path.stem != record["run_id"]:
                found = [f"file name must be the run_id {record['run_id']!r}"]
            problems += [f"{path}: {p}" for p in found]
            out.append(record)
        if problems:
            raise CardiobenchError(f"{len(problems)} invalid leaderboard record problem(s): {bulleted(problems)}.")
        return out

    def ledger(self, task: str) -> dict[str, list[dict[str, Any]]]:
        path = self.root / task / LEDGER
        return json.loads(path.read_text()) if path.is_file() else {}

    def ledger_text(self, ledger: dict[str, list[dict[str, Any]]]) -> str:
        return json.dumps({k: ledger[k] for k in sorted(ledger)}, indent=2) + "\n"

    def joint_views(self, task: str, native: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Records of other tasks whose multi-task model also scored ``task``,
        as ``task`` records (:func:`joint_view`), unless ``native`` already
        holds that model and seed."""
        taken = {(r["model"]["name"], r["seed"]) for r in native}
        views = [joint_view(r, task) for other in self.native_tasks() if other != task for r in self.records(other) if task in r.get("joint", {})]
        return [v for v in views if (v["model"]["name"], v["seed"]) not in taken]

    def tables(self, task: str, ledger: dict[str, list[dict[str, Any]]], joint: bool = True) -> Iterator[Table]:
        """Group records (with ``joint`` views of other tasks' multi-task records)
        into table versions, numbering new identities in ``ledger`` (updated in place)."""
        groups: dict[tuple[str, str, Identity], list[dict[str, Any]]] = {}
        native = self.records(task)
        for record in native + (self.joint_views(task, native) if joint else []):
            key = (data_name(record), record["preset"]["name"], Identity.of(record))
            groups.setdefault(key, []).append(record)
        for data, preset, identity in sorted(groups, key=lambda k: (k[0], k[1], min(r["finished_at"] for r in groups[k]))):
            versions = ledger.setdefault(f"{data}__{preset}", [])
            entry = next((v for v in versions if Identity(**{k: v[k] for k in asdict(identity)}) == identity), None)
            if entry is None:
                entry = {"version": len(versions) + 1, **asdict(identity)}
                versions.append(entry)
            members = sorted(groups[(data, preset, identity)], key=lambda r: (r["model"]["name"], r["seed"], r["run_id"]))
            yield Table(task, members[0]["dataset"]["name"], data, preset, entry["version"], identity, tuple(members))

    def add_record(self, record: dict[str, Any]) -> Path:
        path = self.records_dir(record["task"]["name"]) / f"{record['run_id']}.json"
        atomic.write_text(path, records.dumps(record))
        self._read.pop(record["task"]["name"], None)
        return path
