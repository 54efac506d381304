"""MLflow tracker: one MLflow run per cardiobench run, through
``MlflowClient`` (no global MLflow state, so stages and runs in one process
stay apart). The store is ``$MLFLOW_TRACKING_URI``, else a local SQLite
store in ``./mlruns/`` (MLflow 3's file store is in maintenance mode), the
experiment ``$MLFLOW_EXPERIMENT_NAME``, else ``cardiobench-<task>``."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from cardiobench import hookimpl
from cardiobench.specs import RunInfo
from cardiobench_trackers import common

DEFAULT_STORE = Path("mlruns")
STATUS = {"finished": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
RUN_TAG = "cardiobench.run_dir"
UNLOGGED = {"checkpoints"}  # weights stay in the run directory


def default_store() -> tuple[str, str]:
    """(tracking URI, artifact location) of the local store under ./mlruns/."""
    root = DEFAULT_STORE.resolve()
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}", str(root / "artifacts")


class MLflowTracker:
    """Params: the run's identity and flattened config. Metrics: each epoch's
    values at step = epoch (``<fold>.`` before them in a cross-validated
    run), then ``test_<metric>`` with its interval. Artifacts: the run
    directory without ``checkpoints/``. A resumed run continues its MLflow run."""

    def __init__(self, run: RunInfo):
        assert run.run_dir is not None
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        uri, artifacts = os.environ.get("MLFLOW_TRACKING_URI"), None
        if not uri:
            uri, artifacts = default_store()
        self.client = MlflowClient(tracking_uri=uri)
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or f"cardiobench-{run.task}"
        experiment = self.client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(name, artifact_location=artifacts and f"{artifacts}/{name}")
        self.run_id = self._existing(experiment_id, run) or self.client.create_run(experiment_id, run_name=run.run_dir.name, tags={RUN_TAG: str(run.run_dir.resolve())}).info.run_id

    def _existing(self, experiment_id: str, run: RunInfo) -> str | None:
        """The unfinished MLflow run of this run directory (a resumed run)."""
        assert run.run_dir is not None
        found = self.client.search_runs([experiment_id], filter_string=f"tags.`{RUN_TAG}` = '{run.run_dir.resolve()}' and attributes.status != 'FINISHED'", max_results=1)
        return found[0].info.run_id if found else None

    @hookimpl
    def cardiobench_run_start(self, run: RunInfo) -> None:
        logged = set(self.client.get_run(self.run_id).data.params)  # a resumed run's are there already
        params = [Param(key[:250], value[:6000]) for key, value in common.params(run).items() if key[:250] not in logged]
        for start in range(0, len(params), 100):  # MLflow's batch limit
            self.client.log_batch(self.run_id, params=params[start : start + 100])

    @hookimpl
    def cardiobench_epoch_end(self, run: RunInfo, fold: str, epoch: int, values: dict[str, float]) -> None:
        self._metrics(common.epoch_scalars(run, fold, values, "."), epoch)

    @hookimpl
    def cardiobench_test_end(self, run: RunInfo, record: dict[str, Any]) -> None:
        assert run.run_dir is not None
        self._metrics(common.test_scalars(record), 0)
        for path in sorted(run.run_dir.iterdir()):
            if path.name in UNLOGGED or path.name.startswith("."):
                continue
            if path.is_dir():
                self.client.log_artifacts(self.run_id, str(path), artifact_path=path.name)
            else:
                self.client.log_artifact(self.run_id, str(path))

    @hookimpl
    def cardiobench_run_end(self, status: str) -> None:
        self.client.set_terminated(self.run_id, STATUS[status])

    def _metrics(self, values: dict[str, float], step: int) -> None:
        stamp = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(key, value, stamp, step) for key, value in values.items()])
