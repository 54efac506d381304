"""The official EchoNet-Dynamic folder: ``FileList.csv``, ``VolumeTracings.csv``
and ``Videos/<FileName>.avi``.

:func:`read_layout` parses and validates both tables and returns every video
with its labels and traces, or raises one ``DataError`` listing every bad row
and file. FileName may carry ``.avi`` or not; Split may be in any case.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from cardiobench.errors import DataError, bulleted
from cardiobench_echo.echonet.traces import Trace, end_diastole_systole

FILELIST = "FileList.csv"
TRACINGS = "VolumeTracings.csv"
VIDEOS = "Videos"
FILELIST_COLUMNS = ("FileName", "EF", "ESV", "EDV", "FrameHeight", "FrameWidth", "FPS", "NumberOfFrames", "Split")
TRACING_COLUMNS = ("FileName", "X1", "Y1", "X2", "Y2", "Frame")
SPLITS = ("TRAIN", "VAL", "TEST")


@dataclass(frozen=True)
class Video:
    """One FileList row with its traced frames (if any)."""

    name: str
    path: Path
    ef: float
    split: str
    n_frames: int
    width: int  # FileList's FrameWidth until the video is opened, then the AVI's own (traces are in its pixels)
    traces: tuple[Trace, ...] = field(default_factory=tuple)
    height: int = 0  # FileList's FrameHeight until the video is opened, then the AVI's own

    @property
    def ed_es(self) -> tuple[Trace, Trace]:
        return end_diastole_systole(list(self.traces))

    def trace_problem(self, frames: int) -> str | None:
        """Why this video's traces cannot give ED/ES masks (None if they can),
        judged against its decoded size and frame count."""
        if len(self.traces) < 2:
            return f"has {len(self.traces)} traced frame(s) in {TRACINGS}, not an ED and an ES"
        late = [t.frame for t in self.traces if not 0 <= t.frame < frames]
        if late:
            return f"traces frame(s) {late} of a {frames}-frame video"
        xy = np.vstack([t.rows().reshape(-1, 2) for t in self.traces])
        outside = (xy[:, 0] < -1) | (xy[:, 0] > self.width + 1) | (xy[:, 1] < -1) | (xy[:, 1] > self.height + 1)
        if outside.any():
            x, y = xy[outside][0]
            return f"has trace points outside its {self.width}x{self.height} video (e.g. x={x:g}, y={y:g})"
        return None


@dataclass(frozen=True)
class Layout:
    root: Path
    videos: list[Video]
    fingerprint: str

    def split(self, name: str) -> list[Video]:
        return [v for v in self.videos if v.split == name]


def _stem(file_name: str) -> str:
    return file_name[:-4] if file_name.lower().endswith(".avi") else file_name


def _escapes(name: str) -> bool:
    return not name or name.startswith(("/", "\\")) or "/" in name or "\\" in name or name in (".", "..") or ":" in name


def _number(value: str | None) -> float:
    try:
        return float(value) if value is not None else math.nan
    except ValueError:
        return math.nan


def _read_csv(path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except Exception as exc:
        raise DataError(f"{path} is not a readable CSV file: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks required column(s) {', '.join(missing)}; it has {', '.join(frame.columns) or 'none'}. Expected the EchoNet-Dynamic columns {', '.join(columns)}.")
    return frame


def _read_traces(path: Path, problems: list[str]) -> dict[str, list[Trace]]:
    frame = _read_csv(path, TRACING_COLUMNS)
    rows: dict[tuple[str, int], list[list[float]]] = defaultdict(list)
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        coords = [_number(row[c]) for c in ("X1", "Y1", "X2", "Y2")]
        frame_no = _number(row["Frame"])
        if not all(math.isfinite(c) for c in coords) or not math.isfinite(frame_no):
            problems.append(f"{path.name} row {line}: non-numeric coordinate or Frame")
            continue
        rows[(_stem(row["FileName"] or ""), int(frame_no))].append(coords)
    traces: dict[str, list[Trace]] = defaultdict(list)
    for (name, frame_no), coords in rows.items():
        if len(coords) < 3:
            problems.append(f"{path.name}: {name} frame {frame_no} has {len(coords)} row(s); a trace needs a long axis and at least 2 chords")
            continue
        traces[name].append(Trace.from_rows(frame_no, np.array(coords)))
    return traces


def read_layout(root: Path, need_traces: bool = False) -> Layout:
    """Parse and validate an EchoNet-Dynamic folder (not yet its videos)."""
    layout, problems = scan_layout(root, need_traces)
    raise_problems(root, problems)
    return layout


def raise_problems(root: Path, problems: list[str]) -> None:
    """One ``DataError`` naming every problem of the folder, if any."""
    if problems:
        raise DataError(f"EchoNet-Dynamic folder {root} has {len(problems)} problem(s): {bulleted(problems)}.")


def scan_layout(root: Path, need_traces: bool = False) -> tuple[Layout, list[str]]:
    """The folder's videos and every problem of its tables' rows; raises only
    when the tables themselves cannot be read. A video with fewer than two
    traced frames is not a problem here: tasks that need masks leave it out
    (:meth:`Video.trace_problem`), as EchoNet-Dynamic's loader does."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"Data root {root} does not exist or is not a folder. Point --data-root at an EchoNet-Dynamic download (holding {FILELIST}, {TRACINGS} and {VIDEOS}/), or omit it to use the synthetic set.")
    if not (root / FILELIST).is_file():
        raise DataError(f"Data root {root} has no {FILELIST}; an EchoNet-Dynamic folder holds {FILELIST}, {TRACINGS} and {VIDEOS}/.")
    problems: list[str] = []
    traces: dict[str, list[Trace]] = {}
    if (root / TRACINGS).is_file():
        traces = _read_traces(root / TRACINGS, problems)
    elif need_traces:
        problems.append(f"{TRACINGS} is missing; this task needs the ED/ES traces")

    table = _read_csv(root / FILELIST, FILELIST_COLUMNS)
    videos: list[Video] = []
    seen: set[str] = set()
    for line, row in enumerate(table.iter_rows(named=True), start=2):
        where = f"{FILELIST} row {line}"
        name = _stem((row["FileName"] or "").strip())
        if _escapes(name):
            problems.append(f"{where}: FileName {row['FileName']!r} is empty or escapes the {VIDEOS} folder")
            continue
        if name in seen:
            problems.append(f"{where}: FileName {name!r} appears twice")
            continue
        seen.add(name)
        ef = _number(row["EF"])
        if not math.isfinite(ef) or not 0.0 <= ef <= 100.0:
            problems.append(f"{where} ({name}): EF {row['EF']!r} is missing, NaN or outside [0, 100]")
        split = (row["Split"] or "").strip().upper()
        if split not in SPLITS:
            problems.append(f"{where} ({name}): Split {row['Split']!r} is not one of TRAIN, VAL, TEST")
        n_frames, width = _number(row["NumberOfFrames"]), _number(row["FrameWidth"])
        if not (math.isfinite(n_frames) and n_frames >= 1 and math.isfinite(width) and width >= 1):
            problems.append(f"{where} ({name}): NumberOfFrames {row['NumberOfFrames']!r} or FrameWidth {row['FrameWidth']!r} is not a positive number")
        path = root / VIDEOS / f"{name}.avi"
        if not path.is_file():
            problems.append(f"{where}: video file {VIDEOS}/{name}.avi is missing")
        video_traces = tuple(sorted(traces.get(name, []), key=lambda t: t.frame))
        height = _number(row["FrameHeight"])
        whole = lambda x: int(x) if math.isfinite(x) else 0  # noqa: E731
        videos.append(Video(name, path, ef, split, whole(n_frames), whole(width), video_traces, whole(height)))

    for split in ("TRAIN", "TEST"):
        if not any(v.split == split for v in videos):
            problems.append(f"{FILELIST} has no {split} rows")
    return Layout(root, videos, "" if problems else fingerprint(videos)), problems


def fingerprint(videos: list[Video]) -> str:
    """SHA-256 over labels, split, file list (names and sizes) and traces."""
    digest = hashlib.sha256()
    for v in sorted(videos, key=lambda v: v.name):
        digest.update(f"{v.name}|{v.ef:.6f}|{v.split}|{v.path.stat().st_size}|{v.n_frames}\n".encode())
        for t in v.traces:
            digest.update(np.round(t.rows(), 4).tobytes())
    return digest.hexdigest()
