"""The FETAL_PLANES_DB folder: ``FETAL_PLANES_DB_data.csv`` and ``Images/<Image_name>.png``.

The CSV is ``;``-separated with the header
``Image_name;Patient_num;Plane;Brain_plane;Operator;US_Machine;Train `` (the
last name carries a trailing space, and Train values are ``1 `` / ``0 ``), so
every name and value is stripped. :func:`read_layout` validates every row and
returns the good images with a problem line for every bad row, so the caller
reports them together with undecodable images in one ``DataError``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cardiobench.errors import DataError, bulleted

CSV_NAME = "FETAL_PLANES_DB_data.csv"
IMAGES = "Images"
COLUMNS = ("Image_name", "Patient_num", "Plane", "Brain_plane", "Operator", "US_Machine", "Train")
PLANES = ("Fetal abdomen", "Fetal brain", "Fetal femur", "Fetal thorax", "Maternal cervix", "Other")
BRAIN_PLANES = ("Trans-thalamic", "Trans-cerebellum", "Trans-ventricular", "Other", "Not A Brain")
MACHINES = ("Aloka", "Voluson E6", "Voluson S10", "Other")
BACKGROUND = "Other"  # the plane that plays the paper's background class

CLASSES = {
    "planes": PLANES,
    "planes+brain": ("Fetal abdomen", "Trans-thalamic", "Trans-cerebellum", "Trans-ventricular", "Fetal brain (other)", "Fetal femur", "Fetal thorax", "Maternal cervix", "Other"),
}


def class_names(mode: str) -> tuple[str, ...]:
    """The classes of ``data.classes``: ``planes`` (6) or ``planes+brain`` (9)."""
    if mode not in CLASSES:
        raise DataError(f"data.classes must be one of {', '.join(CLASSES)}, got {mode!r}.")
    return CLASSES[mode]


def class_of(plane: str, brain_plane: str, mode: str) -> str:
    if mode == "planes+brain" and plane == "Fetal brain":
        return "Fetal brain (other)" if brain_plane in ("Other", "Not A Brain") else brain_plane
    return plane


@dataclass(frozen=True)
class PlaneImage:
    """One CSV row."""

    name: str
    path: Path
    patient: str
    plane: str
    brain_plane: str
    machine: str
    train: bool

    def label(self, mode: str) -> int:
        return class_names(mode).index(class_of(self.plane, self.brain_plane, mode))


@dataclass(frozen=True)
class Layout:
    """The good rows, and one line for each bad row (CSV line numbers)."""

    root: Path
    csv_path: Path
    images: list[PlaneImage]
    problems: list[str]
    n_rows: int

    @property
    def content_hash(self) -> str:
        """Names, labels, patients, machines, split and image file sizes."""
        digest = hashlib.sha256()
        for im in self.images:
            digest.update(f"{im.name}|{im.patient}|{im.plane}|{im.brain_plane}|{im.machine}|{int(im.train)}|{im.path.stat().st_size}\n".encode())
        return digest.hexdigest()


def read_table(path: Path) -> pl.DataFrame:
    """The CSV as strings, names and values stripped."""
    try:
        table = pl.read_csv(path, separator=";", infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=False)
        table = table.rename({c: c.strip() for c in table.columns})
        return table.with_columns(pl.col(c).str.strip_chars() for c in table.columns)
    except (pl.exceptions.PolarsError, OSError, UnicodeError) as exc:  # unreadable, or a header whose names repeat once stripped (a lost header line)
        raise DataError(f"{path} cannot be read as a ';'-separated CSV with one header line of distinct column names: {exc}") from exc


def _row_problems(row: dict[str, str | None], images: Path) -> list[str]:
    out = []
    if not row["Image_name"]:
        return ["empty Image_name"]
    if not row["Patient_num"]:
        out.append("empty Patient_num")
    if row["Plane"] not in PLANES:
        out.append(f"unknown Plane {row['Plane']!r} (expected one of {', '.join(PLANES)})")
    if row["Brain_plane"] not in BRAIN_PLANES:
        out.append(f"unknown Brain_plane {row['Brain_plane']!r} (expected one of {', '.join(BRAIN_PLANES)})")
    if row["Train"] not in ("0", "1"):
        out.append(f"Train must be 0 or 1, got {row['Train']!r}")
    if not (images / f"{row['Image_name']}.png").is_file():
        out.append(f"image {IMAGES}/{row['Image_name']}.png is missing")
    return out


def read_layout(root: Path) -> Layout:
    """Every row of the CSV, validated; a ``DataError`` only when the file as
    a whole is unusable (missing, unreadable, columns missing, empty)."""
    root = Path(root)
    csv_path = root / CSV_NAME
    if not csv_path.is_file():
        raise DataError(f"{root} is not a FETAL_PLANES_DB folder: {CSV_NAME} is missing (expected {CSV_NAME} and {IMAGES}/ as in Zenodo record 3904280).")
    table = read_table(csv_path)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{csv_path} lacks column(s) {', '.join(missing)} (its header: {';'.join(table.columns)}).")
    if table.height == 0:
        raise DataError(f"{csv_path} has no rows.")
    problems, images = [], []
    counts = Counter(table["Image_name"].to_list())
    for line, row in enumerate(table.select(COLUMNS).iter_rows(named=True), start=2):
        row_problems = _row_problems(row, root / IMAGES)
        if row["Image_name"] and counts[row["Image_name"]] > 1:
            row_problems.append(f"duplicate Image_name {row['Image_name']!r}")
        if row_problems:
            problems.append(f"line {line} ({row['Image_name'] or 'no name'}): {', '.join(row_problems)}")
            continue
        images.append(PlaneImage(row["Image_name"], root / IMAGES / f"{row['Image_name']}.png", row["Patient_num"], row["Plane"], row["Brain_plane"], row["US_Machine"] or "", row["Train"] == "1"))
    return Layout(root, csv_path, images, problems, table.height)


def raise_problems(layout: Layout, image_problems: dict[Path, str]) -> None:
    """One ``DataError`` naming every bad row and every undecodable image, if any."""
    lines = layout.problems + [f"{IMAGES}/{path.name} {why}" for path, why in sorted(image_problems.items())]
    if lines:
        raise DataError(f"{layout.root}: {len(lines)} problem(s) in {layout.n_rows} row(s) of {CSV_NAME} and their images: {bulleted(lines)}.")
