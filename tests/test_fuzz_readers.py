"""Every reader against random mutations of a valid folder in its real format
(EchoNet-Dynamic FileList/VolumeTracings/AVI, WFDB header/annotation/signal,
ACDC Info.cfg/NIfTI, FETAL_PLANES_DB CSV/PNG): success, or a DataError naming
the file. See tests/fuzz.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardiobench import config
from cardiobench.specs import DataRequest
from tests.fuzz import check_survives, fuzz_settings
from tests.conftest import REPO

READERS = {  # reader: (task, dataset)
    "echonet": ("lvef", "echonet-dynamic"),
    "wfdb": ("ecg-pvc-apb", "mitdb"),
    "acdc": ("dcm-cls", "acdc"),
    "fetal-planes-db": ("fetal-planes", "fetal-planes-db"),
}


def _write(reader: str, root: Path) -> None:
    if reader == "echonet":
        from cardiobench_echo.echonet import phantom

        phantom.synthesize(root, 6, seed=11)
    elif reader == "wfdb":
        shutil.copytree(REPO / "tests" / "data" / "mitdb", root, ignore=shutil.ignore_patterns("README.md"))
    elif reader == "acdc":
        from cardiobench_cmr.acdc import synthetic

        synthetic.write(root, 5, seed=2)
    else:
        from cardiobench_fetal.planes import synthetic

        synthetic.write(root, 18, seed=4)


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory, registry) -> dict[str, tuple]:  # noqa: ANN001
    out = {}
    for reader, (task_name, dataset_name) in READERS.items():
        root = tmp_path_factory.mktemp(f"fuzz-{reader}") / reader
        _write(reader, root)
        task, dataset = registry.task(task_name), registry.dataset(dataset_name)
        request = DataRequest(task_name, root, config.resolve(task, None, "ci").values)
        dataset.check(request)  # the unmutated folder is valid
        out[reader] = (dataset, request, root)
    return out


@pytest.mark.parametrize("reader", sorted(READERS))
@fuzz_settings
@given(data=st.data())
def test_a_mutated_folder_passes_or_is_refused_naming_the_file(valid: dict[str, tuple], reader: str, data: st.DataObject):
    dataset, request, root = valid[reader]
    check_survives(dataset, request, root, data, reader)
