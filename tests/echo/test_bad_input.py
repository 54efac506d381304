"""Every malformed EchoNet-Dynamic folder gets one readable error listing each
offending row or file, a non-zero exit, no traceback and no run directory."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.conftest import cli


def check(root: Path):
    return cli("data", "check", "--task", "lvef", "--data-root", root)


def edit_filelist(root: Path, edit) -> None:
    frame = pl.read_csv(root / "FileList.csv", infer_schema=False)
    edit(frame).write_csv(root / "FileList.csv")


def assert_rejected(result, *fragments: str) -> None:
    assert result.code == 2, result.out + result.err
    assert result.err.startswith("error: ") and "Traceback" not in result.err
    assert result.err.strip().count("\n") == 0, "one paragraph"
    for fragment in fragments:
        assert fragment in result.err, (fragment, result.err)


def test_valid_folder_passes(echonet_small: Path):
    result = check(echonet_small)
    assert result.code == 0 and "16 videos" in result.out and "all decodable" in result.out


def test_missing_root_and_missing_filelist(tmp_path: Path):
    assert_rejected(check(tmp_path / "nowhere"), "does not exist")
    assert_rejected(check(tmp_path), "has no FileList.csv")


def test_missing_columns(echonet_copy: Path):
    edit_filelist(echonet_copy, lambda f: f.drop("EF", "Split"))
    assert_rejected(check(echonet_copy), "lacks required column(s) EF, Split")


def test_bad_ef_values_are_listed_by_row(echonet_copy: Path):
    def edit(f):
        ef = f["EF"].to_list()
        ef[0], ef[2], ef[3] = "nan", "120", ""
        return f.with_columns(pl.Series("EF", ef))

    edit_filelist(echonet_copy, edit)
    assert_rejected(check(echonet_copy), "row 2", "row 4", "row 5", "'120'", "'nan'", "outside [0, 100]")


def test_filename_escaping_the_videos_folder(echonet_copy: Path):
    edit_filelist(echonet_copy, lambda f: f.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("../../etc/passwd")).otherwise(pl.col("FileName")).alias("FileName")))
    assert_rejected(check(echonet_copy), "row 3", "escapes the Videos folder")


def test_missing_unreadable_and_truncated_videos(echonet_copy: Path):
    videos = sorted((echonet_copy / "Videos").glob("*.avi"))
    videos[0].unlink()
    videos[1].write_bytes(b"this is not a video")
    data = videos[2].read_bytes()
    videos[2].write_bytes(data[: len(data) // 3])
    assert_rejected(check(echonet_copy), "3 problem(s)", f"Videos/{videos[0].name} is missing", f"{videos[1].name} cannot be opened", f"{videos[2].name} is truncated")


def test_bad_rows_and_undecodable_videos_are_reported_together(echonet_copy: Path):
    videos = sorted((echonet_copy / "Videos").glob("*.avi"))
    data = videos[-1].read_bytes()
    videos[-1].write_bytes(data[: len(data) // 4])
    edit_filelist(echonet_copy, lambda f: f.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("oops")).otherwise(pl.col("Split")).alias("Split")))
    assert_rejected(check(echonet_copy), "2 problem(s)", "row 2", "Split 'oops'", f"{videos[-1].name} is truncated")


@pytest.mark.parametrize("split", ["TRAIN", "TEST"])
def test_no_train_or_no_test_rows(echonet_copy: Path, split: str):
    edit_filelist(echonet_copy, lambda f: f.with_columns(pl.col("Split").str.replace(split, "VAL")))
    assert_rejected(check(echonet_copy), f"has no {split} rows")


def test_unknown_split_and_duplicates(echonet_copy: Path):
    def edit(f):
        split = f["Split"].to_list()
        split[0] = "EXTERNAL"
        return pl.concat([f.with_columns(pl.Series("Split", split)), f.head(1)])

    edit_filelist(echonet_copy, edit)
    assert_rejected(check(echonet_copy), "Split 'EXTERNAL'", "appears twice")


def test_run_on_bad_data_writes_no_run_directory(echonet_copy: Path, tmp_path: Path):
    edit_filelist(echonet_copy, lambda f: f.drop("NumberOfFrames"))
    runs = tmp_path / "runs"
    result = cli("run", "--task", "lvef", "--model", "r2plus1d", "--preset", "ci", "--data-root", echonet_copy, "--runs-dir", runs)
    assert_rejected(result, "NumberOfFrames")
    assert not runs.exists() or not any(runs.iterdir())


def test_debug_shows_the_traceback(tmp_path: Path):
    result = cli("--debug", "data", "check", "--task", "lvef", "--data-root", tmp_path / "nowhere")
    assert result.code == 2 and "Traceback" in result.err
