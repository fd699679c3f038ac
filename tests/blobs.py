"""Synthetic unit vectors in well-separated groups, for clustering tests."""

from __future__ import annotations

import numpy as np


def blobs(n_per=60, centres=6, dims=32, spread=0.15, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, true group of each row): ``centres`` groups of ``n_per`` noisy copies."""
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centres, dims))
    truth = np.repeat(np.arange(centres), n_per)
    data = middle[truth] + rng.normal(0, spread, (len(truth), dims))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32), truth
