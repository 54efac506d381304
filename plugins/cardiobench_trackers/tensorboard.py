"""TensorBoard tracker: ``RUN_DIR/tensorboard/`` event files written with
``torch.utils.tensorboard`` (view with ``tensorboard --logdir runs``)."""

from __future__ import annotations

from typing import Any

import yaml
from matplotlib import image
from torch.utils.tensorboard import SummaryWriter

from cardiobench import hookimpl
from cardiobench.specs import RunInfo
from cardiobench_trackers import common

LOG_DIR = "tensorboard"


class TensorBoardTracker:
    """Scalars per epoch (``train_loss``, ``val_loss``, ``val_<metric>``, ...,
    under ``<fold>/`` in a cross-validated run), the test metrics at the last
    epoch's step, the config as text and every plot of the run as an image."""

    def __init__(self, run: RunInfo):
        assert run.run_dir is not None
        self.writer = SummaryWriter(log_dir=str(run.run_dir / LOG_DIR))
        self.last_step = int(run.config["train"]["epochs"])  # test metrics sit at the last epoch, also after a resume

    @hookimpl
    def cardiobench_run_start(self, run: RunInfo) -> None:
        config = yaml.safe_dump(dict(run.config), sort_keys=False)
        self.writer.add_text("config", "    " + config.replace("\n", "\n    "))  # indented: shown as code

    @hookimpl
    def cardiobench_epoch_end(self, run: RunInfo, fold: str, epoch: int, values: dict[str, float]) -> None:
        for tag, value in common.epoch_scalars(run, fold, values, "/").items():
            self.writer.add_scalar(tag, value, epoch)
        self.writer.flush()

    @hookimpl
    def cardiobench_test_end(self, run: RunInfo, record: dict[str, Any]) -> None:
        assert run.run_dir is not None
        for tag, value in common.test_scalars(record).items():
            self.writer.add_scalar(f"test/{tag.removeprefix('test_')}", value, self.last_step)
        for path in common.plot_files(run.run_dir):
            pixels = image.imread(path)[..., :3]
            self.writer.add_image(f"plots/{path.relative_to(run.run_dir / 'plots').with_suffix('')}", pixels, self.last_step, dataformats="HWC")
        self.writer.flush()

    @hookimpl
    def cardiobench_run_end(self) -> None:
        self.writer.close()
