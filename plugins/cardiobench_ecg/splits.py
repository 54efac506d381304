"""Cross-validation splits of ECG segments (section 4.2).

``stratified`` is the paper's protocol: five folds with the classes evenly
distributed, segments assigned regardless of patient. Segments of one patient
then sit on both sides of a split, which inflates results; ``inter-patient``
keeps every patient's segments in one fold (stratified as far as the patients
allow). In both, a stratified share of each training part is held out for
validation (model selection), with patients kept apart in the inter-patient
scheme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split

from cardiobench.errors import ConfigError, DataError

SCHEMES = ("stratified", "inter-patient")


@dataclass(frozen=True)
class Split:
    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def patients_of(records: Sequence[str], same_patient: Sequence[Sequence[str | int]]) -> np.ndarray:
    """Patient id per segment: its record, except records listed together in
    ``same_patient`` (MIT-BIH 201 and 202 come from one man) share one id."""
    alias = {str(r): str(group[0]) for group in same_patient for r in group}
    return np.array([alias.get(str(r), str(r)) for r in records])


def _validation(train: np.ndarray, labels: np.ndarray, groups: np.ndarray | None, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if groups is None:
        fit, val = train_test_split(train, test_size=fraction, stratify=labels[train], random_state=seed)
        return np.sort(fit), np.sort(val)
    patients = len(np.unique(groups[train]))
    if patients < 2:
        raise DataError("the inter-patient split needs at least two patients in each training part (one to train on, one to validate); this folder has too few records.")
    n_splits = min(max(2, round(1 / fraction)), patients)
    inner = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    fit, val = next(inner.split(train, labels[train], groups[train]))
    return train[fit], train[val]


def cross_validation(labels: np.ndarray, patients: np.ndarray, scheme: str, folds: int, val_fraction: float, seed: int) -> list[Split]:
    """``folds`` train/validation/test splits of segment indices."""
    if scheme not in SCHEMES:
        raise ConfigError(f"data.split must be one of {', '.join(SCHEMES)}, got {scheme!r}.")
    if not 0 < val_fraction < 0.5:
        raise ConfigError(f"data.val_fraction must lie in (0, 0.5), got {val_fraction!r}.")
    counts = np.bincount(labels, minlength=2)
    if counts.min() < folds:
        raise DataError(f"{folds}-fold cross-validation needs at least {folds} segments of each class; found APB {counts[0]}, PVC {counts[1]}.")
    index = np.arange(len(labels))
    if scheme == "stratified":
        outer, groups = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(index, labels), None
    else:
        if len(np.unique(patients)) < folds:
            raise DataError(f"the inter-patient split needs at least {folds} patients; found {len(np.unique(patients))}.")
        outer, groups = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(index, labels, patients), patients
    out = []
    for k, (train, test) in enumerate(outer, start=1):
        fit, val = _validation(train, labels, groups, val_fraction, seed + k)
        out.append(Split(f"fold{k}", fit, val, np.sort(test)))
    return out
