"""Colour-histogram features: an alternative to CNN vectors for "photos with similar colours".

An HSV histogram (8 hue x 12 saturation x 3 value bins, the split the seed articles use),
square-rooted and L2-normalised so that the inner product of two histograms is their
Bhattacharyya coefficient and FAISS inner-product search works unchanged.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from imgsearch_cnn.indexer.vector_index import l2_normalise

BINS = (8, 12, 3)
DIMS = BINS[0] * BINS[1] * BINS[2]


def hsv_histogram(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (DIMS,) float32 unit vector."""
    hsv = np.asarray(Image.fromarray(pixels, "RGB").convert("HSV"), dtype=np.uint16)
    index = [(hsv[..., c].astype(np.uint32) * BINS[c]) >> 8 for c in range(3)]
    flat = (index[0] * BINS[1] + index[1]) * BINS[2] + index[2]
    return from_counts(np.bincount(flat.ravel(), minlength=DIMS)[None])[0]


def from_counts(counts: np.ndarray) -> np.ndarray:
    """(N, DIMS) pixel counts per bin -> (N, DIMS) float32 unit vectors (square roots of the shares)."""
    counts = np.asarray(counts, np.float32)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    return l2_normalise(np.sqrt(shares))
