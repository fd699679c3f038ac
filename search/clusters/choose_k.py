"""Choosing k: the modularity of k-means partitions on the photos' k-nearest-neighbour graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from imgsearch_cnn.indexer.vector_index import reduce, sample_rows
from imgsearch_cnn.search.clusters.methods import kmeans
from imgsearch_cnn.search.clusters.steps import reported


@dataclass
class KChoice:
    """How k was chosen: the criterion (and k-means loss, for an elbow view) for every k tried."""

    ks: list[int]
    scores: list[float]
    inertias: list[float]
    best: int
    criterion: str


def knn_graph(data: np.ndarray, neighbours: int = 10):
    """Symmetric, unweighted k-nearest-neighbour graph (cosine) as a sparse matrix (FAISS search)."""
    import faiss
    import scipy.sparse as sp

    n = len(data)
    neighbours = min(neighbours, n - 1)
    index = faiss.IndexFlatIP(data.shape[1])
    index.add(np.ascontiguousarray(data, dtype=np.float32))
    _, rows = index.search(np.ascontiguousarray(data, dtype=np.float32), neighbours + 1)
    graph = sp.csr_matrix((np.ones(n * neighbours), (np.repeat(np.arange(n), neighbours), rows[:, 1:].ravel())),
                          shape=(n, n))
    return ((graph + graph.T) > 0).astype(np.float64)


def modularity(graph, labels: np.ndarray) -> float:
    """Newman modularity of a partition of the graph: how much more the clusters hold of each
    photo's nearest neighbours than chance would give them."""
    import scipy.sparse as sp

    n = graph.shape[0]
    ids, inverse = np.unique(labels, return_inverse=True)
    member = sp.csr_matrix((np.ones(n), (np.arange(n), inverse)), shape=(n, len(ids)))
    degree = np.asarray(graph.sum(axis=1)).ravel()
    total = degree.sum()
    within = (member.T @ graph @ member).diagonal().sum() / total
    share = (member.T @ degree) / total
    return float(within - (share ** 2).sum())


def choose_k(vectors: np.ndarray, seed: int = 0, ks: list[int] | None = None, dims: int = 128,
             tolerance: float = 0.02, repeats: int = 3,
             progress: Callable[[str, int, int], None] | None = None) -> KChoice:
    """Pick k for k-means by the modularity of its clusters on the photos' 10-nearest-neighbour graph.

    Modularity rises while clusters split real groups apart and falls once they cut groups up;
    near the top the curve is often flat, so the largest k within ``tolerance`` (relative) of the
    best is taken: the finest grouping that is still as coherent. Works in the same PCA space as
    :func:`kmeans`, on a sample of at most 10,000 photos. (Silhouette, tried first, picked k=2 on
    CIFAR-10 and 17 on Caltech-101; see docs/BENCHMARKS.md.) ``progress(stage, done, total)``
    hears each k tried (stage "choose-k").
    """
    data = vectors[sample_rows(len(vectors), 10_000, seed)]
    if data.shape[1] > dims:
        data = reduce(data, dims, seed)
    if ks is None:
        top = max(3, min(int(4 * np.sqrt(len(data))), len(data) // 3, 400))
        ks = sorted(set(np.unique(np.geomspace(2, top, 30).astype(int)).tolist()))
    graph = knn_graph(data)
    scores, inertias = [], []
    for k in reported(ks, "choose-k", progress):
        # k-means lands in a different local optimum each run: average a few to steady the curve
        runs = [kmeans(data, k, seed + r, restarts=1) for r in range(repeats)]
        scores.append(float(np.mean([modularity(graph, labels) for labels in runs])))
        labels = runs[0]
        ids, inverse = np.unique(labels, return_inverse=True)
        centroids = np.vstack([data[labels == c].mean(axis=0) for c in ids])
        inertias.append(float(((data - centroids[inverse]) ** 2).sum()))
    peak = max(scores)
    best = max(k for k, score in zip(ks, scores) if score >= peak - tolerance * abs(peak))
    return KChoice(ks, scores, inertias, best, f"kNN-graph modularity (largest k within {tolerance:.0%} of the best)")
