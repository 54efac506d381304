"""External validation (``--test-dataset``): train and select on one dataset
of a task, test on another.

The test dataset's reader harmonises its items to the task's protocol (frame
size, clip length, channels) and normalises them with the training
dataset's statistics (:attr:`~cardiobench.specs.DataRequest.reference`); the
runner only swaps each fold's test split, so training is exactly the
in-domain run's (same seed, same history) and the gap between the two tables
compares one model on two test sets.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cardiobench.errors import DataError
from cardiobench.specs import DataBundle, DataRequest, DatasetSpec, Fold


def external_test(bundle: DataBundle, spec: DatasetSpec, request: DataRequest) -> DataBundle:
    """``bundle`` with every fold's test split replaced by ``spec``'s test
    split (its only or first fold), and ``tested_on`` naming that dataset."""
    other = spec.load(request)
    if len(other.folds) != 1:
        raise DataError(f"Test dataset {spec.name!r} gives {len(other.folds)} folds for {request.task}; an external test set is one split (its official test split).")
    test = other.folds[0].test
    folds = [Fold(fold.name, fold.train, fold.val, test) for fold in bundle.folds]
    tested_on: dict[str, Any] = {"name": spec.name, "version": spec.version, "fingerprint": other.fingerprint, "source": other.source, "info": other.info}
    return replace(bundle, folds=folds, subsets=dict(other.subsets), tested_on=tested_on)
