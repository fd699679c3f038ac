"""2-D maps of a collection: t-SNE (or UMAP when installed) of the vectors (drawn by search/render/maps.py).

Large collections are sampled for the picture (``sample`` photos, drawn evenly across clusters
by a seeded random choice); the page and the picture say how many of how many are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imgsearch_cnn.indexer.vector_index import reduce


@dataclass
class MapPoints:
    paths: list[str]
    xy: np.ndarray  # (n, 2) in [0, 1]
    labels: np.ndarray  # cluster id per point, -1 = none/noise
    total: int  # photos in the collection
    method: str


def layout(paths: list[str], vectors: np.ndarray, labels: np.ndarray | None, sample: int = 3000,
           method: str = "auto", seed: int = 0) -> MapPoints:
    """Project (a sample of) the vectors to 2-D."""
    n = len(paths)
    labels = np.full(n, -1) if labels is None else np.asarray(labels)
    rows = np.arange(n) if n <= sample else np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    data = vectors[rows]
    if len(rows) > 50:
        data = reduce(data, 50, seed)
    chosen = method
    if method in ("auto", "umap"):
        try:
            import umap

            xy = umap.UMAP(random_state=seed, metric="cosine").fit_transform(data)
            chosen = "umap"
        except ImportError:
            if method == "umap":
                raise
            chosen = "tsne"
    if chosen == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(rows) - 1) / 3)))
        xy = TSNE(2, perplexity=perplexity, init="pca", random_state=seed, metric="cosine").fit_transform(data)
    xy = (xy - xy.min(axis=0)) / np.maximum(np.ptp(xy, axis=0), 1e-9)
    return MapPoints([paths[i] for i in rows], xy, labels[rows], n, chosen)
