"""Seeds. Every random draw in a run derives from the run seed and the place it
is used (epoch, sample index), never from state carried between epochs, so an
interrupted run that resumes draws exactly what an uninterrupted one would."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def derive_seed(*parts: object) -> int:
    """A stable 63-bit seed from any printable parts (same input, same seed)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (the kernels that compute are
    :mod:`cardiobench.engine.numerics`' business)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_for(*parts: object) -> np.random.Generator:
    """A NumPy generator seeded from ``parts`` (e.g. seed, epoch, index)."""
    return np.random.default_rng(derive_seed(*parts))
