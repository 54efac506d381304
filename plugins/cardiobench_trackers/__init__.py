"""Experiment trackers on the run events: TensorBoard and MLflow.

A default feature that is a plugin like any other. Each tracker imports its
library only when a run asks for it (``--track tensorboard,mlflow``), so
cardiobench works without them: ``pip install "cardiobench[tensorboard]"``,
``"cardiobench[mlflow]"``.
"""

from __future__ import annotations

from cardiobench import __version__, hookimpl
from cardiobench.specs import RunInfo, TrackerSpec


def _tensorboard(run: RunInfo) -> object:
    from cardiobench_trackers.tensorboard import TensorBoardTracker

    return TensorBoardTracker(run)


def _mlflow(run: RunInfo) -> object:
    from cardiobench_trackers.mlflow import MLflowTracker

    return MLflowTracker(run)


@hookimpl
def cardiobench_trackers() -> list[TrackerSpec]:
    return [
        TrackerSpec(
            name="tensorboard",
            description="TensorBoard event files in RUN_DIR/tensorboard/: losses and validation metrics per epoch, test metrics, the config as text, the run's plots as images (tensorboard --logdir runs)",
            create=_tensorboard,
            install='pip install "cardiobench[tensorboard]"',
        ),
        TrackerSpec(
            name="mlflow",
            description="An MLflow run per cardiobench run: the config as params, metrics per epoch, test metrics, the run directory (without checkpoints) as artifacts; store: $MLFLOW_TRACKING_URI, else ./mlruns/ (mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db)",
            create=_mlflow,
            install='pip install "cardiobench[mlflow]"',
        ),
    ]


__all__ = ["__version__", "cardiobench_trackers"]
