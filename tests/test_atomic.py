"""Atomic writes when the disk fills up: the old content stays, no temporary
file is left behind, and the error names the file and what to do."""

from __future__ import annotations

import errno
import os
import stat
import shutil
from collections import namedtuple
from pathlib import Path

import pytest
import torch

from cardiobench import atomic
from cardiobench.engine import checkpoint

Usage = namedtuple("Usage", "total used free")


def _fill_then_fail(handle) -> None:
    handle.write(b"partial")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_keeps_the_old_file_and_names_the_new_one(tmp_path: Path):
    target = tmp_path / "record.json"
    atomic.write_text(target, "old")
    with pytest.raises(atomic.DiskFull, match=r"No space left to write .*record\.json.*--runs-dir"):
        atomic.write_with(target, _fill_then_fail)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]


def test_torch_save_on_a_full_disk_is_a_disk_full_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """torch.save reports ENOSPC as a RuntimeError ('unexpected pos'); the free space decides."""

    def torn_save(state, handle) -> None:
        handle.write(b"PK")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 17161344 vs 17161240")

    monkeypatch.setattr(torch, "save", torn_save)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(2**30, 2**30 - 2**20, 2**20))
    with pytest.raises(atomic.DiskFull, match="last.pt"):
        checkpoint.save(tmp_path / "last.pt", {"epoch": 0})
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(2**40, 2**30, 2**40 - 2**30))
    with pytest.raises(RuntimeError, match="unexpected pos"):  # plenty of room: a genuine bug stays one
        checkpoint.save(tmp_path / "last.pt", {"epoch": 0})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("umask", [0o022, 0o007])
def test_atomic_writes_take_the_users_umask(tmp_path: Path, umask: int):
    """A collaborator in the same group reads what a run wrote (temporary files start 0600)."""
    old = os.umask(umask)
    try:
        atomic.write_text(tmp_path / "record.json", "{}")
        atomic.write_with(tmp_path / "best.pt", lambda h: torch.save({"w": torch.zeros(1)}, h))
        with atomic.directory(tmp_path / "cache-entry") as folder:
            (folder / "alpha.json").write_text("{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "record.json").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "best.pt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "cache-entry").stat().st_mode) == 0o777 & ~umask
