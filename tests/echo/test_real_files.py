"""EchoNet-Dynamic as the real download is: videos without traces, FileList
rows whose frame size is not their AVI's, the 2020 and later FileList forms,
frame rates other than 50, and reading without a decode cache. Each folder
reproduces one property met in the real files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from cardiobench import config, records
from cardiobench.paths import cache_dir
from cardiobench.specs import DataRequest
from cardiobench_echo.echonet import dataset
from cardiobench_echo.echonet.frames import trace_mask
from cardiobench_echo.echonet.layout import read_layout
from tests.conftest import cli


def _load(registry, task: str, root: Path, **data):
    values = config.resolve(registry.task(task), None, "ci", [f"data.{k}={v}" for k, v in data.items()]).values
    return dataset.load(DataRequest(task, root, values, 0))


def _untraced(root: Path, names: list[str], one_frame: str) -> None:
    """Remove every trace of ``names`` and one of the two traced frames of ``one_frame``."""
    tracings = pl.read_csv(root / "VolumeTracings.csv", infer_schema=False)
    stem = pl.col("FileName").str.replace(r"\.avi$", "")
    tracings = tracings.filter(~stem.is_in(names))
    last = tracings.filter(stem == one_frame)["Frame"].max()
    tracings.filter(~((stem == one_frame) & (pl.col("Frame") == last))).write_csv(root / "VolumeTracings.csv")


@pytest.fixture(scope="module")
def real_like(tmp_path_factory: pytest.TempPathFactory, echonet_small: Path) -> tuple[Path, dict[str, list[str]]]:
    """Three videos without two traced frames (two TRAIN, one TEST), one row stating 768 x 1024 for its 112 x 112 AVI, real frame rates."""
    root = tmp_path_factory.mktemp("echonet-real") / "EchoNet-Dynamic"
    shutil.copytree(echonet_small, root)
    filelist = pl.read_csv(root / "FileList.csv", infer_schema=False)
    by_split = {s: filelist.filter(pl.col("Split") == s)["FileName"].to_list() for s in ("TRAIN", "VAL", "TEST")}
    _untraced(root, [by_split["TRAIN"][0], by_split["TEST"][0]], one_frame=by_split["TRAIN"][1])
    stated = by_split["TRAIN"][2]
    fps = [str(f) for f in np.linspace(18, 138, filelist.height).round().astype(int)]
    filelist = filelist.with_columns(
        pl.when(pl.col("FileName") == stated).then(pl.lit("768")).otherwise(pl.col("FrameHeight")).alias("FrameHeight"),
        pl.when(pl.col("FileName") == stated).then(pl.lit("1024")).otherwise(pl.col("FrameWidth")).alias("FrameWidth"),
        pl.Series("FPS", fps),
    )
    filelist.write_csv(root / "FileList.csv")
    return root, {"untraced": sorted([by_split["TRAIN"][0], by_split["TEST"][0], by_split["TRAIN"][1]]), "stated": [stated], **by_split}


def test_data_check_names_every_video_without_traces(real_like):
    root, names = real_like
    result = cli("data", "check", "--task", "lvef-seg", "--data-root", root)
    assert result.code == 0, result.err
    assert "13 with usable ED/ES traces" in result.out and "3 video(s) without usable traces" in result.out
    for name in names["untraced"]:
        assert name in result.out
    assert "has 1 traced frame(s)" in result.out and "has 0 traced frame(s)" in result.out
    assert f"{names['stated'][0]} (768x1024 in FileList.csv, 112x112 in its AVI)" in result.out


def test_lvef_seg_leaves_them_out_and_lvef_keeps_them(real_like, registry, capsys):
    root, names = real_like
    seg = _load(registry, "lvef-seg", root)
    err = capsys.readouterr().err
    assert "3 EchoNet-Dynamic video(s) have no usable ED/ES traces" in err and "left out of lvef-seg" in err
    seg_ids = {i.split("/")[0] for part in (seg.folds[0].train, seg.folds[0].val, seg.folds[0].test) for i in (it["id"] for it in part)}
    assert seg_ids.isdisjoint(names["untraced"]) and len(seg_ids) == 13
    assert seg.info["videos_without_masks"] == 3 and "3 video(s) without usable traces left out" in seg.source

    kept = _load(registry, "lvef", root)
    assert kept.info["videos"] == {"train": len(names["TRAIN"]), "val": len(names["VAL"]), "test": len(names["TEST"])}
    assert kept.info["untraced_videos"] == "keep" and kept.fingerprint == seg.fingerprint, "one folder, one fingerprint: STCA's segmenter stage matches it"
    dropped = _load(registry, "lvef", root, untraced_videos="drop")
    assert dropped.info["videos"]["train"] == len(names["TRAIN"]) - 2 and dropped.info["videos"]["test"] == len(names["TEST"]) - 1
    assert dropped.fingerprint != kept.fingerprint and dropped.info["untraced_videos"] == "drop"


def test_masks_scale_by_the_avis_width_not_filelists(real_like, echonet_small: Path):
    root, names = real_like
    opened = dataset.open_layout(root, {"data": {"size": 32, "video_cache": "decoded", "synthetic_videos": 0, "synthetic_seed": 0}})
    stated = next(v for v in opened.layout.videos if v.name == names["stated"][0])
    assert (stated.width, stated.height) == (112, 112)
    plain = next(v for v in read_layout(echonet_small).videos if v.name == stated.name)
    for phase in ("ED", "ES"):
        np.testing.assert_array_equal(trace_mask(stated, phase, 32), trace_mask(plain, phase, 32))
        assert trace_mask(stated, phase, 32).sum() > 20


def test_traces_outside_their_video_are_named_and_left_out(echonet_copy: Path):
    tracings = pl.read_csv(echonet_copy / "VolumeTracings.csv", infer_schema=False)
    name = tracings["FileName"][0]
    tracings = tracings.with_columns(pl.when(pl.col("FileName") == name).then(pl.lit("900.0")).otherwise(pl.col("X1")).alias("X1"))
    tracings.write_csv(echonet_copy / "VolumeTracings.csv")
    result = cli("data", "check", "--task", "lvef-seg", "--data-root", echonet_copy)
    assert result.code == 0 and f"{name.removesuffix('.avi')} has trace points outside its 112x112 video (e.g. x=900" in result.out


@pytest.mark.parametrize("form", ["2020: FileName.avi, CRLF", "later: no .avi, LF"])
def test_both_filelist_forms_read_alike(echonet_copy: Path, echonet_small: Path, form: str):
    filelist = pl.read_csv(echonet_copy / "FileList.csv", infer_schema=False)
    if form.startswith("2020"):
        text = filelist.with_columns(pl.col("FileName") + ".avi").write_csv(line_terminator="\r\n")
    else:
        text = filelist.write_csv()
    (echonet_copy / "FileList.csv").write_bytes(text.encode())
    assert (b"\r\n" in (echonet_copy / "FileList.csv").read_bytes()) == form.startswith("2020")
    ours, reference = read_layout(echonet_copy, need_traces=True), read_layout(echonet_small, need_traces=True)
    assert [(v.name, v.ef, v.split, len(v.traces)) for v in ours.videos] == [(v.name, v.ef, v.split, len(v.traces)) for v in reference.videos]


def test_stca_runs_whole_on_videos_without_traces_and_a_wrong_stated_size(real_like, tmp_path: Path):
    """The segmenter stage leaves the untraced videos out, the pseudo-labels give them alpha 0, STCA trains on all."""
    root, names = real_like
    result = cli("run", "--task", "lvef", "--model", "stca", "--preset", "ci", "--data-root", root, "--runs-dir", tmp_path, "--no-progress")
    assert result.code == 0, result.err
    assert "left out of lvef-seg" in result.err and "Traceback" not in result.err
    (record_path,) = [p for p in tmp_path.glob("*/record.json")]
    record = records.read(record_path)
    assert record["dataset"]["info"]["videos"]["train"] == len(names["TRAIN"]) and record["dataset"]["info"]["videos_without_masks"] == 3
    stage = record["stages"]["segmenter"]
    alpha = json.loads((Path(stage["pseudo_labels"].replace("<cache>", str(cache_dir()))) / "alpha.json").read_text())
    untraced_train = [n for n in names["untraced"] if n in names["TRAIN"]]
    assert set(alpha) == set(names["TRAIN"]) and all(alpha[n] == 0.0 for n in untraced_train)
    assert all(alpha[n] > 0 for n in names["TRAIN"] if n not in untraced_train)


def test_decoding_per_access_gives_exactly_the_cached_clips(echonet_small: Path, registry):
    """The same clips, bit for bit, from the decode cache and from decoding per
    access, so a run predicts the same either way."""
    cached, direct = (_load(registry, "lvef", echonet_small, video_cache=store) for store in ("decoded", "none"))
    assert cached.fingerprint == direct.fingerprint and cached.info == direct.info
    for part in ("train", "val", "test"):
        a, b = getattr(cached.folds[0], part), getattr(direct.folds[0], part)
        assert len(a) == len(b)
        for i in range(0, len(a), max(1, len(a) // 5)):
            assert a[i]["id"] == b[i]["id"] and a[i]["start"] == b[i]["start"] and torch.equal(a[i]["input"], b[i]["input"])
