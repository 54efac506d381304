"""The EchoNet-Dynamic reader on generated data."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import polars as pl

from cardiobench_echo.echonet import layout as echonet_layout
from cardiobench_echo.echonet.layout import FILELIST_COLUMNS, read_layout
from cardiobench_echo.echonet.traces import ejection_fraction


def test_generated_folder_has_the_official_layout(echonet_small: Path):
    filelist = pl.read_csv(echonet_small / "FileList.csv")
    assert tuple(filelist.columns) == FILELIST_COLUMNS
    tracings = pl.read_csv(echonet_small / "VolumeTracings.csv")
    assert tracings.columns == ["FileName", "X1", "Y1", "X2", "Y2", "Frame"]
    assert tracings["FileName"].str.ends_with(".avi").all()
    assert set(filelist["Split"]) <= {"TRAIN", "VAL", "TEST"}
    # many-row traces: per video two frames, each a long axis plus 20 chords
    per_video = tracings.group_by("FileName").agg(pl.len(), pl.col("Frame").n_unique())
    assert (per_video["len"] == 42).all() and (per_video["Frame"] == 2).all()
    for row in filelist.head(3).iter_rows(named=True):
        video = cv2.VideoCapture(str(echonet_small / "Videos" / f"{row['FileName']}.avi"))
        assert int(video.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little") == b"MJPG"
        assert video.get(cv2.CAP_PROP_FPS) == row["FPS"]
        frames = []
        while (frame := video.read())[0]:
            frames.append(frame[1])
        assert len(frames) == row["NumberOfFrames"] and frames[0].shape == (112, 112, 3)


def test_ef_recomputed_from_traces_matches_filelist(echonet_small: Path):
    layout = read_layout(echonet_small, need_traces=True)
    filelist = pl.read_csv(echonet_small / "FileList.csv")
    by_name = {r["FileName"]: r for r in filelist.iter_rows(named=True)}
    for video in layout.videos:
        ed, es = video.ed_es
        assert ed.area() > es.area()
        ef = ejection_fraction(ed.disc_volume(), es.disc_volume())
        assert abs(ef - by_name[video.name]["EF"]) < 1e-5
        assert abs(ed.disc_volume() / es.disc_volume() - by_name[video.name]["EDV"] / by_name[video.name]["ESV"]) < 1e-4


def test_ed_and_es_come_from_area_not_row_order(echonet_copy: Path):
    tracings = pl.read_csv(echonet_copy / "VolumeTracings.csv")
    reversed_rows = tracings.reverse()  # ES rows now come first for every video
    reversed_rows.write_csv(echonet_copy / "VolumeTracings.csv")
    before = {v.name: (v.ed_es[0].frame, v.ed_es[1].frame) for v in read_layout(echonet_copy, need_traces=True).videos}
    tracings.write_csv(echonet_copy / "VolumeTracings.csv")
    after = {v.name: (v.ed_es[0].frame, v.ed_es[1].frame) for v in read_layout(echonet_copy, need_traces=True).videos}
    assert before == after


def test_filename_with_avi_and_split_in_any_case(echonet_copy: Path):
    filelist = pl.read_csv(echonet_copy / "FileList.csv")
    filelist = filelist.with_columns(pl.col("FileName") + ".avi", pl.col("Split").str.to_lowercase())
    filelist.write_csv(echonet_copy / "FileList.csv")
    layout = read_layout(echonet_copy)
    assert all(not v.name.endswith(".avi") and v.path.is_file() for v in layout.videos)
    assert {v.split for v in layout.videos} == {"TRAIN", "VAL", "TEST"}


def test_fingerprint_changes_with_labels(echonet_copy: Path):
    first = read_layout(echonet_copy).fingerprint
    filelist = pl.read_csv(echonet_copy / "FileList.csv").with_columns(pl.col("EF").round(1))
    filelist.write_csv(echonet_copy / "FileList.csv")
    assert read_layout(echonet_copy).fingerprint != first
    assert len(first) == 64 and echonet_layout.fingerprint(read_layout(echonet_copy).videos) == read_layout(echonet_copy).fingerprint


def test_masks_follow_the_trace_polygon(echonet_small: Path):
    video = read_layout(echonet_small, need_traces=True).videos[0]
    ed, es = video.ed_es
    mask = ed.mask(112, 112)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
    assert abs(int(mask.sum()) - ed.area()) / ed.area() < 0.1
    assert ed.mask(56, 56, scale=0.5).sum() < mask.sum() and es.mask(112, 112).sum() < mask.sum()
